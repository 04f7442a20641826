import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirHardware
import JamPasirStore
import Logging
import JamPasirReports

/// Writes session events to the store on its own thread, in order, so a slow SD card
/// never delays a countdown frame or a button press. If a start could not be written, the
/// end is written as a complete row: an outcome is never dropped because its start was.
public final class SessionRecorder: @unchecked Sendable {
    // `openSession` is only touched on `worker`'s thread.
    private let worker = SerialWorker(name: "jp-store")
    private let store: SessionStore
    private let counterID: String
    private let bootID: String
    private let logger: Logger
    private var openSession: SessionRecord?
    private var checkpoints: PeriodicCheckpoints?
    private let metrics: MetricsPublisher?

    /// Besides the checkpoints at start and after exports, the chain's head is signed and logged
    /// after this many recorded outcomes, or at the first one an hour or more after the last
    /// checkpoint: a journal that leaves the box then anchors every busy hour of history.
    public struct PeriodicCheckpoints: Sendable {
        public var key: DeviceKey
        public var everySessions = 100
        public var everyInterval: TimeInterval = 3600
        var last: Date
        var sessionsSince = 0

        public init(key: DeviceKey, lastAt: Date) {
            self.key = key
            last = lastAt
        }

        /// Whether an outcome recorded at `now` is due for a checkpoint (and counts it).
        mutating func isDue(at now: Date) -> Bool {
            sessionsSince += 1
            guard sessionsSince >= everySessions || now.timeIntervalSince(last) >= everyInterval else { return false }
            sessionsSince = 0
            last = now
            return true
        }
    }

    public init(
        store: SessionStore, counterID: String, bootID: String, logger: Logger, checkpoints: PeriodicCheckpoints? = nil,
        metrics: MetricsPublisher? = nil
    ) {
        self.metrics = metrics
        self.store = store
        self.counterID = counterID
        self.bootID = bootID
        self.logger = logger
        self.checkpoints = checkpoints
    }

    /// Queues one event. `wallTime` is the wall-clock time of the event's instant; `edges` are
    /// the raw button edges behind an ended session.
    public func submit(_ event: SessionEvent, wallTime: Date, clockSynchronized: Bool, edges: [ButtonEdge] = []) {
        worker.submit {
            self.write(event, wallTime: wallTime, clockSynchronized: clockSynchronized, edges: edges)
        }
    }

    /// The store's counts for the metrics, taken in turn with the writes: every outcome written
    /// after them is added to them, none twice.
    public func countForMetrics() {
        worker.submit { self.metrics?.countStore() }
    }

    /// A step of the wall clock, said in the journal and, from a second on, chained: the times
    /// recorded before and after it are on different clocks.
    public func recordClockStep(_ step: ClockStep, wallTime: Date) {
        let from = wallTime.addingTimeInterval(-Double(step.nanoseconds) / 1e9)
        let said = "the wall clock was set: \(step.description), from \(from) to \(wallTime)"
        guard step.isChained else {
            logger.info("\(said); under a second, not chained")
            return
        }
        worker.submit {
            do {
                let entry = try self.store.recordClockStep(
                    step.chainFields(
                        wallAfterMs: Int64((wallTime.timeIntervalSince1970 * 1000).rounded()), bootID: self.bootID))
                self.logger.notice(
                    "\(said); running countdowns keep their measured time; recorded in the audit chain (entry \(entry))")
                self.metrics?.chainGrew()
            } catch {
                self.logger.error("\(said); could not record it in the audit chain: \(error)")
            }
        }
    }

    /// Returns once everything submitted before has been written (or has failed and been logged).
    public func flush() {
        worker.flush()
    }

    /// A ticket the store will not take (the hub's answer is checked before, so this should not
    /// happen) must not cost the session: it is recorded without one.
    private func beginKeepingTheSession(_ session: inout SessionRecord) throws -> Int64 {
        do {
            return try store.begin(session)
        } catch {
            guard let ticket = session.ticket else { throw error }
            logger.error("session start not recorded with ticket \(ticket.terminalSafe): \(error); recording it without")
            session.ticket = nil
            return try store.begin(session)
        }
    }

    private func write(_ event: SessionEvent, wallTime: Date, clockSynchronized: Bool, edges: [ButtonEdge]) {
        let journal = edges.isEmpty ? nil : EdgeJournal.encode(edges)
        switch event {
        case .started(let at, let limit, let ticket):
            var session = SessionRecord(
                counterID: counterID, bootID: bootID, startedAt: wallTime, startedMonotonicNs: at.nanoseconds,
                clockSynchronized: clockSynchronized, limitMs: limit.millisecondsRoundedUp, ticket: ticket)
            do {
                session.id = try beginKeepingTheSession(&session)
                var metadata: Logger.Metadata = ["limit_ms": "\(session.limitMs)"]
                if let ticket = session.ticket { metadata["ticket"] = "\(ticket)" }
                logger.info("session \(session.id!) started", metadata: metadata)
            } catch {
                logger.error("could not record the start of a session: \(error)")
            }
            openSession = session
            metrics?.update {
                $0.runningSince = wallTime
                $0.clockSynchronized = clockSynchronized
            }
        case .ended(let end):
            let durationMs = end.duration.millisecondsRoundedUp
            var recorded = true
            let metadata: Logger.Metadata = [
                "outcome": "\(end.outcome.rawValue)", "duration_ms": "\(durationMs)",
                "free_service": "\(end.freeService)",
            ]
            do {
                if let id = openSession?.id {
                    try store.finish(
                        id: id, endedAt: wallTime, durationMs: durationMs, outcome: end.outcome,
                        freeService: end.freeService, edges: journal)
                    logger.info("session \(id) ended", metadata: metadata)
                } else {
                    let startedAt = wallTime.addingTimeInterval(-Double(end.duration.nanoseconds) / 1e9)
                    try store.insertFinished(
                        SessionRecord(
                            counterID: counterID, bootID: bootID, startedAt: openSession?.startedAt ?? startedAt,
                            startedMonotonicNs: end.startedAt.nanoseconds,
                            clockSynchronized: openSession?.clockSynchronized ?? clockSynchronized,
                            limitMs: end.limit.millisecondsRoundedUp, endedAt: wallTime, durationMs: durationMs,
                            outcome: end.outcome, freeService: end.freeService, ticket: openSession?.ticket),
                        edges: journal)
                    logger.warning(
                        "session ended; its start had not been recorded, so it was recorded whole", metadata: metadata)
                }
            } catch {
                logger.critical("could not record a session outcome: \(error)", metadata: metadata)
                recorded = false
            }
            openSession = nil
            let idle: (inout CounterMetrics) -> Void = {
                $0.runningSince = nil
                $0.clockSynchronized = clockSynchronized
            }
            if recorded {
                metrics?.recorded(end.outcome, durationMs: durationMs, freeService: end.freeService, idle)
            } else {
                metrics?.update(idle)
            }
            if checkpoints?.isDue(at: wallTime) == true, let key = checkpoints?.key {
                do {
                    if let checkpoint = try ChainCheckpoint.current(
                        store: store, counterID: counterID, key: key, at: wallTime)
                    {
                        logger.notice("\(checkpoint.logLine("periodic"))")
                    }
                } catch {
                    logger.error("could not sign a chain checkpoint: \(error)")
                }
            }
        }
    }
}
