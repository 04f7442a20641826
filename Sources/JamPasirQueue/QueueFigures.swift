/// One day's waiting-time figures, from its tickets: what the office reports about the second
/// promise. Waits are those of the applicants called; whoever was never called is a no-show.
public struct QueueFigures: Sendable, Equatable, Codable {
    /// `2026-11-30`, or `2026-11-30 08` for an hour of it.
    public var period: String
    public var tickets: Int
    public var called: Int
    /// Called, and the session that served them came in from the counter (the ticket↔session link).
    public var served: Int
    /// Not called by the day's end: left, or did not answer the call.
    public var noShows: Int
    public var medianWaitSeconds: Int?
    public var p90WaitSeconds: Int?
    public var longestWaitSeconds: Int?
    /// Called within the promise, out of everyone called.
    public var withinPromise: Int
    /// Tickets that waited the whole promise (called late, or still waiting when it passed).
    public var breaches: Int
    /// Most people waiting at one time.
    public var peakWaiting: Int

    /// The figures of `tickets` (one day's, or the part issued in one hour), judged against
    /// `promise`, with the labels of those whose session came in (`served`). Waits are
    /// nearest-rank percentiles.
    public init(period: String, tickets: [Ticket], promise: Duration, served servedLabels: Set<String> = []) {
        self.period = period
        self.tickets = tickets.count
        served = tickets.count { servedLabels.contains($0.label) }
        var waits: [Int] = []
        var noShows = 0
        var changes: [(at: WallTime, step: Int)] = []
        for ticket in tickets {
            changes.append((ticket.issuedAt, 1))
            switch ticket.state {
            case .called(_, let at):
                waits.append(Int(ticket.wait(at: at).components.seconds))
                changes.append((at, -1))
            case .left(let at):
                noShows += 1
                changes.append((at, -1))
            case .waiting:
                break
            }
        }
        waits.sort()
        called = waits.count
        self.noShows = noShows
        func rank(_ p: Double) -> Int? {
            guard !waits.isEmpty else { return nil }
            return waits[min(waits.count, max(1, Int((p * Double(waits.count)).rounded(.up)))) - 1]
        }
        medianWaitSeconds = rank(0.5)
        p90WaitSeconds = rank(0.9)
        longestWaitSeconds = waits.last
        withinPromise = waits.count { $0 < Int(promise.components.seconds) }
        breaches = tickets.count(where: \.breached)
        // Leaving before arriving at the same instant: a call at the moment of issue is no queue.
        var waiting = 0
        var peak = 0
        for change in changes.sorted(by: { ($0.at, $0.step) < ($1.at, $1.step) }) {
            waiting += change.step
            peak = max(peak, waiting)
        }
        peakWaiting = peak
    }
}
