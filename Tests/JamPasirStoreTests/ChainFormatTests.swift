import Foundation
import GRDB
import JamPasirCore
import JamPasirTesting
import Testing

@testable import JamPasirStore

/// Issue 13, finding 3: the untyped chain form read SQL NULL and the text `null` alike, and `;`
/// and its escape `%3B` alike. Entries are now written with a type tag and a length per value;
/// entries written before keep their form and are checked by it.
@Suite("Audit chain format: typed values, old entries still verifiable")
struct ChainFormatTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory("chain-format")
        path = directory.file("jampasir.sqlite")
    }

    static let start = Date(timeIntervalSince1970: 1_796_000_000)

    static func session(_ index: Int, outcome: Outcome, durationMs: Int64?, free: Bool) -> SessionRecord {
        let startedAt = start.addingTimeInterval(Double(index) * 600)
        return SessionRecord(
            counterID: "loket-1", bootID: "boot", startedAt: startedAt, startedMonotonicNs: 0,
            clockSynchronized: true, limitMs: 120_000, endedAt: startedAt.addingTimeInterval(100),
            durationMs: durationMs, outcome: outcome, freeService: free)
    }

    /// Writes a session row as a store of an older version held it (no `ticket` column before v6).
    static func insertOld(_ record: SessionRecord, _ db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO session (counter_id, boot_id, started_at, started_monotonic_ns, clock_synchronized,
                  limit_ms, ended_at, duration_ms, outcome, free_service) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.counterID, record.bootID, record.startedAt, record.startedMonotonicNs, record.clockSynchronized,
                record.limitMs, record.endedAt, record.durationMs, record.outcome?.rawValue, record.freeService,
            ])
        return db.lastInsertedRowID
    }

    /// A store as jampasird left it before migration v5: an overtime session (id 1) and an
    /// interrupted one (id 2, duration unknown), chained in the untyped form.
    func writeUntypedStore() throws {
        let database = try DatabaseQueue(path: path)
        try StoreMigrations.migrator.migrate(database, upTo: "v4-edge-journal")
        try database.write { db in
            for record in [
                Self.session(0, outcome: .overtime, durationMs: 130_000, free: true),
                Self.session(1, outcome: .interrupted, durationMs: nil, free: true),
            ] {
                try AuditChain.append(db, kind: .session, subject: try Self.insertOld(record, db), format: .untyped)
            }
        }
    }

    /// An upgrade whose schema is newer copies the store first (issue 27): the copy is the store
    /// as it was, schema and history, over any older copy; the store itself is migrated and
    /// still verifies; the next opening migrates nothing and copies nothing; a new store is not
    /// copied.
    @Test func aStoreIsCopiedBeforeItIsMigrated() throws {
        try writeUntypedStore()
        let copy = path + ".before-v5-typed-chain"
        // A copy left from an earlier upgrade (the store restored from it has grown since): replaced.
        try "an older copy".write(toFile: copy, atomically: true, encoding: .utf8)
        let store = try SessionStore(path: path, access: .readWrite)
        #expect(store.copyBeforeMigration == .copied(copy))
        #expect(!FileManager.default.fileExists(atPath: copy + ".partial"))
        func rows(_ database: String, _ sql: String) throws -> String {
            String(decoding: try runTool("/usr/bin/sqlite3", [database, sql]).output, as: UTF8.self)
        }
        #expect(try rows(copy, "SELECT identifier FROM grdb_migrations ORDER BY rowid") == """
            v1-sessions
            v2-exports
            v3-audit-chain
            v4-edge-journal

            """)
        #expect(try rows(copy, "SELECT outcome FROM session ORDER BY id") == "overtime\ninterrupted\n")
        #expect(try rows(path, "SELECT count(*) FROM grdb_migrations") == "\(StoreMigrations.migrator.migrations.count)\n")
        #expect(try store.verifyChain().entries == 3)  // the chain's start and the two sessions

        let again = try SessionStore(path: path, access: .readWrite)
        #expect(again.copyBeforeMigration == nil)
        let fresh = try SessionStore(path: directory.file("new.sqlite"), access: .readWrite)
        #expect(fresh.copyBeforeMigration == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".before-") } == [
            "jampasir.sqlite.before-v5-typed-chain"
        ])
    }

    /// A store written by this build: session 1 interrupted (duration unknown), session 2 in time.
    func writeTypedStore() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        _ = try store.begin(
            SessionRecord(
                counterID: "loket-1", bootID: "boot", startedAt: Self.start, startedMonotonicNs: 0,
                clockSynchronized: true, limitMs: 120_000))
        try store.interruptOpenSessions(at: Self.start.addingTimeInterval(300), freeService: true)
        try store.insertFinished(Self.session(1, outcome: .inTime, durationMs: 90_000, free: false))
    }

    func formats() throws -> [Int] {
        let output = try runTool("/usr/bin/sqlite3", [path, "SELECT format FROM audit ORDER BY seq"]).output
        return String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { Int($0) }
    }

    @Test func theTypedFormTellsApartWhatTheUntypedFormConfuses() {
        let pairs: [(String, DatabaseValue, DatabaseValue)] = [
            ("duration_ms", .null, "null".databaseValue),
            ("boot_id", "a;b".databaseValue, "a%3Bb".databaseValue),
            ("boot_id", "x;duration_ms=1".databaseValue, "x%3Bduration_ms=1".databaseValue),
        ]
        for (column, one, other) in pairs {
            let first = Row([column: one])
            let second = Row([column: other])
            #expect(
                AuditChain.canonical(first, columns: [column], format: .untyped)
                    == AuditChain.canonical(second, columns: [column], format: .untyped))
            #expect(
                AuditChain.canonical(first, columns: [column], format: .typed)
                    != AuditChain.canonical(second, columns: [column], format: .typed))
        }
        let typed = AuditChain.canonical(
            Row(["duration_ms": DatabaseValue.null, "boot_id": "a;b".databaseValue]),
            columns: ["duration_ms", "boot_id"],
            format: .typed)
        #expect(typed == "duration_ms=n;boot_id=s3:a;b")
    }

    /// Migration v3 seals the history with its own frozen copy of the untyped form; the live
    /// chain code that `jampasir verify` runs must read that seal as the migration wrote it.
    @Test func migrationV3sFrozenSealIsWhatTheLiveChainCodeVerifies() throws {
        let database = try DatabaseQueue(path: path)
        try StoreMigrations.migrator.migrate(database, upTo: "v2-exports")
        try database.write { db in
            var withSemicolon = Self.session(1, outcome: .interrupted, durationMs: nil, free: true)
            withSemicolon.bootID = "a;b"
            for record in [Self.session(0, outcome: .overtime, durationMs: 130_000, free: true), withSemicolon] {
                _ = try Self.insertOld(record, db)
            }
            try db.execute(
                sql: """
                    INSERT INTO export (exported_at, stick, session_count, last_session_id, manifest_sha256)
                    VALUES ('2026-11-30T01:00:00.000Z', 'Kingston;DT', 2, 2, ?)
                    """, arguments: [String(repeating: "ab", count: 32)])
        }
        try StoreMigrations.migrator.migrate(database, upTo: "v3-audit-chain")
        try database.read { db in
            let entry = try #require(try Row.fetchOne(db, sql: "SELECT * FROM audit WHERE seq = 1"))
            let fields: String = entry["fields"]
            #expect(fields == (try AuditChain.sealedHistory(db, through: nil, format: .untyped)))
            #expect(fields.hasPrefix("sessions_through=2;exports_through=1;digest="))
            let live = AuditChain.hash(
                seq: 1, kind: AuditChain.Kind.chainStart.rawValue, subject: nil, fields: fields,
                previous: AuditChain.origin, format: .untyped)
            #expect(entry["hash"] as String == live)
        }
        try StoreMigrations.migrator.migrate(database)
        let verify = try runBuilt("jampasir", ["verify", "--store", path])
        #expect(verify.status == 0, "\(verify.output)\(verify.error)")
    }

    @Test func anInterruptedSessionsUnknownDurationCannotBeFilledInUnnoticed() throws {
        try writeTypedStore()
        #expect(try formats() == [1, 3, 3])  // the seal from migration v3, then two entries of today's form
        #expect(try runBuilt("jampasir", ["verify", "--store", path]).status == 0)

        try tamperWithStore(at: path, "UPDATE session SET duration_ms = 'null' WHERE id = 1;")
        let verify = try runBuilt("jampasir", ["verify", "--store", path])
        #expect(verify.status == 1)
        #expect(verify.output.contains("FAIL \(path): session 1 was changed after it was recorded (audit entry 2)"))
    }

    @Test func aStoreChainedInTheOldFormStillVerifiesAndContinuesInTheNewOne() throws {
        try writeUntypedStore()
        let store = try SessionStore(path: path, access: .readWrite)  // migrates to v5
        try store.insertFinished(Self.session(2, outcome: .inTime, durationMs: 90_000, free: false))
        #expect(try formats() == [1, 1, 1, 3])
        let report = try store.verifyChain()
        #expect(report.entries == 4)
        #expect(report.sessions == 3)
        #expect(try runBuilt("jampasir", ["verify", "--store", path]).status == 0)

        // The old entries keep the old rule, with its blind spot (README, Security) ...
        try tamperWithStore(at: path, "UPDATE session SET duration_ms = 'null' WHERE id = 2;")
        #expect(try runBuilt("jampasir", ["verify", "--store", path]).status == 0)
        // ... but any other edit of them is still caught, and so is the new entry's.
        try tamperWithStore(at: path, "UPDATE session SET free_service = 0, outcome = 'cancelled' WHERE id = 1;")
        #expect(try runBuilt("jampasir", ["verify", "--store", path]).output.contains("session 1 was changed"))
    }

    @Test func anEntryTurnedBackToTheOldFormIsCaught() throws {
        try writeTypedStore()
        try tamperWithStore(at: path, "UPDATE audit SET format = 1 WHERE seq = 3;")
        let verify = try runBuilt("jampasir", ["verify", "--store", path])
        #expect(verify.status == 1)
        #expect(verify.output.contains("audit entry 3 is written in an older format than the entry before it"))
    }

    /// The ticket a session served is chained with it (format 3): changing, adding or removing it
    /// afterwards is caught like any other edit.
    @Test func theTicketASessionServedIsChained() throws {
        do {  // closed before the copies are made: its last writes are in the WAL until then
            let store = try SessionStore(path: path, access: .readWrite)
            var served = Self.session(0, outcome: .inTime, durationMs: 70_000, free: false)
            served.ticket = "A-037"
            try store.insertFinished(served)
            try store.insertFinished(Self.session(1, outcome: .inTime, durationMs: 80_000, free: false))
            #expect(try store.sessions().map(\.ticket) == ["A-037", nil])
        }
        #expect(try runBuilt("jampasir", ["verify", "--store", path]).status == 0)

        for (edit, session) in [
            ("UPDATE session SET ticket = 'A-038' WHERE id = 1;", 1), ("UPDATE session SET ticket = 'A-001' WHERE id = 2;", 2),
        ] {
            let copy = directory.file("copy-\(session).sqlite")
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            try tamperWithStore(at: copy, edit)
            let verify = try runBuilt("jampasir", ["verify", "--store", copy])
            #expect(verify.status == 1)
            #expect(verify.output.contains("session \(session) was changed after it was recorded"), "\(verify.output)")
        }
    }

    /// A ticket written afterwards onto a session chained before tickets were (format 1 or 2, or
    /// sealed at the chain's start) is caught, though its entry never covered the column.
    @Test func aTicketAddedToAnOlderSessionIsCaught() throws {
        try writeUntypedStore()
        do { _ = try SessionStore(path: path, access: .readWrite) }  // migrates to v6
        #expect(try runBuilt("jampasir", ["verify", "--store", path]).status == 0)
        try tamperWithStore(at: path, "UPDATE session SET ticket = 'A-001' WHERE id = 2;")
        let verify = try runBuilt("jampasir", ["verify", "--store", path])
        #expect(verify.status == 1)
        #expect(verify.output.contains("session 2 carries ticket A-001 that its audit entry"), "\(verify.output)")
    }
}
