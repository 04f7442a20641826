import Foundation
import GRDB
import JamPasirExport
import JamPasirReports
import JamPasirStore

/// The queue's evidence: its records as the hub's store holds them, walked and compared with
/// the tickets (`jampasir hub verify`), and handed to a queue export (`jampasir hub export`).
extension HubQueue {
    /// Every record in the store, in order, as read back: a row that is not a record (edited by
    /// hand with a value the hub never writes) is `.failure`, with its seq.
    public static func forEachRecord(
        in store: HubStore, _ body: (_ seq: Int64, Result<QueueRecord, QueueRecord.Malformed>) throws -> Void
    ) throws(HubStore.Failure) {
        try store.read { db in try eachRecord(db, body) }
    }

    private static func eachRecord(
        _ db: Database, _ body: (_ seq: Int64, Result<QueueRecord, QueueRecord.Malformed>) throws -> Void
    ) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT seq, day, number, label, event, at, counter, mark_minutes, previous_hash, hash
                FROM queue_record ORDER BY seq
                """)
        while let row = try rows.next() {
            // Read as text whatever is stored: a value of another type is named, never trapped on.
            let fields = QueueRecord.columns.map { column in text(row[column] as DatabaseValue) }
            try body(Int64(fields[0]) ?? 0, QueueRecord.parse(fields))
        }
    }

    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: ""
        case .int64(let number): String(number)
        case .double(let number): String(number)
        case .string(let string): string
        case .blob(let data): "<\(data.count) bytes>"
        }
    }

    /// What `jampasir hub verify` found.
    public struct Verification: Sendable {
        public var records = 0
        public var head: AuditChain.Head?
        /// Tickets the records account for.
        public var tickets = 0
        /// Tickets of days before the first record (kept by a hub before the queue was chained).
        public var beforeChain = 0
        public var problems: [String] = []
    }

    /// Walks the store's queue records from the first and compares what they say happened with
    /// each ticket as the store now holds it (both read in one transaction, so a ticket taken
    /// meanwhile is never half seen): a record edited, removed or inserted breaks the chain; a
    /// ticket changed, added or deleted by hand (a breach erased, a call moved to another
    /// counter) no longer agrees with its records.
    public static func verify(_ store: HubStore) throws(HubStore.Failure) -> Verification {
        try store.read { db in try verify(db) }
    }

    private static func verify(_ db: Database) throws -> Verification {
        var chain = QueueRecord.Chain()
        var told: [String: Told] = [:]
        var firstDay: String?
        try eachRecord(db) { seq, parsed in
            switch parsed {
            case .failure(let malformed): chain.note("record \(seq): \(malformed): edited by hand")
            case .success(let record):
                chain.add(record)
                firstDay = firstDay ?? record.draft.day
                if let problem = Told.apply(record, to: &told) { chain.note(problem) }
            }
        }
        var result = Verification(records: chain.count, head: chain.head)
        var seen = Set<String>()
        do {
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT day, number, label, state, issued_ms, counter, ended_ms, marks_passed, breached
                    FROM ticket ORDER BY day, number
                    """)
            while let row = try rows.next() {
                let day = text(row["day"]), number = text(row["number"]), label = text(row["label"])
                let key = day + " " + number
                seen.insert(key)
                guard let expected = told[key] else {
                    if firstDay.map({ day < $0 }) ?? true {
                        result.beforeChain += 1
                    } else {
                        chain.note("ticket \(label) of \(day) has no record: added to the store by hand")
                    }
                    continue
                }
                result.tickets += 1
                let stored = Told(
                    label: label, state: text(row["state"]), issued: text(row["issued_ms"]), counter: text(row["counter"]),
                    ended: text(row["ended_ms"]), marks: text(row["marks_passed"]), breached: text(row["breached"]))
                if stored != expected {
                    chain.note(
                        "ticket \(expected.label) of \(day): the store says \(stored.summary), its records say \(expected.summary): changed by hand"
                    )
                }
            }
        }
        for key in told.keys.sorted() where !seen.contains(key) {
            chain.note("ticket \(told[key]!.label) of \(key.prefix(10)) is in the records but not among the tickets: deleted by hand")
        }
        result.problems = chain.allProblems
        return result
    }

    /// A ticket as its records tell it, in the `ticket` table's own terms.
    struct Told: Equatable {
        var label: String
        var state = "waiting"
        var issued = ""
        var counter = ""
        var ended = ""
        var marks = "0"
        var breached = "0"

        var summary: String {
            "\(state)\(counter.isEmpty ? "" : " to \(counter)"), \(marks) warnings\(breached == "1" ? ", breached" : "")"
        }

        /// Applies one record; the problem, if the ticket could not have had it then.
        static func apply(_ record: QueueRecord, to told: inout [String: Told]) -> String? {
            let draft = record.draft
            let key = draft.day + " " + String(draft.number)
            let milliseconds = Timestamp.millisecondsSinceEpoch(canonical: draft.at).map(String.init) ?? ""
            switch draft.event {
            case .issued, .voided:
                guard told[key] == nil else { return "record \(record.seq): \(draft.label) of \(draft.day) was numbered twice" }
                told[key] =
                    draft.event == .issued
                    ? Told(label: draft.label, issued: milliseconds) : Told(label: draft.label, state: "void", marks: "0")
                return nil
            case .warned, .breached, .called, .left:
                guard var ticket = told[key], ticket.state == "waiting" else {
                    return "record \(record.seq): \(draft.label) of \(draft.day) \(draft.event.rawValue) while not waiting"
                }
                switch draft.event {
                case .warned: ticket.marks = String((Int(ticket.marks) ?? 0) + 1)
                case .breached: ticket.breached = "1"
                case .called: (ticket.state, ticket.counter, ticket.ended) = ("called", draft.counter ?? "", milliseconds)
                default: (ticket.state, ticket.ended) = ("left", milliseconds)
                }
                told[key] = ticket
                return nil
            }
        }
    }
}
