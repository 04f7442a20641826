import JamPasirCore

/// Green, amber and red status LEDs and the optional sand bar.
public protocol IndicatorLights: Sendable {
    func set(_ state: LightState)
}
