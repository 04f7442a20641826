import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirReports
import JamPasirStore

/// The office's figures from the hub's history: per local day, the office's and each
/// counter's, by the counter's own accumulation (`PeriodStatistics.Accumulator`), the sessions
/// read one at a time. `jampasir hub report` prints it; `jampasir hub serve` answers it to the
/// wallboard.
public struct HubReport: Sendable {
    public var office: [PeriodStatistics]
    public var counters: [(name: String, days: [PeriodStatistics])]
    /// The office's service times, for the report's histogram.
    public var serviceTimesMs: [Int64]
    public var findings: Int

    /// Sessions that started in `from..<to` (either open).
    public init(store: HubStore, timeZone: TimeZone, from: Date?, to: Date?) throws(HubStore.Failure) {
        let names = try Self.counterNames(store)
        var office = PeriodStatistics.Accumulator(timeZone: timeZone)
        var byCounter: [String: PeriodStatistics.Accumulator] = [:]
        try store.forEachSession(startingFrom: from) { key, session in
            guard let record = session.record,
                from.map({ record.startedAt >= $0 }) ?? true, to.map({ record.startedAt < $0 }) ?? true
            else { return }
            office.add(record)
            byCounter[names[key] ?? session.counterID, default: .init(timeZone: timeZone)].add(record)
        }
        self.office = office.result()
        serviceTimesMs = office.allServiceTimes
        counters = byCounter.keys.sorted { $0.localizedStandardCompare($1) == .orderedAscending }.map {
            (name: $0, days: byCounter[$0]!.result())
        }
        findings = try store.findings().count
    }

    /// `{"office": [days], "counters": {name: [days]}, "findings": n}`, keys sorted.
    public func json() throws -> Data {
        struct Report: Encodable {
            var office: [PeriodStatistics]
            var counters: [String: [PeriodStatistics]]
            var findings: Int
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(
            Report(
                office: office, counters: Dictionary(uniqueKeysWithValues: counters.map { ($0.name, $0.days) }),
                findings: findings))
    }

    /// Each counter key's name in the report: the id its exports carry, with the key's
    /// fingerprint added where two keys carry the same id (a counter given a new key).
    static func counterNames(_ store: HubStore) throws(HubStore.Failure) -> [String: String] {
        let counters = try store.counters()
        let ids = Dictionary(grouping: counters, by: \.counterID)
        return Dictionary(
            uniqueKeysWithValues: counters.map { counter in
                let shared = (ids[counter.counterID]?.count ?? 0) > 1
                let fingerprint = TrustedSigners.fingerprint(of: counter.publicKey).map { String($0.dropFirst(7).prefix(8)) }
                return (counter.publicKey, counter.counterID + (shared ? " (\(fingerprint ?? "?"))" : ""))
            })
    }
}

extension SessionJSON {
    /// The record the report's accumulation takes; nil for an open session or one it cannot read.
    var record: SessionRecord? {
        guard let id, let started = Timestamp.date(startedAt), let outcome = Outcome(rawValue: outcome) else { return nil }
        return SessionRecord(
            id: id, counterID: counterID, bootID: bootID, startedAt: started, startedMonotonicNs: 0,
            clockSynchronized: clockSynchronized, limitMs: limitMs, endedAt: endedAt.flatMap(Timestamp.date),
            durationMs: durationMs, outcome: outcome, freeService: freeService)
    }
}
