/// A step of the wall clock while the daemon runs: someone set the time, or NTP's first answer or
/// the RTC arrived late. The countdown never sees it (it runs on the monotonic clock); the
/// records' wall-clock times do, so each step is said in the journal and kept in the audit chain.
public struct ClockStep: Equatable, Sendable {
    /// Wall clock less monotonic clock, in ns, before and after the step.
    public var offsetBefore: Int64
    public var offsetAfter: Int64
    /// CLOCK_MONOTONIC when the step was seen: with the boot's id, it says which sessions of
    /// that boot were recorded before it (their `started_monotonic_ns` is smaller).
    public var monotonicNs: Int64

    public init(offsetBefore: Int64, offsetAfter: Int64, monotonicNs: Int64 = 0) {
        self.offsetBefore = offsetBefore
        self.offsetAfter = offsetAfter
        self.monotonicNs = monotonicNs
    }

    /// How far the wall clock moved (negative: back). NTP's slewing runs both clocks alike: it is
    /// not a step and is not in it.
    public var nanoseconds: Int64 { offsetAfter &- offsetBefore }

    /// Steps under a second are NTP's ordinary corrections: said in the journal, not chained.
    public static let chainedFrom: Int64 = 1_000_000_000

    public var isChained: Bool { nanoseconds.magnitude >= UInt64(Self.chainedFrom) }

    /// The audit chain entry's fields: the step and the wall-clock time after it, in ms, and
    /// where it fell in the boot's monotonic time. A session of that boot started before it, on a
    /// clock not yet synchronised, was recorded `step_ms` off the time the clock was set to.
    public func chainFields(wallAfterMs: Int64, bootID: String) -> String {
        "step_ms=\(nanoseconds / 1_000_000);after_ms=\(wallAfterMs);boot_id=\(bootID);monotonic_ns=\(monotonicNs)"
    }

    /// "+12.345 s", "-3 h 4 min (-11,040.000 s)", "+730 days (+63,072,012.345 s)".
    public var description: String {
        let ms = nanoseconds / 1_000_000
        let sign = ms < 0 ? "-" : "+"
        let magnitude = ms.magnitude
        let exact = "\(sign)\(Self.grouped(magnitude / 1000)).\(Self.padded(magnitude % 1000, 3)) s"
        let seconds = magnitude / 1000
        switch seconds {
        case ..<120: return exact
        case ..<(2 * 86_400): return "\(sign)\(seconds / 3600) h \(seconds % 3600 / 60) min (\(exact))"
        default: return "\(sign)\(seconds / 86_400) days (\(exact))"
        }
    }

    private static func grouped(_ value: UInt64) -> String {
        let digits = String(value)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    private static func padded(_ value: UInt64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
