import GRDB
import JamPasirCore

/// Everything the store has ever recorded, counted: what a counter publishes for Prometheus, so
/// that its counters survive a restart of the daemon.
public struct StoreTotals: Equatable, Sendable {
    /// Ended sessions by outcome; every outcome is present, from 0.
    public var sessions: [Outcome: Int] = Dictionary(uniqueKeysWithValues: Outcome.allCases.map { ($0, 0) })
    /// Sessions recorded as owing a free passport.
    public var freePassports = 0
    /// Handed-over sessions (in time or overtime): how many lasted at most each bound, in the
    /// order of `boundsMs`.
    public var handedOverAtMost: [Int] = []
    public var handedOver = 0
    public var handedOverMs: Int64 = 0
    /// Entries in the audit chain.
    public var auditEntries = 0

    public init() {}

    /// One more outcome, counted as `totals(boundsMs:)` would count it once the store has it:
    /// what the daemon does after each outcome instead of counting the store again.
    public mutating func add(outcome: Outcome, durationMs: Int64?, freeService: Bool, boundsMs: [Int64]) {
        sessions[outcome, default: 0] += 1
        if freeService { freePassports += 1 }
        guard outcome == .inTime || outcome == .overtime, let durationMs, durationMs >= 0 else { return }
        handedOver += 1
        handedOverMs += durationMs
        if handedOverAtMost.count != boundsMs.count { handedOverAtMost = Array(repeating: 0, count: boundsMs.count) }
        for (index, bound) in boundsMs.enumerated() where durationMs <= bound { handedOverAtMost[index] += 1 }
    }
}

extension SessionStore {
    /// Counts over the whole store (two scans of the session table: once, at start);
    /// `boundsMs` are the duration histogram's upper bounds. Outcomes the schema does not know
    /// (an edited store) count nowhere.
    public func totals(boundsMs: [Int64]) throws(StoreError) -> StoreTotals {
        try read { db in
            var totals = StoreTotals()
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT outcome, count(*) AS n, coalesce(sum(free_service), 0) AS free
                    FROM session WHERE outcome IS NOT NULL GROUP BY outcome
                    """)
            for row in rows {
                guard let text: String = row["outcome"], let outcome = Outcome(rawValue: text) else { continue }
                totals.sessions[outcome] = row["n"]
                totals.freePassports += row["free"] as Int
            }
            let atMost = boundsMs.map { _ in "coalesce(sum(duration_ms <= ?), 0)" }
            let handedOver = try Row.fetchOne(
                db,
                sql: """
                    SELECT \((["count(*)", "coalesce(sum(duration_ms), 0)"] + atMost).joined(separator: ", "))
                    FROM session WHERE outcome IN ('in_time', 'overtime') AND duration_ms >= 0
                    """, arguments: StatementArguments(boundsMs))
            if let handedOver {
                totals.handedOver = handedOver[0]
                totals.handedOverMs = handedOver[1]
                totals.handedOverAtMost = boundsMs.indices.map { handedOver[$0 + 2] }
            }
            totals.auditEntries = try Self.chainLength(db)
            return totals
        }
    }

    /// Entries in the audit chain: the last one's number, as the chain is numbered from 1 with
    /// no gap (`verify` checks it). One step down the table's index, not a count of its rows.
    public func chainLength() throws(StoreError) -> Int {
        try read { db in try Self.chainLength(db) }
    }

    private static func chainLength(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM audit") ?? 0
    }
}
