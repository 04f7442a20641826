/// The raw button edges behind a session, kept with its record so that a dispute at the counter
/// can be settled from the record (`jampasir replay`). Edges are kept from shortly before the
/// start press to the decision that ended the session.
public struct EdgeJournal: Sendable {
    /// Edges this long before a session's start press are kept too (debounce context).
    public static let lead: Duration = .seconds(1)
    /// A bound for a noisy line during a very long session; older edges are dropped first.
    public static let capacity = 10_000

    private var edges: [ButtonEdge] = []

    public init() {}

    public mutating func append(_ edge: ButtonEdge) {
        edges.append(edge)
        if edges.count > Self.capacity { edges.removeFirst(edges.count - Self.capacity) }
    }

    /// The edges of a session that started at `startedAt`; forgets what no later session needs.
    public mutating func take(forSessionFrom startedAt: MonotonicInstant) -> [ButtonEdge] {
        let session = edges.filter { $0.at >= startedAt - Self.lead }
        if let last = edges.last { edges.removeAll { $0.at < last.at - Self.lead } }
        return session
    }

    /// Forgets edges older than `lead` before `now` (call while no session runs).
    public mutating func forget(before now: MonotonicInstant) {
        edges.removeAll { $0.at < now - Self.lead }
    }

    /// `P<ns> R<ns> …`: kind and CLOCK_MONOTONIC nanoseconds, as stored.
    public static func encode(_ edges: [ButtonEdge]) -> String {
        edges.map { ($0.kind == .pressed ? "P" : "R") + String($0.at.nanoseconds) }.joined(separator: " ")
    }

    public static func decode(_ text: String) -> [ButtonEdge]? {
        var result: [ButtonEdge] = []
        for word in text.split(separator: " ") {
            guard let kind = word.first, kind == "P" || kind == "R", let ns = Int64(word.dropFirst()) else {
                return nil
            }
            result.append(ButtonEdge(kind == "P" ? .pressed : .released, at: MonotonicInstant(nanoseconds: ns)))
        }
        return result
    }
}

/// Re-derives a session's outcome from its edge journal with the same recogniser and session
/// machine the daemon runs, step by step, so that each decision can be shown.
public enum SessionReplay {
    public struct Step: Sendable {
        public var at: MonotonicInstant
        /// The raw edge, or nil for a decision made by time passing (long press, limit).
        public var edge: ButtonEdge?
        /// The edge was ignored by debounce.
        public var debounced: Bool
        /// Before the session's start press: shown for context, not replayed (what the counter
        /// was doing then — a result on show, a re-arm guard — is not in the journal).
        public var beforeStart = false
        public var gestures: [Gesture]
        public var events: [SessionEvent]
    }

    public struct Result: Sendable {
        public var steps: [Step]
        /// The session as the engine decides it from these edges (nil if it never ended).
        public var end: SessionEnd?
        public var startedAt: MonotonicInstant?
    }

    /// With `startedAt` (the recorded start press), replay begins at that press with the counter
    /// idle, as it must have been for a session to start there; earlier edges are context only.
    public static func run(_ edges: [ButtonEdge], rules: ServiceRules, startedAt: MonotonicInstant? = nil) -> Result {
        var recognizer = GestureRecognizer(rules: rules)
        var machine = SessionMachine(rules: rules)
        var steps: [Step] = []
        var result = Result(steps: [], end: nil, startedAt: nil)
        let context = startedAt.map { start in edges.filter { $0.at < start } } ?? []
        for edge in context {
            steps.append(Step(at: edge.at, edge: edge, debounced: false, beforeStart: true, gestures: [], events: []))
        }
        let edges = startedAt.map { start in edges.filter { $0.at >= start } } ?? edges
        guard let first = edges.first else {
            result.steps = steps
            return result
        }
        _ = machine.start(at: first.at - .seconds(1))

        func apply(_ gestures: [Gesture], at: MonotonicInstant, edge: ButtonEdge?, debounced: Bool) {
            var events: [SessionEvent] = []
            for gesture in gestures {
                for case .record(let event) in machine.handle(gesture) { events.append(event) }
            }
            for case .record(let event) in machine.advance(to: at) { events.append(event) }
            for event in events {
                switch event {
                case .started(let at, _, _): if result.startedAt == nil { result.startedAt = at }
                case .ended(let end): if result.end == nil, result.startedAt != nil { result.end = end }
                }
            }
            if edge != nil || !gestures.isEmpty || !events.isEmpty {
                steps.append(Step(at: at, edge: edge, debounced: debounced, gestures: gestures, events: events))
            }
        }

        for edge in edges {
            while let wake = recognizer.nextWake, wake < edge.at {
                apply(recognizer.advance(to: wake), at: wake, edge: nil, debounced: false)
            }
            let ignoredBefore = recognizer.ignoredEdges
            let gestures = recognizer.edge(edge)
            apply(gestures, at: edge.at, edge: edge, debounced: recognizer.ignoredEdges > ignoredBefore)
        }
        // Decisions still pending after the last edge (a long press held to the end, a debounce
        // window closing).
        let horizon = edges.last!.at + rules.longPress + rules.debounce + .milliseconds(1)
        while result.end == nil, let wake = recognizer.nextWake, wake <= horizon {
            apply(recognizer.advance(to: wake), at: wake, edge: nil, debounced: false)
        }
        result.steps = steps
        return result
    }
}
