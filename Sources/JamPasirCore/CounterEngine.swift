/// The whole counter logic: a gesture recogniser per button feeding the session machine, in
/// time order. Pure; the daemon, the simulator, the tests and replay all drive this one type.
public struct CounterEngine: Sendable {
    /// The start/stop button's.
    public private(set) var recognizer: GestureRecognizer
    /// The call button's (same debounce; only its short press means anything).
    public private(set) var callRecognizer: GestureRecognizer
    public private(set) var machine: SessionMachine

    public init(rules: ServiceRules) {
        recognizer = GestureRecognizer(rules: rules)
        callRecognizer = GestureRecognizer(rules: rules)
        machine = SessionMachine(rules: rules)
    }

    public var rules: ServiceRules { machine.rules }

    public mutating func start(at now: MonotonicInstant) -> [Action] {
        machine.start(at: now)
    }

    /// One raw edge of either button, with its kernel timestamp.
    public mutating func edge(_ edge: ButtonEdge) -> [Action] {
        switch edge.button {
        case .service: feed(recognizer.edge(edge), calls: callRecognizer.advance(to: edge.at), until: edge.at)
        case .call: feed(recognizer.advance(to: edge.at), calls: callRecognizer.edge(edge), until: edge.at)
        }
    }

    /// Time has reached `now` (a wake-up the engine asked for, or any later instant).
    public mutating func advance(to now: MonotonicInstant) -> [Action] {
        feed(recognizer.advance(to: now), calls: callRecognizer.advance(to: now), until: now)
    }

    /// The hub answered call `number` of the call button.
    public mutating func callAnswered(_ answer: CallAnswer, call number: Int, at now: MonotonicInstant) -> [Action] {
        advance(to: now) + machine.callAnswered(answer, call: number, at: now)
    }

    /// Today's figures, shown on a long press while idle (the machine counts on from them).
    public mutating func setTodayFigures(_ figures: SessionMachine.Figures) {
        machine.todayFigures = figures
    }

    /// A supervisor's message (see `SessionMachine.setNotice`).
    public mutating func setNotice(_ frame: DisplayFrame?, sound: SoundPattern? = nil, at now: MonotonicInstant)
        -> [Action]
    {
        advance(to: now) + machine.setNotice(frame, sound: sound, at: now)
    }

    /// An update waits for the counter (see `SessionMachine.requestHold`).
    public mutating func requestHold(_ frame: DisplayFrame, at now: MonotonicInstant) -> [Action] {
        advance(to: now) + machine.requestHold(frame, at: now)
    }

    /// The kit's power has changed (see `SessionMachine.setPower`).
    public mutating func setPower(_ state: PowerState, at now: MonotonicInstant) -> [Action] {
        advance(to: now) + machine.setPower(state, at: now)
    }

    public mutating func releaseHold(at now: MonotonicInstant) -> [Action] {
        advance(to: now) + machine.releaseHold(at: now)
    }

    public mutating func shutdown(at now: MonotonicInstant) -> [Action] {
        machine.shutdown(at: now)
    }

    /// The earliest instant either part needs to be advanced to.
    public var nextWake: MonotonicInstant? {
        [recognizer.nextWake, callRecognizer.nextWake, machine.nextWake].compactMap { $0 }.min()
    }

    /// Lets virtual time run to `target`: every wake-up due by then, at its own instant and in
    /// order, handed to `each` with its actions. The daemon's loop does this in real time; the
    /// tests and the property checks drive the engine so.
    public mutating func run(until target: MonotonicInstant, _ each: (MonotonicInstant, [Action]) -> Void) {
        VirtualTime.run(until: target, nextWake: { nextWake }) { each($0, advance(to: $0)) }
    }

    /// The two buttons' gestures to the machine in the order they were recognised (the service
    /// button's first at the same instant), then time up to `now`.
    private mutating func feed(_ gestures: [Gesture], calls: [Gesture], until now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        var service = gestures[...]
        var call = calls[...]
        while !service.isEmpty || !call.isEmpty {
            if let first = service.first, call.first.map({ first.recognizedAt <= $0.recognizedAt }) ?? true {
                actions += machine.handle(service.removeFirst())
            } else {
                actions += machine.handleCall(call.removeFirst())
            }
        }
        return actions + machine.advance(to: now)
    }
}

/// Virtual time, written once: whatever asks to be woken (`nextWake`) is woken at each instant it
/// names up to `target`, in order. The engine, the daemon's controller on a manual clock (the
/// test rig) and the tests all run time this way.
public enum VirtualTime {
    public static func run(
        until target: MonotonicInstant, nextWake: () -> MonotonicInstant?, wake: (MonotonicInstant) -> Void
    ) {
        while let instant = nextWake(), instant <= target { wake(instant) }
    }
}
