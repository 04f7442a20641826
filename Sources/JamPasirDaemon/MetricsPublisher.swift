import Foundation
import JamPasirCore
import JamPasirReports
import JamPasirStore
import Logging
import Synchronization

/// Keeps `metrics.textfile` current for node-exporter's textfile collector: rewritten whole
/// (temporary file, rename) only when its text changes, so an idle counter writes nothing.
/// The default lies on tmpfs; a clean stop removes the file, so the hub sees a stopped daemon.
public final class MetricsPublisher: Sendable {
    public let path: String
    private let store: SessionStore
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var metrics: CounterMetrics
        var written: String?
        var failing = false
        /// Nothing is written before the store's counts are in: a file of zeros would look to
        /// Prometheus like counters reset.
        var counted = false
        var countFailed = false
        /// After `remove()`: a thread still finishing (a USB export's notice) writes nothing.
        var removed = false
    }

    public init(path: String, store: SessionStore, metrics: CounterMetrics, logger: Logger) {
        self.path = path
        self.store = store
        self.logger = logger
        state = Mutex(State(metrics: metrics))
    }

    /// Changes what the file says; it is rewritten if its text changed.
    public func update(_ change: (inout CounterMetrics) -> Void) {
        state.withLock { state in
            change(&state.metrics)
            publish(&state)
        }
    }

    /// The store counted whole, once: on the recorder's thread, before any outcome it records
    /// after, so that each of those is added (`recorded`) and none counted twice. Nothing is
    /// published before the counts are in: a file of zeros would look like counters reset.
    public func countStore() {
        state.withLock { state in
            count(&state)
            publish(&state)
        }
    }

    /// An outcome the store has just recorded, added to the counts (not the store counted again:
    /// that costs a scan of every session, after every session), with `change` in the same
    /// rewrite. The chain's length is read again: an outcome adds to it. If the first count
    /// failed, the store is counted now instead (the outcome is in it).
    public func recorded(
        _ outcome: Outcome, durationMs: Int64, freeService: Bool, _ change: (inout CounterMetrics) -> Void = { _ in }
    ) {
        state.withLock { state in
            if state.counted {
                state.metrics.totals.add(
                    outcome: outcome, durationMs: durationMs, freeService: freeService, boundsMs: state.metrics.boundsMs)
                readChainLength(&state)
            } else {
                count(&state)
            }
            change(&state.metrics)
            publish(&state)
        }
    }

    private func count(_ state: inout State) {
        do {
            state.metrics.totals = try store.totals(boundsMs: state.metrics.boundsMs)
            if state.countFailed { logger.notice("metrics: the store's sessions counted") }
            state.counted = true
            state.countFailed = false
        } catch {
            if !state.countFailed {
                logger.error("metrics: cannot count the store's sessions: \(error); counted again at the next outcome")
            }
            state.countFailed = true
        }
    }

    /// The audit chain grew by something other than an outcome (an export).
    public func chainGrew() {
        state.withLock { state in
            readChainLength(&state)
            publish(&state)
        }
    }

    /// Read under the lock, so the length never goes back to an older reading.
    private func readChainLength(_ state: inout State) {
        do {
            state.metrics.totals.auditEntries = try store.chainLength()
        } catch {
            logger.error("metrics: cannot read the audit chain's length: \(error)")
        }
    }

    private func publish(_ state: inout State) {
        guard state.counted, !state.removed else { return }
        let text = state.metrics.text
        guard text != state.written else { return }
        do {
            try write(text)
            state.written = text
            if state.failing { logger.notice("metrics: \(path) written again") }
            state.failing = false
        } catch {
            if !state.failing {
                logger.warning(
                    "metrics: \(error); the counter goes on without them. Set metrics.textfile in the configuration to a writable path, or \"\" to turn them off"
                )
            }
            state.failing = true
        }
    }

    /// A stopped daemon publishes nothing rather than a state that is no longer true, and
    /// nothing is written after this.
    public func remove() {
        state.withLock { state in
            if state.written != nil { unlink(path) }
            state.written = nil
            state.removed = true
        }
    }

    private func write(_ text: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: directory) {
            // Readable by node-exporter's own user, whatever the daemon's umask.
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o755)
        }
        let file = try AtomicFile(path: path, mode: 0o644)
        try file.write(text)
        try file.commit()
    }
}
