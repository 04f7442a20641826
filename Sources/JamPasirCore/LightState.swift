/// The status lights: green (ready / in time), amber (last warning period, cancelled),
/// red (overtime, free service, fault), and the LED bar that empties like sand.
public struct LightState: Equatable, Sendable {
    public var green: Bool
    public var amber: Bool
    public var red: Bool
    /// Fraction of the limit still remaining, 0...1; the bar shows it rounded to its LEDs.
    public var sand: Double

    public init(green: Bool = false, amber: Bool = false, red: Bool = false, sand: Double = 0) {
        self.green = green
        self.amber = amber
        self.red = red
        self.sand = min(1, max(0, sand))
    }

    public static let ready = LightState(green: true, sand: 1)
    public static let off = LightState()
}
