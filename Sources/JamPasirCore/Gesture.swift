/// What the officer did with the button, as recognised from debounced edges.
public enum Gesture: Equatable, Sendable {
    /// Pressed and released before the long-press time. Decided at release; timed by the press.
    case press(downAt: MonotonicInstant, upAt: MonotonicInstant)
    /// Held for the long-press time; recognised while still held.
    case longPress(downAt: MonotonicInstant, recognizedAt: MonotonicInstant)
    /// Held longer than the stuck-button time: a fault until released.
    case stuck(downAt: MonotonicInstant, recognizedAt: MonotonicInstant)
    /// A stuck button was finally released.
    case unstuck(at: MonotonicInstant)

    /// The instant the gesture became known: the moment to act on it.
    public var recognizedAt: MonotonicInstant {
        switch self {
        case .press(_, let up): up
        case .longPress(_, let at), .stuck(_, let at): at
        case .unstuck(let at): at
        }
    }
}
