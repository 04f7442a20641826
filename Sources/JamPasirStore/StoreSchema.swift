import GRDB

/// The schema the migrations create, compared with a store's. A store is hostile input to
/// `verify`: an added column can shadow another table's in a join, a dropped trigger lets rows
/// be edited, a view or generated column can run code. The chain is only walked in a store whose
/// tables, columns (hidden and generated ones too), indexes, triggers and views are exactly
/// those a fresh store migrated by this build has.
enum StoreSchema {
    /// A row of `sqlite_master`.
    struct Object: Hashable {
        var type: String
        var name: String
        var table: String
        var sql: String?
    }

    /// A row of `PRAGMA table_xinfo`.
    struct Column: Hashable {
        var name: String
        var type: String
        var notNull: Bool
        var defaultValue: String?
        var primaryKey: Int
        /// 0 ordinary, 1 hidden, 2 virtual generated, 3 stored generated.
        var hidden: Int
    }

    struct Snapshot {
        /// By `"<type> <name>"`, e.g. `"trigger audit_is_final"`.
        var objects: [String: Object]
        var columns: [String: [Column]]
    }

    /// What a store created by these migrations holds, read from a fresh in-memory database.
    static func expected() throws -> Snapshot {
        let database = try DatabaseQueue()
        try StoreMigrations.migrator.migrate(database)
        return try database.read(snapshot)
    }

    static func snapshot(_ db: Database) throws -> Snapshot {
        // ANALYZE's statistics tables only guide the query planner.
        let objects = try Row.fetchAll(
            db,
            sql: "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\'"
        ).map { Object(type: $0["type"], name: $0["name"], table: $0["tbl_name"], sql: $0["sql"]) }
        var columns: [String: [Column]] = [:]
        for table in objects where table.type == "table" {
            columns[table.name] = try Row.fetchAll(
                db,
                sql: "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid",
                arguments: [table.name]
            ).map {
                Column(
                    name: $0["name"], type: $0["type"], notNull: $0["notnull"], defaultValue: $0["dflt_value"],
                    primaryKey: $0["pk"], hidden: $0["hidden"])
            }
        }
        return Snapshot(
            objects: Dictionary(objects.map { ("\($0.type) \($0.name)", $0) }, uniquingKeysWith: { first, _ in first }),
            columns: columns)
    }

    /// What differs, in words that name the table, column, index, trigger or view.
    static func differences(_ found: Snapshot, from expected: Snapshot) -> [String] {
        var differences: [String] = []
        for key in expected.objects.keys.sorted() {
            let wanted = expected.objects[key]!
            guard let actual = found.objects[key] else {
                differences.append("\(key) is missing")
                continue
            }
            if wanted.type == "table" {
                let columns = columnDifferences(
                    table: wanted.name, found: found.columns[wanted.name] ?? [],
                    expected: expected.columns[wanted.name] ?? [])
                differences += columns
                if columns.isEmpty && actual != wanted { differences.append("the definition of \(key) was changed") }
            } else if actual != wanted {
                differences.append("\(key) was changed")
            }
        }
        for key in found.objects.keys.sorted() where expected.objects[key] == nil {
            differences.append("unexpected \(key)")
        }
        return differences
    }

    static func columnDifferences(table: String, found: [Column], expected: [Column]) -> [String] {
        let wanted = Dictionary(uniqueKeysWithValues: expected.map { ($0.name, $0) })
        let actual = Dictionary(found.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var differences: [String] = []
        for column in expected {
            if let present = actual[column.name] {
                if present != column { differences.append("column \(table).\(column.name) was changed") }
            } else {
                differences.append("column \(table).\(column.name) is missing")
            }
        }
        for column in found where wanted[column.name] == nil {
            differences.append(
                "unexpected \(column.hidden >= 2 ? "generated " : "")column \(table).\(column.name)")
        }
        if differences.isEmpty && found.map(\.name) != expected.map(\.name) {
            differences.append("the columns of table \(table) were reordered")
        }
        return differences
    }

    /// Throws a `Break` naming every difference from the expected schema.
    static func check(_ db: Database) throws {
        let differences = differences(try snapshot(db), from: try expected())
        guard !differences.isEmpty else { return }
        throw AuditChain.Break(
            seq: nil,
            description:
                "the store's schema is not the one jampasird creates, so its chain cannot be trusted: \(differences.joined(separator: "; "))"
        )
    }
}
