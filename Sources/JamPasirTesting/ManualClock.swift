import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import Synchronization

/// A monotonic clock that only moves when told: a two-minute session takes microseconds.
/// Threads waiting on it wake when `advance(to:)` passes their deadline.
public final class ManualClock: MonotonicClock {
    private struct State {
        var now: MonotonicInstant
        /// Threads blocked in `wait`, rung when their deadline comes.
        var waiters: [Int: (deadline: MonotonicInstant, doorbell: Doorbell)] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    public init(now: MonotonicInstant = .seconds(1000)) {
        state = Mutex(State(now: now))
    }

    public func now() -> MonotonicInstant {
        state.withLock { $0.now }
    }

    /// Moves time forward to `instant` (never back) and wakes every waiter now due.
    public func advance(to instant: MonotonicInstant) {
        let due = state.withLock { state in
            state.now = max(state.now, instant)
            let now = state.now
            let rung = state.waiters.filter { $0.value.deadline <= now }
            for id in rung.keys { state.waiters[id] = nil }
            return rung.values.map(\.doorbell)
        }
        for doorbell in due { doorbell.ring() }
    }

    public func advance(by duration: Duration) {
        advance(to: now() + duration)
    }

    /// How many threads are waiting on this clock for a deadline.
    public var sleeperCount: Int { state.withLock { $0.waiters.count } }

    /// Blocks until `advance` reaches `deadline` or the doorbell rings.
    public func wait(until deadline: MonotonicInstant?, doorbell: Doorbell) {
        let id: Int? = state.withLock { state in
            guard let deadline else { return nil }
            if state.now >= deadline { return -1 }
            state.nextID += 1
            state.waiters[state.nextID] = (deadline, doorbell)
            return state.nextID
        }
        if id == -1 { return }
        doorbell.wait(until: nil)
        if let id { state.withLock { _ = $0.waiters.removeValue(forKey: id) } }
    }
}
