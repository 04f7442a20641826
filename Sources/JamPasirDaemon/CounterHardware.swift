import JamPasirHardware

/// The parts at one counter, whichever backend provides them (GPIO, terminal, fakes).
public struct CounterHardware: Sendable {
    public var button: any ButtonInput
    public var display: any SegmentDisplay
    public var buzzer: any Buzzer
    public var lights: any IndicatorLights

    public init(button: any ButtonInput, display: any SegmentDisplay, buzzer: any Buzzer, lights: any IndicatorLights) {
        self.button = button
        self.display = display
        self.buzzer = buzzer
        self.lights = lights
    }
}
