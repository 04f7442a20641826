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

    public static func run(
        controller: CounterController, button: any ButtonInput, clock: any MonotonicClock, logger: Logger
    ) async {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let buttonTask = Task {
            for await edge in button.edges() { sink.yield(.edge(edge)) }
            sink.yield(.buttonGone)
        }
        var timer: Task<Void, Never>?
        var scheduled: MonotonicInstant?

        func reschedule() async {
            let next = await controller.nextWake
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

        await controller.start()
        await reschedule()
        loop: for await event in events {
            switch event {
            case .edge(let edge):
                await controller.handle(edge)
            case .wake:
                scheduled = nil
                await controller.wake()
            case .buttonGone:
                logger.notice("button input ended")
                break loop
            }
            await reschedule()
        }
        timer?.cancel()
        buttonTask.cancel()
        await controller.shutdown()
    }
}
