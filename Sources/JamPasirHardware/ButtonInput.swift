import JamPasirCore

/// The start/stop push button: a stream of edges stamped on CLOCK_MONOTONIC.
public protocol ButtonInput: Sendable {
    /// Edges in the order they happened. The stream ends when the button goes away for good.
    func edges() -> AsyncStream<ButtonEdge>
}
