import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import Synchronization

/// The queue's own time, as the counter's loop keeps its own: a thread that sleeps until the
/// next warning or breach falls due, records it (`HubQueue.advance`), and sleeps again, so the
/// hall's warnings, the breaches and the day's end are written at their minute even when no
/// display polls. It sleeps `longestSleep` at most: a ticket issued meanwhile has its first
/// mark a minute or more away (the rules are in whole minutes), and a step of the wall clock is
/// seen within it.
public final class QueueClock: Sendable {
    public static let longestSleep = Duration.seconds(30)
    private let queue: HubQueue
    private let clock: any MonotonicClock
    private let wall: any WallClock
    private let log: @Sendable (String) -> Void
    private let doorbell = Doorbell()
    private let stopped = Atomic<Bool>(false)

    public init(
        queue: HubQueue, clock: any MonotonicClock = SystemMonotonicClock(), wall: any WallClock = SystemWallClock(),
        log: @escaping @Sendable (String) -> Void
    ) {
        (self.queue, self.clock, self.wall, self.log) = (queue, clock, wall, log)
    }

    public func start() {
        startThread(named: "jp-queue-clock") { [self] in run() }
    }

    public func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        doorbell.ring()
    }

    private func run() {
        // The last failure said, so that a store that stays broken is said once, not twice a minute.
        var lastFailure: String?
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let now = wall.now()
            var sleep = Self.longestSleep
            do {
                if let due = try queue.advance(to: now) {
                    sleep = min(sleep, .milliseconds(Int64(max(0, due.timeIntervalSince(now)) * 1000)))
                }
                lastFailure = nil
            } catch {
                let message = "the queue could not record what fell due: \(error)"
                if message != lastFailure { log(message) }
                lastFailure = message
            }
            clock.wait(until: clock.now() + sleep, doorbell: doorbell)
        }
    }
}
