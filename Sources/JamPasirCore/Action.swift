/// What the core asks the world to do. The controller carries these out in order.
public enum Action: Equatable, Sendable {
    case show(DisplayFrame)
    case sound(SoundPattern)
    case light(LightState)
    case record(SessionEvent)
}

/// A change in a session's life that the store must keep.
public enum SessionEvent: Equatable, Sendable {
    /// The session started at the instant of the press, under this limit.
    case started(at: MonotonicInstant, limit: Duration)
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
    public var endedAfterLimit: Bool { duration > limit }
}
