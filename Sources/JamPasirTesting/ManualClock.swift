import JamPasirCore
import JamPasirDaemon
import JamPasirHardware
import Synchronization

/// A monotonic clock that only moves when told: a two-minute session takes microseconds.
/// Sleepers wake when `advance(to:)` passes their deadline.
public final class ManualClock: MonotonicClock {
    private struct Sleeper {
        var deadline: MonotonicInstant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: MonotonicInstant
        var sleepers: [Int: Sleeper] = [:]
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

    /// Moves time forward to `instant` (never back) and wakes every sleeper now due.
    public func advance(to instant: MonotonicInstant) {
        let due = state.withLock { state in
            state.now = max(state.now, instant)
            let now = state.now
            let ready = state.sleepers.filter { $0.value.deadline <= now }
            for id in ready.keys { state.sleepers[id] = nil }
            let rung = state.waiters.filter { $0.value.deadline <= now }
            for id in rung.keys { state.waiters[id] = nil }
            return (ready.values.map(\.continuation), rung.values.map(\.doorbell))
        }
        for continuation in due.0 { continuation.resume() }
        for doorbell in due.1 { doorbell.ring() }
    }

    public func advance(by duration: Duration) {
        advance(to: now() + duration)
    }

    /// How many tasks and threads are waiting on this clock for a deadline.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count + $0.waiters.count } }

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

    public func sleep(until deadline: MonotonicInstant) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state in
                    if Task.isCancelled || state.now >= deadline { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}
