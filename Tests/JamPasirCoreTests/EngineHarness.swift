import JamPasirCore

/// Drives a `CounterEngine` the way the daemon does: raw edges at their instants, and between
/// them every wake-up the engine asks for. Records each action with the instant it was taken.
struct EngineHarness {
    enum Input {
        case down(Double)
        case up(Double)
        case callDown(Double)
        case callUp(Double)
        /// The hub's answer to the call button arrives.
        case answer(Double, CallAnswer)
        /// The kit's power changes (the daemon's power watch).
        case power(Double, PowerState)
        /// Press at `at`, release `hold` seconds later.
        static func tap(_ at: Double, hold: Double = 0.1) -> [Input] { [.down(at), .up(at + hold)] }
        /// The call button pressed at `at`.
        static func call(_ at: Double) -> [Input] { [.callDown(at), .callUp(at + 0.1)] }
    }

    struct Timed: CustomStringConvertible {
        var at: MonotonicInstant
        var action: Action
        var description: String { "\(at) \(action)" }
    }

    var engine: CounterEngine
    private(set) var log: [Timed] = []
    private(set) var now = MonotonicInstant.seconds(0)

    init(rules: ServiceRules = ServiceRules()) {
        engine = CounterEngine(rules: rules)
        record(engine.start(at: now))
    }

    mutating func run(_ inputs: [Input], until end: Double) {
        for input in inputs {
            let edge: ButtonEdge
            switch input {
            case .down(let s): edge = ButtonEdge(.pressed, at: .seconds(s))
            case .up(let s): edge = ButtonEdge(.released, at: .seconds(s))
            case .callDown(let s): edge = ButtonEdge(.pressed, at: .seconds(s), button: .call)
            case .callUp(let s): edge = ButtonEdge(.released, at: .seconds(s), button: .call)
            case .answer(let s, let answer):
                advance(to: .seconds(s))
                now = .seconds(s)
                let number = log.last { if case .callNext = $0.action { true } else { false } }.flatMap {
                    if case .callNext(let number) = $0.action { number } else { nil }
                } ?? 0
                record(engine.callAnswered(answer, call: number, at: now))
                continue
            case .power(let s, let state):
                advance(to: .seconds(s))
                now = .seconds(s)
                record(engine.setPower(state, at: now))
                continue
            }
            advance(to: edge.at)
            now = edge.at
            record(engine.edge(edge))
        }
        advance(to: .seconds(end))
    }

    private mutating func advance(to target: MonotonicInstant) {
        var woken: [(MonotonicInstant, [Action])] = []
        engine.run(until: target) { woken.append(($0, $1)) }
        for (at, actions) in woken {
            now = max(now, at)
            record(actions)
        }
        now = max(now, target)
    }

    private mutating func record(_ actions: [Action]) {
        log += actions.map { Timed(at: now, action: $0) }
    }

    // MARK: - Views of the log

    var frames: [(at: MonotonicInstant, text: String)] {
        log.compactMap { if case .show(let f) = $0.action { (at: $0.at, text: f.description) } else { nil } }
    }

    var sounds: [(at: MonotonicInstant, pattern: SoundPattern)] {
        log.compactMap { if case .sound(let p) = $0.action { (at: $0.at, pattern: p) } else { nil } }
    }

    var starts: [MonotonicInstant] {
        log.compactMap { if case .record(.started(let at, _, _)) = $0.action { at } else { nil } }
    }

    /// The ticket each session started with, in order.
    var startedTickets: [String?] {
        log.compactMap { if case .record(.started(_, _, let ticket)) = $0.action { ticket } else { nil } }
    }

    /// When the engine asked the hub for the next ticket.
    var calls: [MonotonicInstant] {
        log.compactMap { if case .callNext = $0.action { $0.at } else { nil } }
    }

    var ends: [SessionEnd] {
        log.compactMap { if case .record(.ended(let end)) = $0.action { end } else { nil } }
    }

    /// The presses refused for power, with their reasons.
    var refusals: [String] {
        log.compactMap { if case .startRefused(let reason) = $0.action { reason } else { nil } }
    }

    func frame(at seconds: Double) -> String? {
        frames.last { $0.at <= .seconds(seconds) }?.text
    }
}
