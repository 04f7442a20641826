import Foundation
import GRDB
import JamPasirCore

/// One row of the `session` table: a service at the counter, open while it runs.
public struct SessionRecord: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "session"

    public var id: Int64?
    public var counterID: String
    /// `/proc/sys/kernel/random/boot_id` when the session started: monotonic instants only
    /// compare within one boot.
    public var bootID: String
    /// Wall-clock start (UTC), for people. Durations never come from wall-clock times.
    public var startedAt: Date
    /// CLOCK_MONOTONIC of the start press, from the kernel's edge timestamp.
    public var startedMonotonicNs: Int64
    /// Whether the wall clock was NTP-synchronised when the session started (a Pi has no RTC).
    public var clockSynchronized: Bool
    public var limitMs: Int64
    public var endedAt: Date?
    /// Press to press, from edge timestamps, rounded up to the millisecond. Unknown (nil) only
    /// for a session found open after a crash or power cut.
    public var durationMs: Int64?
    public var outcome: Outcome?
    public var freeService: Bool?
    /// The queue ticket this session served (`A-037`), when the call button brought one.
    public var ticket: String?

    enum CodingKeys: String, CodingKey {
        case id
        case counterID = "counter_id"
        case bootID = "boot_id"
        case startedAt = "started_at"
        case startedMonotonicNs = "started_monotonic_ns"
        case clockSynchronized = "clock_synchronized"
        case limitMs = "limit_ms"
        case endedAt = "ended_at"
        case durationMs = "duration_ms"
        case outcome
        case freeService = "free_service"
        case ticket
    }

    public init(
        id: Int64? = nil, counterID: String, bootID: String, startedAt: Date, startedMonotonicNs: Int64,
        clockSynchronized: Bool, limitMs: Int64, endedAt: Date? = nil, durationMs: Int64? = nil,
        outcome: Outcome? = nil, freeService: Bool? = nil, ticket: String? = nil
    ) {
        self.ticket = ticket
        self.id = id
        self.counterID = counterID
        self.bootID = bootID
        self.startedAt = startedAt
        self.startedMonotonicNs = startedMonotonicNs
        self.clockSynchronized = clockSynchronized
        self.limitMs = limitMs
        self.endedAt = endedAt
        self.durationMs = durationMs
        self.outcome = outcome
        self.freeService = freeService
    }

    package var isOpen: Bool { outcome == nil }

    /// Decoded column by column: GRDB's Codable path cost most of the time of a long export.
    public init(row: Row) throws {
        id = row[CodingKeys.id.rawValue]
        counterID = row[CodingKeys.counterID.rawValue]
        bootID = row[CodingKeys.bootID.rawValue]
        startedAt = row[CodingKeys.startedAt.rawValue]
        startedMonotonicNs = row[CodingKeys.startedMonotonicNs.rawValue]
        clockSynchronized = row[CodingKeys.clockSynchronized.rawValue]
        limitMs = row[CodingKeys.limitMs.rawValue]
        endedAt = row[CodingKeys.endedAt.rawValue]
        durationMs = row[CodingKeys.durationMs.rawValue]
        outcome = row[CodingKeys.outcome.rawValue]
        freeService = row[CodingKeys.freeService.rawValue]
        ticket = row[CodingKeys.ticket.rawValue]
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension Outcome: DatabaseValueConvertible {}
