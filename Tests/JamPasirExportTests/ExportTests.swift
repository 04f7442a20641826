import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirReports
import JamPasirStore
import JamPasirTesting
import Testing

/// A store with `count` finished sessions, inserted in one statement.
func filledStore(_ directory: TemporaryDirectory, count: Int) throws -> SessionStore {
    let store = try SessionStore(path: directory.file("state/jampasir.sqlite"), access: .readWrite)
    try store.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))
        INSERT INTO session (counter_id, boot_id, started_at, started_monotonic_ns, clock_synchronized, limit_ms,
                             ended_at, duration_ms, outcome, free_service)
        SELECT 'loket-1', 'boot', strftime('%Y-%m-%d %H:%M:%f', 1796000000 + i * 300, 'unixepoch'), i, 1, 120000,
               strftime('%Y-%m-%d %H:%M:%f', 1796000000 + i * 300 + 60, 'unixepoch'),
               CASE WHEN i % 10 = 0 THEN 125000 ELSE 60000 + i % 50000 END,
               CASE WHEN i % 10 = 0 THEN 'overtime' ELSE 'in_time' END,
               CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END
        FROM n
        """)
    return store
}

struct ExportFixture {
    let directory: TemporaryDirectory
    let store: SessionStore
    let key: DeviceKey
    let root: String

    init(sessions: Int = 25) throws {
        directory = try TemporaryDirectory("export")
        store = try filledStore(directory, count: sessions)
        key = try DeviceKey.loadOrCreate(at: directory.file("state/device.key"))
        root = directory.file("stick")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    var writer: ExportWriter {
        ExportWriter(
            store: store, counterID: "loket-1", key: key, timeZone: TimeZone(identifier: "Asia/Jakarta")!,
            language: .indonesian)
    }

    func export() throws(ExportWriter.Failure) -> ExportWriter.Result {
        try writer.write(into: root, at: Date(timeIntervalSince1970: 1_796_100_000))
    }
}

@Suite("Signed export")
struct ExportTests {
    @Test func freshExportVerifiesAndHasEveryFile() throws {
        let f = try ExportFixture()
        let result = try f.export()
        #expect(result.directory == f.root + "/JAMPASIR/loket-1/2026-12-01T044000000Z")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: result.directory).sorted()
                == ["chain.txt", "manifest.json", "report.html", "sessions.csv", "sessions.jsonl"])
        #expect(result.manifest.body.sessions == ExportManifest.SessionRange(count: 25, firstID: 1, lastID: 25))
        // chain.txt: every entry of the store's chain up to the sealed head, in order.
        let head = try #require(result.manifest.body.chain)
        let chain = try String(contentsOfFile: result.directory + "/chain.txt", encoding: .utf8)
        let expected = try (1...head.seq).map { "\($0) \(try #require(try f.writer.store.chainEntryHash(seq: $0)))\n" }
        #expect(chain == expected.joined())
        #expect(chain.hasSuffix("\(head.seq) \(head.hash)\n"))
        #expect(ExportVerifier.verify(directory: result.directory, expectedPublicKey: f.key.publicKeyBase64).isEmpty)
        let jsonl = try String(contentsOfFile: result.directory + "/sessions.jsonl", encoding: .utf8)
        #expect(jsonl.split(separator: "\n").count == 25)
    }

    @Test func theDeviceKeyIsKeptAcrossStarts() throws {
        let f = try ExportFixture()
        let again = try DeviceKey.loadOrCreate(at: f.directory.file("state/device.key"))
        #expect(again.publicKeyBase64 == f.key.publicKeyBase64)
        let attributes = try FileManager.default.attributesOfItem(atPath: f.directory.file("state/device.key"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func editedCSVRowIsCaught() throws {
        let f = try ExportFixture()
        let dir = try f.export().directory
        let csv = try Data(contentsOf: URL(fileURLWithPath: dir + "/sessions.csv"))
        // Someone shortens an overtime session (same length, so only the hash tells).
        let edited = String(decoding: csv, as: UTF8.self).replacingOccurrences(
            of: ",125000,120000,overtime,", with: ",119000,120000,overtime,")
        try Data(edited.utf8).write(to: URL(fileURLWithPath: dir + "/sessions.csv"))
        #expect(
            ExportVerifier.verify(directory: dir) == [
                "sessions.csv: SHA-256 does not match the manifest: the file was changed"
            ])
    }

    @Test func removedFileIsCaught() throws {
        let f = try ExportFixture()
        let dir = try f.export().directory
        try FileManager.default.removeItem(atPath: dir + "/report.html")
        #expect(ExportVerifier.verify(directory: dir) == ["report.html is missing"])
    }

    @Test func editedManifestIsCaught() throws {
        let f = try ExportFixture()
        let dir = try f.export().directory
        let manifest = try String(contentsOfFile: dir + "/manifest.json", encoding: .utf8)
        try manifest.replacingOccurrences(of: "\"count\" : 25", with: "\"count\" : 24").write(
            toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        let problems = ExportVerifier.verify(directory: dir)
        #expect(problems.contains("the manifest's signature does not verify: manifest.json was edited"))
        #expect(problems.contains("sessions.csv has 25 sessions, manifest says 24"))
    }

    @Test func exportSignedByAnotherKeyIsCaught() throws {
        let f = try ExportFixture()
        let dir = try f.export().directory
        let other = try DeviceKey.loadOrCreate(at: f.directory.file("other.key"))
        let problems = ExportVerifier.verify(directory: dir, expectedPublicKey: other.publicKeyBase64)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("signed by a different device key") == true)
    }

    @Test func symlinkedJAMPASIRIsRefusedAndNothingWritten() throws {
        let f = try ExportFixture()
        let elsewhere = f.directory.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: f.root + "/JAMPASIR", withDestinationPath: elsewhere)
        #expect(throws: ExportWriter.Failure.self) { try f.export() }
        do { _ = try f.export() } catch { #expect(error.kind == .unsafePath) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    @Test func JAMPASIRAsAFileIsRefused() throws {
        let f = try ExportFixture()
        #expect(FileManager.default.createFile(atPath: f.root + "/JAMPASIR", contents: Data("x".utf8)))
        do {
            _ = try f.export()
            Issue.record("exported through a file")
        } catch {
            #expect(error.kind == .unsafePath)
        }
    }

    @Test func stickRemovedMidExportLeavesNothingThatLooksComplete() throws {
        let f = try ExportFixture(sessions: 25_000)
        let storeBefore = try f.store.sessions().count
        var removed = false
        do {
            _ = try f.writer.write(into: f.root, at: Date()) { done, _ in
                if !removed, done >= 10_000 {
                    try? FileManager.default.removeItem(atPath: f.root)  // the stick is pulled
                    removed = true
                }
            }
            Issue.record("the export claimed success after the stick was pulled")
        } catch {
            #expect(error.kind == .vanished)
        }
        #expect(removed)
        #expect(!FileManager.default.fileExists(atPath: f.root))
        #expect(try f.store.sessions().count == storeBefore)
    }

    @Test func csvReadsBackWithPythonsCSVModule() throws {
        let f = try ExportFixture()
        let dir = try f.export().directory
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            """
            import csv, sys
            rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
            print(len(rows), rows[9]['outcome'], rows[9]['free_service'], rows[0]['duration_ms'], rows[0]['started_at'])
            """,
            dir + "/sessions.csv",
        ]
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        python.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(python.terminationStatus == 0)
        #expect(output == "25 overtime true 60001 2026-11-30T00:58:20.000Z\n")
    }

    @Test func reportIsSelfContainedIndonesianHTML() throws {
        let f = try ExportFixture()
        let html = try String(contentsOfFile: try f.export().directory + "/report.html", encoding: .utf8)
        #expect(html.contains("Laporan Layanan Paspor Dua Menit"))
        #expect(html.contains("<svg"))
        #expect(html.contains("2:00 (batas)"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("href="))
    }
}
