/// Retry delays for hardware that is missing or failing: 1 s, 2 s, 4 s … up to 30 s, so a
/// counter wired wrong keeps trying without flooding the journal or the CPU.
public struct Backoff: Sendable {
    public var first: Duration
    public var maximum: Duration
    private var next: Duration

    public init(first: Duration = .seconds(1), maximum: Duration = .seconds(30)) {
        self.first = first
        self.maximum = maximum
        self.next = first
    }

    /// The delay before the next attempt; each call doubles the one after.
    public mutating func delay() -> Duration {
        defer { next = min(next * 2, maximum) }
        return next
    }

    public mutating func reset() { next = first }
}
