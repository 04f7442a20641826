import Foundation
import GRDB

/// A session row as the store holds it, read column by column without decoding a record:
/// the CSV of a long log copies its values straight out. Valid only inside the callback of
/// `SessionStore.forEachStoredSession` that it is passed to.
public struct StoredSessionRow {
    /// The columns, in the order of the CSV and JSON exports.
    public enum Column: Int, CaseIterable, Sendable {
        case id, counterID, startedAt, endedAt, durationMs, limitMs, outcome, freeService, clockSynchronized, bootID

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
            }
        }
    }

    private let row: Row

    init(_ row: Row) { self.row = row }

    public func integer(_ column: Column) throws -> Int64? {
        try row.decode(Int64?.self, atIndex: column.rawValue)
    }

    /// The value's bytes as SQLite gives them (text as stored, numbers as their decimal text),
    /// nil for NULL; valid only inside `body`.
    public func withBytes<T>(_ column: Column, _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        try row.withUnsafeData(atIndex: column.rawValue) { data in
            guard let data else { return try body(nil) }
            return try data.withUnsafeBytes { try body($0) }
        }
    }

    /// The value as a date, in whichever form it was stored.
    public func date(_ column: Column) throws -> Date? {
        try row.decode(Date?.self, atIndex: column.rawValue)
    }
}
