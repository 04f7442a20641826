/// One level change of the start/stop button, stamped by the kernel (or a fake) on CLOCK_MONOTONIC.
public struct ButtonEdge: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        case pressed
        case released
    }

    public var kind: Kind
    public var at: MonotonicInstant

    public init(_ kind: Kind, at: MonotonicInstant) {
        self.kind = kind
        self.at = at
    }

    public var description: String { "\(kind) at \(at)" }
}
