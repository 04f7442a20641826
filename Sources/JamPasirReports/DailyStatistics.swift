import Foundation
import JamPasirCore
import JamPasirStore

/// One local day's figures at one counter.
///
/// A *service* is a session the promise applies to: in time, overtime or interrupted.
/// Cancelled sessions (documents incomplete) are counted but not services. Service times
/// (median, 90th percentile) are over sessions with a known duration that ended in time or overtime.
public struct DailyStatistics: Equatable, Sendable, Codable {
    /// `yyyy-MM-dd` in the report's time zone.
    public var day: String
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

    public init(day: String) {
        self.day = day
    }

    public var services: Int { inTime + overtime + interrupted }

    /// Share of services that were in time, 0...100, one decimal; nil with no services.
    public var percentInTime: Double?

    enum CodingKeys: String, CodingKey {
        case day, sessions, overtime, cancelled, interrupted, open
        case inTime = "in_time"
        case cancelledAfterLimit = "cancelled_after_limit"
        case freeServices = "free_services"
        case percentInTime = "percent_in_time"
        case medianServiceMs = "median_service_ms"
        case p90ServiceMs = "p90_service_ms"
    }

    /// Per-day figures over `sessions`, in day order.
    public static func compute(_ sessions: some Sequence<SessionRecord>, timeZone: TimeZone) -> [DailyStatistics] {
        var accumulator = Accumulator(timeZone: timeZone)
        for session in sessions { accumulator.add(session) }
        return accumulator.result()
    }

    /// Builds the figures one session at a time, so a long log is never held in memory
    /// (only the service times, 8 bytes a session, for the percentiles).
    public struct Accumulator {
        private var calendar: Calendar
        private var days: [String: DailyStatistics] = [:]
        private var serviceTimes: [String: [Int64]] = [:]

        public init(timeZone: TimeZone) {
            calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
        }

        /// Service times of in-time and overtime sessions, all days.
        public var allServiceTimes: [Int64] { serviceTimes.values.flatMap { $0 } }

        public mutating func add(_ session: SessionRecord) {
            let day = dayKey(session.startedAt, calendar: calendar)
            var stats = days[day] ?? DailyStatistics(day: day)
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
                serviceTimes[day, default: []].append(ms)
            }
            days[day] = stats
        }

        public func result() -> [DailyStatistics] {
            days.keys.sorted().map { day in
                var stats = days[day]!
                let times = (serviceTimes[day] ?? []).sorted()
                stats.medianServiceMs = percentile(50, ofSorted: times)
                stats.p90ServiceMs = percentile(90, ofSorted: times)
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
