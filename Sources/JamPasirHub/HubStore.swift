import Foundation
import GRDB
import JamPasirReports
import JamPasirStore

/// The office hub's own SQLite file: every counter's sessions as their signed exports brought
/// them, the bundles themselves, the chain heads they sealed, and what the hub found wrong.
/// Sessions are keyed by the counter's public key and the session's id, so a bundle imported
/// twice, or two bundles that overlap, add each session once. The first copy of a session is
/// kept: a later bundle that says otherwise is a finding, not an update.
public final class HubStore: Sendable {
    public let path: String
    /// Every export the hub took, as received: `bundles/<id>/` beside the store.
    public var bundlesDirectory: String { folder + "/bundles" }
    /// The hub's own Ed25519 key, which signs its queue exports: `hub.key` beside the store.
    public var keyPath: String { folder + "/hub.key" }
    private var folder: String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }
    let queue: DatabaseQueue

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(path: String) throws(Failure) {
        self.path = path
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA trusted_schema = OFF") }
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
            }
            try Self.migrator.migrate(queue)
        } catch {
            throw Failure(description: "cannot open the hub store \(path): \(error)")
        }
    }

    /// Shipped migrations are never edited, and never call application code.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-hub") { db in
            try db.execute(
                sql: """
                    CREATE TABLE counter (
                      public_key TEXT PRIMARY KEY,
                      counter_id TEXT NOT NULL,
                      first_import TEXT NOT NULL,
                      last_import TEXT NOT NULL
                    );
                    CREATE TABLE bundle (
                      manifest_sha256 TEXT PRIMARY KEY CHECK (length(manifest_sha256) = 64),
                      public_key TEXT NOT NULL REFERENCES counter(public_key),
                      counter_id TEXT NOT NULL,
                      exported_at TEXT NOT NULL,
                      chain_seq INTEGER,
                      chain_hash TEXT,
                      sessions INTEGER NOT NULL,
                      imported_at TEXT NOT NULL,
                      source TEXT NOT NULL
                    );
                    CREATE TABLE session (
                      public_key TEXT NOT NULL REFERENCES counter(public_key),
                      id INTEGER NOT NULL,
                      counter_id TEXT NOT NULL,
                      started_at TEXT NOT NULL,
                      ended_at TEXT,
                      duration_ms INTEGER,
                      limit_ms INTEGER NOT NULL,
                      outcome TEXT NOT NULL CHECK (outcome IN ('in_time', 'overtime', 'cancelled', 'interrupted')),
                      free_service INTEGER NOT NULL CHECK (free_service IN (0, 1)),
                      clock_synchronized INTEGER NOT NULL CHECK (clock_synchronized IN (0, 1)),
                      boot_id TEXT NOT NULL,
                      bundle TEXT NOT NULL REFERENCES bundle(manifest_sha256),
                      PRIMARY KEY (public_key, id)
                    );
                    CREATE INDEX session_started_at ON session(started_at);
                    CREATE TABLE finding (
                      seq INTEGER PRIMARY KEY AUTOINCREMENT,
                      public_key TEXT NOT NULL,
                      counter_id TEXT NOT NULL,
                      found_at TEXT NOT NULL,
                      bundle TEXT NOT NULL,
                      description TEXT NOT NULL
                    );
                    -- The hub is a witness: what it received is never changed or forgotten.
                    CREATE TRIGGER session_is_final BEFORE UPDATE ON session
                      BEGIN SELECT RAISE(ABORT, 'a received session is final'); END;
                    CREATE TRIGGER session_never_deleted BEFORE DELETE ON session
                      BEGIN SELECT RAISE(ABORT, 'received sessions are never deleted'); END;
                    CREATE TRIGGER bundle_never_deleted BEFORE DELETE ON bundle
                      BEGIN SELECT RAISE(ABORT, 'received bundles are never deleted'); END;
                    CREATE TRIGGER finding_never_deleted BEFORE DELETE ON finding
                      BEGIN SELECT RAISE(ABORT, 'findings are never deleted'); END;
                    """)
        }
        migrator.registerMigration("v2-forwarded") { db in
            try db.execute(
                sql: """
                    CREATE TABLE forwarded (
                      bundle TEXT NOT NULL REFERENCES bundle(manifest_sha256),
                      hub TEXT NOT NULL,
                      forwarded_at TEXT NOT NULL,
                      answer TEXT NOT NULL,
                      PRIMARY KEY (bundle, hub)
                    );
                    """)
        }
        migrator.registerMigration("v3-queue") { db in
            // The office's tickets, one row per number given each local day (a voided number too,
            // so that it is never given again that day). Times are milliseconds since 1970.
            try db.execute(
                sql: """
                    CREATE TABLE ticket (
                      day TEXT NOT NULL CHECK (length(day) = 10),
                      number INTEGER NOT NULL CHECK (number >= 1),
                      label TEXT NOT NULL,
                      state TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'left', 'void')),
                      issued_ms INTEGER CHECK ((state = 'void') = (issued_ms IS NULL)),
                      counter TEXT CHECK ((state = 'called') = (counter IS NOT NULL)),
                      ended_ms INTEGER CHECK ((state IN ('called', 'left')) = (ended_ms IS NOT NULL)),
                      marks_passed INTEGER NOT NULL DEFAULT 0 CHECK (marks_passed >= 0),
                      breached INTEGER NOT NULL DEFAULT 0 CHECK (breached IN (0, 1)),
                      PRIMARY KEY (day, number)
                    );
                    """)
        }
        migrator.registerMigration("v4-session-ticket") { db in
            // The ticket a session served, as the counter signed it (its exports from the call
            // button on); NULL for sessions without one and for every session before.
            try db.execute(
                sql: """
                    ALTER TABLE session ADD COLUMN ticket TEXT
                      CHECK (ticket IS NULL OR (typeof(ticket) = 'text' AND length(ticket) BETWEEN 3 AND 10
                        AND ticket GLOB '[A-Z]*-[0-9]*' AND ticket NOT GLOB '*[^-A-Z0-9]*'
                        AND ticket NOT GLOB '*-*-*' AND ticket NOT GLOB '*[0-9]*-*' AND ticket NOT GLOB '*-*[A-Z]*'));
                    CREATE INDEX session_ticket ON session(counter_id, ticket) WHERE ticket IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v5-queue-record") { db in
            // What happened to each ticket, in order, chained (`QueueRecord`): the queue's evidence.
            // The `ticket` table is its current state, kept for the hall and the figures.
            try db.execute(
                sql: """
                    CREATE TABLE queue_record (
                      seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                      day TEXT NOT NULL,
                      number INTEGER NOT NULL,
                      label TEXT NOT NULL,
                      event TEXT NOT NULL CHECK (event IN ('issued', 'voided', 'warned', 'breached', 'called', 'left')),
                      at TEXT NOT NULL,
                      counter TEXT,
                      mark_minutes INTEGER,
                      previous_hash TEXT NOT NULL,
                      hash TEXT NOT NULL
                    );
                    CREATE INDEX queue_record_ticket ON queue_record(day, number);
                    CREATE TRIGGER queue_record_is_final BEFORE UPDATE ON queue_record
                      BEGIN SELECT RAISE(ABORT, 'a queue record is final'); END;
                    CREATE TRIGGER queue_record_never_deleted BEFORE DELETE ON queue_record
                      BEGIN SELECT RAISE(ABORT, 'queue records are never deleted'); END;
                    """)
        }
        migrator.registerMigration("v6-bundle-version") { db in
            // The JamPasir version that made each export (its manifest's software_version; NULL
            // for exports from before it was written): the counter list's VERSION.
            try db.execute(
                sql: """
                    ALTER TABLE bundle ADD COLUMN software_version TEXT
                      CHECK (software_version IS NULL OR (typeof(software_version) = 'text'
                        AND length(software_version) BETWEEN 1 AND 64
                        AND software_version NOT GLOB '*[^0-9A-Za-z.+~-]*'));
                    """)
        }
        return migrator
    }
}

/// A session as the hub keeps it: exactly the export's JSON form (`SessionJSON`), so what the
/// hub stores and compares is what the counter signed.
extension SessionJSON {
    static let columnNames = [
        "id", "counter_id", "started_at", "ended_at", "duration_ms", "limit_ms", "outcome", "free_service",
        "clock_synchronized", "boot_id", "ticket",
    ]
    static let columns = columnNames.joined(separator: ", ")
    static let placeholders = columnNames.map { _ in "?" }.joined(separator: ", ")
    static func columns(of table: String) -> String { columnNames.map { "\(table).\($0)" }.joined(separator: ", ") }

    init(row: Row) {
        self.init(
            id: row["id"], counterID: row["counter_id"], startedAt: row["started_at"], endedAt: row["ended_at"],
            durationMs: row["duration_ms"], limitMs: row["limit_ms"], outcome: row["outcome"],
            freeService: row["free_service"], clockSynchronized: row["clock_synchronized"], bootID: row["boot_id"],
            ticket: row["ticket"])
    }

    var arguments: StatementArguments {
        [id, counterID, startedAt, endedAt, durationMs, limitMs, outcome, freeService, clockSynchronized, bootID, ticket]
    }
}

extension HubStore {
    /// A counter the hub has received bundles from.
    public struct Counter: Equatable, Sendable {
        public var publicKey: String
        public var counterID: String
        public var lastImport: String
        public var sessions: Int
        public var head: AuditChain.Head?
        public var findings: Int
        /// The version its newest export (by its chain) was made with; nil for older exports.
        public var softwareVersion: String?
    }

    public func counters() throws(Failure) -> [Counter] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.public_key, c.counter_id, c.last_import,
                      (SELECT count(*) FROM session s WHERE s.public_key = c.public_key) AS sessions,
                      (SELECT count(*) FROM finding f WHERE f.public_key = c.public_key) AS findings,
                      b.chain_seq, b.chain_hash,
                      (SELECT software_version FROM bundle v WHERE v.public_key = c.public_key
                        AND software_version IS NOT NULL ORDER BY chain_seq DESC, exported_at DESC LIMIT 1)
                        AS software_version
                    FROM counter c
                    LEFT JOIN bundle b ON b.rowid = (SELECT rowid FROM bundle WHERE public_key = c.public_key
                      AND chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1)
                    ORDER BY c.counter_id, c.public_key
                    """
            ).map { row in
                let seq: Int64? = row["chain_seq"]
                let hash: String? = row["chain_hash"]
                return Counter(
                    publicKey: row["public_key"], counterID: row["counter_id"], lastImport: row["last_import"],
                    sessions: row["sessions"], head: seq.flatMap { seq in hash.map { AuditChain.Head(seq: seq, hash: $0) } },
                    findings: row["findings"], softwareVersion: row["software_version"])
            }
        }
    }

    /// Every session received, in the order they started, one at a time (a national hub holds
    /// millions).
    /// `startingFrom`: at least the sessions that started then or later, by the index on the start
    /// (the stored text begins with its date; two days' margin covers any UTC offset it was
    /// written with), so a month's report reads a month, not the whole history. The caller
    /// filters exactly.
    public func forEachSession(
        startingFrom earliest: Date? = nil, _ body: (_ publicKey: String, _ session: SessionJSON) throws -> Void
    ) throws(Failure) {
        let floor = earliest.map { Timestamp.iso8601($0.addingTimeInterval(-2 * 86_400)) } ?? ""
        try read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT public_key, \(SessionJSON.columns) FROM session WHERE started_at >= ? ORDER BY started_at, public_key, id",
                arguments: [floor])
            while let row = try rows.next() { try body(row["public_key"], SessionJSON(row: row)) }
        }
    }

    /// Moves on with every bundle and finding taken: a figure computed at one generation holds
    /// until the next.
    public func generation() throws(Failure) -> String {
        try read { db in
            try String.fetchOne(db, sql: "SELECT (SELECT count(*) FROM bundle) || '.' || (SELECT count(*) FROM finding)") ?? ""
        }
    }

    /// The counter `publicKey` is: the name its first export carried (a later rename is a
    /// finding, and a name another counter holds is never taken by exporting under it); nil when
    /// it has brought none.
    public func counterName(ofKey publicKey: String) throws(Failure) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT counter_id FROM counter WHERE public_key = ?", arguments: [publicKey])
        }
    }

    /// Every counter name `publicKey`'s exports carried: the first and any it was renamed to.
    static func names(ofKey publicKey: String, _ db: Database) throws -> Set<String> {
        Set(
            try String.fetchAll(
                db,
                sql: "SELECT counter_id FROM counter WHERE public_key = ? UNION SELECT counter_id FROM bundle WHERE public_key = ?",
                arguments: [publicKey, publicKey]))
    }

    /// Whether this bundle was taken before.
    public func holds(bundle: String) throws(Failure) -> Bool {
        try read { db in try Self.holds(bundle: bundle, db) }
    }

    static func holds(bundle: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM bundle WHERE manifest_sha256 = ?", arguments: [bundle]) == true
    }

    public struct Finding: Equatable, Sendable {
        public var counterID: String
        public var publicKey: String
        public var foundAt: String
        public var description: String
    }

    public func findings() throws(Failure) -> [Finding] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM finding ORDER BY seq").map {
                Finding(
                    counterID: $0["counter_id"], publicKey: $0["public_key"], foundAt: $0["found_at"],
                    description: $0["description"])
            }
        }
    }

    /// Removes what an import or a request cut short by a crash or a kill left in the bundles
    /// folder (`.incoming-…`, `.received-…`, each removed by its own process otherwise), once
    /// an hour old, so that a running one's is never touched. (A bundle's copy whose store never
    /// took it is that bundle's, replaced at its next import: HubImport.keep.)
    public func removeAbandonedFolders(olderThan age: TimeInterval = 3600, now: Date = Date()) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: bundlesDirectory)) ?? []
        for name in names where name.hasPrefix(".incoming-") || name.hasPrefix(".received-") {
            let path = bundlesDirectory + "/" + name
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                now.timeIntervalSince(modified) > age
            else { continue }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// A bundle the hub took (its copy is `bundlesDirectory/<id>`).
    public struct Bundle: Equatable, Sendable {
        public var id: String
        public var counterID: String
    }

    /// The bundles the hub above at `hub` does not have yet, in the order they arrived.
    public func bundles(notForwardedTo hub: String) throws(Failure) -> [Bundle] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT manifest_sha256, counter_id FROM bundle
                    WHERE manifest_sha256 NOT IN (SELECT bundle FROM forwarded WHERE hub = ?) ORDER BY rowid
                    """, arguments: [hub]
            ).map { Bundle(id: $0["manifest_sha256"], counterID: $0["counter_id"]) }
        }
    }

    public func markForwarded(_ bundle: String, to hub: String, answer: String, at time: String) throws(Failure) {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO forwarded (bundle, hub, forwarded_at, answer) VALUES (?, ?, ?, ?)",
                arguments: [bundle, hub, time, answer])
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(Failure) -> T {
        do { return try queue.read(body) } catch { throw Failure(description: "hub store \(path): \(error)") }
    }

    func write<T>(_ body: (Database) throws -> T) throws(Failure) -> T {
        do { return try queue.write(body) } catch { throw Failure(description: "hub store \(path): \(error)") }
    }
}
