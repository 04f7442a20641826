import Crypto
import Foundation
import GRDB

/// The store's schema, as named migrations. A migration that has shipped is never edited:
/// changes come as new migrations appended here.
enum StoreMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sessions") { db in
            // Invariants live in the schema so that no writer, including a hand-run sqlite3,
            // can store a session that contradicts the rules.
            try db.execute(
                sql: """
                    CREATE TABLE session (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      counter_id TEXT NOT NULL CHECK (length(counter_id) > 0),
                      boot_id TEXT NOT NULL,
                      started_at TEXT NOT NULL,
                      started_monotonic_ns INTEGER NOT NULL,
                      clock_synchronized INTEGER NOT NULL CHECK (clock_synchronized IN (0, 1)),
                      limit_ms INTEGER NOT NULL CHECK (limit_ms > 0),
                      ended_at TEXT,
                      duration_ms INTEGER CHECK (duration_ms >= 0),
                      outcome TEXT CHECK (outcome IN ('in_time', 'overtime', 'cancelled', 'interrupted')),
                      free_service INTEGER CHECK (free_service IN (0, 1)),
                      CHECK ((outcome IS NULL) = (ended_at IS NULL)),
                      CHECK ((outcome IS NULL) = (free_service IS NULL)),
                      CHECK (duration_ms IS NOT NULL OR outcome IS NULL OR outcome = 'interrupted'),
                      CHECK (outcome IS NOT 'in_time' OR (duration_ms <= limit_ms AND free_service = 0)),
                      CHECK (outcome IS NOT 'overtime' OR (duration_ms > limit_ms AND free_service = 1)),
                      CHECK (outcome IS NOT 'cancelled' OR free_service = 0)
                    );
                    -- At most one session runs at a counter.
                    CREATE UNIQUE INDEX session_one_open_per_counter ON session(counter_id) WHERE outcome IS NULL;
                    CREATE INDEX session_started_at ON session(started_at);
                    -- An outcome, once recorded, is final; sessions are never deleted.
                    CREATE TRIGGER session_outcome_is_final BEFORE UPDATE ON session
                      WHEN OLD.outcome IS NOT NULL
                      BEGIN SELECT RAISE(ABORT, 'a recorded session outcome is final'); END;
                    CREATE TRIGGER session_never_deleted BEFORE DELETE ON session
                      BEGIN SELECT RAISE(ABORT, 'sessions are never deleted'); END;
                    """)
        }
        migrator.registerMigration("v2-exports") { db in
            // Each export that reached a stick, so the report can say what is new since the last.
            try db.execute(
                sql: """
                    CREATE TABLE export (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      exported_at TEXT NOT NULL,
                      stick TEXT NOT NULL,
                      session_count INTEGER NOT NULL CHECK (session_count >= 0),
                      last_session_id INTEGER,
                      manifest_sha256 TEXT NOT NULL CHECK (length(manifest_sha256) = 64)
                    );
                    CREATE TRIGGER export_is_final BEFORE UPDATE ON export
                      BEGIN SELECT RAISE(ABORT, 'a recorded export is final'); END;
                    CREATE TRIGGER export_never_deleted BEFORE DELETE ON export
                      BEGIN SELECT RAISE(ABORT, 'exports are never deleted'); END;
                    """)
        }
        migrator.registerMigration("v3-audit-chain") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                      seq INTEGER PRIMARY KEY,
                      kind TEXT NOT NULL,
                      subject_id INTEGER,
                      fields TEXT NOT NULL,
                      previous_hash TEXT NOT NULL CHECK (length(previous_hash) = 64),
                      hash TEXT NOT NULL CHECK (length(hash) = 64)
                    );
                    CREATE TRIGGER audit_is_final BEFORE UPDATE ON audit
                      BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
                    CREATE TRIGGER audit_never_deleted BEFORE DELETE ON audit
                      BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
                    """)
            // Existing stores stay valid: the chain starts here and seals their history so far.
            try sealHistoryV3(db)
        }
        migrator.registerMigration("v4-edge-journal") { db in
            try db.execute(
                sql: """
                    -- The raw button edges behind each session (EdgeJournal text: P<ns> R<ns> …),
                    -- written with its outcome and covered by its audit chain entry.
                    CREATE TABLE session_edges (
                      session_id INTEGER PRIMARY KEY REFERENCES session(id),
                      edges TEXT NOT NULL
                    );
                    CREATE TRIGGER session_edges_final BEFORE UPDATE ON session_edges
                      BEGIN SELECT RAISE(ABORT, 'a session edge journal is final'); END;
                    CREATE TRIGGER session_edges_never_deleted BEFORE DELETE ON session_edges
                      BEGIN SELECT RAISE(ABORT, 'a session edge journal is final'); END;
                    """)
        }
        migrator.registerMigration("v5-typed-chain") { db in
            // Chain entries from here on carry a type tag and a length per value (AuditChain.Format.typed):
            // NULL and the text `null` no longer read alike. Entries already written keep format 1.
            try db.execute(
                sql:
                    "ALTER TABLE audit ADD COLUMN format INTEGER NOT NULL DEFAULT 1 CHECK (typeof(format) = 'integer' AND format >= 1)"
            )
        }
        migrator.registerMigration("v6-session-ticket") { db in
            // The queue ticket a session served (the call button's), e.g. `A-037`; chained from
            // format 3 on (AuditChain.Format.ticketed). Sessions before it served none.
            try db.execute(
                sql: """
                    -- Letters, a dash, digits (`A-037`): nothing a spreadsheet or a terminal could take
                    -- for a command.
                    ALTER TABLE session ADD COLUMN ticket TEXT
                      CHECK (ticket IS NULL OR (typeof(ticket) = 'text' AND length(ticket) BETWEEN 3 AND 10
                        AND ticket GLOB '[A-Z]*-[0-9]*' AND ticket NOT GLOB '*[^-A-Z0-9]*'
                        AND ticket NOT GLOB '*-*-*' AND ticket NOT GLOB '*[0-9]*-*' AND ticket NOT GLOB '*-*[A-Z]*'))
                    """)
        }
        return migrator
    }

    /// Migration v3's seal, frozen as it shipped: the chain's first entry, the digest of every
    /// session and export row the store held, in the untyped form (`AuditChain.Format.untyped`).
    /// A copy, not a call into the chain's code: a migration must do on a store found years later
    /// what it did the day it shipped, whatever that code becomes (GRDB's rule). `jampasir verify`
    /// checks the entry with the live code; `ChainFormatTests` holds the two together.
    static func sealHistoryV3(_ db: Database) throws {
        let tables = [
            (
                "session",
                [
                    "id", "counter_id", "boot_id", "started_at", "started_monotonic_ns", "clock_synchronized",
                    "limit_ms", "ended_at", "duration_ms", "outcome", "free_service",
                ]
            ),
            ("export", ["id", "exported_at", "stick", "session_count", "last_session_id", "manifest_sha256"]),
        ]
        func text(_ value: DatabaseValue) -> String {
            switch value.storage {
            case .null: "null"
            case .int64(let number): String(number)
            case .double(let number): String(number)
            case .string(let string): string.replacing(";", with: "%3B")
            case .blob(let data): "blob:" + data.base64EncodedString()
            }
        }
        var hasher = SHA256()
        var through: [Int64] = []
        for (table, columns) in tables {
            let last = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM \(table)") ?? 0
            through.append(last)
            let list = columns.map { "\(table).\($0)" }.joined(separator: ", ")
            let rows = try Row.fetchCursor(
                db, sql: "SELECT \(list) FROM \(table) WHERE id <= ? ORDER BY id", arguments: [last])
            while let row = try rows.next() {
                let line = columns.map { "\($0)=\(text(row[$0]))" }.joined(separator: ";") + "\n"
                hasher.update(data: Data(line.utf8))
            }
        }
        let fields =
            "sessions_through=\(through[0]);exports_through=\(through[1]);digest=\(hasher.finalize().hexString)"
        let previous = String(repeating: "0", count: 64)
        let hash = SHA256.hash(data: Data("1|chain-start|null|\(fields)|\(previous)".utf8)).hexString
        try db.execute(
            sql: "INSERT INTO audit (seq, kind, subject_id, fields, previous_hash, hash) VALUES (1, 'chain-start', NULL, ?, ?, ?)",
            arguments: [fields, previous, hash])
    }
}
