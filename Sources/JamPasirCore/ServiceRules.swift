/// The rules of the two-minute service and of the button, as configured. Defaults are the
/// office's published promise and what a technician would choose for a panel push button.
public struct ServiceRules: Equatable, Sendable {
    /// The promise. A session of exactly `limit` is in time.
    public var limit: Duration = .seconds(120)
    /// Warning beeps, as time remaining; values not below the limit are never sounded.
    public var warnings: [Duration] = [.seconds(30), .seconds(10)]
    /// Holding the button this long while a session runs cancels it.
    public var longPress: Duration = .seconds(2)
    /// Edges closer than this to the last accepted edge are contact bounce.
    public var debounce: Duration = .milliseconds(30)
    /// A button held longer than this is a fault (stuck, or something resting on it).
    public var stuckAfter: Duration = .seconds(30)
    /// How long the outcome stays on the display after a session ends.
    public var resultHold: Duration = .seconds(5)
    /// A press this soon after a stop is a double press and is ignored.
    public var rearmGuard: Duration = .seconds(1)
    /// Whether a session cut short by a power loss or crash counts as free service.
    public var interruptedIsFree: Bool = true
    /// A long press while idle shows today's figures (`n 37`, then `F  2`), each this long;
    /// zero turns it off.
    public var figuresEach: Duration = .seconds(3)
    /// How long the call button's answer (the ticket called, `nonE`, `Err2`) stays on the display.
    public var callHold: Duration = .seconds(5)
    /// `CALL` gives way to the idle display if no answer comes this long after the press (the
    /// daemon's hub client gives up sooner).
    public var callAnswerWait: Duration = .seconds(10)
    /// A called ticket goes to a session started within this long of the call; after that the
    /// applicant did not come, and the next session serves no ticket.
    public var calledTicketLife: Duration = .seconds(30 * 60)

    public init() {}

    /// The rules as one canonical line (milliseconds), as the audit chain records them.
    public var auditDescription: String {
        func ms(_ d: Duration) -> String { String(d.nanoseconds / 1_000_000) }
        return
            "limit_ms=\(ms(limit));warnings_ms=\(warnings.map(ms).joined(separator: ","));long_press_ms=\(ms(longPress));"
            + "debounce_ms=\(ms(debounce));stuck_ms=\(ms(stuckAfter));result_hold_ms=\(ms(resultHold));"
            + "rearm_guard_ms=\(ms(rearmGuard));interrupted_is_free=\(interruptedIsFree)"
    }

    /// Reads `auditDescription` back (nil if it is not one).
    public init?(auditDescription text: String) {
        var fields: [Substring: Substring] = [:]
        for pair in text.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            fields[parts[0]] = parts[1]
        }
        func ms(_ key: Substring) -> Duration? { fields[key].flatMap { Int64($0) }.map { .milliseconds($0) } }
        guard let limit = ms("limit_ms"), let longPress = ms("long_press_ms"), let debounce = ms("debounce_ms"),
            let stuck = ms("stuck_ms"), let hold = ms("result_hold_ms"), let rearm = ms("rearm_guard_ms"),
            let warnings = fields["warnings_ms"], let free = fields["interrupted_is_free"]
        else { return nil }
        self.init()
        self.limit = limit
        self.warnings = warnings.split(separator: ",").compactMap { Int64($0) }.map { .milliseconds($0) }
        self.longPress = longPress
        self.debounce = debounce
        self.stuckAfter = stuck
        self.resultHold = hold
        self.rearmGuard = rearm
        self.interruptedIsFree = free == "true"
    }

    /// Warning thresholds that can actually sound, largest (earliest) first.
    public var effectiveWarnings: [Duration] {
        Array(Set(warnings.filter { $0 > .zero && $0 < limit })).sorted(by: >)
    }
}
