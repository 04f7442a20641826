import ArgumentParser
import Foundation
import JamPasirCLI
import JamPasirCore
import JamPasirStore
import JamPasirDaemonTesting
import JamPasirTesting
import Testing

/// A long, messy simulated day through the daemon's wiring (bouncing contacts, double presses,
/// cancels, overtime, a noise spike): every recorded outcome must be re-derived exactly by
/// `jampasir replay` from the edge journal stored with it.
@Suite("Replay from the edge journal")
struct ReplayTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    @Test func replayReproducesEveryRecordedOutcomeOfALongRun() async throws {
        let directory = try TemporaryDirectory("replay")
        let storePath = directory.file("jampasir.sqlite")
        let configPath = directory.file("jampasir.toml")
        try "[counter]\nid = \"loket-test\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        var random = Generator(state: 2026)
        var t = 1.0
        /// Presses with a few bounces on each edge, as a worn button makes them.
        func bouncyTap(at start: Double, hold: Double) async {
            for i in 0..<Int.random(in: 0...3, using: &random) {
                await rig.edge(.pressed, at: start + Double(i) * 0.004)
                await rig.edge(.released, at: start + Double(i) * 0.004 + 0.002)
            }
            await rig.edge(.pressed, at: start + 0.02)
            await rig.edge(.released, at: start + 0.02 + hold)
        }
        for _ in 0..<120 {
            await bouncyTap(at: t, hold: 0.1)  // start
            let service = Double.random(in: 20...140, using: &random)
            let kind = Int.random(in: 0..<10, using: &random)
            if kind == 0 {
                await bouncyTap(at: t + service, hold: 2.5)  // cancel
            } else if kind == 1 {
                await rig.edge(.pressed, at: t + service / 2)  // a 3 ms noise spike mid-session
                await rig.edge(.released, at: t + service / 2 + 0.003)
                await bouncyTap(at: t + service, hold: 0.15)
            } else {
                await bouncyTap(at: t + service, hold: Double.random(in: 0.05...1.9, using: &random))
            }
            if kind == 2 {
                await rig.tap(at: t + service + 2.3, hold: 0.1)  // double press: ignored
            }
            t += service + Double.random(in: 8...60, using: &random)
        }
        await rig.run(until: t + 10)
        await rig.settle()

        let store = try SessionStore(path: storePath, access: .readOnly)
        let sessions = try store.sessions()
        // Some "double presses" come after the re-arm guard and rightly start a session of their own.
        #expect(sessions.count >= 120)
        #expect(Set(sessions.compactMap(\.outcome)) == [.inTime, .overtime, .cancelled])
        for session in sessions {
            let (text, agrees) = try ReplayCommand.parse([
                "\(session.id!)", "--store", storePath, "--config", configPath,
            ]).explain()
            #expect(agrees, "session \(session.id!):\n\(text)")
        }
        #expect(try store.verifyChain().sessions == sessions.count)  // edge journals are chained too
    }

    @Test func todaysFiguresComeFromTheStoreAfterARestart() async throws {
        let directory = try TemporaryDirectory("figures")
        let storePath = directory.file("jampasir.sqlite")
        do {
            let rig = try CounterRig(storePath: storePath)
            await rig.start()
            await rig.tap(at: 1)
            await rig.tap(at: 50)  // in time
            await rig.tap(at: 60)
            await rig.tap(at: 200)  // overtime: free
            await rig.settle()
        }
        let restarted = try CounterRig(storePath: storePath)
        await restarted.start()
        await restarted.edge(.pressed, at: 300)
        await restarted.run(until: 302.5)
        #expect(restarted.display.text == "n  2")
        await restarted.edge(.released, at: 303)
        await restarted.run(until: 305.5)
        #expect(restarted.display.text == "F  1")
    }

    @Test func replayUsesTheRulesChainedWhenTheSessionRan() async throws {
        let directory = try TemporaryDirectory("replay-rules")
        let storePath = directory.file("jampasir.sqlite")
        let configPath = directory.file("jampasir.toml")  // today's config: long press 2 s (default)
        try "[counter]\nid = \"loket-test\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        var then = ServiceRules()
        then.longPress = .seconds(3)
        #expect(try SessionStore(path: storePath, access: .readWrite).recordRules(then.auditDescription))
        let rig = try CounterRig(rules: then, storePath: storePath)
        await rig.start()
        await rig.tap(at: 1)
        await rig.tap(at: 60, hold: 2.5)  // under a 3 s long press this is a stop, not a cancel
        await rig.settle()
        let (text, agrees) = try ReplayCommand.parse(["1", "--store", storePath, "--config", configPath]).explain()
        #expect(agrees, "\(text)")
        #expect(text.contains("as chained when the session ran"))
        #expect(text.contains("recorded: in_time, 59000 ms"))
        #expect(ServiceRules(auditDescription: then.auditDescription) == then)
    }

    @Test func replayExplainsTheDecisions() async throws {
        let directory = try TemporaryDirectory("replay")
        let storePath = directory.file("jampasir.sqlite")
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        await rig.edge(.pressed, at: 1)
        await rig.edge(.released, at: 1.005)  // bounce
        await rig.edge(.pressed, at: 1.010)  // bounce
        await rig.edge(.released, at: 1.2)
        await rig.tap(at: 121.0005)  // 120.0005 s: rounds up to 120001 ms, overtime
        await rig.settle()
        let configPath = directory.file("jampasir.toml")
        try "[counter]\nid = \"loket-test\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let (text, agrees) = try ReplayCommand.parse(["1", "--store", storePath, "--config", configPath]).explain()
        #expect(agrees)
        #expect(text.contains("ignored: within 0.03 seconds of the last accepted edge (bounce)"))
        #expect(text.contains("⇒ session starts"))
        #expect(text.contains("replayed: overtime, 120001 ms (120000500000 ns from press to press), free"))
        #expect(text.contains("recorded: overtime, 120001 ms, free"))
    }
}

@Suite("jampasir report against an independent computation")
struct ReportCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func python(_ arguments: [String]) throws -> Int32 {
        try runTool("/usr/bin/python3", arguments).status
    }

    @Test func everyFigurePerDayAndPerHourMatchesPython() throws {
        let directory = try TemporaryDirectory("report")
        let storePath = directory.file("jampasir.sqlite")
        let configPath = directory.file("jampasir.toml")
        try "[counter]\nid = \"loket-2\"\n[report]\ntime_zone = \"Asia/Jakarta\"\nlanguage = \"en\"\n".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        _ = try SessionStore(path: storePath, access: .readWrite)
        let demo = Self.repository.appendingPathComponent("scripts/demo-store.py").path
        #expect(try python([demo, storePath, "--sessions", "3000", "--chain"]) == 0)
        // The demo's chain, computed independently in Python, verifies with the store's own code.
        #expect(try SessionStore(path: storePath, access: .readOnly).verifyChain().sessions == 3000)

        let json = try ReportCommand.parse(["--format", "json", "--store", storePath, "--config", configPath]).render()
        let reportPath = directory.file("report.json")
        try json.write(toFile: reportPath, atomically: true, encoding: .utf8)
        let checker = Self.repository.appendingPathComponent("Tests/reports/check_report.py").path
        #expect(try python([checker, storePath, reportPath, "7"]) == 0)

        let html = try ReportCommand.parse([
            "--store", storePath, "--config", configPath, "--from", "2026-11-16", "--to", "2026-11-30",
        ]).render()
        #expect(html.contains("By hour of day (all days)"))
        #expect(html.contains("Period 2026-11-16 – 2026-11-30"))
        #expect(html.contains("after the limit"))
        #expect(!html.contains("<script"))
        let csv = try ReportCommand.parse(["--format", "csv", "--store", storePath, "--config", configPath]).render()
        #expect(csv.hasPrefix("kind,period,sessions,"))
        #expect(csv.contains("\r\nhour,08:00,"))
    }
}
