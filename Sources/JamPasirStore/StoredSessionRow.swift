import Foundation
import GRDB
import GRDBSQLite

/// A session row as the store holds it, read column by column without decoding a record:
/// the CSV of a long log copies its values straight out. Valid only inside the callback of
/// `SessionStore.forEachStoredSession` that it is passed to.
public struct StoredSessionRow {
    /// The columns, in the order of the CSV and JSON exports.
    public enum Column: Int, CaseIterable, Sendable {
        case id, counterID, startedAt, endedAt, durationMs, limitMs, outcome, freeService, clockSynchronized, bootID,
            ticket

        /// The column's name in the `session` table (and in the CSV header).
        public var name: String {
            switch self {
            case .id: "id"
            case .counterID: "counter_id"
            case .startedAt: "started_at"
            case .endedAt: "ended_at"
            case .durationMs: "duration_ms"
            case .limitMs: "limit_ms"
            case .outcome: "outcome"
            case .freeService: "free_service"
            case .clockSynchronized: "clock_synchronized"
            case .bootID: "boot_id"
            case .ticket: "ticket"
            }
        }
    }

    private let row: Row
    /// The statement `row` reads from: its text is read in place, without a copy.
    private let statement: SQLiteStatement

    init(_ row: Row, statement: SQLiteStatement) {
        self.row = row
        self.statement = statement
    }

    public func integer(_ column: Column) throws -> Int64? {
        try row.decode(Int64?.self, atIndex: column.rawValue)
    }

    /// The value's bytes as SQLite gives them (text as stored, numbers as their decimal text),
    /// nil for NULL; valid only inside `body`.
    public func withBytes<T>(_ column: Column, _ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
        let index = Int32(column.rawValue)
        guard sqlite3_column_type(statement, index) != SQLITE_NULL else { return try body(nil) }
        let text = sqlite3_column_text(statement, index)  // first the text, then its length (SQLite's rule)
        return try body(UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, index))))
    }

    /// The value as a date, in whichever form it was stored.
    public func date(_ column: Column) throws -> Date? {
        try row.decode(Date?.self, atIndex: column.rawValue)
    }
}
