import Crypto
import Foundation
import JamPasirConfig
import JamPasirQueue
import JamPasirReports
import JamPasirStore

/// One thing that happened to a ticket, as the hub records it: issued, voided (a number spent
/// on a ticket that did not print whole), warned (a mark of waiting passed), breached (the
/// whole promise waited), called (to which counter) or left (not called by the day's end).
/// Records are only ever appended, each carrying the SHA-256 of the one before, so that the
/// queue's history is evidence like the counters' sessions: `jampasir hub verify` walks the
/// hub's chain, and a queue export (`jampasir hub export`) carries it whole, signed, for
/// `jampasir verify`.
public struct QueueRecord: Equatable, Sendable {
    public enum Event: String, CaseIterable, Sendable {
        case issued, voided, warned, breached, called, left
    }

    /// What happened, before it takes its place in the chain.
    public struct Draft: Equatable, Sendable {
        /// The office's local day (`YYYY-MM-DD`) the ticket belongs to.
        public var day: String
        public var number: Int
        public var label: String
        public var event: Event
        /// When, UTC (`2026-11-30T01:12:00.000Z`).
        public var at: String
        /// The counter called to (`called` only).
        public var counter: String?
        /// The mark passed, in minutes of waiting (`warned` only).
        public var markMinutes: Int?

        public init(
            day: String, number: Int, label: String, event: Event, at: String, counter: String? = nil,
            markMinutes: Int? = nil
        ) {
            (self.day, self.number, self.label, self.event, self.at) = (day, number, label, event, at)
            (self.counter, self.markMinutes) = (counter, markMinutes)
        }
    }

    public var seq: Int64
    public var draft: Draft
    public var previousHash: String
    public var hash: String

    /// The `previous_hash` of the first record.
    public static let origin = String(repeating: "0", count: 64)

    /// `draft` as record `seq`, after the record whose hash is `previous`.
    public init(_ draft: Draft, seq: Int64, previous: String) {
        self.seq = seq
        self.draft = draft
        previousHash = previous
        hash = Self.hash(draft, seq: seq, previous: previous)
    }

    /// The SHA-256 over every field, each as its length in UTF-8 bytes and its text (absent
    /// ones as `-`), so that no two records read alike.
    static func hash(_ draft: Draft, seq: Int64, previous: String) -> String {
        let values: [String?] = [
            "jampasir-queue-1", String(seq), draft.day, String(draft.number), draft.label, draft.event.rawValue,
            draft.at, draft.counter, draft.markMinutes.map(String.init), previous,
        ]
        let text = values.map { value in value.map { "\($0.utf8.count):\($0)" } ?? "-" }.joined()
        return SHA256.hash(data: Data(text.utf8)).hexString
    }

    /// The columns of `queue.csv`, in order.
    public static let columns = [
        "seq", "day", "number", "label", "event", "at", "counter", "mark_minutes", "previous_hash", "hash",
    ]

    public var fields: [String] {
        [
            String(seq), draft.day, String(draft.number), draft.label, draft.event.rawValue, draft.at,
            draft.counter ?? "", draft.markMinutes.map(String.init) ?? "", previousHash, hash,
        ]
    }

    /// A record read back from `queue.csv` or a store, judged field by field: the reason when a
    /// field is not what the hub writes. (Its hash is checked by `Chain`.)
    public static func parse(_ fields: [String]) -> Result<QueueRecord, Malformed> {
        guard fields.count == columns.count else {
            return .failure(Malformed("\(fields.count) fields, expected \(columns.count)"))
        }
        func malformed(_ name: String, _ index: Int, _ context: String = "") -> Result<QueueRecord, Malformed> {
            let value = fields[index].count > 40 ? fields[index].prefix(40) + "…" : fields[index]
            return .failure(Malformed("\(name) \"\(value)\"\(context)"))
        }
        guard let seq = counting(fields[0]), seq < Int64.max else { return malformed("seq", 0) }
        guard isDay(fields[1]) else { return malformed("day", 1) }
        guard let number = counting(fields[2]).flatMap({ Int(exactly: $0) }) else { return malformed("number", 2) }
        guard Ticket.isLabel(fields[3]) else { return malformed("label", 3) }
        guard let event = Event(rawValue: fields[4]) else { return malformed("event", 4) }
        guard Timestamp.millisecondsSinceEpoch(canonical: fields[5]) != nil else { return malformed("time", 5) }
        let counter = fields[6].isEmpty ? nil : fields[6]
        guard (counter != nil) == (event == .called), counter.map(Configuration.isValidCounterID) ?? true else {
            return malformed("counter", 6, " on a \(event.rawValue) record")
        }
        let mark = counting(fields[7]).flatMap { Int(exactly: $0) }
        guard (mark != nil) == (event == .warned), fields[7].isEmpty || mark != nil else {
            return malformed("mark", 7, " on a \(event.rawValue) record")
        }
        guard isDigest(fields[8]), isDigest(fields[9]) else { return .failure(Malformed("a hash that is not SHA-256 hex")) }
        let draft = Draft(
            day: fields[1], number: number, label: fields[3], event: event, at: fields[5], counter: counter,
            markMinutes: mark)
        var record = QueueRecord(draft, seq: seq, previous: fields[8])
        record.hash = fields[9]
        return .success(record)
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// 1, 2, …: only as the hub writes them (no sign, no leading zero), so the text read is the
    /// text hashed.
    static func counting(_ text: String) -> Int64? {
        guard let value = Int64(text), value >= 1, String(value) == text else { return nil }
        return value
    }

    static func isDay(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 10
            && bytes.indices.allSatisfy { [4, 7].contains($0) ? bytes[$0] == UInt8(ascii: "-") : (48...57).contains(bytes[$0]) }
    }

    static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Walks records in order from the first, and names every broken link: a record edited,
    /// removed, inserted or moved breaks the hash of its own or of the next.
    public struct Chain: Sendable {
        public private(set) var count = 0
        public private(set) var head: AuditChain.Head?
        public private(set) var problems: [String] = []
        /// More problems than this are counted, not listed.
        static let listed = 20
        private var unlisted = 0

        public init() {}

        public mutating func add(_ record: QueueRecord) {
            let expected = (head?.seq ?? 0) + 1
            if record.seq != expected {
                note("record \(record.seq) comes where record \(expected) should: a record was removed, added or moved")
            } else if record.previousHash != (head?.hash ?? QueueRecord.origin) {
                note("record \(record.seq) does not follow record \(expected - 1): the chain was cut there")
            } else if record.hash != QueueRecord.hash(record.draft, seq: record.seq, previous: record.previousHash) {
                note("record \(record.seq) (\(record.draft.label) \(record.draft.event.rawValue)) was changed after it was written")
            }
            count += 1
            head = AuditChain.Head(seq: record.seq, hash: record.hash)
        }

        public mutating func note(_ problem: String) {
            if problems.count < Self.listed { problems.append(problem) } else { unlisted += 1 }
        }

        /// Every problem, with the count of those not listed.
        public var allProblems: [String] {
            problems + (unlisted > 0 ? ["… and \(unlisted) more"] : [])
        }
    }
}
