import Foundation
import JamPasirCore
import JamPasirStore

/// One period's figures at one counter: a local day (`2026-11-29`) or an hour of the day over
/// many days (`08:00`).
///
/// A *service* is a session the promise applies to: in time, overtime or interrupted.
/// Cancelled sessions (documents incomplete) are counted but not services. Service times
/// (median, 90th percentile) are over sessions with a known duration that ended in time or overtime.
public struct PeriodStatistics: Equatable, Sendable, Codable {
    /// `yyyy-MM-dd` (a day) or `HH:00` (an hour of the day), in the report's time zone.
    public var period: String
    public var sessions = 0
    public var inTime = 0
    public var overtime = 0
    public var cancelled = 0
    /// Of which cancelled after the limit had passed.
    public var cancelledAfterLimit = 0
    public var interrupted = 0
    /// Still running (at most one, today).
    public var open = 0
    /// Free passports: overtime plus interrupted where that counts as free.
    public var freeServices = 0
    public var medianServiceMs: Int64?
    public var p90ServiceMs: Int64?
    public var maxServiceMs: Int64?

    public init(period: String) {
        self.period = period
    }

    public var services: Int { inTime + overtime + interrupted }

    /// Share of services that were in time, 0...100, one decimal; nil with no services.
    public var percentInTime: Double?

    enum CodingKeys: String, CodingKey {
        case period, sessions, overtime, cancelled, interrupted, open
        case inTime = "in_time"
        case cancelledAfterLimit = "cancelled_after_limit"
        case freeServices = "free_services"
        case percentInTime = "percent_in_time"
        case medianServiceMs = "median_service_ms"
        case p90ServiceMs = "p90_service_ms"
        case maxServiceMs = "max_service_ms"
    }

    /// Per-day figures over `sessions`, in day order.
    public static func compute(_ sessions: some Sequence<SessionRecord>, timeZone: TimeZone) -> [PeriodStatistics] {
        var accumulator = Accumulator(timeZone: timeZone)
        for session in sessions { accumulator.add(session) }
        return accumulator.result()
    }

    /// Builds the figures one session at a time, so a long log is never held in memory
    /// (only the service times, 8 bytes a session, for the percentiles): per local day and per
    /// hour of the day.
    public struct Accumulator {
        private var calendar: Calendar
        private var days = Periods()
        private var hours = Periods()

        public init(timeZone: TimeZone) {
            calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
        }

        /// Service times of in-time and overtime sessions, all days.
        public var allServiceTimes: [Int64] { days.serviceTimes.values.flatMap { $0 } }

        public mutating func add(_ session: SessionRecord) {
            let c = calendar.dateComponents([.year, .month, .day, .hour], from: session.startedAt)
            days.add(session, to: String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!))
            hours.add(session, to: String(format: "%02d:00", c.hour!))
        }

        /// Per local day, in day order.
        public func result() -> [PeriodStatistics] { days.result() }

        /// Per hour of the day (over all days), in hour order.
        public func hourly() -> [PeriodStatistics] { hours.result() }
    }

    struct Periods {
        var figures: [String: PeriodStatistics] = [:]
        var serviceTimes: [String: [Int64]] = [:]

        mutating func add(_ session: SessionRecord, to period: String) {
            var stats = figures[period] ?? PeriodStatistics(period: period)
            stats.sessions += 1
            if session.freeService == true { stats.freeServices += 1 }
            switch session.outcome {
            case .inTime?: stats.inTime += 1
            case .overtime?: stats.overtime += 1
            case .interrupted?: stats.interrupted += 1
            case .cancelled?:
                stats.cancelled += 1
                if let ms = session.durationMs, ms > session.limitMs { stats.cancelledAfterLimit += 1 }
            case nil: stats.open += 1
            }
            if session.outcome == .inTime || session.outcome == .overtime, let ms = session.durationMs {
                serviceTimes[period, default: []].append(ms)
            }
            figures[period] = stats
        }

        func result() -> [PeriodStatistics] {
            figures.keys.sorted().map { period in
                var stats = figures[period]!
                let times = (serviceTimes[period] ?? []).sorted()
                stats.medianServiceMs = percentile(50, ofSorted: times)
                stats.p90ServiceMs = percentile(90, ofSorted: times)
                stats.maxServiceMs = times.last
                if stats.services > 0 {
                    stats.percentInTime = (Double(stats.inTime) * 1000 / Double(stats.services)).rounded() / 10
                }
                return stats
            }
        }
    }

    /// Nearest-rank percentile: the smallest value with at least p% of values at or below it.
    public static func percentile(_ p: Double, ofSorted values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(values.count)).rounded(.up))
        return values[max(0, min(values.count - 1, rank - 1))]
    }

    /// `yyyy-MM-dd` of `date` in the calendar's time zone.
    public static func dayKey(_ date: Date, calendar: Calendar) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}

extension PeriodStatistics {
    public static let csvHeader = [
        "kind", "period", "sessions", "in_time", "overtime", "free_services", "cancelled", "cancelled_after_limit",
        "interrupted", "percent_in_time", "median_service_ms", "p90_service_ms", "max_service_ms",
    ]

    /// RFC 4180 rows (CRLF), one per period; empty fields for unknown values.
    public static func csv(_ rows: [PeriodStatistics], kind: String, header: Bool = true) -> String {
        var lines = header ? [csvHeader.joined(separator: ",")] : []
        for d in rows {
            let fields: [String] = [
                kind, d.period, String(d.sessions), String(d.inTime), String(d.overtime), String(d.freeServices),
                String(d.cancelled), String(d.cancelledAfterLimit), String(d.interrupted),
                d.percentInTime.map { String($0) } ?? "", d.medianServiceMs.map { String($0) } ?? "",
                d.p90ServiceMs.map { String($0) } ?? "", d.maxServiceMs.map { String($0) } ?? "",
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.map { $0 + "\r\n" }.joined()
    }
}
