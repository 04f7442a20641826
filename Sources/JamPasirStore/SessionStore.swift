import Foundation
import GRDB
import JamPasirCore

/// The durable log of sessions: one SQLite file in WAL mode with `synchronous=FULL`, so a
/// committed outcome survives a power cut. Readers (the CLI) work while the daemon writes.
public final class SessionStore: Sendable {
    public enum Access: Sendable {
        /// The daemon: creates the file and its directory, migrates the schema.
        case readWrite
        /// The CLI: never creates or changes anything.
        case readOnly
    }

    public let path: String
    let pool: DatabasePool
    /// What this opening did before it migrated the store to a newer schema (an upgrade of the
    /// package); nil when nothing was migrated.
    public let copyBeforeMigration: MigrationCopy?

    public enum MigrationCopy: Equatable, Sendable {
        /// The store as it was, at this path.
        case copied(String)
        /// No copy could be taken (the reason says why); the store was migrated all the same: a
        /// counter that does not start is worse, and each migration is one transaction.
        case failed(String)
    }

    public init(path: String, access: Access) throws(StoreError) {
        self.path = path
        let fileManager = FileManager.default
        var configuration = Configuration()
        configuration.readonly = access == .readOnly
        configuration.busyMode = .timeout(5)
        configuration.label = "jampasir-store"
        // The schema may have been edited by hand: views, triggers and generated columns must not
        // run functions with side effects (or any application-defined function) on our connections.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA trusted_schema = OFF") }
        switch access {
        case .readOnly:
            guard fileManager.fileExists(atPath: path) else { throw .missing(path: path) }
        case .readWrite:
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                do {
                    try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw .cannotOpen(
                        path: path, reason: "cannot create directory \(directory): \(error.localizedDescription)")
                }
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if access == .readWrite {
                // GRDB sets NORMAL when it enables WAL, after `prepareDatabase`; NORMAL can lose
                // the last commits on a power cut. The pool's single writer connection keeps this.
                try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            }
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        do {
            let migrator = StoreMigrations.migrator
            switch access {
            case .readWrite:
                copyBeforeMigration = try Self.copyBeforeMigrating(pool, path: path)
                try migrator.migrate(pool)
            case .readOnly:
                copyBeforeMigration = nil
                let complete = try pool.read { db in try migrator.hasCompletedMigrations(db) }
                if !complete { throw StoreError.outdatedSchema(path: path) }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// A store with history that a newer schema will change is copied whole first, beside it
    /// (`<store>.before-<first new migration>`), so that an upgrade that goes wrong can go back:
    /// through SQLite's backup (a consistent copy), under a temporary name, synced, renamed over
    /// any older copy of that name (the store may have been restored from it and have grown
    /// since). Only when the file system has room for it. A new, empty store is not copied.
    private static func copyBeforeMigrating(_ pool: DatabasePool, path: String) throws -> MigrationCopy? {
        let migrator = StoreMigrations.migrator
        let (done, complete) = try pool.read { db in
            (try migrator.appliedIdentifiers(db), try migrator.hasCompletedMigrations(db))
        }
        guard !done.isEmpty, !complete, let next = migrator.migrations.first(where: { !done.contains($0) }) else {
            return nil
        }
        let copy = "\(path).before-\(next)"
        let partial = copy + ".partial"
        let directory = (copy as NSString).deletingLastPathComponent
        var needed = 0
        for file in [path, path + "-wal"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int
            needed += size ?? 0
        }
        var volume = statvfs()
        if statvfs(directory.isEmpty ? "." : directory, &volume) == 0 {
            let free = Int(volume.f_bavail) * Int(volume.f_frsize)
            guard free > needed + needed / 10 + (16 << 20) else {
                return .failed(
                    "\(free >> 20) MiB free in \(directory), the copy needs \(needed >> 20) MiB and room to spare")
            }
        }
        do {
            try? FileManager.default.removeItem(atPath: partial)
            do {
                let destination = try DatabaseQueue(path: partial)
                try destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
                try pool.backup(to: destination)
                try destination.close()
            }
            guard rename(partial, copy) == 0 else {
                let code = errno
                throw StoreError.failed(path: copy, reason: "cannot rename \(partial): \(String(cString: strerror(code)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            return .failed("\(error)")
        }
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
        return .copied(copy)
    }

    // MARK: - Writing (daemon)

    /// Records a session that has just started; returns its id.
    public func begin(_ session: SessionRecord) throws(StoreError) -> Int64 {
        try write { db in
            var record = session
            try record.insert(db)
            return record.id!
        }
    }

    /// Records how an open session ended, with the button edges behind it (`EdgeJournal` text),
    /// and chains it. Throws if the session is not open.
    public func finish(
        id: Int64, endedAt: Date, durationMs: Int64?, outcome: Outcome, freeService: Bool, edges: String? = nil
    ) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE session SET ended_at = ?, duration_ms = ?, outcome = ?, free_service = ?
                    WHERE id = ? AND outcome IS NULL
                    """,
                arguments: [endedAt, durationMs, outcome, freeService, id])
            if db.changesCount != 1 { throw StoreError.notOpen(id: id) }
            try Self.insertEdges(db, session: id, edges: edges)
            try AuditChain.append(db, kind: .session, subject: id)
        }
    }

    /// Records a session that started and ended while the store was not reachable at its start.
    public func insertFinished(_ session: SessionRecord, edges: String? = nil) throws(StoreError) {
        try write { db in
            var record = session
            try record.insert(db)
            try Self.insertEdges(db, session: record.id!, edges: edges)
            if record.outcome != nil { try AuditChain.append(db, kind: .session, subject: record.id!) }
        }
    }

    /// Every session still open from an earlier run (crash, power cut) becomes `interrupted`.
    /// The time the run died is unknown, so the duration stays unknown: never silently dropped,
    /// never invented.
    @discardableResult
    public func interruptOpenSessions(at now: Date, freeService: Bool) throws(StoreError) -> [SessionRecord] {
        try write { db in
            let open = try SessionRecord.filter(Column("outcome") == nil).order(Column("id")).fetchAll(db)
            for session in open {
                try db.execute(
                    sql: "UPDATE session SET ended_at = ?, outcome = 'interrupted', free_service = ? WHERE id = ?",
                    arguments: [now, freeService, session.id])
                try AuditChain.append(db, kind: .session, subject: session.id!)
            }
            return try SessionRecord.filter(keys: open.compactMap(\.id)).order(Column("id")).fetchAll(db)
        }
    }

    private static func insertEdges(_ db: Database, session: Int64, edges: String?) throws {
        guard let edges, !edges.isEmpty else { return }
        try db.execute(
            sql: "INSERT INTO session_edges (session_id, edges) VALUES (?, ?)", arguments: [session, edges])
    }

    // MARK: - Reading (CLI, export)

    /// Ended sessions that started in `[from, to)`, and how many of them were free passports.
    public func figures(from: Date, to: Date) throws(StoreError) -> (sessions: Int, free: Int) {
        try read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) AS sessions, coalesce(sum(free_service), 0) AS free FROM session
                    WHERE outcome IS NOT NULL AND started_at >= ? AND started_at < ?
                    """, arguments: [from, to])
            return (row?["sessions"] ?? 0, row?["free"] ?? 0)
        }
    }

    /// Sessions with an id above `id`: what is new since an export that ended there.
    public func count(after id: Int64) throws(StoreError) -> Int {
        try read { db in try SessionRecord.filter(Column("id") > id).fetchCount(db) }
    }

    /// A session's edge journal (`EdgeJournal` text), if it has one.
    public func edges(ofSession id: Int64) throws(StoreError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT edges FROM session_edges WHERE session_id = ?", arguments: [id])
        }
    }

    /// Sessions that started in `[from, to)`, oldest first. `nil` bounds are open.
    public func sessions(from: Date? = nil, to: Date? = nil) throws(StoreError) -> [SessionRecord] {
        try read { db in try Self.query(from: from, to: to).fetchAll(db) }
    }

    /// Streams sessions in `[from, to)` oldest first, without holding them all in memory.
    /// An error thrown by `body` stops the walk and is rethrown as it is.
    public func forEachSession(
        from: Date? = nil, to: Date? = nil, _ body: (SessionRecord) throws -> Void
    ) throws {
        try stream({ db in try Self.query(from: from, to: to).fetchCursor(db) }, body)
    }

    /// The same walk as `forEachSession`, over the stored rows themselves: for copying sessions
    /// out as text (the CSV of a long log) without decoding a record and its dates.
    public func forEachStoredSession(
        from: Date? = nil, to: Date? = nil, _ body: (StoredSessionRow) throws -> Void
    ) throws {
        try stream(
            { db in
                let statement = try Self.query(from: from, to: to)
                    .select(StoredSessionRow.Column.allCases.map { Column($0.name) })
                    .makePreparedRequest(db, forSingleResult: false).statement
                return try Row.fetchCursor(statement).map { StoredSessionRow($0, statement: statement.sqliteStatement) }
            }, body)
    }

    func stream<Element>(
        _ cursor: (Database) throws -> some Cursor<Element>, _ body: (Element) throws -> Void
    ) throws {
        var bodyError: (any Error)?
        try read { db in
            let elements = try cursor(db)
            while let element = try elements.next() {
                do {
                    try body(element)
                } catch {
                    bodyError = error
                    return
                }
            }
        }
        if let bodyError { throw bodyError }
    }

    public func session(id: Int64) throws(StoreError) -> SessionRecord? {
        try read { db in try SessionRecord.fetchOne(db, key: id) }
    }

    /// A PRAGMA's value as this connection sees it (for diagnostics and tests).
    package func pragma(_ name: String) throws(StoreError) -> String? {
        try write { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    private static func query(from: Date?, to: Date?) -> QueryInterfaceRequest<SessionRecord> {
        var request = SessionRecord.all()
        if let from { request = request.filter(Column("started_at") >= from) }
        if let to { request = request.filter(Column("started_at") < to) }
        return request.order(Column("started_at"), Column("id"))
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .failed(path: path, reason: "\(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .failed(path: path, reason: "\(error)")
        }
    }
}

extension SessionStore {
    /// How many sessions the store holds.
    public func count() throws(StoreError) -> Int {
        try read { db in try SessionRecord.fetchCount(db) }
    }

    /// "12 sessions, 1 export": what the store holds; nil when it holds neither.
    public func historySummary() throws(StoreError) -> String? {
        try read { db in
            let sessions = try Int.fetchOne(db, sql: "SELECT count(*) FROM session") ?? 0
            let exports = try Int.fetchOne(db, sql: "SELECT count(*) FROM export") ?? 0
            guard sessions + exports > 0 else { return nil }
            return "\(sessions) session\(sessions == 1 ? "" : "s"), \(exports) export\(exports == 1 ? "" : "s")"
        }
    }
}

extension SessionStore {
    /// Runs raw SQL in a write transaction (maintenance and tests; the daemon never needs it).
    public func execute(_ sql: String) throws(StoreError) {
        try write { db in try db.execute(sql: sql) }
    }
}

extension SessionStore {
    /// `PRAGMA quick_check`: "ok", or what SQLite found wrong.
    public func quickCheck() throws(StoreError) -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "; ") }
    }
}
