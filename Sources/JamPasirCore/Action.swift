/// What the core asks the world to do. The controller carries these out in order.
public enum Action: Equatable, Sendable {
    case show(DisplayFrame)
    case sound(SoundPattern)
    case light(LightState)
    case record(SessionEvent)
    /// Ask the office hub for the next waiting ticket (the call button); the answer to call
    /// `number` comes back as `CounterEngine.callAnswered(_:call:at:)`.
    case callNext(number: Int)
    /// The hold asked for (`SessionMachine.requestHold`) has taken the idle counter: the update
    /// may begin.
    case holdEngaged
    /// A press (or a call) refused: the battery is too low for a session; `reason` for the journal.
    case startRefused(reason: String)
}

/// The hub's answer to the call button.
public enum CallAnswer: Equatable, Sendable, CustomStringConvertible {
    /// The ticket called to this counter (`A-037`); the next session serves it.
    case called(ticket: String)
    /// Nobody is waiting.
    case nobodyWaiting
    /// The hub did not answer (network, hub down, wrong token): the counter times as before.
    case unreachable

    public var description: String {
        switch self {
        case .called(let ticket): "ticket \(ticket) called here"
        case .nobodyWaiting: "nobody waiting"
        case .unreachable: "no answer from the hub"
        }
    }
}

/// A change in a session's life that the store must keep.
public enum SessionEvent: Equatable, Sendable {
    /// The session started at the instant of the press, under this limit, serving `ticket` if a
    /// call brought one.
    case started(at: MonotonicInstant, limit: Duration, ticket: String? = nil)
    /// The session ended. `duration` runs from the start press to the press that ended it.
    case ended(SessionEnd)
}

public struct SessionEnd: Equatable, Sendable {
    public var outcome: Outcome
    public var startedAt: MonotonicInstant
    public var endedAt: MonotonicInstant
    public var limit: Duration
    public var freeService: Bool

    public init(
        outcome: Outcome, startedAt: MonotonicInstant, endedAt: MonotonicInstant, limit: Duration, freeService: Bool
    ) {
        self.outcome = outcome
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.limit = limit
        self.freeService = freeService
    }

    public var duration: Duration { endedAt - startedAt }
    /// A cancel after the limit is allowed but reported as such.
    package var endedAfterLimit: Bool { duration > limit }
}
