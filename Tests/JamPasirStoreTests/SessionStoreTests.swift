import Foundation
import JamPasirCore
import JamPasirStore
import JamPasirTesting
import Testing

@Suite("SQLite session store")
struct SessionStoreTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory("store")
        path = directory.file("state/jampasir.sqlite")
    }

    func started(_ store: SessionStore, counter: String = "loket-1", at seconds: Double = 0) throws -> Int64 {
        try store.begin(
            SessionRecord(
                counterID: counter, bootID: "boot-a", startedAt: Date(timeIntervalSince1970: 1_796_000_000 + seconds),
                startedMonotonicNs: Int64(seconds * 1e9), clockSynchronized: true, limitMs: 120_000))
    }

    @Test func createsItsDirectoryAndRunsMigrationsOnce() throws {
        _ = try SessionStore(path: path, access: .readWrite)
        let reopened = try SessionStore(path: path, access: .readWrite)
        #expect(try reopened.count() == 0)
        #expect(try reopened.pragma("user_version") != nil)
    }

    @Test func durabilitySettingsAreInForce() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        #expect(try store.pragma("synchronous") == "2")  // FULL
        #expect(try store.pragma("journal_mode") == "wal")
    }

    @Test func readOnlyAccessNeverCreatesAStore() throws {
        #expect(throws: StoreError.missing(path: path)) {
            try SessionStore(path: path, access: .readOnly)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func openSessionBecomesInterruptedAfterRestart() throws {
        do {
            let store = try SessionStore(path: path, access: .readWrite)
            let id = try started(store)
            #expect(try store.session(id: id)?.isOpen == true)
        }  // the daemon "dies" with the session open
        let store = try SessionStore(path: path, access: .readWrite)
        let recovered = try store.interruptOpenSessions(
            at: Date(timeIntervalSince1970: 1_796_000_500), freeService: true)
        #expect(recovered.count == 1)
        let session = try #require(try store.session(id: recovered[0].id!))
        #expect(session.outcome == .interrupted)
        #expect(session.freeService == true)
        #expect(session.durationMs == nil)
        #expect(session.endedAt == Date(timeIntervalSince1970: 1_796_000_500))
        #expect(try store.interruptOpenSessions(at: Date(), freeService: true).isEmpty)
    }

    @Test func finishRecordsTheOutcomeOnce() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        let id = try started(store)
        try store.finish(
            id: id, endedAt: Date(timeIntervalSince1970: 1_796_000_121), durationMs: 120_001, outcome: .overtime,
            freeService: true)
        #expect(throws: StoreError.notOpen(id: id)) {
            try store.finish(id: id, endedAt: Date(), durationMs: 5, outcome: .inTime, freeService: false)
        }
        #expect(try store.session(id: id)?.outcome == .overtime)
    }

    @Test func schemaRefusesContradictions() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        let id = try started(store)
        // Only one session can run at a counter.
        #expect(throws: StoreError.self) { try started(store) }
        #expect(try started(store, counter: "loket-2") > id)
        // An in-time outcome longer than the limit, an overtime that is not free.
        #expect(throws: StoreError.self) {
            try store.finish(id: id, endedAt: Date(), durationMs: 120_001, outcome: .inTime, freeService: false)
        }
        #expect(throws: StoreError.self) {
            try store.finish(id: id, endedAt: Date(), durationMs: 130_000, outcome: .overtime, freeService: false)
        }
        #expect(try store.session(id: id)?.isOpen == true)
    }

    @Test func readerSeesCommittedSessionsWhileTheWriterIsOpen() throws {
        let writer = try SessionStore(path: path, access: .readWrite)
        let id = try started(writer)
        try writer.finish(
            id: id, endedAt: Date(timeIntervalSince1970: 1_796_000_060), durationMs: 60_000, outcome: .inTime,
            freeService: false)
        let reader = try SessionStore(path: path, access: .readOnly)
        #expect(try reader.sessions().map(\.outcome) == [.inTime])
    }

    @Test func sessionsFilterByStartTime() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        for (index, offset) in [0.0, 3600, 7200].enumerated() {
            let id = try started(store, counter: "c\(index)", at: offset)
            try store.finish(
                id: id, endedAt: Date(timeIntervalSince1970: 1_796_000_010 + offset), durationMs: 10_000,
                outcome: .inTime, freeService: false)
        }
        let from = Date(timeIntervalSince1970: 1_796_000_000 + 1800)
        let to = Date(timeIntervalSince1970: 1_796_000_000 + 7200)
        #expect(try store.sessions(from: from, to: to).map(\.counterID) == ["c1"])
    }
}

@Suite("Store invariants against hand edits with the sqlite3 library")
struct StoreTriggerTests {
    @Test func finishedSessionsCannotBeEditedOrDeleted() throws {
        let directory = try TemporaryDirectory("store")
        let path = directory.file("s.sqlite")
        let store = try SessionStore(path: path, access: .readWrite)
        let id = try store.begin(
            SessionRecord(
                counterID: "c", bootID: "b", startedAt: Date(), startedMonotonicNs: 0, clockSynchronized: true,
                limitMs: 120_000))
        try store.finish(id: id, endedAt: Date(), durationMs: 121_000, outcome: .overtime, freeService: true)
        #expect(throws: StoreError.self) {
            try store.execute(
                "UPDATE session SET outcome = 'in_time', free_service = 0, duration_ms = 1 WHERE id = \(id)")
        }
        #expect(throws: StoreError.self) { try store.execute("DELETE FROM session WHERE id = \(id)") }
        #expect(try store.session(id: id)?.outcome == .overtime)
    }
}

@Suite("Export records")
struct ExportRecordTests {
    @Test func lastExportIsKeptAndFinal() throws {
        let directory = try TemporaryDirectory("store")
        let store = try SessionStore(path: directory.file("s.sqlite"), access: .readWrite)
        #expect(try store.lastExport() == nil)
        let sha = String(repeating: "ab", count: 32)
        try store.recordExport(
            ExportRecord(
                exportedAt: Date(timeIntervalSince1970: 1), stick: "A", sessionCount: 3, lastSessionID: 3,
                manifestSHA256: sha))
        try store.recordExport(
            ExportRecord(
                exportedAt: Date(timeIntervalSince1970: 2), stick: "B", sessionCount: 5, lastSessionID: 5,
                manifestSHA256: sha))
        #expect(try store.lastExport()?.stick == "B")
        #expect(throws: StoreError.self) { try store.execute("DELETE FROM export") }
        #expect(throws: StoreError.self) { try store.execute("UPDATE export SET session_count = 0") }
    }
}
