/// The two-minute service as a state machine: gestures and time in, actions out.
///
/// idle ──press──▶ running ──press──▶ result (in time / FrEE) ──hold over──▶ idle
///                    └──long press──▶ result (----)
///
/// A press during the result hold starts the next session, unless it comes within the re-arm
/// guard of the stop (a double press). A long press while idle shows today's figures.
/// Durations run from press to press, using the edges' timestamps; the instant a gesture is
/// recognised only decides what the display shows.
///
/// The call button, while no session runs: `CALL` until the hub answers, then the ticket called
/// (`A037`), `nonE` or `Err2` for the call hold. The next session started serves that ticket.
///
/// A hold (an update installing) takes the counter once it is idle, never during a session or its
/// result: from then on (`.holdEngaged`) no session starts and no call goes out, until released.
///
/// Power (a kit on its battery, `setPower`): on battery the idle display shows `b2:00`; too low
/// for a session, it shows `bAtt`, and a press (or a call) is refused with `bAtt` and the refused
/// tone while a running session runs to its end. Each change for the worse sounds one short
/// tone once the counter has been idle (and not held) for a second: never over a session.
public struct SessionMachine: Sendable {
    private struct Running: Sendable {
        var startedAt: MonotonicInstant
        var warningsSounded = 0
        var overtimeAnnounced = false
    }

    private enum Phase: Sendable {
        case idle
        case running(Running)
        case showingResult(SessionEnd, until: MonotonicInstant)
        case showingFigures(from: MonotonicInstant)
        /// Call number `number` was sent; waiting for the hub's answer until `until` at most.
        case calling(number: Int, until: MonotonicInstant)
        /// A message shown until `until`: the hub's answer to a call, or `bAtt` for a refused press.
        case showingMessage(DisplayFrame, until: MonotonicInstant)
    }

    /// Today's sessions and free passports, for the supervisor's long press.
    public struct Figures: Equatable, Sendable {
        public var sessions: Int
        public var free: Int

        public init(sessions: Int = 0, free: Int = 0) {
            self.sessions = sessions
            self.free = free
        }
    }

    public let rules: ServiceRules
    private let warnings: [Duration]
    private var phase: Phase = .idle
    private var buttonStuck = false
    private var notice: DisplayFrame?
    /// What the counter shows while held, and whether the hold has taken it yet.
    private var hold: (frame: DisplayFrame, engaged: Bool)?
    /// Counted up as sessions end; the daemon sets them from the store and at midnight.
    public var todayFigures = Figures()
    private var shownFrame: DisplayFrame?
    private var shownLights: LightState?
    private var presentedAt = MonotonicInstant(nanoseconds: 0)
    /// When the last session was stopped: a press sooner than the re-arm guard after it is a
    /// double press, whatever the display shows meanwhile.
    private var stoppedAt: MonotonicInstant?
    /// The calls sent so far; an answer counts only for the one the counter is waiting for.
    private var callsSent = 0
    /// The ticket the last call brought and when, until a session starts to serve it, the next
    /// call, or `rules.calledTicketLife` passes (a no-show's ticket never goes to a walk-in).
    private var called: (ticket: String, at: MonotonicInstant)?
    public var calledTicket: String? { called?.ticket }
    /// The kit's power (`setPower`); mains unless told otherwise.
    public private(set) var power: PowerState = .mains
    /// A change of power for the worse, to be sounded once the counter has been idle a moment
    /// (`powerToneDue`): never at the first instant of a session started as a result went.
    private var powerTonePending = false
    private var powerToneDue: MonotonicInstant?
    private static let powerToneAfterIdle: Duration = .seconds(1)
    /// How bad the power last read was (an unreadable UPS changes nothing for the tone).
    private var knownPowerSeverity = 0

    public init(rules: ServiceRules) {
        self.rules = rules
        self.warnings = rules.effectiveWarnings
    }

    /// Whether a session is open (started and not yet ended).
    public var isRunning: Bool {
        if case .running = phase { return true }
        return false
    }

    /// The first frame and lights after start-up.
    public mutating func start(at now: MonotonicInstant) -> [Action] {
        present(at: now)
    }

    public mutating func handle(_ gesture: Gesture) -> [Action] {
        let now = gesture.recognizedAt
        var actions = advance(to: now)
        switch (gesture, phase) {
        case (.press, _) where isHeld, (.longPress, _) where isHeld:
            actions.append(.sound(.refused))
        case (.press(let downAt, _), .running(let running)):
            let duration = downAt - running.startedAt
            actions += endSession(running, as: duration <= rules.limit ? .inTime : .overtime, at: downAt, now: now)
        case (.press(let downAt, _), _):
            guard stoppedAt.map({ downAt - $0 >= rules.rearmGuard }) ?? true else { break }
            actions += power.refusesSessions ? refuseForPower(at: now) : startSession(at: downAt, now: now)
        case (.longPress(let downAt, _), .running(let running)):
            actions += endSession(running, as: .cancelled, at: downAt, now: now)
        case (.longPress, .idle) where rules.figuresEach > .zero:
            phase = .showingFigures(from: now)
            actions += present(at: now)
        case (.longPress, _):
            break  // nothing to cancel
        case (.stuck, _):
            buttonStuck = true
            actions.append(.sound(.fault))
            actions += present(at: now)
        case (.unstuck, _):
            buttonStuck = false
            actions += present(at: now)
        }
        return actions
    }

    /// A gesture of the call button: a short press asks for the next ticket, unless a session is
    /// running or a call is already waiting for its answer. Its other gestures mean nothing.
    public mutating func handleCall(_ gesture: Gesture) -> [Action] {
        let now = gesture.recognizedAt
        var actions = advance(to: now)
        guard case .press = gesture, !isHeld else { return actions }
        switch phase {
        case .running, .calling:
            break
        case .idle, .showingResult, .showingFigures, .showingMessage:
            // A ticket called to a counter that cannot start its session would wait in vain.
            if power.refusesSessions { return actions + refuseForPower(at: now) }
            called = nil
            callsSent += 1
            phase = .calling(number: callsSent, until: now + rules.callAnswerWait)
            actions += present(at: now) + [.callNext(number: callsSent)]
        }
        return actions
    }

    /// Whether the counter is still waiting for the answer to call `number`.
    public func isWaiting(forCall number: Int) -> Bool {
        if case .calling(number, _) = phase { return true }
        return false
    }

    /// The hub's answer to call `number`, taken only while the counter waits for that call: shown
    /// for the call hold, its ticket kept for the next session. An answer that comes after `CALL`
    /// gave way (or after a session was started, for someone not called) is not taken: the
    /// officer never saw it.
    public mutating func callAnswered(_ answer: CallAnswer, call number: Int, at now: MonotonicInstant) -> [Action] {
        var actions = advance(to: now)
        guard isWaiting(forCall: number) else { return actions }
        let frame: DisplayFrame
        switch answer {
        case .called(let ticket):
            called = (ticket, now)
            frame = .ticket(ticket)
            actions.append(.sound(.start))
        case .nobodyWaiting:
            frame = .nobodyWaiting
        case .unreachable:
            frame = .fault(.hubUnreachable)
            actions.append(.sound(.fault))
        }
        phase = .showingMessage(frame, until: now + rules.callHold)
        return actions + present(at: now)
    }

    /// Lets time pass up to `now`: warnings, the limit, countdown frames, the end of the result hold.
    public mutating func advance(to now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        switch phase {
        case .idle:
            break
        case .running(var running):
            while running.warningsSounded < warnings.count,
                running.startedAt + rules.limit - warnings[running.warningsSounded] <= now
            {
                actions.append(.sound(.warning))
                running.warningsSounded += 1
            }
            if !running.overtimeAnnounced, now >= overtimeBegins(running) {
                actions.append(.sound(.limitReached))
                running.overtimeAnnounced = true
            }
            phase = .running(running)
        case .showingResult(_, let until):
            if now >= until { phase = .idle }
        case .showingFigures(let from):
            if now >= from + rules.figuresEach * figureFrames.count { phase = .idle }
        case .calling(_, let until), .showingMessage(_, let until):
            if now >= until { phase = .idle }
        }
        if let pending = hold, !pending.engaged, case .idle = phase {
            hold = (pending.frame, true)
            actions.append(.holdEngaged)
        }
        if powerTonePending, case .idle = phase, !isHeld {
            let due = powerToneDue ?? now + Self.powerToneAfterIdle
            if now >= due {
                powerTonePending = false
                powerToneDue = nil
                actions.append(.sound(.powerWorse))
            } else {
                powerToneDue = due
            }
        } else {
            powerToneDue = nil
        }
        return actions + present(at: now)
    }

    /// A message for the supervisor (the USB export's progress and result), shown while no
    /// session runs or shows its result; a running session keeps the display, and the message
    /// appears once the counter is idle again if it is still set. `sound` is played only if the
    /// counter is idle now, so an export never beeps over a session. `nil` clears the message.
    public mutating func setNotice(_ frame: DisplayFrame?, sound: SoundPattern? = nil, at now: MonotonicInstant)
        -> [Action]
    {
        notice = frame
        var actions = advance(to: now)
        if let sound, case .idle = phase { actions.insert(.sound(sound), at: 0) }
        return actions
    }

    /// The kit's power has changed (the daemon's power watch). A running session runs to its end
    /// whatever it is; a change for the worse sounds once the counter is idle (`.powerWorse`).
    public mutating func setPower(_ state: PowerState, at now: MonotonicInstant) -> [Action] {
        if !state.isUnknown {
            if state.severity > knownPowerSeverity {
                powerTonePending = true
            } else if state.severity < knownPowerSeverity {
                powerTonePending = false
            }
            knownPowerSeverity = state.severity
        }
        power = state
        return advance(to: now)
    }

    /// Whether the counter is held: no session starts.
    public var isHeld: Bool { hold?.engaged ?? false }

    /// Holds the counter showing `frame` as soon as it is idle (now, or when the running session
    /// and its result are over): `.holdEngaged` says when. Asked again, only the frame changes.
    public mutating func requestHold(_ frame: DisplayFrame, at now: MonotonicInstant) -> [Action] {
        hold = (frame, hold?.engaged ?? false)
        return advance(to: now)
    }

    /// Sessions may start again.
    public mutating func releaseHold(at now: MonotonicInstant) -> [Action] {
        hold = nil
        return advance(to: now)
    }

    /// The daemon is stopping: an open session is recorded as interrupted and everything goes dark.
    public mutating func shutdown(at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        if case .running(let running) = phase {
            let end = SessionEnd(
                outcome: .interrupted, startedAt: running.startedAt, endedAt: now, limit: rules.limit,
                freeService: Outcome.interrupted.isFreeService(rules: rules))
            actions.append(.record(.ended(end)))
        }
        phase = .idle
        shownFrame = .blank
        shownLights = .off
        return actions + [.show(.blank), .light(.off)]
    }

    /// When the machine next needs `advance(to:)`, if ever.
    public var nextWake: MonotonicInstant? {
        switch phase {
        case .idle:
            return powerToneDue
        case .running(let running):
            var candidates = [nextFrameChange(running)]
            if running.warningsSounded < warnings.count {
                candidates.append(running.startedAt + rules.limit - warnings[running.warningsSounded])
            }
            if !running.overtimeAnnounced { candidates.append(overtimeBegins(running)) }
            return candidates.min()
        case .showingResult(_, let until), .calling(_, let until), .showingMessage(_, let until):
            return until
        case .showingFigures(let from):
            let shown = Int((presentedAt - from).nanoseconds / rules.figuresEach.nanoseconds) + 1
            return from + rules.figuresEach * min(shown, figureFrames.count)
        }
    }

    // MARK: - Transitions

    private mutating func startSession(at downAt: MonotonicInstant, now: MonotonicInstant) -> [Action] {
        phase = .running(Running(startedAt: downAt))
        let ticket = called.flatMap { downAt - $0.at <= rules.calledTicketLife ? $0.ticket : nil }
        called = nil
        return [.record(.started(at: downAt, limit: rules.limit, ticket: ticket)), .sound(.start)] + advance(to: now)
    }

    /// A press or a call while the battery is too low: `bAtt` for the call hold, the refused tone.
    private mutating func refuseForPower(at now: MonotonicInstant) -> [Action] {
        // A call sent before the battery fell keeps waiting for its answer.
        if case .calling = phase { return [.sound(.refused), .startRefused(reason: power.description)] }
        phase = .showingMessage(.lowBattery, until: now + rules.callHold)
        return [.sound(.refused), .startRefused(reason: power.description)] + present(at: now)
    }

    private mutating func endSession(
        _ running: Running, as outcome: Outcome, at endedAt: MonotonicInstant, now: MonotonicInstant
    ) -> [Action] {
        let end = SessionEnd(
            outcome: outcome, startedAt: running.startedAt, endedAt: endedAt, limit: rules.limit,
            freeService: outcome.isFreeService(rules: rules))
        phase = .showingResult(end, until: now + rules.resultHold)
        stoppedAt = now
        todayFigures.sessions += 1
        if end.freeService { todayFigures.free += 1 }
        return [.record(.ended(end)), .sound(outcome == .cancelled ? .cancel : .stop)] + present(at: now)
    }

    // MARK: - Presentation

    /// Shows what the current phase calls for at `now`, emitting only what changed.
    private mutating func present(at now: MonotonicInstant) -> [Action] {
        presentedAt = now
        var (frame, lights) = appearance(at: now)
        if buttonStuck {
            frame = .fault(.stuckButton)
            lights = LightState(red: true, sand: lights.sand)
        }
        var actions: [Action] = []
        if frame != shownFrame {
            actions.append(.show(frame))
            shownFrame = frame
        }
        if lights != shownLights {
            actions.append(.light(lights))
            shownLights = lights
        }
        return actions
    }

    private func appearance(at now: MonotonicInstant) -> (DisplayFrame, LightState) {
        switch phase {
        case .idle:
            if let hold, hold.engaged { return (hold.frame, LightState(amber: true)) }
            if let notice { return (notice, power.refusesSessions ? LightState(amber: true) : .ready) }
            var ready = DisplayFrame.clock(
                seconds: Self.wholeSecondsRoundedUp(rules.limit), negative: false, brightness: .dim)
            switch power {
            case .mains, .unknown:
                return (ready, .ready)
            case .battery:
                // `b2:00`: the mark takes the blank first digit (a limit of 10 min or more has none).
                if ready.characters[0] == " " { ready.characters[0] = "b" }
                return (ready, .ready)
            case .tooLow:
                return (DisplayFrame(DisplayFrame.lowBattery.description, brightness: .dim), LightState(amber: true))
            }
        case .running(let running):
            let remaining = running.startedAt + rules.limit - now
            let sand = Double(remaining.nanoseconds) / Double(rules.limit.nanoseconds)
            let lights: LightState
            if remaining < .zero {
                lights = LightState(red: true, sand: 0)
            } else if let firstWarning = warnings.first, remaining <= firstWarning {
                lights = LightState(amber: true, sand: sand)
            } else {
                lights = LightState(green: true, sand: sand)
            }
            return (Self.countdownFrame(remaining: remaining), lights)
        case .showingFigures(let from):
            let frames = figureFrames
            let index = Int((now - from).nanoseconds / rules.figuresEach.nanoseconds)
            return (frames[min(max(index, 0), frames.count - 1)], .ready)
        case .calling:
            return (.calling, .ready)
        case .showingMessage(let frame, _):
            return (frame, power.refusesSessions ? LightState(amber: true) : .ready)
        case .showingResult(let end, _):
            let sand = max(0, Double((end.limit - end.duration).nanoseconds) / Double(end.limit.nanoseconds))
            switch end.outcome {
            case .inTime:
                return (Self.countdownFrame(remaining: end.limit - end.duration), LightState(green: true, sand: sand))
            case .overtime, .interrupted:
                return (.free, LightState(red: true, sand: 0))
            case .cancelled:
                return (.cancelled, LightState(amber: true, sand: sand))
            }
        }
    }

    /// The supervisor's long press: `n 37` (sessions today), `F  2` (free), and on a kit whose
    /// board reports it `b 87` (the battery's charge).
    private var figureFrames: [DisplayFrame] {
        func frame(_ letter: String, _ value: Int) -> DisplayFrame {
            let digits = String(min(max(value, 0), 999))
            return DisplayFrame(letter + String(repeating: " ", count: 3 - digits.count) + digits)
        }
        var frames = [frame("n", todayFigures.sessions), frame("F", todayFigures.free)]
        if let charge = power.reading?.chargePercent { frames.append(frame("b", charge)) }
        return frames
    }

    /// `M:SS` rounded up while time remains (so `2:00` shows for the whole first second and
    /// `0:00` only at the limit itself), then `-M:SS` of whole seconds over, from the first
    /// nanosecond past the limit.
    static func countdownFrame(remaining: Duration) -> DisplayFrame {
        if remaining >= .zero {
            return .clock(seconds: wholeSecondsRoundedUp(remaining), negative: false)
        }
        return .clock(seconds: Int(-remaining.nanoseconds / 1_000_000_000), negative: true)
    }

    private static func wholeSecondsRoundedUp(_ duration: Duration) -> Int {
        Int((duration.nanoseconds + 999_999_999) / 1_000_000_000)
    }

    private func overtimeBegins(_ running: Running) -> MonotonicInstant {
        running.startedAt + rules.limit + .nanoseconds(1)
    }

    /// The next instant the countdown frame changes, after the last instant presented.
    private func nextFrameChange(_ running: Running) -> MonotonicInstant {
        let deadline = running.startedAt + rules.limit
        let second: Int64 = 1_000_000_000
        let remaining = (deadline - presentedAt).nanoseconds
        if remaining > 0 {
            let shown = (remaining + second - 1) / second
            return deadline - .nanoseconds((shown - 1) * second)
        }
        if remaining == 0 { return deadline + .nanoseconds(1) }
        return deadline + .nanoseconds((-remaining / second + 1) * second)
    }
}
