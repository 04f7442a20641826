import JamPasirCore
import JamPasirTesting
import PropertyBased
import Testing

/// Any sequence of button edges at any timing — contact bounce, long holds, missed edges (two
/// presses in a row), hours of silence — through the whole engine. Whatever happens: no crash,
/// never two sessions open, every session closed by exactly one outcome, each outcome agreeing
/// with the edge timestamps, and `SessionReplay` deciding every session the same way from its
/// edges alone.
@Suite("Engine properties under arbitrary edges")
struct EnginePropertyTests {
    /// (gap, scale): scale 0–2 makes bounce-sized gaps (≤ 30 ms), 3–6 human ones (≤ 3 s),
    /// 7–9 long ones (≤ 150 s, past the limit); scale 9 with some gaps also repeats the previous
    /// edge's kind (a missed edge).
    static let steps = zip(Gen.int(in: 0...2999), Gen.int(in: 0...9)).array(of: 0...160)

    static func edges(_ steps: [(Int, Int)]) -> [ButtonEdge] {
        var t: Int64 = 1_000_000_000
        var kind = ButtonEdge.Kind.released
        var edges: [ButtonEdge] = []
        for (gap, scale) in steps {
            let gapNs: Int64 =
                switch scale {
                case 0...2: Int64(gap) * 10_000
                case 3...6: Int64(gap) * 1_000_000
                default: Int64(gap) * 50_000_000
                }
            t += gapNs
            if !(scale == 9 && gap % 3 == 0) { kind = kind == .pressed ? .released : .pressed }
            edges.append(ButtonEdge(kind, at: MonotonicInstant(nanoseconds: t)))
        }
        return edges
    }

    struct Session {
        var startedAt: MonotonicInstant
        var end: SessionEnd?
    }

    /// Runs the engine as the daemon does: every wake-up it asks for, then each edge; stops at
    /// the end of the input plus the limit, then shuts down.
    static func run(_ edges: [ButtonEdge], rules: ServiceRules) -> [Session] {
        var engine = CounterEngine(rules: rules)
        var sessions: [Session] = []
        func take(_ actions: [Action]) {
            for case .record(let event) in actions {
                switch event {
                case .started(let at, _, _):
                    #expect(sessions.last.map { $0.end != nil } ?? true, "a session started while one was open")
                    sessions.append(Session(startedAt: at))
                case .ended(let end):
                    #expect(sessions.last?.end == nil, "an end without an open session")
                    #expect(sessions.last?.startedAt == end.startedAt)
                    if !sessions.isEmpty { sessions[sessions.count - 1].end = end }
                }
            }
        }
        take(engine.start(at: .seconds(0)))
        func advance(to instant: MonotonicInstant) {
            engine.run(until: instant) { take($1) }
        }
        for edge in edges {
            advance(to: edge.at)
            take(engine.edge(edge))
        }
        let end = (edges.last?.at ?? .seconds(1)) + rules.limit + .seconds(40)
        advance(to: end)
        take(engine.shutdown(at: end))
        return sessions
    }

    @Test func noCrashOneOpenSessionOneOutcomeConsistentWithTheEdges() async {
        let rules = ServiceRules()
        await propertyCheck(count: propertyCases(400), input: Self.steps) { steps in
            let edges = Self.edges(steps)
            let presses = Set(edges.filter { $0.kind == .pressed }.map(\.at))
            for session in Self.run(edges, rules: rules) {
                guard let end = session.end else {
                    Issue.record("a session was never closed")
                    continue
                }
                #expect(presses.contains(end.startedAt), "a session starts at a press edge")
                switch end.outcome {
                case .inTime:
                    #expect(end.duration <= rules.limit && !end.freeService && presses.contains(end.endedAt))
                case .overtime:
                    #expect(end.duration > rules.limit && end.freeService && presses.contains(end.endedAt))
                case .cancelled:
                    #expect(!end.freeService && presses.contains(end.endedAt))
                case .interrupted:
                    #expect(end.freeService == rules.interruptedIsFree)
                }
                #expect(end.duration >= .zero)
            }
        }
    }

    /// An update asks for the counter before any edge: whatever the edges, the hold takes the
    /// counter only when no session is open, every session that started before it ends exactly as
    /// it would have without the hold, and none starts while the counter is held.
    @Test func aHoldNeverTakesASessionAndNoneStartsWhileHeld() async {
        let rules = ServiceRules()
        await propertyCheck(count: propertyCases(300), input: zip(Self.steps, Gen.int(in: 0...160))) { steps, holdAt in
            let edges = Self.edges(steps)
            let without = Self.run(edges, rules: rules)
            var engine = CounterEngine(rules: rules)
            var starts: [MonotonicInstant] = []
            var ends: [SessionEnd] = []
            var engagedAt: MonotonicInstant?
            func take(_ actions: [Action], at instant: MonotonicInstant) {
                for action in actions {
                    switch action {
                    case .holdEngaged:
                        #expect(starts.count == ends.count, "held while a session was open")
                        engagedAt = instant
                    case .record(.started(let at, _, _)):
                        #expect(engagedAt == nil, "a session started while the counter was held")
                        starts.append(at)
                    case .record(.ended(let end)):
                        ends.append(end)
                    default:
                        break
                    }
                }
            }
            take(engine.start(at: .seconds(0)), at: .seconds(0))
            for (index, edge) in edges.enumerated() {
                engine.run(until: edge.at) { take($1, at: $0) }
                if index == holdAt { take(engine.requestHold(DisplayFrame("UPd "), at: edge.at), at: edge.at) }
                take(engine.edge(edge), at: edge.at)
            }
            let end = (edges.last?.at ?? .seconds(1)) + rules.limit + .seconds(40)
            engine.run(until: end) { take($1, at: $0) }
            let before = without.prefix(starts.count)
            #expect(before.map(\.startedAt) == starts, "the same sessions start until the hold")
            #expect(Array(before.compactMap(\.end).prefix(ends.count)) == ends, "and end as they would have")
            if holdAt < edges.count, starts.count == ends.count {
                #expect(engagedAt != nil, "a counter with no session open is taken in the end")
            }
        }
    }

    @Test func replayFromTheJournalDecidesEverySessionTheSameWay() async {
        let rules = ServiceRules()
        await propertyCheck(count: propertyCases(300), input: Self.steps) { steps in
            let edges = Self.edges(steps)
            for session in Self.run(edges, rules: rules) {
                guard let end = session.end, end.outcome != .interrupted else { continue }
                // What the daemon keeps: edges from 1 s before the start press to the decision.
                let journal = edges.filter {
                    $0.at >= end.startedAt - EdgeJournal.lead && $0.at <= end.endedAt + rules.longPress
                }
                let replayed = SessionReplay.run(journal, rules: rules, startedAt: end.startedAt).end
                #expect(replayed?.outcome == end.outcome, "edges: \(EdgeJournal.encode(journal))")
                #expect(replayed?.duration == end.duration)
            }
        }
    }
}
