/// An instant on CLOCK_MONOTONIC, in nanoseconds: the clock the kernel stamps GPIO edges with.
///
/// Every duration the device records is the difference of two of these, never of the moments
/// user space got round to reading them.
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// Convenience for tables of timed inputs: `.seconds(1.5)` is 1.5 s after the clock's zero.
    public static func seconds(_ seconds: Double) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: Int64((seconds * 1e9).rounded()))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: lhs.nanoseconds + rhs.nanoseconds)
    }

    public static func - (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: lhs.nanoseconds - rhs.nanoseconds)
    }

    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        .nanoseconds(lhs.nanoseconds - rhs.nanoseconds)
    }

    public var description: String {
        let millis = nanoseconds / 1_000_000
        return "\(millis / 1000).\(String(millis % 1000).leftPadded(to: 3, with: "0"))s"
    }
}

extension Duration {
    /// The whole nanoseconds in this duration (sub-nanosecond parts are dropped).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Whole milliseconds, rounded up: a duration of 120 000.4 ms is recorded as 120 001 ms, so
    /// "duration_ms <= limit_ms" in the store agrees with the engine's nanosecond comparison.
    public var millisecondsRoundedUp: Int64 {
        let ns = nanoseconds
        return ns >= 0 ? (ns + 999_999) / 1_000_000 : -((-ns) / 1_000_000)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character) -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
