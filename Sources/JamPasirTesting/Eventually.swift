import Testing

/// Lets other tasks run until `condition` holds, for tests of concurrent wiring driven by a
/// `ManualClock`. Bounded, and never sleeps: it only yields.
public func eventually(
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async {
    for _ in 0..<200_000 {
        if await condition() { return }
        await Task.yield()
    }
    Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
}
