import JamPasirCore

/// The start/stop push button: edges stamped on CLOCK_MONOTONIC, reported from a thread of the
/// button's own straight to the event loop's inbox.
public protocol ButtonInput: Sendable {
    /// Starts reporting: `edge` for every edge in the order they happened, then `gone` once if the
    /// button goes away for good. Called once.
    func start(edge: @escaping @Sendable (ButtonEdge) -> Void, gone: @escaping @Sendable () -> Void)
    /// Stops reporting (shutdown); `gone` is not called.
    func stop()
}
