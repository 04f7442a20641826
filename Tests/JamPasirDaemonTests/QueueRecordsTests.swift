import Foundation
import JamPasirExport
import JamPasirHub
import JamPasirQueue
import JamPasirTesting
import Testing

/// The queue's evidence through the front door: a day of tickets on the hub (issued, a number
/// voided by a failed print, warnings, a breach, calls, a no-show closed at midnight), then
/// `jampasir hub verify`, `jampasir hub export` and `jampasir verify` as the head of office and an
/// auditor type them, and the same after someone edits the store or the export.
@Suite("The queue's records")
struct QueueRecordsTests {
    typealias Printer = HubQueueTests.GoodPrinter
    static let morning = HubQueueTests.morning

    /// A day on the hub, in virtual time: what the records must say happened, in order.
    static func officeDay(_ path: String) throws -> [String] {
        let queue = try HubQueue(
            store: try HubStore(path: path), rules: .standard, timeZone: HubQueueTests.jakarta, office: "Kantor Imigrasi Singkawang",
            now: morning)
        func at(_ minutes: Double) -> Date { morning.addingTimeInterval(minutes * 60) }
        _ = try queue.press(at: at(0), printer: Printer())  // A-001
        _ = try queue.press(at: at(0.5), printer: HubQueueTests.Unplugged())  // A-002 voided
        _ = try queue.press(at: at(1), printer: Printer())  // A-003
        _ = try queue.call(counter: "loket-1", at: at(30))  // A-001
        _ = try queue.snapshot(at: at(125))  // A-003: three warnings and the breach
        _ = try queue.call(counter: "loket-2", at: at(130))  // A-003
        _ = try queue.press(at: at(140), printer: Printer())  // A-004, never called
        _ = try queue.press(at: at(24 * 60), printer: Printer())  // the next day: A-004 left at midnight
        return [
            "A-001 issued", "A-002 voided", "A-003 issued", "A-001 called loket-1", "A-003 warned 60", "A-003 warned 90",
            "A-003 warned 105", "A-003 breached", "A-003 called loket-2", "A-004 issued", "A-004 warned 60",
            "A-004 warned 90", "A-004 warned 105", "A-004 breached", "A-004 left", "A-001 issued",
        ]
    }

    static func events(_ csv: String) -> [String] {
        csv.split(separator: "\r\n").dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return ([f[3], f[4]] + [f[6], f[7]].filter { !$0.isEmpty }).joined(separator: " ")
        }
    }

    static func sql(_ path: String, _ statement: String) throws {
        let run = try runTool("/usr/bin/sqlite3", [path, statement])
        #expect(run.status == 0, "sqlite3 \(statement)")
    }

    @Test func theDayIsRecordedChainedExportedSignedAndVerified() throws {
        let directory = try TemporaryDirectory("queue-records")
        let store = directory.file("hub/hub.sqlite")
        try FileManager.default.createDirectory(atPath: directory.file("hub"), withIntermediateDirectories: true)
        let expected = try Self.officeDay(store)

        let verify = try runBuilt("jampasir", ["hub", "verify", "--hub-store", store])
        #expect(verify.status == 0, "\(verify.output)\(verify.error)")
        #expect(verify.output.hasPrefix("16 queue records, the last 16 "), "\(verify.output)")
        #expect(verify.output.contains("; 5 tickets agree with them\nOK "), "\(verify.output)")

        let nowhere = try runBuilt("jampasir", ["hub", "export", "--to", directory.file("stick"), "--hub-store", store])
        #expect(nowhere.status == 73 && nowhere.error.contains("\(directory.file("stick")) does not exist"), "\(nowhere.error)")
        try FileManager.default.createDirectory(atPath: directory.file("stick"), withIntermediateDirectories: false)
        let export = try runBuilt("jampasir", ["hub", "export", "--to", directory.file("stick"), "--hub-store", store])
        #expect(export.status == 0, "\(export.error)")
        #expect(export.error.contains("made the hub's signing key \(directory.file("hub/hub.key"))"), "\(export.error)")
        let lines = export.output.split(separator: "\n").map(String.init)
        let folder = try #require(lines.first?.split(separator: " to ", maxSplits: 1).last.map(String.init))
        #expect(lines.first == "exported 16 queue records to \(folder)" && folder.hasPrefix(directory.file("stick/JAMPASIR-QUEUE/")))
        let publicKey = try #require(lines.last?.components(separatedBy: "public key ").last)
        let csv = try String(contentsOfFile: folder + "/queue.csv", encoding: .utf8)
        #expect(Self.events(csv) == expected, "\(csv)")

        // Whose key signed it is the reader's question, as for a counter's export.
        let unknown = try runBuilt("jampasir", ["verify", folder])
        #expect(unknown.status == 2 && unknown.output.contains("UNKNOWN SIGNER"), "\(unknown.output)")
        let keys = directory.file("hub-key.txt")
        try Data((publicKey + "\n").utf8).write(to: URL(fileURLWithPath: keys))
        let trusted = try runBuilt("jampasir", ["verify", folder, "--trusted-keys", keys])
        #expect(trusted.status == 0 && trusted.output.hasPrefix("OK "), "\(trusted.output)")

        // The hub takes counters' exports, not its own queue's.
        let imported = try runBuilt("jampasir", ["hub", "import", folder, "--hub-store", store, "--trusted-keys", keys])
        #expect(imported.status == 1 && imported.output.contains("REFUSED") && imported.output.contains("queue export"), "\(imported.output)")

        // The breach removed from the export, which is signed again without rebuilding the chain:
        // the signature verifies, the chain does not. (Whoever holds hub.key could rebuild it;
        // the hub's own store and earlier exports are then the witnesses.)
        let forged = directory.file("forged")
        try FileManager.default.copyItem(atPath: folder, toPath: forged)
        let kept = csv.components(separatedBy: "\r\n").filter { !$0.contains(",A-003,breached,") }.joined(separator: "\r\n")
        try Self.resign(forged, csv: kept, key: try DeviceKey.loadOrCreate(at: directory.file("hub/hub.key")), count: 15)
        let cut = try runBuilt("jampasir", ["verify", forged, "--trusted-keys", keys])
        #expect(cut.status == 1, "\(cut.output)")
        #expect(cut.output.contains("FAIL record 9 comes where record 8 should"), "\(cut.output)")

        // A hostile export: a seq at the top of Int64 followed by another record is named, not trapped on.
        let hostile = directory.file("hostile")
        try FileManager.default.copyItem(atPath: folder, toPath: hostile)
        let rows = csv.components(separatedBy: "\r\n")
        let huge = rows[1].replacingOccurrences(of: "1,2026-11-30,", with: "9223372036854775807,2026-11-30,")
        try Self.resign(hostile, csv: ([rows[0], huge] + rows[2...]).joined(separator: "\r\n"), key: try DeviceKey.loadOrCreate(at: directory.file("hub/hub.key")), count: 16)
        let trapped = try runBuilt("jampasir", ["verify", hostile, "--trusted-keys", keys])
        #expect(trapped.status == 1 && trapped.output.contains("FAIL queue.csv line 2: seq \"9223372036854775807\""), "\(trapped.output)")

        // Edited on the stick without the key: the file's hash, and the record's own.
        let edited = csv.replacingOccurrences(of: ",called,2026-11-30T03:10:00.000Z,loket-2,", with: ",called,2026-11-30T03:10:00.000Z,loket-9,")
        #expect(edited != csv)
        try Data(("\u{FEFF}" + edited).utf8).write(to: URL(fileURLWithPath: folder + "/queue.csv"))
        let changed = try runBuilt("jampasir", ["verify", folder, "--trusted-keys", keys])
        #expect(changed.status == 1, "\(changed.output)")
        #expect(changed.output.contains("queue.csv: SHA-256 does not match"), "\(changed.output)")
        #expect(changed.output.contains("record 9 (A-003 called) was changed after it was written"), "\(changed.output)")
    }

    /// `folder`'s manifest made to fit `csv` and signed again with `key`.
    static func resign(_ folder: String, csv: String, key: DeviceKey, count: Int) throws {
        try ExportForgery.replace("queue.csv", in: folder, with: Data(csv.utf8), signedBy: key) { $0.records?.count = count }
    }

    @Test func aStoreEditedByHandIsNamedAndNotSigned() throws {
        let directory = try TemporaryDirectory("queue-records-edited")
        let store = directory.file("hub.sqlite")
        _ = try Self.officeDay(store)

        // A breach erased from the tickets the figures read.
        try Self.sql(store, "UPDATE ticket SET breached = 0 WHERE day = '2026-11-30' AND label = 'A-003'")
        let erased = try runBuilt("jampasir", ["hub", "verify", "--hub-store", store])
        #expect(erased.status == 1, "\(erased.output)")
        #expect(
            erased.output.contains(
                "FAIL ticket A-003 of 2026-11-30: the store says called to loket-2, 3 warnings, its records say called to loket-2, 3 warnings, breached: changed by hand"
            ), "\(erased.output)")
        try Self.sql(store, "UPDATE ticket SET breached = 1 WHERE day = '2026-11-30' AND label = 'A-003'")
        #expect(try runBuilt("jampasir", ["hub", "verify", "--hub-store", store]).status == 0)

        // The records are final: the store refuses, until its triggers are dropped by hand.
        let refused = try runTool("/usr/bin/sqlite3", [store, "DELETE FROM queue_record WHERE seq = 8"])
        #expect(refused.status != 0)
        try Self.sql(
            store,
            "DROP TRIGGER queue_record_is_final; UPDATE queue_record SET counter = 'loket-9' WHERE seq = 4; UPDATE ticket SET counter = 'loket-9' WHERE day = '2026-11-30' AND number = 1")
        let moved = try runBuilt("jampasir", ["hub", "verify", "--hub-store", store])
        #expect(moved.status == 1 && moved.output.contains("FAIL record 4 (A-001 called) was changed after it was written"), "\(moved.output)")

        try FileManager.default.createDirectory(atPath: directory.file("stick"), withIntermediateDirectories: false)
        let export = try runBuilt("jampasir", ["hub", "export", "--to", directory.file("stick"), "--hub-store", store])
        #expect(export.status == 65 && export.error.contains("run jampasir hub verify"), "\(export.error)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: directory.file("stick/JAMPASIR-QUEUE"))) ?? []
        #expect(written.isEmpty, "a broken chain leaves no export (and no partial folder): \(written)")

        // A value the hub never writes, with an escape sequence: named, never printed raw.
        try Self.sql(store, "UPDATE queue_record SET label = char(27) || '[2J' WHERE seq = 1")
        let hostile = try runBuilt("jampasir", ["hub", "verify", "--hub-store", store])
        #expect(hostile.status == 1 && hostile.output.contains("FAIL record 1: label") && !hostile.output.contains("\u{1B}"), "\(hostile.output)")
    }

    /// A hub that kept tickets before it kept records (the previous version): at its first start
    /// the records seal what it held, and from then on the chain accounts for every ticket.
    @Test func ticketsKeptBeforeTheRecordsAreSealedAtTheFirstStart() throws {
        let directory = try TemporaryDirectory("queue-records-upgrade")
        let store = directory.file("hub.sqlite")
        _ = try Self.officeDay(store)
        // The store as the previous version left it: tickets, no records.
        try Self.sql(store, "DROP TRIGGER queue_record_never_deleted; DELETE FROM queue_record")
        let old = try runBuilt("jampasir", ["hub", "verify", "--hub-store", store])
        #expect(old.output.hasPrefix("0 queue records; 0 tickets agree with them; 5 tickets from before the records began"), "\(old.output)")

        let queue = try HubQueue(
            store: try HubStore(path: store), rules: .standard, timeZone: HubQueueTests.jakarta, office: "K",
            now: Self.morning.addingTimeInterval(86_400 + 3600))
        // Sealed: 16 records (the voided A-002 at the day's start); then the next day's A-001, waiting
        // since 08:00, is warned at 60 minutes and called.
        _ = try queue.call(counter: "loket-1", at: Self.morning.addingTimeInterval(86_400 + 3600))
        let sealed = try runBuilt("jampasir", ["hub", "verify", "--hub-store", store])
        #expect(sealed.status == 0, "\(sealed.output)")
        #expect(sealed.output.hasPrefix("18 queue records, the last 18 ") && sealed.output.contains("; 5 tickets agree with them\nOK"), "\(sealed.output)")
    }
}
