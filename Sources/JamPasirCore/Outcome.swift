/// How a session ended. The raw values are what the store, CSV and JSON carry.
public enum Outcome: String, CaseIterable, Codable, Sendable {
    /// Handed over within the limit (a duration equal to the limit is in time).
    case inTime = "in_time"
    /// Over the limit: the passport is free, the same day.
    case overtime
    /// Cancelled by a long press (documents turned out incomplete).
    case cancelled
    /// Cut short by a power loss, crash or shutdown while running.
    case interrupted

    /// Whether the applicant is owed free service for this outcome.
    public func isFreeService(rules: ServiceRules) -> Bool {
        switch self {
        case .overtime: true
        case .interrupted: rules.interruptedIsFree
        case .inTime, .cancelled: false
        }
    }
}
