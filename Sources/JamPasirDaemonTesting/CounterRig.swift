import Foundation
import JamPasirCore
import JamPasirTesting
import JamPasirDaemon
import JamPasirHardware
import JamPasirStore
import Logging
import Synchronization

/// The daemon's wiring (controller, recorder, real SQLite store) on fake hardware, driven in
/// virtual time: the test presses at instants and the rig delivers every wake-up the engine
/// asks for in between, exactly as the run loop would, without sleeping.
public final class CounterRig: Sendable {
    public let clock: ManualClock
    public let display: FakeDisplay
    public let buzzer: FakeBuzzer
    public let lights: FakeLights
    public let button: FakeButton
    public let store: SessionStore
    public let recorder: SessionRecorder
    public let controller: CounterController
    /// Counts the calls the call button makes; the test answers them (`answerCall`).
    public let caller = FakeTicketCaller()

    public init(
        rules: ServiceRules = ServiceRules(), storePath: String, counterID: String = "loket-test",
        epoch: Date = Date(timeIntervalSince1970: 1_796_000_000), bootID: String = "test-boot",
        timeZone: TimeZone = TimeZone(identifier: "Asia/Jakarta")!, historyLimit: Int = .max
    ) throws {
        clock = ManualClock(now: .seconds(0))
        display = FakeDisplay(clock: clock, historyLimit: historyLimit)
        buzzer = FakeBuzzer(clock: clock, historyLimit: historyLimit)
        lights = FakeLights(clock: clock, historyLimit: historyLimit)
        button = FakeButton()
        store = try SessionStore(path: storePath, access: .readWrite)
        let logger = Logger(label: "jampasird.test")
        recorder = SessionRecorder(store: store, counterID: counterID, bootID: bootID, logger: logger)
        controller = CounterController(
            rules: rules,
            hardware: CounterHardware(button: button, display: display, buzzer: buzzer, lights: lights),
            recorder: recorder, clock: clock, wallClock: FakeWallClock(clock: clock, epoch: epoch), logger: logger,
            timeZone: timeZone,
            figures: { [store] day in
                let today = (try? store.figures(from: day.start, to: day.end)) ?? (sessions: 0, free: 0)
                return SessionMachine.Figures(sessions: today.sessions, free: today.free)
            }, caller: caller)
    }

    public func start() async {
        controller.start()
    }

    /// Lets virtual time run to `seconds`, delivering each wake-up at its instant.
    public func run(until seconds: Double) async {
        let target = MonotonicInstant.seconds(seconds)
        VirtualTime.run(until: target, nextWake: { controller.nextWake }) { wake in
            clock.advance(to: wake)
            controller.wake()
        }
        clock.advance(to: target)
    }

    public func edge(_ kind: ButtonEdge.Kind, at seconds: Double, button: CounterButton = .service) async {
        await run(until: seconds)
        controller.handle(ButtonEdge(kind, at: .seconds(seconds), button: button))
    }

    /// Press at `seconds`, release `hold` seconds later.
    public func tap(at seconds: Double, hold: Double = 0.1, button: CounterButton = .service) async {
        await edge(.pressed, at: seconds, button: button)
        await edge(.released, at: seconds + hold, button: button)
    }

    /// The hub's answer to the last call arrives at `seconds`.
    public func answerCall(_ answer: CallAnswer, at seconds: Double) async {
        await run(until: seconds)
        controller.callAnswered(answer, call: caller.calls)
    }

    /// The kit's power changes at `seconds`, as the power watch posts it.
    public func power(_ state: PowerState, at seconds: Double) async {
        await run(until: seconds)
        controller.setPower(state)
    }

    /// Everything recorded so far is in the store.
    public func settle() async {
        recorder.flush()
    }

    /// The daemon's event loop over this rig, on a thread of its own; post `.stop` to end it.
    public func runLoop(
        watchdog: Duration? = nil, notify: @escaping @Sendable (String) -> Void = { _ in }
    ) -> (loop: CounterLoop, running: Task<Void, Never>) {
        let loop = CounterLoop()
        let running = Task {
            await loop.runOnOwnThread(
                controller: controller, button: button, clock: clock, logger: Logger(label: "test"),
                watchdog: watchdog, notify: notify)
        }
        return (loop, running)
    }
}

/// The call button's hub, answered by the test: keeps the number of the last call asked of it.
public final class FakeTicketCaller: TicketCaller {
    private let last = Mutex(0)

    public init() {}

    public func callNext(number: Int) { last.withLock { $0 = number } }
    /// The number of the last call (as many as were made: they are numbered from 1).
    public var calls: Int { last.withLock { $0 } }
}
