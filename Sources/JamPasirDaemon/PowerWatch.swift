import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import Synchronization

/// Follows the kit's power: reads the UPS every `interval` on a thread of its own (a UPS that
/// hangs holds up this thread, never the countdown), applies `PowerRules`, and posts the state
/// to the counter when it changes: its kind, the charge, or the runtime by a minute or more.
public final class PowerWatch: Sendable {
    private let source: any PowerSource
    private let rules: PowerRules
    private let clock: any MonotonicClock
    private let interval: Duration
    private let post: @Sendable (PowerState) -> Void
    private let doorbell = Doorbell()
    private let state = Mutex<(posted: PowerState?, stopped: Bool)>((nil, false))

    /// The board is read this often: a change of power shows within it.
    public static let defaultInterval: Duration = .seconds(10)

    public init(
        source: any PowerSource, rules: PowerRules, clock: any MonotonicClock, interval: Duration = defaultInterval,
        post: @escaping @Sendable (PowerState) -> Void
    ) {
        self.source = source
        self.rules = rules
        self.clock = clock
        self.interval = interval
        self.post = post
    }

    /// Reads now and then every `interval`, on the thread `jp-power`, until `stop()`.
    public func start() {
        startThread(named: "jp-power") { [self] in
            while !state.withLock({ $0.stopped }) {
                poll()
                clock.wait(until: clock.now() + interval, doorbell: doorbell)
            }
        }
    }

    /// Nothing is posted after this. A read in flight (bounded by the source's timeout) is left
    /// to end on its own: the daemon's stop does not wait for a UPS that hangs.
    public func stop() {
        state.withLock { $0.stopped = true }
        doorbell.ring()
    }

    /// One reading, applied; the new state posted if it changed enough to tell.
    public func poll() {
        let reading: PowerReading?
        var failure = ""
        do {
            reading = try source.read()
        } catch {
            reading = nil
            failure = error.description
        }
        let changed: PowerState? = state.withLock { state in
            guard !state.stopped else { return nil }
            let next = rules.state(after: reading, failure: failure, was: state.posted ?? .mains)
            if let posted = state.posted, Self.tellsTheSame(posted, next) { return nil }
            state.posted = next
            return next
        }
        if let changed { post(changed) }
    }

    /// Whether `next` tells the officer, the journal and the metrics nothing `posted` did not: the
    /// same kind, charge and low flag, the runtime within a minute, the same failure or reason.
    static func tellsTheSame(_ posted: PowerState, _ next: PowerState) -> Bool {
        guard posted.severity == next.severity, posted.isUnknown == next.isUnknown else { return false }
        switch (posted, next) {
        case (.unknown(let before), .unknown(let now)):
            return before == now
        case (.tooLow(_, let before), .tooLow(_, let now)) where before != now:
            return false
        default:
            guard let before = posted.reading, let now = next.reading else { return true }
            let runtimesClose: Bool
            switch (before.runtime, now.runtime) {
            case (nil, nil): runtimesClose = true
            case (let a?, let b?): runtimesClose = a - b < .seconds(60) && b - a < .seconds(60)
            default: runtimesClose = false
            }
            return before.chargePercent == now.chargePercent && before.low == now.low && runtimesClose
        }
    }
}
