/// The counter's two buttons.
public enum CounterButton: Equatable, Sendable {
    /// Start/stop (a long press cancels).
    case service
    /// "Panggil": call the next waiting ticket.
    case call
}

/// One level change of one of the buttons, stamped by the kernel (or a fake) on CLOCK_MONOTONIC.
public struct ButtonEdge: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        case pressed
        case released
    }

    public var kind: Kind
    public var at: MonotonicInstant
    public var button: CounterButton

    public init(_ kind: Kind, at: MonotonicInstant, button: CounterButton = .service) {
        self.kind = kind
        self.at = at
        self.button = button
    }

    public var description: String { "\(button == .call ? "call " : "")\(kind) at \(at)" }
}
