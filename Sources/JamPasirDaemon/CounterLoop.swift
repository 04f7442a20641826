import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import Logging
import Synchronization

/// Everything that reaches the counter, from whichever thread it comes: one kind, one path.
public enum CounterEvent: Sendable {
    /// An edge of either button with its kernel timestamp.
    case edge(ButtonEdge)
    /// The hub's answer to call `number` of the call button (`TicketCaller`).
    case callAnswered(CallAnswer, call: Int)
    /// A supervisor's message (USB export), shown while idle; its sound only if idle now.
    case notice(DisplayFrame?, sound: SoundPattern?)
    /// An update waits for the idle counter (`CounterController.requestHold`), or is over.
    case hold(DisplayFrame, engaged: (@Sendable () -> Void)?)
    case releaseHold
    /// The kit's power changed (`PowerWatch`).
    case power(PowerState)
    /// The button went away for good (`q` or end of input in the simulator).
    case buttonGone
    /// SIGTERM or SIGINT.
    case stop
}

/// The daemon's one event loop, in the manner of keyd: one thread sleeps until the engine's next
/// wake-up or a ring of its doorbell. Every input arrives as a `CounterEvent` in its inbox, and the
/// controller, which this thread alone drives, takes them in order, then the wake-up if it is
/// due. Idle, nothing wakes it; counting down, it wakes once per displayed second (plus warnings
/// and the systemd watchdog). The display, the buzzer and the store are handed their work and
/// never block it.
public final class CounterLoop: Sendable {
    private let inbox = Mutex<[CounterEvent]>([])
    private let doorbell = Doorbell()

    public init() {}

    /// Safe from any thread; the loop wakes at once.
    public func post(_ event: CounterEvent) {
        inbox.withLock { $0.append(event) }
        doorbell.ring()
    }

    /// Runs on the calling thread until `.stop` or `.buttonGone`, then shuts the controller down
    /// (an open session is recorded as interrupted). With `watchdog`, `notify("WATCHDOG=1")` is
    /// sent from this loop at that interval, so a loop that hangs stops the pings and systemd
    /// restarts the daemon; `notify("STATUS=…")` follows the counter's state. With
    /// `realTimePriority`, the loop's thread asks for SCHED_FIFO at that priority first.
    public func run(
        controller: CounterController, button: any ButtonInput, callButton: (any ButtonInput)? = nil,
        clock: any MonotonicClock, logger: Logger, watchdog: Duration? = nil, realTimePriority: Int32? = nil,
        notify: @Sendable (String) -> Void = { _ in }
    ) {
        if let priority = realTimePriority {
            if let failure = raiseToRealTime(priority: priority) {
                logger.notice("countdown loop: \(failure); it runs at ordinary priority")
            } else {
                logger.info("countdown loop at real-time priority \(priority) (SCHED_FIFO)")
            }
        }
        button.start(edge: { [self] in post(.edge($0)) }, gone: { [self] in post(.buttonGone) })
        // The call button only helps: without it the counter times as before.
        callButton?.start(edge: { [self] in post(.edge($0)) }, gone: {})
        var nextBeat = watchdog.map { clock.now() + $0 }
        var status = ""
        controller.start()
        running: while true {
            if controller.status != status {
                status = controller.status
                notify("STATUS=\(status)")
            }
            clock.wait(until: [controller.nextWake, nextBeat].compactMap { $0 }.min(), doorbell: doorbell)
            let events = inbox.withLock { events in
                defer { events.removeAll(keepingCapacity: true) }
                return events
            }
            for event in events {
                switch event {
                case .edge(let edge): controller.handle(edge)
                case .callAnswered(let answer, let number): controller.callAnswered(answer, call: number)
                case .notice(let frame, let sound): controller.setNotice(frame, sound: sound)
                case .hold(let frame, let engaged): controller.requestHold(frame, engaged: engaged)
                case .releaseHold: controller.releaseHold()
                case .power(let state): controller.setPower(state)
                case .buttonGone:
                    logger.notice("button input ended")
                    break running
                case .stop: break running
                }
            }
            let now = clock.now()
            if let wake = controller.nextWake, wake <= now { controller.wake() }
            if let interval = watchdog, let due = nextBeat, now >= due {
                notify("WATCHDOG=1")
                nextBeat = now + interval
            }
        }
        button.stop()
        callButton?.stop()
        controller.shutdown()
    }

    /// `run` on a thread of its own, `jampasir-loop`; returns when the loop has ended.
    package func runOnOwnThread(
        controller: CounterController, button: any ButtonInput, clock: any MonotonicClock, logger: Logger,
        watchdog: Duration? = nil, realTimePriority: Int32? = nil, notify: @escaping @Sendable (String) -> Void = { _ in }
    ) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            startThread(named: "jp-loop") {
                self.run(
                    controller: controller, button: button, clock: clock, logger: logger, watchdog: watchdog,
                    realTimePriority: realTimePriority, notify: notify)
                done.resume()
            }
        }
    }
}
