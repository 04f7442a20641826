import Crypto
import Foundation
import GRDB

/// The tamper-evident log: every finished session (and every export) is appended to the `audit`
/// table in the same transaction that records it, as an entry carrying its canonical fields and
/// the SHA-256 of the previous entry. Editing, deleting, inserting or reordering anything —
/// even with the sqlite3 CLI and the triggers dropped — breaks a link that `verify` finds.
/// The chain head goes into every signed export manifest.
public enum AuditChain {
    /// What an entry records.
    enum Kind: String {
        /// The first entry: seals the history that existed before the chain.
        case chainStart = "chain-start"
        /// A session with its outcome (and edge journal).
        case session
        /// A stick export record.
        case export
        /// The service rules in force from then on.
        case rules
        /// The wall clock was set while the daemon ran (`ClockStep`): the records' times on
        /// either side of it are on different clocks.
        case clockStep = "clock-step"
        /// JamPasir was updated from a supervisor's stick (`UpdateReceipt`): the sessions after
        /// it were recorded by the new version.
        case update
    }

    /// How an entry's fields and hash are written: the `format` column of its row. The chain moves
    /// to a newer format from an entry onward and never back; each entry is checked by its own.
    enum Format: Int, Comparable {
        /// `name=value;…`, NULL as `null`, `;` in text as `%3B`; hash over `seq|kind|subject|fields|previous`.
        /// Not injective (NULL and the text `null` read alike, and so do `;` and `%3B`): kept only
        /// to check the entries written before migration v5.
        case untyped = 1
        /// `name=<value>;…` where every value carries a type tag and its length in UTF-8 bytes:
        /// `n` (NULL), `i<len>:<digits>`, `r<len>:<real>`, `s<len>:<text>`, `b<len>:<base64>`; the hash
        /// is over the same encoding of (format, seq, kind, subject, fields, previous).
        case typed = 2
        /// `typed`, and a session's fields end with the ticket it served (`…;ticket=<value>`,
        /// after `edges`), from migration v6 on.
        case ticketed = 3

        /// What new entries are written in.
        static let current = Format.ticketed

        static func < (lhs: Format, rhs: Format) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The `previous_hash` of the first entry.
    public static let origin = String(repeating: "0", count: 64)

    public struct Head: Codable, Equatable, Sendable {
        public var seq: Int64
        public var hash: String

        public init(seq: Int64, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// The first broken link, in words that point at the row to look at.
    public struct Break: Error, Equatable, CustomStringConvertible {
        public var seq: Int64?
        public var description: String
    }

    public struct Report: Equatable, Sendable {
        public var entries: Int
        public var sessions: Int
        public var head: Head?
    }

    /// The canonical text of a session row as the database holds it (text dates, NULLs), so
    /// that any change made with any tool shows.
    static let sessionColumns = [
        "id", "counter_id", "boot_id", "started_at", "started_monotonic_ns", "clock_synchronized", "limit_ms",
        "ended_at", "duration_ms", "outcome", "free_service",
    ]
    /// Read with every session, chained from format 3 on.
    static let ticketColumn = "ticket"
    static let exportColumns = ["id", "exported_at", "stick", "session_count", "last_session_id", "manifest_sha256"]
    static let auditColumns = ["seq", "kind", "subject_id", "fields", "previous_hash", "hash", "format"]

    /// `table.a, table.b, …`: queries name every column they read, never `*`, so that a column
    /// added by hand can neither be read by mistake nor shadow another table's in a join.
    static func selectList(_ table: String, _ columns: [String]) -> String {
        columns.map { "\(table).\($0)" }.joined(separator: ", ")
    }

    static func canonical(_ row: Row, columns: [String], format: Format) -> String {
        columns.map { column in "\(column)=\(encode(row[column], format))" }.joined(separator: ";")
    }

    static func encode(_ value: DatabaseValue, _ format: Format) -> String {
        switch format {
        case .untyped: untypedValue(value)
        case .typed, .ticketed: typedValue(value)
        }
    }

    static func untypedValue(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "null"
        case .int64(let number): String(number)
        case .double(let number): String(number)
        case .string(let string): string.contains(";") ? string.replacing(";", with: "%3B") : string
        case .blob(let data): "blob:" + data.base64EncodedString()
        }
    }

    static func typedValue(_ value: DatabaseValue) -> String {
        func tagged(_ tag: String, _ text: String) -> String { "\(tag)\(text.utf8.count):\(text)" }
        switch value.storage {
        case .null: return "n"
        case .int64(let number): return tagged("i", String(number))
        case .double(let number): return tagged("r", String(number))
        case .string(let string): return tagged("s", string)
        case .blob(let data): return tagged("b", data.base64EncodedString())
        }
    }

    static func hash(
        seq: Int64, kind: String, subject: Int64?, fields: String, previous: String, format: Format
    ) -> String {
        let text: String
        switch format {
        case .untyped:
            text = "\(seq)|\(kind)|\(subject.map(String.init) ?? "null")|\(fields)|\(previous)"
        case .typed, .ticketed:
            let values: [DatabaseValue] = [
                Int64(format.rawValue).databaseValue, seq.databaseValue, kind.databaseValue,
                subject?.databaseValue ?? .null, fields.databaseValue, previous.databaseValue,
            ]
            text = values.map(typedValue).joined()
        }
        return SHA256.hash(data: Data(text.utf8)).hexString
    }

    /// A session's canonical fields, with its edge journal when it has one.
    static func sessionFields(_ db: Database, id: Int64, format: Format) throws -> String? {
        guard
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT \(selectList("session", format >= .ticketed ? sessionColumns + [ticketColumn] : sessionColumns)) FROM session WHERE id = ?",
                arguments: [id])
        else {
            return nil
        }
        let edges = try String.fetchOne(
            db, sql: "SELECT edges FROM session_edges WHERE session_id = ?", arguments: [id])
        return sessionText(row, journal: edges, format: format)
    }

    static func sessionText(_ row: Row, journal: String?, format: Format) -> String {
        let columns = canonical(row, columns: sessionColumns, format: format)
        switch format {
        case .untyped: return columns + (journal.map { ";edges=" + $0 } ?? "")
        case .typed: return columns + ";edges=" + typedValue(journal?.databaseValue ?? .null)
        case .ticketed:
            return columns + ";edges=" + typedValue(journal?.databaseValue ?? .null) + ";ticket="
                + typedValue(row[ticketColumn])
        }
    }

    static func exportFields(_ db: Database, id: Int64, format: Format) throws -> String? {
        try Row.fetchOne(
            db, sql: "SELECT \(selectList("export", exportColumns)) FROM export WHERE id = ?", arguments: [id]
        ).map {
            canonical($0, columns: exportColumns, format: format)
        }
    }

    /// Appends an entry for a session that now has its outcome, or an export just recorded.
    static func append(_ db: Database, kind: Kind, subject: Int64, format: Format = .current) throws {
        let fields =
            kind == .session
            ? try sessionFields(db, id: subject, format: format) : try exportFields(db, id: subject, format: format)
        guard let fields else { throw StoreError.failed(path: "audit", reason: "no \(kind) \(subject) to chain") }
        try appendEntry(db, kind: kind, subject: subject, fields: fields, format: format)
    }

    static func appendEntry(
        _ db: Database, kind: Kind, subject: Int64?, fields: String, format: Format = .current
    ) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let previous: String = last?["hash"] ?? origin
        let hash = hash(
            seq: seq, kind: kind.rawValue, subject: subject, fields: fields, previous: previous, format: format)
        var arguments: StatementArguments = [seq, kind.rawValue, subject, fields, previous, hash]
        // Untyped entries leave `format` to its default (1): a store before migration v5 has no such column.
        if format == .untyped {
            try db.execute(
                sql: "INSERT INTO audit (seq, kind, subject_id, fields, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: arguments)
        } else {
            arguments += [format.rawValue]
            try db.execute(
                sql: """
                    INSERT INTO audit (seq, kind, subject_id, fields, previous_hash, hash, format)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: arguments)
        }
    }

    /// `sessions_through=<id>;exports_through=<id>;digest=<sha256>` over those rows.
    /// `through`: the last session and export ids sealed (nil: all rows now).
    static func sealedHistory(
        _ db: Database, through: (sessions: Int64, exports: Int64)?, format: Format
    ) throws -> String {
        let sessionsThrough =
            try through?.sessions ?? Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM session") ?? 0
        let exportsThrough =
            try through?.exports ?? Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM export") ?? 0
        var hasher = SHA256()
        let sessions = try Row.fetchCursor(
            db, sql: "SELECT \(selectList("session", sessionColumns)) FROM session WHERE id <= ? ORDER BY id",
            arguments: [sessionsThrough])
        while let row = try sessions.next() {
            hasher.update(data: Data((canonical(row, columns: sessionColumns, format: format) + "\n").utf8))
        }
        let exports = try Row.fetchCursor(
            db, sql: "SELECT \(selectList("export", exportColumns)) FROM export WHERE id <= ? ORDER BY id",
            arguments: [exportsThrough])
        while let row = try exports.next() {
            hasher.update(data: Data((canonical(row, columns: exportColumns, format: format) + "\n").utf8))
        }
        let digest = hasher.finalize().hexString
        return "sessions_through=\(sessionsThrough);exports_through=\(exportsThrough);digest=\(digest)"
    }

    static func head(_ db: Database) throws -> Head? {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").map {
            Head(seq: $0["seq"], hash: $0["hash"])
        }
    }

    /// Checks the store's schema, then walks the whole chain; throws the first broken link.
    static func verify(_ db: Database) throws -> Report {
        try StoreSchema.check(db)
        var expectedSeq: Int64 = 1
        var previous = origin
        var chainedSessions = Set<Int64>()
        var chainedExports = Set<Int64>()
        var sealed = (sessions: Int64(0), exports: Int64(0))
        var format = Format.untyped
        // One pass: each entry with the row it names (the two tables' column names do not clash).
        let entries = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(selectList("audit", auditColumns)), \(selectList("session", sessionColumns + [ticketColumn])),
                  session_edges.edges AS journal
                FROM audit
                LEFT JOIN session ON audit.kind = 'session' AND session.id = audit.subject_id
                LEFT JOIN session_edges ON audit.kind = 'session' AND session_edges.session_id = audit.subject_id
                ORDER BY audit.seq
                """)
        while let entry = try entries.next() {
            let seq: Int64 = entry["seq"]
            let kind: String = entry["kind"]
            let subject: Int64? = entry["subject_id"]
            let fields: String = entry["fields"]
            guard seq == expectedSeq else {
                throw Break(
                    seq: expectedSeq,
                    description: seq > expectedSeq
                        ? "audit entry \(expectedSeq)\(seq - expectedSeq > 1 ? "–\(seq - 1)" : "") deleted (entry \(seq) follows entry \(expectedSeq - 1))"
                        : "audit entry \(seq) is out of order")
            }
            let storedFormat: DatabaseValue = entry["format"]
            guard let entryFormat = Int.fromDatabaseValue(storedFormat).flatMap(Format.init(rawValue:)) else {
                throw Break(seq: seq, description: "audit entry \(seq) has an unknown format \(storedFormat)")
            }
            guard entryFormat >= format else {
                throw Break(
                    seq: seq,
                    description:
                        "audit entry \(seq) is written in an older format than the entry before it: the chain never goes back"
                )
            }
            format = entryFormat
            guard entry["previous_hash"] as String == previous else {
                throw Break(
                    seq: seq,
                    description:
                        "audit entry \(seq) does not follow entry \(seq - 1): rows reordered, inserted or replaced")
            }
            guard
                hash(seq: seq, kind: kind, subject: subject, fields: fields, previous: previous, format: format)
                    == entry["hash"] as String
            else {
                throw Break(
                    seq: seq, description: "audit entry \(seq) (\(kind)\(subject.map { " \($0)" } ?? "")) was edited")
            }
            switch Kind(rawValue: kind) {
            case .session?:
                guard let id = subject else {
                    throw Break(seq: seq, description: "audit entry \(seq) names no session")
                }
                guard entry["id"] as Int64? != nil else {
                    throw Break(seq: seq, description: "session \(id) was deleted (recorded in audit entry \(seq))")
                }
                let current = sessionText(entry, journal: entry["journal"], format: format)
                guard current == fields else {
                    throw Break(
                        seq: seq,
                        description:
                            "session \(id) was changed after it was recorded (audit entry \(seq)): it now reads \(current), the chain says \(fields)"
                    )
                }
                // Entries from before format 3 do not cover the ticket: it must still be empty.
                if format < .ticketed, let ticket = entry[ticketColumn] as String? {
                    throw Break(
                        seq: seq,
                        description:
                            "session \(id) carries ticket \(ticket) that its audit entry \(seq), written before tickets were recorded, cannot have: added afterwards"
                    )
                }
                chainedSessions.insert(id)
            case .export?:
                guard let id = subject, try exportFields(db, id: id, format: format) == fields else {
                    throw Break(
                        seq: seq,
                        description: "export record \(subject ?? 0) was changed or deleted (audit entry \(seq))")
                }
                chainedExports.insert(id)
            case .chainStart?:
                let through = Self.parse(fields)
                sealed = (
                    through["sessions_through"].flatMap { Int64($0) } ?? 0,
                    through["exports_through"].flatMap { Int64($0) } ?? 0
                )
                guard try sealedHistory(db, through: sealed, format: format) == fields else {
                    throw Break(
                        seq: seq,
                        description:
                            "the history sealed when the chain started (sessions 1–\(sealed.sessions)) was changed")
                }
            case .rules?, .clockStep?, .update?:
                break  // what held from then on: covered by the hashes alone
            case nil:
                throw Break(seq: seq, description: "audit entry \(seq) has an unknown kind \(kind)")
            }
            previous = entry["hash"]
            expectedSeq += 1
        }
        // Sessions sealed when the chain started were recorded long before any ticket.
        if let id = try Int64.fetchOne(
            db, sql: "SELECT id FROM session WHERE id <= ? AND ticket IS NOT NULL ORDER BY id LIMIT 1",
            arguments: [sealed.sessions])
        {
            throw Break(
                seq: 1, description: "session \(id), sealed when the chain started, carries a ticket: added afterwards")
        }
        // Every finished session and every export after the seal must be in the chain.
        let finished = try Int64.fetchAll(
            db, sql: "SELECT id FROM session WHERE outcome IS NOT NULL AND id > ? ORDER BY id",
            arguments: [sealed.sessions])
        if let missing = finished.first(where: { !chainedSessions.contains($0) }) {
            throw Break(
                seq: nil,
                description:
                    "session \(missing) has an outcome but no audit entry: the chain was truncated after entry \(expectedSeq - 1), or the row was added behind the store's back"
            )
        }
        let exports = try Int64.fetchAll(
            db, sql: "SELECT id FROM export WHERE id > ? ORDER BY id", arguments: [sealed.exports])
        if let missing = exports.first(where: { !chainedExports.contains($0) }) {
            throw Break(seq: nil, description: "export record \(missing) has no audit entry: the chain was truncated")
        }
        return Report(
            entries: Int(expectedSeq - 1), sessions: chainedSessions.count,
            head: expectedSeq > 1 ? Head(seq: expectedSeq - 1, hash: previous) : nil)
    }

    private static func parse(_ fields: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in fields.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }
}

extension SessionStore {
    /// Walks the audit chain (see `AuditChain`); throws `AuditChain.Break` at the first broken link.
    public func verifyChain() throws -> AuditChain.Report {
        do {
            return try pool.read { db in try AuditChain.verify(db) }
        } catch let broken as AuditChain.Break {
            throw broken
        } catch {
            throw StoreError.failed(path: path, reason: "\(error)")
        }
    }

    /// Chains the service rules in force (limit, warnings, long press, …) when they differ from
    /// the last rules chained: a changed limit is evidence too. Returns whether an entry was added.
    @discardableResult
    public func recordRules(_ description: String) throws(StoreError) -> Bool {
        try write { db in
            let last = try String.fetchOne(
                db, sql: "SELECT fields FROM audit WHERE kind = 'rules' ORDER BY seq DESC LIMIT 1")
            guard last != description else { return false }
            try AuditChain.appendEntry(db, kind: .rules, subject: nil, fields: description)
            return true
        }
    }

    /// Chains an update from a supervisor's stick (`UpdateReceipt.chainFields`), once: a receipt
    /// already chained is not chained again. Returns whether an entry was added.
    @discardableResult
    public func recordUpdate(_ fields: String) throws(StoreError) -> Bool {
        try write { db in
            let known = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM audit WHERE kind = 'update' AND fields = ?", arguments: [fields]) ?? false
            guard !known else { return false }
            try AuditChain.appendEntry(db, kind: .update, subject: nil, fields: fields)
            return true
        }
    }

    /// Chains a step of the wall clock (`ClockStep.chainFields`). Returns the entry's number.
    @discardableResult
    public func recordClockStep(_ fields: String) throws(StoreError) -> Int64 {
        try write { db in
            try AuditChain.appendEntry(db, kind: .clockStep, subject: nil, fields: fields)
            return try AuditChain.head(db)?.seq ?? 0
        }
    }

    /// The rules chained last before `session`'s own chain entry (or the latest, for a session
    /// not chained yet): what was in force when it ran. Nil when no rules were ever chained.
    public func rulesText(forSession session: Int64) throws(StoreError) -> String? {
        try read { db in
            let entry = try Int64.fetchOne(
                db, sql: "SELECT seq FROM audit WHERE kind = 'session' AND subject_id = ?", arguments: [session])
            return try String.fetchOne(
                db, sql: "SELECT fields FROM audit WHERE kind = 'rules' AND seq < ? ORDER BY seq DESC LIMIT 1",
                arguments: [entry ?? Int64.max])
        }
    }

    /// Whether the entry an older export sealed is still in this store's chain, unchanged.
    package func chainContains(_ head: AuditChain.Head) throws(StoreError) -> Bool {
        try read { db in
            try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [head.seq]) == head.hash
        }
    }

    /// The hash of audit entry `seq`; nil when the chain has no such entry.
    public func chainEntryHash(seq: Int64) throws(StoreError) -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [seq]) }
    }

    /// The newest audit entry: what an export manifest seals.
    public func chainHead() throws(StoreError) -> AuditChain.Head? {
        try read { db in try AuditChain.head(db) }
    }

    /// Every entry's number and hash up to `head`, in order: the list an export carries
    /// (chain.txt), so that a hub can check that the chain still passes through every head it
    /// saw sealed before.
    public func forEachChainHash(through head: AuditChain.Head, _ body: (Int64, String) throws -> Void) throws {
        try stream(
            { db in
                try Row.fetchCursor(db, sql: "SELECT seq, hash FROM audit WHERE seq <= ? ORDER BY seq", arguments: [head.seq])
                    .map { row -> (Int64, String) in (row["seq"], row["hash"]) }
            }, body)
    }
}
