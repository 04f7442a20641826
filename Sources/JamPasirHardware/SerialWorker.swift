import CJamPasirSystem
import Dispatch
import JamPasirPosix
import Synchronization

/// Runs jobs in order on one plain thread of its own, which sleeps on a doorbell between them.
/// The daemon uses these instead of dispatch queues and tasks: once a libdispatch worker thread
/// exists, libdispatch's pool monitor wakes the process every second for the rest of its life,
/// and a counter that sits idle for years should not wake at all.
public final class SerialWorker: Sendable {
    private final class Shared: Sendable {
        let jobs = Mutex<(pending: [@Sendable () -> Void], closed: Bool)>(([], false))
        let doorbell = Doorbell()
    }

    private let shared = Shared()

    public init(name: String) {
        let shared = shared
        startThread(named: name) {
            while true {
                let (jobs, closed) = shared.jobs.withLock { state in
                    defer { state.pending.removeAll() }
                    return (state.pending, state.closed)
                }
                jobs.forEach { $0() }
                if closed && jobs.isEmpty { return }
                if jobs.isEmpty { shared.doorbell.wait(until: nil) }
            }
        }
    }

    /// The thread ends once the jobs already submitted have run.
    deinit {
        shared.jobs.withLock { $0.closed = true }
        shared.doorbell.ring()
    }

    public func submit(_ job: @escaping @Sendable () -> Void) {
        shared.jobs.withLock { $0.pending.append(job) }
        shared.doorbell.ring()
    }

    /// Blocks until every job submitted before has run.
    public func flush() {
        let done = DispatchSemaphore(value: 0)
        submit { done.signal() }
        done.wait()
    }
}
