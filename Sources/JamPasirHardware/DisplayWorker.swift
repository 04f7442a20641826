import CJamPasirSystem
import Foundation
import Logging

/// Puts a real display on its own thread: `show` returns at once and only the latest frame
/// is written, so a slow, hung or unplugged display can never delay the countdown, the buzzer
/// or the store. A display that fails is logged once, reopened and retried with backoff
/// (1 s … 30 s) until it answers again.
public final class DisplayWorker: SegmentDisplay, @unchecked Sendable {
    public enum Health: Equatable, Sendable {
        case starting
        case ok
        case failing(String)
    }

    // Guarded by `condition`.
    private var latest: SegmentFrame?
    private var dirty = false
    private var writing = false  // a frame has been taken and its write has not ended yet
    private var finishing = false
    private var state = Health.starting
    private let condition = NSCondition()

    private let name: String
    private let open: @Sendable () throws -> any SegmentDisplay
    private let logger: Logger
    private let firstBackoff: Backoff
    private let healthChanged: @Sendable (Health) -> Void

    /// `open` makes (or remakes) the driver: it runs on the worker thread.
    public init(
        name: String, logger: Logger, backoff: Backoff = Backoff(),
        healthChanged: @escaping @Sendable (Health) -> Void = { _ in },
        open: @escaping @Sendable () throws -> any SegmentDisplay
    ) {
        self.name = name
        self.firstBackoff = backoff
        self.healthChanged = healthChanged
        self.open = open
        self.logger = logger
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "jampasir-display"
        thread.start()
    }

    public func show(_ segments: SegmentFrame) {
        condition.lock()
        latest = segments
        dirty = true
        condition.signal()
        condition.unlock()
    }

    public var health: Health {
        condition.lock()
        defer { condition.unlock() }
        return state
    }

    /// Writes what is pending (e.g. the blank frame at shutdown), waiting at most `timeout`
    /// for the last frame's write to end, not merely to be taken.
    public func finish(within timeout: Duration) {
        condition.lock()
        finishing = true
        condition.broadcast()
        let deadline = Date().addingTimeInterval(Double(timeout.nanoseconds) / 1e9)
        while (dirty || writing) && condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func serve() {
        var display: (any SegmentDisplay)?
        var backoff = firstBackoff
        var retryAt: Date?
        while true {
            condition.lock()
            while !dirty || (retryAt.map { Date() < $0 } ?? false) {
                if finishing && !dirty {
                    condition.unlock()
                    return
                }
                if let retryAt { _ = condition.wait(until: retryAt) } else { condition.wait() }
            }
            let frame = latest!
            dirty = false
            writing = true
            condition.unlock()

            do {
                if display == nil { display = try open() }
                let began = jp_monotonic_ns()
                try display!.show(frame)
                let ended = jp_monotonic_ns()
                logger.debug(
                    "\(name) frame written",
                    metadata: ["done_ns": "\(ended)", "took_us": "\((ended - began) / 1000)"])
                retryAt = nil
                backoff.reset()
                record(.ok)
            } catch {
                display = nil
                retryAt = Date().addingTimeInterval(Double(backoff.delay().nanoseconds) / 1e9)
                record(.failing("\(error)"))
                condition.lock()
                if !dirty { dirty = true }  // retry with the latest frame
                condition.unlock()
            }
            condition.lock()
            writing = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func record(_ health: Health) {
        condition.lock()
        let previous = state
        state = health
        condition.unlock()
        if previous != health { healthChanged(health) }
        switch (previous, health) {
        case (.failing, .ok): logger.notice("\(name) display answers again")
        case (.ok, .failing(let why)), (.starting, .failing(let why)):
            logger.error("\(name) display: \(why); the countdown goes on, retrying in the background")
        default: break
        }
    }
}
