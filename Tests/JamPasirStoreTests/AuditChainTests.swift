import Foundation
import JamPasirCore
import JamPasirStore
import JamPasirTesting
import Testing

/// Tampering with a real SQLite file, the way someone with root on the counter would: the
/// sqlite3 command-line tool, triggers dropped first. Every case must be caught, pointing at
/// the right row.
@Suite("Audit chain: every kind of tampering is caught")
struct AuditChainTests {
    let directory: TemporaryDirectory
    let path: String

    /// Six finished sessions (ids 1–6) and one export: chain entries 1 (start), 2–7, 8 (export).
    init() throws {
        directory = try TemporaryDirectory("chain")
        path = directory.file("jampasir.sqlite")
        let store = try SessionStore(path: path, access: .readWrite)
        let outcomes: [(Outcome, Int64, Bool)] = [
            (.inTime, 90_000, false), (.overtime, 130_000, true), (.inTime, 45_000, false),
            (.cancelled, 20_000, false), (.inTime, 119_000, false), (.overtime, 121_000, true),
        ]
        for (index, (outcome, duration, free)) in outcomes.enumerated() {
            let id = try store.begin(
                SessionRecord(
                    counterID: "loket-1", bootID: "boot",
                    startedAt: Date(timeIntervalSince1970: 1_796_000_000 + Double(index) * 600),
                    startedMonotonicNs: 0, clockSynchronized: true, limitMs: 120_000))
            try store.finish(
                id: id, endedAt: Date(timeIntervalSince1970: 1_796_000_000 + Double(index) * 600 + 100),
                durationMs: duration, outcome: outcome, freeService: free)
        }
        try store.recordExport(
            ExportRecord(
                exportedAt: Date(timeIntervalSince1970: 1_796_010_000), stick: "SanDisk Cruzer serial 42",
                sessionCount: 6, lastSessionID: 6, manifestSHA256: String(repeating: "a", count: 64)))
    }

    /// Runs SQL through the real sqlite3 CLI, with the store's protective triggers dropped and
    /// put back afterwards.
    func tamper(_ sql: String) throws {
        try tamperWithStore(at: path, sql)
    }

    func brokenLink() throws -> AuditChain.Break? {
        let store = try SessionStore(path: path, access: .readOnly)
        do {
            _ = try store.verifyChain()
            return nil
        } catch let broken as AuditChain.Break {
            return broken
        }
    }

    @Test func anIntactStoreVerifies() throws {
        let report = try SessionStore(path: path, access: .readOnly).verifyChain()
        #expect(report.entries == 8)
        #expect(report.sessions == 6)
        #expect(report.head?.seq == 8)
    }

    @Test func editedOutcomeIsNamed() throws {
        try tamper("UPDATE session SET outcome = 'in_time', free_service = 0, duration_ms = 119000 WHERE id = 2;")
        let broken = try #require(try brokenLink())
        #expect(broken.seq == 3)
        #expect(broken.description.hasPrefix("session 2 was changed after it was recorded (audit entry 3)"))
    }

    @Test func deletedSessionIsNamed() throws {
        try tamper("DELETE FROM session WHERE id = 6;")
        let broken = try #require(try brokenLink())
        #expect(broken.description == "session 6 was deleted (recorded in audit entry 7)")
    }

    @Test func swappedSessionRowsAreCaught() throws {
        // Exchange the outcomes of sessions 1 and 2 (the free passport moves to another applicant).
        try tamper(
            """
            UPDATE session SET id = 100 WHERE id = 1; UPDATE session SET id = 1 WHERE id = 2;
            UPDATE session SET id = 2 WHERE id = 100;
            """)
        let broken = try #require(try brokenLink())
        #expect(broken.seq == 2)
        #expect(broken.description.hasPrefix("session 1 was changed"))
    }

    @Test func swappedChainEntriesAreCaught() throws {
        try tamper(
            """
            UPDATE audit SET seq = 100 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 5;
            UPDATE audit SET seq = 5 WHERE seq = 100;
            """)
        let broken = try #require(try brokenLink())
        #expect(broken.seq == 4)
        #expect(broken.description.contains("does not follow entry 3"))
    }

    @Test func deletedChainEntryIsNamed() throws {
        try tamper("DELETE FROM audit WHERE seq = 5;")
        let broken = try #require(try brokenLink())
        #expect(broken.seq == 5)
        #expect(broken.description.hasPrefix("audit entry 5 deleted"))
    }

    @Test func truncatedChainIsCaught() throws {
        try tamper("DELETE FROM audit WHERE seq >= 7;")
        let broken = try #require(try brokenLink())
        #expect(
            broken.description.hasPrefix(
                "session 6 has an outcome but no audit entry: the chain was truncated after entry 6"))
    }

    @Test func rewrittenEntryWithMatchingSessionIsCaughtByItsHash() throws {
        // A careful forger edits the session and its chain entry's fields, but cannot redo the hashes
        // without rewriting every later entry — and then the export's sealed head no longer matches.
        try tamper(
            """
            UPDATE session SET duration_ms = 100000 WHERE id = 3;
            UPDATE audit SET fields = replace(fields, 'duration_ms=i5:45000', 'duration_ms=i6:100000') WHERE seq = 4;
            """)
        let broken = try #require(try brokenLink())
        #expect(broken.seq == 4)
        #expect(broken.description == "audit entry 4 (session 3) was edited")
    }

    @Test func aSessionAddedBehindTheStoresBackIsCaught() throws {
        try tamper(
            """
            INSERT INTO session (counter_id, boot_id, started_at, started_monotonic_ns, clock_synchronized, limit_ms,
              ended_at, duration_ms, outcome, free_service)
            VALUES ('loket-1', 'boot', '2026-12-01 00:00:00.000', 0, 1, 120000, '2026-12-01 00:01:00.000', 60000, 'in_time', 0);
            """)
        let broken = try #require(try brokenLink())
        #expect(broken.description.hasPrefix("session 7 has an outcome but no audit entry"))
    }

    @Test func exportRecordsAreChainedToo() throws {
        try tamper("UPDATE export SET stick = 'somebody else' WHERE id = 1;")
        let broken = try #require(try brokenLink())
        #expect(broken.description == "export record 1 was changed or deleted (audit entry 8)")
    }

    @Test func aStoreFromBeforeTheChainIsSealedAtMigrationAndStaysVerifiable() throws {
        // Turn the store back into a v2 store (no chain), then open it: the migration seals it.
        try runTool(
            "/usr/bin/sqlite3",
            [
                path,
                "DROP TABLE audit; DELETE FROM grdb_migrations WHERE identifier IN ('v3-audit-chain', 'v5-typed-chain');",
            ])
        let store = try SessionStore(path: path, access: .readWrite)
        let report = try store.verifyChain()
        #expect(report.entries == 1)  // the seal
        // Sessions from before the chain are protected by the seal.
        try tamper("UPDATE session SET outcome = 'cancelled', free_service = 0 WHERE id = 2;")
        let broken = try #require(try brokenLink())
        #expect(broken.description == "the history sealed when the chain started (sessions 1–6) was changed")
    }

    @Test func aChangedLimitIsChainedOnceAndEditingItIsCaught() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        var rules = ServiceRules()
        #expect(try store.recordRules(rules.auditDescription))
        #expect(try !store.recordRules(rules.auditDescription))  // unchanged: nothing new
        rules.limit = .seconds(180)
        #expect(try store.recordRules(rules.auditDescription))
        #expect(try store.verifyChain().entries == 10)
        try tamper("UPDATE audit SET fields = replace(fields, 'limit_ms=180000', 'limit_ms=240000') WHERE seq = 10;")
        let broken = try #require(try brokenLink())
        #expect(broken.description == "audit entry 10 (rules) was edited")
    }

    /// A step of the wall clock is evidence like the rules: chained with its size, and an edit
    /// of it (a step made smaller to hide a back-dated day) is caught.
    @Test func aClockStepIsChainedAndEditingItIsCaught() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        let step = ClockStep(offsetBefore: 0, offsetAfter: 63_072_000_000_000_000)
        let entry = try store.recordClockStep(step.chainFields(wallAfterMs: 1_796_000_000_000, bootID: "boot"))
        #expect(try store.verifyChain().entries == Int(entry))
        #expect(try store.chainLength() == Int(entry))
        try tamper("UPDATE audit SET fields = replace(fields, 'step_ms=63072000000', 'step_ms=1000') WHERE seq = \(entry);")
        let broken = try #require(try brokenLink())
        #expect(broken.description == "audit entry \(entry) (clock-step) was edited")
    }

    @Test func auditColumnsGeneratedFromTheChainCannotShadowEditedSessions() throws {
        // Columns named like the session's, computed from each entry's own fields: a verifier that
        // reads `audit.*, session.*` by name sees the chained values, not the edited rows.
        try tamper(ShadowColumnAttack.generatedColumns + ShadowColumnAttack.rewriteHistory(free: 2, deleted: 6))
        let broken = try #require(try brokenLink())
        #expect(broken.description.hasPrefix("the store's schema is not the one jampasird creates"))
        #expect(broken.description.contains("unexpected generated column audit.outcome"))
        #expect(broken.description.contains("unexpected generated column audit.id"))
    }

    @Test func plainAuditColumnsCopiedFromTheChainCannotShadowEditedSessions() throws {
        try tamper(ShadowColumnAttack.plainColumns + ShadowColumnAttack.rewriteHistory(free: 2, deleted: 6))
        let broken = try #require(try brokenLink())
        #expect(broken.description.contains("unexpected column audit.outcome"))
        #expect(!broken.description.contains("trigger"))  // the triggers were put back as they were
    }

    @Test func aDroppedGuardTriggerIsNamed() throws {
        try runTool("/usr/bin/sqlite3", [path, "DROP TRIGGER session_never_deleted;"])
        let broken = try #require(try brokenLink())
        #expect(broken.description.hasSuffix("trigger session_never_deleted is missing"))
    }

    @Test func anAddedViewOrIndexIsNamed() throws {
        try tamper("CREATE VIEW audit_view AS SELECT * FROM audit; CREATE INDEX session_outcome ON session(outcome);")
        let broken = try #require(try brokenLink())
        #expect(broken.description.contains("unexpected index session_outcome"))
        #expect(broken.description.contains("unexpected view audit_view"))
    }

    @Test func theStoreDoesNotTrustItsSchema() throws {
        #expect(try SessionStore(path: path, access: .readWrite).pragma("trusted_schema") == "0")
    }

    @Test func anExportHeadIsFoundOnlyWhileHistoryIsUnchanged() throws {
        let store = try SessionStore(path: path, access: .readWrite)
        let head = try #require(try store.chainHead())
        #expect(try store.chainContains(head))
        try tamper("DELETE FROM audit WHERE seq >= 7;")
        #expect(try !SessionStore(path: path, access: .readOnly).chainContains(head))
    }
}
