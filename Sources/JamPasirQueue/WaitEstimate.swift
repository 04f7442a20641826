/// The wait printed on a ticket, as a range: from the people ahead, the counters open, and how
/// long the counters' recent applicants took. A range, because one number would be wrong for
/// almost everyone; rounded out to 5 minutes, because nobody reads a ticket to the minute.
public struct WaitEstimate: Sendable, Equatable {
    public let low: Duration
    public let high: Duration

    /// What one applicant takes at a counter when there is no history yet (the counter opened
    /// today): documents, photo and interview, then the two-minute handover.
    public static let defaultServiceTime = Duration.seconds(6 * 60)

    /// `ahead`: people waiting before this ticket; `counters`: counters calling; `recentServiceTimes`:
    /// what the last applicants took at a counter (call to next call), newest last.
    public init(ahead: Int, counters: Int, recentServiceTimes: [Duration]) {
        let recent = recentServiceTimes.suffix(50).sorted()
        let quick = recent.isEmpty ? Self.defaultServiceTime * 0.75 : recent[recent.count / 4]
        let slow = recent.isEmpty ? Self.defaultServiceTime * 1.5 : recent[(recent.count * 3) / 4]
        let counters = max(1, counters)
        // This applicant is called once `ahead` applicants have been called and one of the
        // counters comes free: on average the people ahead share the counters.
        low = Self.round(quick * Double(ahead) / Double(counters), up: false)
        high = max(low + .seconds(5 * 60), Self.round(slow * Double(ahead + 1) / Double(counters), up: true))
    }

    public init(low: Duration, high: Duration) {
        self.low = low
        self.high = high
    }

    public func contains(_ wait: Duration) -> Bool { low <= wait && wait <= high }

    /// `15–30 min`, `0–5 min`, `95–130 min`.
    public var text: String { "\(Self.minutes(low))–\(Self.minutes(high)) min" }

    static func minutes(_ duration: Duration) -> Int { Int(duration.components.seconds / 60) }

    static func round(_ duration: Duration, up: Bool) -> Duration {
        let step: Int64 = 5 * 60
        let seconds = duration.components.seconds
        let rounded = up ? (seconds + step - 1) / step * step : seconds / step * step
        return .seconds(rounded)
    }
}
