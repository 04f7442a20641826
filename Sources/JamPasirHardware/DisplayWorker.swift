import CJamPasirSystem
import Foundation
import JamPasirCore
import JamPasirPosix
import Logging
import Synchronization

/// Puts a real display on its own thread: `show` returns at once and only the latest frame
/// is written, so a slow, hung or unplugged display can never delay the countdown, the buzzer
/// or the store. A display that fails is logged once, reopened and retried with backoff
/// (1 s … 30 s) until it answers again.
public final class DisplayWorker: SegmentDisplay, Sendable {
    public enum Health: Equatable, Sendable {
        case starting
        case ok
        case failing(String)
    }

    private struct State {
        var latest: SegmentFrame?
        var dirty = false
        var writing = false  // a frame has been taken and its write has not ended yet
        var finishing = false
        var health = Health.starting
    }

    private let state = Mutex(State())
    /// Rung by `show` and `finish`: the worker thread sleeps on it (and on a retry's instant).
    private let work = Doorbell()
    /// Rung after every write: `finish` sleeps on it.
    private let written = Doorbell()
    private let name: String
    private let clock: any MonotonicClock
    private let open: @Sendable () throws -> any SegmentDisplay
    private let logger: Logger
    private let firstBackoff: Backoff
    private let healthChanged: @Sendable (Health) -> Void

    /// `open` makes (or remakes) the driver: it runs on the worker thread. Retries wait on
    /// `clock`, the counter's one time base.
    public init(
        name: String, clock: any MonotonicClock = SystemMonotonicClock(), logger: Logger, backoff: Backoff = Backoff(),
        healthChanged: @escaping @Sendable (Health) -> Void = { _ in }, realTimePriority: Int32? = nil,
        open: @escaping @Sendable () throws -> any SegmentDisplay
    ) {
        self.name = name
        self.clock = clock
        self.firstBackoff = backoff
        self.healthChanged = healthChanged
        self.open = open
        self.logger = logger
        startThread(named: "jp-display") { [self] in
            // A frame handed over is on the wire at once, whatever else the machine is doing.
            if let priority = realTimePriority, let failure = raiseToRealTime(priority: priority) {
                logger.notice("\(name) display: \(failure); it runs at ordinary priority")
            }
            serve()
        }
    }

    public func show(_ segments: SegmentFrame) {
        state.withLock { state in
            state.latest = segments
            state.dirty = true
        }
        work.ring()
    }

    public var health: Health { state.withLock { $0.health } }

    /// Writes what is pending (e.g. the blank frame at shutdown), waiting at most `timeout`
    /// for the last frame's write to end, not merely to be taken. The worker thread then ends.
    public func finish(within timeout: Duration) {
        state.withLock { $0.finishing = true }
        work.ring()
        let deadline = clock.now() + timeout
        while state.withLock({ $0.dirty || $0.writing }) && clock.now() < deadline {
            clock.wait(until: deadline, doorbell: written)
        }
    }

    private enum Next {
        case write(SegmentFrame)
        case sleep
        case end
    }

    private func serve() {
        var display: (any SegmentDisplay)?
        var backoff = firstBackoff
        var retryAt: MonotonicInstant?
        while true {
            let due = retryAt.map { clock.now() >= $0 } ?? true
            let next: Next = state.withLock { state in
                if state.finishing && !state.dirty { return .end }
                guard state.dirty, due, let frame = state.latest else { return .sleep }
                state.dirty = false
                state.writing = true
                return .write(frame)
            }
            switch next {
            case .end: return
            case .sleep:
                clock.wait(until: retryAt, doorbell: work)
                continue
            case .write(let frame):
                do {
                    if display == nil { display = try open() }
                    let began = jp_monotonic_ns()
                    try display!.show(frame)
                    let ended = jp_monotonic_ns()
                    logger.debug(
                        "\(name) frame written", metadata: ["done_ns": "\(ended)", "took_us": "\((ended - began) / 1000)"])
                    retryAt = nil
                    backoff.reset()
                    record(.ok)
                } catch {
                    display = nil
                    retryAt = clock.now() + backoff.delay()
                    record(.failing("\(error)"))
                    state.withLock { $0.dirty = true }  // retry with the latest frame
                }
                state.withLock { $0.writing = false }
                written.ring()
            }
        }
    }

    private func record(_ health: Health) {
        let previous = state.withLock { state in
            defer { state.health = health }
            return state.health
        }
        if previous != health { healthChanged(health) }
        switch (previous, health) {
        case (.failing, .ok): logger.notice("\(name) display answers again")
        case (.ok, .failing(let why)), (.starting, .failing(let why)):
            logger.error("\(name) display: \(why); the countdown goes on, retrying in the background")
        default: break
        }
    }
}
