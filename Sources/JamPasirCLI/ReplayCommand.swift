import ArgumentParser
import Foundation
import JamPasirCore
import JamPasirStore
import JamPasirConfig

/// `jampasir replay ID`: re-derives a session's outcome from its recorded button edges with the
/// same engine the daemon runs, and explains each decision.
public struct ReplayCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-derive a session's outcome from its recorded button edges, and show how it was decided.",
        discussion: """
            The rules are those the audit chain recorded as in force when the session ran; for a \
            store without them, the configuration's now, with the session's own limit. Exit status 0 when the replay agrees with the \
            record, 1 when it does not, 66 when there is no such session or no edge journal.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: ArgumentHelp("The session id (see `jampasir sessions`).", valueName: "id")) var id: Int64

    public init() {}

    public func run() throws {
        let (text, agrees) = try explain()
        print(text, terminator: "")
        if !agrees { throw ExitCode(1) }
    }

    /// The explanation, and whether the replay agrees with the record.
    public func explain() throws -> (String, Bool) {
        let configuration = try storeOptions.configuration()
        let store = try storeOptions.openStore(configuration)
        guard let session = try store.session(id: id) else {
            throw CLIFailure(message: "no session \(id) in \(configuration.storePath)", exitStatus: 66)
        }
        guard let text = try store.edges(ofSession: id), let edges = EdgeJournal.decode(text), !edges.isEmpty else {
            throw CLIFailure(
                message:
                    "session \(id) has no edge journal (recorded before journals were kept, or interrupted by a power cut)",
                exitStatus: 66)
        }
        let chained = try store.rulesText(forSession: id).flatMap { ServiceRules(auditDescription: $0) }
        var rules = chained ?? configuration.rules
        rules.limit = .milliseconds(session.limitMs)
        let replay = SessionReplay.run(
            edges, rules: rules, startedAt: MonotonicInstant(nanoseconds: session.startedMonotonicNs))
        let origin = replay.startedAt ?? edges[0].at
        func offset(_ instant: MonotonicInstant) -> String {
            let ms = Double((instant - origin).nanoseconds) / 1e6
            return String(format: "%+10.3f s", ms / 1000)
        }
        var lines = [
            "session \(id) at counter \(session.counterID), limit \(Double(session.limitMs) / 1000) s",
            "rules (\(chained != nil ? "as chained when the session ran" : "configuration now: none chained")): debounce \(rules.debounce), long press \(rules.longPress), re-arm guard \(rules.rearmGuard)",
            "edges (kernel CLOCK_MONOTONIC, relative to the start press):",
        ]
        for step in replay.steps {
            var what: [String] = []
            if let edge = step.edge {
                what.append(edge.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))
                if step.beforeStart { what.append("(before the start press: context)") }
                if step.debounced {
                    what.append("ignored: within \(rules.debounce) of the last accepted edge (bounce)")
                }
            } else {
                what.append("(time)  ")
            }
            for gesture in step.gestures { what.append("→ " + Self.describe(gesture)) }
            for event in step.events { what.append("⇒ " + Self.describe(event)) }
            lines.append("  \(offset(step.at))  " + what.joined(separator: " "))
        }
        let recorded =
            "\(session.outcome?.rawValue ?? "open"), \(session.durationMs.map { "\($0) ms" } ?? "duration unknown"), \(session.freeService == true ? "free" : "not free")"
        guard let end = replay.end else {
            lines.append("replayed: the session never ends in these edges (the daemon stopped while it ran)")
            lines.append("recorded: \(recorded)")
            let agrees = session.outcome == .interrupted
            lines.append(agrees ? "→ agrees (interrupted)" : "→ DIFFERS from the record")
            return (Self.text(lines), agrees)
        }
        let durationMs = end.duration.millisecondsRoundedUp
        lines.append(
            "replayed: \(end.outcome.rawValue), \(durationMs) ms (\(end.duration.nanoseconds) ns from press to press), \(end.freeService ? "free" : "not free")"
        )
        lines.append("recorded: \(recorded)")
        let agrees =
            session.outcome == end.outcome && session.durationMs == durationMs && session.freeService == end.freeService
        lines.append(agrees ? "→ agrees with the record" : "→ DIFFERS from the record")
        return (Self.text(lines), agrees)
    }

    /// The lines, each made terminal-safe (the counter id comes from the store).
    static func text(_ lines: [String]) -> String {
        lines.map { $0.terminalSafe + "\n" }.joined()
    }

    static func describe(_ gesture: Gesture) -> String {
        switch gesture {
        case .press: "press"
        case .longPress: "long press (held)"
        case .stuck: "stuck button"
        case .unstuck: "button freed"
        }
    }

    static func describe(_ event: SessionEvent) -> String {
        switch event {
        case .started: "session starts"
        case .ended(let end): "session ends: \(end.outcome.rawValue)"
        }
    }
}
