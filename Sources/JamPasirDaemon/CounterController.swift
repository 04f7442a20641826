import Foundation
import JamPasirCore
import JamPasirHardware
import Logging
import JamPasirReports

/// Carries out what the engine decides: frames to the display, patterns to the buzzer, lights,
/// and events to the recorder. Owns the engine; all input reaches it through here.
///
/// Not thread-safe, on purpose: one thread drives it, in the daemon the event loop's
/// (`CounterLoop`), in tests the test's (`CounterRig`). Nothing else holds it.
public final class CounterController: @unchecked Sendable {
    private var engine: CounterEngine
    private let hardware: CounterHardware
    private let recorder: SessionRecorder
    private let clock: any MonotonicClock
    private let wallClock: any WallClock
    private let brightness: BrightnessLevels
    private let logger: Logger
    private var displayFault: String?
    private var journal = EdgeJournal()
    /// Today's figures from the store, asked again when the local day changes.
    private let figures: (@Sendable (DateInterval) -> SessionMachine.Figures)?
    private let timeZone: TimeZone
    private var figuresDay: DateInterval?
    private let metrics: MetricsPublisher?
    private var publishedStuck = false
    private let caller: (any TicketCaller)?
    /// Told once when a requested hold has taken the idle counter (an update may begin).
    private var holdEngaged: (@Sendable () -> Void)?

    public init(
        rules: ServiceRules, hardware: CounterHardware, recorder: SessionRecorder, clock: any MonotonicClock,
        wallClock: any WallClock, brightness: BrightnessLevels = BrightnessLevels(), logger: Logger,
        timeZone: TimeZone = .current, figures: (@Sendable (DateInterval) -> SessionMachine.Figures)? = nil,
        metrics: MetricsPublisher? = nil, caller: (any TicketCaller)? = nil
    ) {
        self.caller = caller
        self.metrics = metrics
        self.figures = figures
        self.timeZone = timeZone
        engine = CounterEngine(rules: rules)
        self.hardware = hardware
        self.recorder = recorder
        self.clock = clock
        self.wallClock = wallClock
        self.brightness = brightness
        self.logger = logger
    }

    public func start() {
        refreshFigures()
        perform(engine.start(at: clock.now()))
    }

    /// At the first edge of a new local day the figures start again from the store's.
    private func refreshFigures() {
        guard let figures else { return }
        let now = wallClock.now()
        if let day = figuresDay, day.contains(now) { return }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard let day = calendar.dateInterval(of: .day, for: now) else { return }
        figuresDay = day
        engine.setTodayFigures(figures(day))
    }

    /// A button edge with its kernel timestamp.
    public func handle(_ edge: ButtonEdge) {
        logger.debug("button \(edge)", metadata: ["edge_ns": "\(edge.at.nanoseconds)"])
        if edge.button == .service {
            // Idle with the button up: older edges cannot belong to any session still to come.
            if !engine.machine.isRunning && !engine.recognizer.isHeld { journal.forget(before: edge.at) }
            journal.append(edge)
        }
        refreshFigures()
        perform(engine.edge(edge))
    }

    /// The wake-up the engine asked for has come (or time has otherwise moved on).
    public func wake() {
        perform(engine.advance(to: clock.now()))
    }

    /// The hub's answer to call `number` of the call button.
    public func callAnswered(_ answer: CallAnswer, call number: Int) {
        let now = clock.now()
        perform(engine.advance(to: now))  // a wait that ran out by now has ended before the answer is judged
        if engine.machine.isWaiting(forCall: number) {
            logger.notice("call button: \(answer)")
        } else {
            logger.warning(
                "call button: \(answer), too late for the counter (it stopped waiting); if a ticket was called, call again or fetch the applicant by voice")
        }
        perform(engine.callAnswered(answer, call: number, at: now))
    }

    /// A supervisor's message (USB export), shown while idle; its sound only if idle now.
    public func setNotice(_ frame: DisplayFrame?, sound: SoundPattern?) {
        perform(engine.setNotice(frame, sound: sound, at: clock.now()))
    }

    /// Holds the counter showing `frame` once it is idle; `engaged` is told when it has. Asked
    /// again while held, only the frame changes.
    public func requestHold(_ frame: DisplayFrame, engaged: (@Sendable () -> Void)?) {
        if let engaged { holdEngaged = engaged }
        perform(engine.requestHold(frame, at: clock.now()))
    }

    /// The kit's power, from the power watch: logged when its kind changes, in the metrics.
    public func setPower(_ state: PowerState) {
        let before = engine.machine.power
        if state.severity != before.severity || state.isUnknown != before.isUnknown {
            switch state {
            case .mains: logger.notice("power: \(state)")
            case .battery: logger.warning("power: \(state); sessions go on")
            case .tooLow: logger.warning("power: \(state); no new session starts, a running one runs to its end")
            case .unknown: logger.warning("power: \(state); sessions start as on mains")
            }
        }
        perform(engine.setPower(state, at: clock.now()))
        metrics?.update { $0.power = state }
    }

    public func releaseHold() {
        holdEngaged = nil
        perform(engine.releaseHold(at: clock.now()))
    }

    /// Stopping: an open session is recorded as interrupted, display dark, buzzer silent.
    public func shutdown() {
        perform(engine.shutdown(at: clock.now()))
        hardware.buzzer.silence()
    }

    public var nextWake: MonotonicInstant? { engine.nextWake }

    /// One line for `systemctl status`.
    public var status: String {
        if engine.machine.isHeld { return "held: an update is being installed" }
        if engine.machine.power.refusesSessions && !engine.machine.isRunning { return "battery too low: no new session" }
        if engine.recognizer.isHeld && engine.machine.isRunning { return "session running, button held" }
        return engine.machine.isRunning ? "session running" : "ready"
    }
    public var isRunningSession: Bool { engine.machine.isRunning }

    private func perform(_ actions: [Action]) {
        for action in actions {
            switch action {
            case .show(let frame):
                show(frame)
            case .sound(let pattern):
                hardware.buzzer.play(pattern)
            case .light(let state):
                hardware.lights.set(state)
            case .startRefused(let reason):
                logger.warning("no session started: \(reason)")
            case .holdEngaged:
                holdEngaged?()
                holdEngaged = nil
            case .callNext(let number):
                if let caller {
                    caller.callNext(number: number)
                } else {
                    logger.warning("call button pressed, but this counter calls no hub")
                }
            case .record(let event):
                var edges: [ButtonEdge] = []
                if case .ended(let end) = event { edges = journal.take(forSessionFrom: end.startedAt) }
                recorder.submit(
                    event, wallTime: wallTime(at: event.instant), clockSynchronized: wallClock.isSynchronized,
                    edges: edges)
            }
        }
        if engine.recognizer.isStuck != publishedStuck {
            publishedStuck = engine.recognizer.isStuck
            metrics?.update { [stuck = publishedStuck] in $0.buttonStuck = stuck }
        }
    }

    /// A display that stops answering is logged once; the countdown carries on regardless.
    private func show(_ frame: DisplayFrame) {
        do {
            try hardware.display.show(SegmentFrame(frame, levels: brightness))
            if let fault = displayFault {
                logger.notice("display answers again after: \(fault)")
                displayFault = nil
            }
        } catch {
            if displayFault == nil {
                displayFault = "\(error)"
                logger.error("display did not take frame '\(frame)': \(error); the countdown goes on and is recorded")
            }
        }
    }

    /// The wall-clock time of a monotonic instant (edges are stamped in the past).
    private func wallTime(at instant: MonotonicInstant) -> Date {
        let age = clock.now() - instant
        return wallClock.now().addingTimeInterval(-Double(age.nanoseconds) / 1e9)
    }
}

extension SessionEvent {
    var instant: MonotonicInstant {
        switch self {
        case .started(let at, _, _): at
        case .ended(let end): end.endedAt
        }
    }
}
