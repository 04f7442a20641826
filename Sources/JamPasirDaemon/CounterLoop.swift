import JamPasirCore
import JamPasirHardware
import Logging

/// The daemon's one event loop: button edges and the engine's wake-ups, handled one at a
/// time by the controller. Nothing wakes it while idle and nobody presses; while a session
/// runs it wakes once per displayed second (plus warnings). Ends when its task is cancelled
/// (SIGTERM, `q` in the simulator) or the button goes away, after `controller.shutdown()`.
public enum CounterLoop {
    private enum Event: Sendable {
        case edge(ButtonEdge)
        case wake
        case buttonGone
    }

    /// With `watchdog`, `notify("WATCHDOG=1")` is sent from this loop at that interval, so a loop
    /// that hangs stops the pings and systemd restarts the daemon; `notify("STATUS=…")` follows
    /// the counter's state.
    public static func run(
        controller: CounterController, button: any ButtonInput, clock: any MonotonicClock, logger: Logger,
        watchdog: Duration? = nil, notify: @escaping @Sendable (String) -> Void = { _ in }
    ) async {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let buttonTask = Task {
            for await edge in button.edges() { sink.yield(.edge(edge)) }
            sink.yield(.buttonGone)
        }
        var timer: Task<Void, Never>?
        var scheduled: MonotonicInstant?
        var nextBeat = watchdog.map { clock.now() + $0 }
        var status = ""

        func reschedule() async {
            let next = [await controller.nextWake, nextBeat].compactMap { $0 }.min()
            guard next != scheduled else { return }
            timer?.cancel()
            scheduled = next
            timer = next.map { deadline in
                Task {
                    do { try await clock.sleep(until: deadline) } catch { return }
                    sink.yield(.wake)
                }
            }
        }

        func heartbeat() {
            guard let interval = watchdog, let due = nextBeat, clock.now() >= due else { return }
            notify("WATCHDOG=1")
            nextBeat = clock.now() + interval
        }

        await controller.start()
        await reschedule()
        loop: for await event in events {
            switch event {
            case .edge(let edge):
                await controller.handle(edge)
            case .wake:
                scheduled = nil
                await controller.wake()
                heartbeat()
            case .buttonGone:
                logger.notice("button input ended")
                break loop
            }
            let current = await controller.status
            if current != status {
                status = current
                notify("STATUS=\(current)")
            }
            await reschedule()
        }
        timer?.cancel()
        buttonTask.cancel()
        await controller.shutdown()
    }
}
