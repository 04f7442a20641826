import Foundation
import JamPasirCore
import JamPasirDaemon
import JamPasirExport
import JamPasirStore
import JamPasirTesting
import Logging
import Testing
import JamPasirReports

/// Issue 13, finding 4: the chain alone cannot tell a consistent rewrite, or its newest entries
/// deleted with their sessions, from the truth. A head signed by the device key that left the
/// box (jampasird logs one at every start and after every stick export; every export's manifest
/// carries one) lets `jampasir verify --store S --checkpoint FILE` name both.
@Suite("Chain checkpoints: a rewrite or truncation after a signed head is named")
struct CheckpointTests {
    let directory: TemporaryDirectory
    let storePath: String
    let key: DeviceKey
    let trustedKeys: String

    init() throws {
        directory = try TemporaryDirectory("checkpoint")
        storePath = directory.file("jampasir.sqlite")
        key = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        trustedKeys = directory.file("trusted-keys")
        try (key.publicKeyBase64 + "\n").write(toFile: trustedKeys, atomically: true, encoding: .utf8)
        try Self.writeStore(at: storePath, secondIsFree: true)
    }

    /// Three sessions, the second overtime (a free passport) or, in a rewritten history, in time.
    static func writeStore(at path: String, secondIsFree: Bool) throws {
        let store = try SessionStore(path: path, access: .readWrite)
        for index in 0..<3 {
            let free = index == 1 && secondIsFree
            let start = Date(timeIntervalSince1970: 1_796_000_000 + Double(index) * 600)
            try store.insertFinished(
                SessionRecord(
                    counterID: "loket-1", bootID: "boot", startedAt: start, startedMonotonicNs: 0,
                    clockSynchronized: true, limitMs: 120_000, endedAt: start.addingTimeInterval(130),
                    durationMs: free ? 130_000 : 90_000, outcome: free ? .overtime : .inTime, freeService: free))
        }
    }

    func writeCheckpoint(_ text: String) throws -> String {
        let path = directory.file("checkpoint.txt")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func checkpointOfTheStore() throws -> String {
        let store = try SessionStore(path: storePath, access: .readOnly)
        let checkpoint = try #require(
            try ChainCheckpoint.current(
                store: store, counterID: "loket-1", key: key, at: Date(timeIntervalSince1970: 1_796_010_000)))
        return try writeCheckpoint(checkpoint.logLine("at start"))
    }

    func verify(_ store: String, checkpoint: String? = nil) throws -> (status: Int32, output: String) {
        var arguments = ["verify", "--store", store, "--trusted-keys", trustedKeys]
        if let checkpoint { arguments += ["--checkpoint", checkpoint] }
        let result = try runBuilt("jampasir", arguments)
        return (result.status, result.output + result.error)
    }

    @Test func theLineJampasirdLogsAtStartVerifiesAgainstItsStore() throws {
        let configPath = directory.file("jampasir.toml")
        try "[counter]\nid = \"loket-1\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let script = "timeout 20 \"$0\" --simulate --store \"$1\" --config \"$2\" </dev/null 2>&1"
        let run = try runTool("/bin/sh", ["-c", script, builtExecutable("jampasird"), storePath, configPath])
        let log = String(decoding: run.output, as: UTF8.self)
        let line = try #require(log.split(separator: "\n").first { $0.contains("chain checkpoint at start") })
        let result = try verify(storePath, checkpoint: try writeCheckpoint(String(line)))
        #expect(result.status == 0)
        #expect(result.output.hasSuffix("OK \(storePath) \(directory.file("checkpoint.txt"))\n"))
    }

    /// Between starts and exports the daemon signs its head every N outcomes (100), or at the
    /// first outcome an hour or more after the last checkpoint; each line verifies.
    @Test func periodicCheckpointsFollowTheCountAndTheHour() async throws {
        let path = directory.file("periodic.sqlite")
        let store = try SessionStore(path: path, access: .readWrite)
        let log = CapturedLog()
        let t0 = Date(timeIntervalSince1970: 1_796_000_000)
        var checkpoints = SessionRecorder.PeriodicCheckpoints(key: key, lastAt: t0)
        checkpoints.everySessions = 3
        let recorder = SessionRecorder(
            store: store, counterID: "loket-1", bootID: "boot", logger: Logger(label: "test") { _ in log },
            checkpoints: checkpoints)
        // Outcomes at these minutes: the 3rd and 6th are due by count, the 7th (two hours after
        // the 6th) by the hour.
        for (index, minute) in [1, 2, 3, 4, 5, 6, 126].enumerated() {
            let start = MonotonicInstant.seconds(Double(index) * 1000)
            let end = SessionEnd(
                outcome: .inTime, startedAt: start, endedAt: start + .seconds(30), limit: .seconds(120),
                freeService: false)
            recorder.submit(
                .started(at: start, limit: .seconds(120)), wallTime: t0.addingTimeInterval(Double(minute * 60 - 30)),
                clockSynchronized: true)
            recorder.submit(.ended(end), wallTime: t0.addingTimeInterval(Double(minute * 60)), clockSynchronized: true)
        }
        recorder.flush()
        let lines = log.messages.filter { $0.contains("chain checkpoint periodic") }
        #expect(lines.count == 3)
        let result = try verify(path, checkpoint: try writeCheckpoint(try #require(lines.last)))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func entriesDeletedWithTheirSessionsAfterTheCheckpointAreNamed() throws {
        let checkpoint = try checkpointOfTheStore()
        try tamperWithStore(
            at: storePath, "DELETE FROM audit WHERE seq = 4; DELETE FROM session WHERE id = 3;")
        #expect(try verify(storePath).status == 0)  // the chain alone cannot tell
        let result = try verify(storePath, checkpoint: checkpoint)
        #expect(result.status == 1)
        #expect(
            result.output.contains(
                "FAIL the checkpoint of 2026-11-30T03:40:00.000Z sealed audit entry 4, but the store's chain ends at entry 3: the chain was truncated after the checkpoint of 2026-11-30T03:40:00.000Z"
            ))
    }

    @Test func aConsistentlyRewrittenChainIsNamed() throws {
        let checkpoint = try checkpointOfTheStore()
        // The rewritten history: session 2 in time, every entry's hash recomputed.
        let rewritten = directory.file("rewritten.sqlite")
        try Self.writeStore(at: rewritten, secondIsFree: false)
        #expect(try verify(rewritten).status == 0)  // the chain alone cannot tell
        let result = try verify(rewritten, checkpoint: checkpoint)
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL the checkpoint of 2026-11-30T03:40:00.000Z sealed audit entry 4 as "))
        #expect(result.output.contains(": the chain up to entry 4 was rewritten after the checkpoint of"))
    }

    /// An export's manifest is a signed checkpoint too: `verify --store S DIR` tells a
    /// truncation after the export from a rewrite.
    @Test func anExportNamesATruncationAfterIt() throws {
        let stick = directory.file("stick")
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
        let writer = ExportWriter(
            store: try SessionStore(path: storePath, access: .readWrite), counterID: "loket-1", key: key,
            timeZone: TimeZone(identifier: "Asia/Jakarta")!, language: .indonesian)
        let export = try writer.write(into: stick, at: Date(timeIntervalSince1970: 1_796_010_000)).directory
        try tamperWithStore(at: storePath, "DELETE FROM audit WHERE seq = 4; DELETE FROM session WHERE id = 3;")
        let result = try runBuilt("jampasir", ["verify", "--store", storePath, export, "--trusted-keys", trustedKeys])
        #expect(result.status == 1)
        #expect(
            result.output.contains(
                "FAIL the export sealed audit entry 4, but the store's chain ends at entry 3: the chain was truncated after the export"
            ))
    }

    @Test func anEditedCheckpointIsRefused() throws {
        let path = try checkpointOfTheStore()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        _ = try writeCheckpoint(text.replacing("\"seq\":4", with: "\"seq\":3"))
        let result = try verify(storePath, checkpoint: path)
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL the checkpoint's signature does not verify: \(path) was edited"))
    }
}
