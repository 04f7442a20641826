import Foundation
import JamPasirCore
import JamPasirStore

/// The columns of an exported session, in order; CSV and JSON carry the same fields.
public enum SessionColumns {
    public static let names = StoredSessionRow.Column.allCases.map(\.name)

    /// The field values of one session, as text (empty for unknown).
    public static func values(_ s: SessionRecord) -> [String] {
        [
            s.id.map(String.init) ?? "", s.counterID, Timestamp.iso8601(s.startedAt),
            s.endedAt.map(Timestamp.iso8601) ?? "", s.durationMs.map(String.init) ?? "", String(s.limitMs),
            s.outcome?.rawValue ?? "open", s.freeService.map { $0 ? "true" : "false" } ?? "",
            s.clockSynchronized ? "true" : "false", s.bootID, s.ticket ?? "",
        ]
    }
}

/// ISO-8601 UTC with milliseconds: `2026-11-29T02:12:09.123Z`. Formatted by hand with
/// `gmtime_r`: Foundation's formatter dominated the time of a 300,000-session export.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        // Stored times have millisecond precision; rounding to the nearest undoes binary fractions.
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(milliseconds.floorDivided(by: 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        func put(_ value: Int32, _ width: Int) {
            var divisor: Int32 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        put(parts.tm_year + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        put(parts.tm_mon + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        put(parts.tm_mday, 2)
        bytes.append(UInt8(ascii: "T"))
        put(parts.tm_hour, 2)
        bytes.append(UInt8(ascii: ":"))
        put(parts.tm_min, 2)
        bytes.append(UInt8(ascii: ":"))
        put(parts.tm_sec, 2)
        bytes.append(UInt8(ascii: "."))
        put(Int32(milliseconds - milliseconds.floorDivided(by: 1000) * 1000), 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The instant an ISO 8601 time with its zone stands for. The form `iso8601(_:)` writes
    /// (`2026-12-01T02:00:00.000Z`, every export's) is read by arithmetic, as the hub reads
    /// hundreds of thousands; any other spelling goes to Foundation's parser.
    public static func date(_ text: String) -> Date? {
        if let milliseconds = millisecondsSinceEpoch(canonical: text) {
            return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        }
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return parser.date(from: text)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` exactly, with a real calendar date; nil otherwise.
    package static func millisecondsSinceEpoch(canonical text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ from: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[from..<from + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), let millisecond = number(20, 3),
            (1...12).contains(month), hour < 24, minute < 60, second < 60
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...monthDays[Int(month) - 1]).contains(day) else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let days = era * 146_097 + yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear - 719_468
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

/// RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, quote, CR or LF, quotes doubled.
/// Preceded by a UTF-8 byte-order mark so that Excel reads it as UTF-8 (LibreOffice accepts it too).
public enum CSVFormat {
    public static let byteOrderMark = "\u{FEFF}"

    public static var header: String { byteOrderMark + row(SessionColumns.names) }

    public static func row(_ session: SessionRecord) -> String {
        row(SessionColumns.values(session))
    }

    public static func row(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\r\n"
    }

    /// Appends the same row as `row(_:)` gives for the session's record, copied from the stored
    /// values: a time stored as `2026-11-16 01:03:00.000` becomes `2026-11-16T01:03:00.000Z`
    /// by moving bytes (any other stored form goes through `Date`), no record is decoded.
    public static func appendRow(_ stored: StoredSessionRow, to out: inout [UInt8]) throws {
        for column in StoredSessionRow.Column.allCases {
            if column != .id { out.append(UInt8(ascii: ",")) }
            switch column {
            case .id, .durationMs, .limitMs:
                if let value = try stored.integer(column) { out.append(contentsOf: String(value).utf8) }
            case .freeService, .clockSynchronized:
                if let value = try stored.integer(column) { out.append(contentsOf: (value != 0 ? "true" : "false").utf8) }
            case .startedAt, .endedAt:
                try appendTime(stored, column, to: &out)
            case .outcome:
                try stored.withBytes(column) { bytes in
                    guard let bytes else { return out.append(contentsOf: "open".utf8) }
                    appendQuoted(bytes, to: &out)
                }
            case .counterID, .bootID, .ticket:
                try stored.withBytes(column) { bytes in if let bytes { appendQuoted(bytes, to: &out) } }
            }
        }
        out.append(contentsOf: [13, 10])
    }

    private static func appendTime(_ stored: StoredSessionRow, _ column: StoredSessionRow.Column, to out: inout [UInt8])
        throws
    {
        let copied = try stored.withBytes(column) { bytes -> Bool in
            guard let bytes, isStoredTime(bytes) else { return false }
            out.append(contentsOf: bytes[0..<10])
            out.append(UInt8(ascii: "T"))
            out.append(contentsOf: bytes[11..<23])
            out.append(UInt8(ascii: "Z"))
            return true
        }
        if !copied, let date = try stored.date(column) { out.append(contentsOf: Timestamp.iso8601(date).utf8) }
    }

    /// `YYYY-MM-DD HH:MM:SS.SSS`, the form the store writes its (UTC) times in.
    static func isStoredTime(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 23 else { return false }
        for (index, byte) in bytes.enumerated() {
            let expected: UInt8? =
                switch index {
                case 4, 7: UInt8(ascii: "-")
                case 10: UInt8(ascii: " ")
                case 13, 16: UInt8(ascii: ":")
                case 19: UInt8(ascii: ".")
                default: nil
                }
            if let expected { guard byte == expected else { return false } } else {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return false }
            }
        }
        return true
    }

    /// RFC 4180: a field holding a comma, quote, CR or LF is quoted (bytes, not Characters:
    /// grapheme breaking dominated long exports).
    static func needsQuotes(_ field: some Sequence<UInt8>) -> Bool {
        field.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }
    }

    static func appendQuoted(_ field: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        guard needsQuotes(field) else { return out.append(contentsOf: field) }
        out.append(UInt8(ascii: "\""))
        for byte in field {
            out.append(byte)
            if byte == UInt8(ascii: "\"") { out.append(byte) }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func quoted(_ field: String) -> String {
        guard needsQuotes(field.utf8) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// JSON: one object per session with the CSV's fields, typed (numbers, booleans, null).
public struct SessionJSON: Codable, Equatable, Sendable {
    public var id: Int64?
    public var counterID: String
    public var startedAt: String
    public var endedAt: String?
    public var durationMs: Int64?
    public var limitMs: Int64
    public var outcome: String
    public var freeService: Bool?
    public var clockSynchronized: Bool
    public var bootID: String
    /// The queue ticket the session served (`A-037`), or null. Absent from exports made before
    /// the call button; read as null.
    public var ticket: String?

    enum CodingKeys: String, CodingKey {
        case id, outcome, ticket
        case counterID = "counter_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case durationMs = "duration_ms"
        case limitMs = "limit_ms"
        case freeService = "free_service"
        case clockSynchronized = "clock_synchronized"
        case bootID = "boot_id"
    }

    public init(_ s: SessionRecord) {
        self.init(
            id: s.id, counterID: s.counterID, startedAt: Timestamp.iso8601(s.startedAt),
            endedAt: s.endedAt.map(Timestamp.iso8601), durationMs: s.durationMs, limitMs: s.limitMs,
            outcome: s.outcome?.rawValue ?? "open", freeService: s.freeService, clockSynchronized: s.clockSynchronized,
            bootID: s.bootID, ticket: s.ticket)
    }

    public init(
        id: Int64?, counterID: String, startedAt: String, endedAt: String?, durationMs: Int64?, limitMs: Int64,
        outcome: String, freeService: Bool?, clockSynchronized: Bool, bootID: String, ticket: String? = nil
    ) {
        self.ticket = ticket
        self.id = id
        self.counterID = counterID
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.durationMs = durationMs
        self.limitMs = limitMs
        self.outcome = outcome
        self.freeService = freeService
        self.clockSynchronized = clockSynchronized
        self.bootID = bootID
    }

    /// Explicit nulls, so every object has every key.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(counterID, forKey: .counterID)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(endedAt, forKey: .endedAt)
        try c.encode(durationMs, forKey: .durationMs)
        try c.encode(limitMs, forKey: .limitMs)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(freeService, forKey: .freeService)
        try c.encode(clockSynchronized, forKey: .clockSynchronized)
        try c.encode(bootID, forKey: .bootID)
        try c.encode(ticket, forKey: .ticket)
    }

    /// One JSON object on one line (JSON Lines), written by hand: the same keys and values as
    /// `encoder` gives, several times faster for a long log.
    public var jsonLine: String {
        func text(_ value: String?) -> String { value.map(JSONText.quoted) ?? "null" }
        func number(_ value: Int64?) -> String { value.map(String.init) ?? "null" }
        func flag(_ value: Bool?) -> String { value.map { $0 ? "true" : "false" } ?? "null" }
        return "{\"boot_id\":\(text(bootID)),\"clock_synchronized\":\(flag(clockSynchronized)),"
            + "\"counter_id\":\(text(counterID)),\"duration_ms\":\(number(durationMs)),\"ended_at\":\(text(endedAt)),"
            + "\"free_service\":\(flag(freeService)),\"id\":\(number(id)),\"limit_ms\":\(limitMs),"
            + "\"outcome\":\(text(outcome)),\"started_at\":\(text(startedAt)),\"ticket\":\(text(ticket))}\n"
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// JSON string quoting (RFC 8259): quotes, backslashes and control characters escaped.
enum JSONText {
    static func quoted(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
