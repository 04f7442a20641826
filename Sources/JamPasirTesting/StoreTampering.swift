import Foundation

/// Edits a store the way someone with root and the sqlite3 tool would: drops the store's guard
/// triggers, runs `sql`, then puts every trigger back exactly as it was, so that only the edit
/// itself is left for `verify` to find.
public func tamperWithStore(at path: String, _ sql: String) throws {
    let sqlite3 = "/usr/bin/sqlite3"
    func query(_ text: String) throws -> String {
        String(decoding: try runTool(sqlite3, [path, text]).output, as: UTF8.self)
    }
    let drops = try query("SELECT 'DROP TRIGGER ' || name || ';' FROM sqlite_master WHERE type = 'trigger'")
    let creates = try query("SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger'")
    let status = try runTool(sqlite3, ["-bail", path, drops + sql + "\n" + creates]).status
    guard status == 0 else { throw TamperFailure(sql: sql, status: status) }
}

public struct TamperFailure: Error, CustomStringConvertible {
    public var sql: String
    public var status: Int32
    public var description: String { "sqlite3 failed (status \(status)) on: \(sql)" }
}

/// SQL for the attacks of issue 13 on `verify --store`: columns added to `audit`, named like the
/// session's, that repeat what each chain entry recorded, so that a verifier reading
/// `audit.*, session.*` by name compares the chain with itself instead of with the edited rows.
public enum ShadowColumnAttack {
    public static let sessionColumns = [
        "id", "counter_id", "boot_id", "started_at", "started_monotonic_ns", "clock_synchronized", "limit_ms",
        "ended_at", "duration_ms", "outcome", "free_service",
    ]

    /// VIRTUAL generated columns computed from the entry's `fields`.
    public static let generatedColumns = sessionColumns.map {
        "ALTER TABLE audit ADD COLUMN \($0) GENERATED ALWAYS AS (\(chainedValue($0))) VIRTUAL;\n"
    }.joined()

    /// Plain columns, filled with copies of the entry's `fields`.
    public static let plainColumns =
        sessionColumns.map { "ALTER TABLE audit ADD COLUMN \($0);\n" }.joined()
        + "UPDATE audit SET \(sessionColumns.map { "\($0) = \(chainedValue($0))" }.joined(separator: ", ")) WHERE kind = 'session';\n"

    /// The value of `name` in a chain entry's canonical fields (`id=2;counter_id=loket-1;…`), in SQL.
    static func chainedValue(_ name: String) -> String {
        let fields = "(';' || fields || ';')"
        let start = "instr(\(fields), ';\(name)=') + \(name.count + 2)"
        return "substr(\(fields), \(start), instr(substr(\(fields), \(start)), ';') - 1)"
    }

    /// Session `free` (overtime, a free passport) becomes in time, and session `deleted` disappears.
    public static func rewriteHistory(free: Int64, deleted: Int64) -> String {
        """
        UPDATE session SET outcome = 'in_time', free_service = 0, duration_ms = limit_ms - 1000 WHERE id = \(free);
        DELETE FROM session WHERE id = \(deleted);
        """
    }
}
