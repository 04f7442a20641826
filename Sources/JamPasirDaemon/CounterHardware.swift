import JamPasirHardware

/// The parts at one counter, whichever backend provides them (GPIO, terminal, fakes).
public struct CounterHardware: Sendable {
    public var button: any ButtonInput
    public var display: any SegmentDisplay
    public var buzzer: any Buzzer
    public var lights: any IndicatorLights
    /// The second button, "Panggil" (its edges say `.call`), where one is fitted.
    public var callButton: (any ButtonInput)?

    public init(
        button: any ButtonInput, display: any SegmentDisplay, buzzer: any Buzzer, lights: any IndicatorLights,
        callButton: (any ButtonInput)? = nil
    ) {
        self.button = button
        self.callButton = callButton
        self.display = display
        self.buzzer = buzzer
        self.lights = lights
    }
}
