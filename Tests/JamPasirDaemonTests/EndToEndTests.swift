import ArgumentParser
import Foundation
import JamPasirCLI
import JamPasirConfig
import JamPasirCore
import JamPasirDaemon
import JamPasirExport
import JamPasirMedia
import JamPasirReports
import JamPasirStore
import JamPasirDaemonTesting
import JamPasirTesting
import Testing

/// The daemon's wiring on fake hardware and a real SQLite file, read back through the CLI code.
@Suite("Counter end to end")
struct EndToEndTests {
    let directory: TemporaryDirectory
    let storePath: String
    let configPath: String

    init() throws {
        directory = try TemporaryDirectory("e2e")
        storePath = directory.file("jampasir.sqlite")
        configPath = directory.file("jampasir.toml")
        try "[counter]\nid = \"loket-test\"\n[report]\ntime_zone = \"Asia/Jakarta\"\n".write(
            toFile: configPath, atomically: true, encoding: .utf8)
    }

    func cli<C: JampasirRenderable>(_ type: C.Type, _ arguments: [String]) throws -> String {
        try C.parse(arguments + ["--store", storePath, "--config", configPath]).render()
    }

    @Test func sessionsOfEveryKindReachTheStoreAndTheCLI() async throws {
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        await rig.tap(at: 10)  // in time: stopped at 1:35
        await rig.tap(at: 105)
        await rig.tap(at: 200)  // overtime: stopped at 2:01.5
        await rig.tap(at: 321.5)
        await rig.tap(at: 400)  // cancelled before the limit
        await rig.tap(at: 430, hold: 2.5)
        await rig.tap(at: 500)  // cancelled after the limit
        await rig.tap(at: 630, hold: 3)
        await rig.tap(at: 700)  // exactly at the limit
        await rig.tap(at: 820)
        await rig.run(until: 900)
        await rig.settle()

        let json = try cli(SessionsCommand.self, ["--format", "json"])
        let rows = try JSONDecoder().decode([SessionJSON].self, from: Data(json.utf8))
        #expect(rows.map(\.outcome) == ["in_time", "overtime", "cancelled", "cancelled", "in_time"])
        #expect(rows.map(\.durationMs) == [95_000, 121_500, 30_000, 130_000, 120_000])
        #expect(rows.map(\.freeService) == [false, true, false, false, false])
        #expect(rows.allSatisfy { $0.counterID == "loket-test" && $0.limitMs == 120_000 && $0.endedAt != nil })
        // Wall-clock times come from the edge instants: epoch + 10 s for the first start.
        #expect(rows[0].startedAt == Timestamp.iso8601(Date(timeIntervalSince1970: 1_796_000_010)))
        #expect(rows[0].endedAt == Timestamp.iso8601(Date(timeIntervalSince1970: 1_796_000_105)))

        let statsJSON = try cli(StatsCommand.self, ["--format", "json"])
        let stats = try JSONDecoder().decode([PeriodStatistics].self, from: Data(statsJSON.utf8))
        #expect(stats.count == 1)
        #expect(stats[0].sessions == 5)
        #expect(stats[0].inTime == 2)
        #expect(stats[0].overtime == 1)
        #expect(stats[0].freeServices == 1)
        #expect(stats[0].cancelled == 2)
        #expect(stats[0].cancelledAfterLimit == 1)

        let table = try cli(SessionsCommand.self, [])
        #expect(table.contains("FREE"))
        #expect(table.components(separatedBy: "\n").count == 1 + 5 + 1)

        // What the applicant saw at the overtime stop, and the buzzer's story of it.
        #expect(rig.display.texts.contains("FrEE"))
        #expect(rig.display.texts.contains("----"))
        #expect(rig.buzzer.patterns.filter { $0.value == .limitReached }.count == 3)
    }

    @Test func sessionsFilterByLocalDay() async throws {
        // The rig's epoch, 1_796_000_000, is 2026-11-30 05:33:20 in Jakarta (UTC+7).
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        await rig.tap(at: 1)
        await rig.tap(at: 20)
        await rig.tap(at: 86_400)  // the next local day
        await rig.tap(at: 86_430)
        await rig.settle()
        let day1 = try cli(SessionsCommand.self, ["--date", "2026-11-30", "--format", "csv"])
        #expect(day1.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2)
        let both = try cli(SessionsCommand.self, ["--from", "2026-11-30", "--to", "2026-12-01", "--format", "json"])
        #expect(try JSONDecoder().decode([SessionJSON].self, from: Data(both.utf8)).count == 2)
        #expect(try cli(SessionsCommand.self, ["--date", "2026-11-29"]) == "no sessions\n")
        #expect(throws: (any Error).self) { try cli(SessionsCommand.self, ["--date", "2026-02-30"]) }
        #expect(throws: (any Error).self) {
            try cli(SessionsCommand.self, ["--from", "2026-12-02", "--to", "2026-12-01"])
        }
    }

    @Test func exportWritesASignedExportThatVerifies() async throws {
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        await rig.tap(at: 1)
        await rig.tap(at: 50)
        await rig.tap(at: 60)
        await rig.tap(at: 200)
        await rig.settle()
        let arguments = ["--to", directory.path, "--store", storePath, "--config", configPath]
        // The device key is made by the daemon on its first start, not by the CLI.
        #expect(throws: (any Error).self) { try ExportCommand.parse(arguments).export() }
        let key = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        let message = try ExportCommand.parse(arguments).export()
        #expect(message.hasPrefix("exported 2 sessions to \(directory.path)/JAMPASIR/loket-test/"))
        let exportDirectory = String(message.dropFirst("exported 2 sessions to ".count))
        #expect(ExportVerifier.verify(directory: exportDirectory, expectedPublicKey: key.publicKeyBase64).isEmpty)
        let csv = try String(contentsOfFile: exportDirectory + "/sessions.csv", encoding: .utf8)
        let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("1,loket-test,"))
        #expect(lines[1].contains(",49000,120000,in_time,false,"))
        #expect(lines[2].contains(",140000,120000,overtime,true,"))
        #expect(throws: Never.self) {
            try VerifyCommand.parse([exportDirectory, "--public-key", key.publicKeyBase64]).run()
        }

        // The manifest seals the audit chain's head: the store verifies against the export until
        // someone rewrites history (here: the sqlite3 CLI drops the last chain entries).
        #expect(ExportVerifier.chainHead(directory: exportDirectory)?.seq == 3)
        #expect(throws: Never.self) {
            try VerifyCommand.parse(["--store", storePath, exportDirectory, "--public-key", key.publicKeyBase64]).run()
        }
        try tamperWithStore(at: storePath, "DELETE FROM audit WHERE seq >= 2;")
        #expect(throws: ExitCode(1)) { try VerifyCommand.parse(["--store", storePath]).run() }
        #expect(throws: ExitCode(1)) { try VerifyCommand.parse(["--store", storePath, exportDirectory]).run() }
        #expect(
            VerifyCommand.verifyChain(store: storePath, mustContain: []).problems
                == [
                    "\(storePath): session 1 has an outcome but no audit entry: the chain was truncated after entry 1, or the row was added behind the store's back"
                ]
        )
    }

    /// Session 1 in time, session 2 overtime (a free passport), exported: the export's folder.
    func exportTwoSessions() async throws -> String {
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        await rig.tap(at: 1)
        await rig.tap(at: 50)
        await rig.tap(at: 60)
        await rig.tap(at: 200)
        await rig.settle()
        _ = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        let message = try ExportCommand.parse(["--to", directory.path, "--store", storePath, "--config", configPath])
            .export()
        return String(message.dropFirst("exported 2 sessions to ".count))
    }

    @Test func verifyNamesAuditColumnsThatShadowTheEditedSessions() async throws {
        let export = try await exportTwoSessions()
        try tamperWithStore(
            at: storePath, ShadowColumnAttack.generatedColumns + ShadowColumnAttack.rewriteHistory(free: 2, deleted: 1))
        let verdict = try VerifyCommand.parse(["--store", storePath, export]).verify()
        #expect(verdict.exitStatus == 1)
        let failure = try #require(verdict.lines.first { $0.hasPrefix("FAIL \(storePath): the store's schema") })
        #expect(failure.contains("unexpected generated column audit.outcome"))
        #expect(throws: ExitCode(1)) { try VerifyCommand.parse(["--store", storePath]).run() }
    }

    @Test func verifyShowsControlCharactersFromAnExportInsteadOfSendingThem() async throws {
        let export = try await exportTwoSessions()
        // A file name that, printed raw, returns to the line's start, erases it and writes "OK".
        let manifestPath = export + "/manifest.json"
        var manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
                as? [String: Any])
        let files = try #require(manifest["files"] as? [[String: Any]])
        manifest["files"] =
            files + [["name": "x\r\u{1B}[2KOK", "sha256": String(repeating: "0", count: 64), "size": 0]]
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))

        let verdict = try VerifyCommand.parse([export]).verify()
        #expect(verdict.exitStatus == 1)
        #expect(verdict.lines.contains("FAIL x\\r\\u{1B}[2KOK is missing"))
        let output = verdict.lines.joined(separator: "\n")
        #expect(!output.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\r" })
    }

    @Test func verifyShowsControlCharactersFromTheStoreInsteadOfSendingThem() async throws {
        _ = try await exportTwoSessions()
        try tamperWithStore(at: storePath, "UPDATE session SET boot_id = 'b' || char(13, 27) || '[2KOK' WHERE id = 1;")
        let verdict = try VerifyCommand.parse(["--store", storePath]).verify()
        #expect(verdict.exitStatus == 1)
        let failure = try #require(verdict.lines.first { $0.hasPrefix("FAIL ") })
        #expect(failure.contains("boot_id=s8:b\\r\\u{1B}[2KOK;"))
        #expect(!failure.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\r" })
    }

    @Test func anExportSignedByAKeyNobodyTrustsIsNotOK() async throws {
        let export = try await exportTwoSessions()
        let key = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        let verdict = try VerifyCommand.parse([export, "--config", configPath]).verify()
        #expect(verdict.exitStatus == 2)
        #expect(
            verdict.lines == [
                "UNKNOWN SIGNER \(export): intact, but nothing says whose key signed it (fingerprint \(key.publicKeyFingerprint)); compare it with the counter's (jampasird logs it at start), then give --trusted-keys FILE or add the key to export.trusted_keys"
            ])
        #expect(throws: ExitCode(2)) { try VerifyCommand.parse([export, "--config", configPath]).run() }
    }

    @Test func onlyTheOfficesCounterKeysAreTrusted() async throws {
        let export = try await exportTwoSessions()
        let key = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        let otherCounter = try DeviceKey.loadOrCreate(at: directory.file("other.key")).publicKeyBase64
        let list = directory.file("trusted-keys")
        func verify(trusting keys: String) throws -> VerifyCommand.Verdict {
            try keys.write(toFile: list, atomically: true, encoding: .utf8)
            return try VerifyCommand.parse([export, "--trusted-keys", list]).verify()
        }
        let office = "# the office's counters\n\(otherCounter)  # loket-2\n\n\(key.publicKeyBase64)\n"
        let trusted = try verify(trusting: office)
        #expect(trusted.lines == ["OK \(export)"] && trusted.exitStatus == 0)
        #expect(
            try verify(trusting: otherCounter + "\n").lines == [
                "FAIL \(export) is signed by a key that is not trusted (fingerprint \(key.publicKeyFingerprint)): not one of the office's counters, or one missing from the trusted keys"
            ])
        #expect(try verify(trusting: otherCounter + "\n").exitStatus == 1)
        do {
            _ = try verify(trusting: "\(key.publicKeyBase64)\nloket-1\n")
            Issue.record("a line that is not a key was accepted")
        } catch {
            #expect(
                "\(error)" == "\(list):2: not a base64 Ed25519 public key (32 bytes); one key per line, # for comments")
        }
        // Or the configuration's list.
        try "[export]\ntrusted_keys = [\"\(key.publicKeyBase64)\"]\n".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        #expect(try VerifyCommand.parse([export, "--config", configPath]).verify().exitStatus == 0)
    }

    @Test func exportToMissingDirectoryFailsClearly() throws {
        _ = try SessionStore(path: storePath, access: .readWrite)
        #expect(throws: (any Error).self) {
            try ExportCommand.parse(["--to", directory.file("nope"), "--store", storePath]).export()
        }
    }

    @Test func aDeadDisplayNeverStopsTheCountdownOrTheRecord() async throws {
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        await rig.tap(at: 5)
        await rig.run(until: 20)
        rig.display.failing = true
        await rig.run(until: 100)
        #expect(rig.buzzer.patterns.map(\.value) == [.start, .warning])  // the 0:30 warning still sounded
        rig.display.failing = false
        await rig.run(until: 110)
        #expect(rig.display.text == "0:15")
        await rig.tap(at: 118)
        await rig.settle()
        #expect(try rig.store.sessions().map(\.outcome) == [.inTime])
    }

    @Test func shutdownWhileRunningRecordsAnInterruptedSession() async throws {
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        await rig.tap(at: 5)
        await rig.run(until: 47)
        rig.controller.shutdown()
        await rig.settle()
        let sessions = try rig.store.sessions()
        #expect(sessions.map(\.outcome) == [.interrupted])
        #expect(sessions[0].durationMs == 42_000)
        #expect(sessions[0].freeService == true)
        #expect(rig.display.text == "")
        #expect(rig.buzzer.silenceCount == 1)
    }

    @Test func storeWriteFailureKeepsTheOutcome() async throws {
        let rig = try CounterRig(storePath: storePath)
        await rig.start()
        // Someone left a session open for this counter by hand: the start cannot be recorded.
        _ = try rig.store.begin(
            SessionRecord(
                counterID: "loket-test", bootID: "x", startedAt: Date(), startedMonotonicNs: 0,
                clockSynchronized: false, limitMs: 120_000))
        await rig.tap(at: 1)
        try rig.store.interruptOpenSessions(at: Date(), freeService: true)
        await rig.tap(at: 30)
        await rig.settle()
        let outcomes = try rig.store.sessions().map(\.outcome)
        #expect(outcomes.sorted { $0!.rawValue < $1!.rawValue } == [.inTime, .interrupted])
    }
}

/// The CLI commands whose output tests read.
protocol JampasirRenderable: ParsableCommand {
    func render() throws -> String
}
extension SessionsCommand: JampasirRenderable {}
extension StatsCommand: JampasirRenderable {}

@Suite("export-key")
struct ExportKeyCommandTests {
    @Test func newKeyIsWrittenOnceAndItsFingerprintAuthorisesTheStick() throws {
        let stick = try TemporaryDirectory("stick")
        let output = try ExportKeyCommand.New.parse(["--to", stick.path]).write()
        let line = try #require(output.split(separator: "\n").last)
        let fingerprint = String(line.dropFirst("authorized_keys = [\"".count).dropLast(2))
        let contents = try ExportAuthorization.readKeyFile(mountPoint: stick.path)
        #expect(ExportAuthorization.isAuthorized(contents, allowed: [fingerprint]))
        // The printed line is valid configuration.
        let configuration = try Configuration(parsing: "[export]\n" + line, file: "test.toml")
        #expect(configuration.authorizedExportKeys == [fingerprint])
        // A second key is refused: the stick keeps the one the counters know.
        #expect(throws: (any Error).self) { try ExportKeyCommand.New.parse(["--to", stick.path]).write() }
    }
}
extension ReportCommand: JampasirRenderable {}
