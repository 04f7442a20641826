import Foundation
import JamPasirCore
import JamPasirStore

/// The columns of an exported session, in order; CSV and JSON carry the same fields.
public enum SessionColumns {
    public static let names = [
        "id", "counter_id", "started_at", "ended_at", "duration_ms", "limit_ms", "outcome", "free_service",
        "clock_synchronized", "boot_id",
    ]

    /// The field values of one session, as text (empty for unknown).
    static func values(_ s: SessionRecord) -> [String] {
        [
            s.id.map(String.init) ?? "", s.counterID, Timestamp.iso8601(s.startedAt),
            s.endedAt.map(Timestamp.iso8601) ?? "", s.durationMs.map(String.init) ?? "", String(s.limitMs),
            s.outcome?.rawValue ?? "open", s.freeService.map { $0 ? "true" : "false" } ?? "",
            s.clockSynchronized ? "true" : "false", s.bootID,
        ]
    }
}

/// ISO-8601 UTC with milliseconds: `2026-11-29T02:12:09.123Z`.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
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

    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return field
        }
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

    enum CodingKeys: String, CodingKey {
        case id, outcome
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
        id = s.id
        counterID = s.counterID
        startedAt = Timestamp.iso8601(s.startedAt)
        endedAt = s.endedAt.map(Timestamp.iso8601)
        durationMs = s.durationMs
        limitMs = s.limitMs
        outcome = s.outcome?.rawValue ?? "open"
        freeService = s.freeService
        clockSynchronized = s.clockSynchronized
        bootID = s.bootID
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
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
