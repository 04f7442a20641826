import Foundation
import JamPasirCore
@testable import JamPasirReports
import JamPasirStore
import JamPasirTesting
import PropertyBased
import Testing

/// The Prometheus text a counter publishes, from a real store.
@Suite("Counter metrics")
struct CounterMetricsTests {
    /// Finished sessions, 1000 s apart, in a real store.
    func record(_ sessions: [(Outcome, Int64?, Bool)], in store: SessionStore) throws {
        for (index, (outcome, duration, free)) in sessions.enumerated() {
            let start = Date(timeIntervalSince1970: 1_796_000_000 + Double(index) * 1000)
            let id = try store.begin(
                SessionRecord(
                    counterID: "loket-1", bootID: "b", startedAt: start, startedMonotonicNs: 0,
                    clockSynchronized: true, limitMs: 120_000))
            try store.finish(
                id: id, endedAt: start.addingTimeInterval(100), durationMs: duration, outcome: outcome,
                freeService: free)
        }
    }

    /// Sessions of every outcome in a real SQLite file: the counts, the histogram (a session of
    /// exactly the limit is in the bucket at the limit, one a millisecond over is not) and the
    /// chain's length, exactly as the exposition format spells them.
    @Test func everyFigureComesFromTheStore() throws {
        let directory = try TemporaryDirectory("metrics")
        let store = try SessionStore(path: directory.file("s.sqlite"), access: .readWrite)
        let sessions: [(Outcome, Int64?, Bool)] = [
            (.inTime, 14_000, false), (.inTime, 120_000, false), (.overtime, 120_001, true),
            (.cancelled, 30_000, false), (.interrupted, nil, true), (.overtime, 700_000, true),
        ]
        try record(sessions, in: store)
        _ = try store.begin(  // still running: no outcome, counted nowhere
            SessionRecord(
                counterID: "loket-1", bootID: "b", startedAt: Date(timeIntervalSince1970: 1_796_010_000),
                startedMonotonicNs: 0, clockSynchronized: true, limitMs: 120_000))

        var metrics = CounterMetrics(version: "9.8.7", limitMs: 120_000)
        metrics.totals = try store.totals(boundsMs: metrics.boundsMs)
        metrics.runningSince = Date(timeIntervalSince1970: 1_796_010_000.25)
        metrics.displayOK = false
        metrics.clockSynchronized = true
        let samples = metrics.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(
            samples == [
                "jampasir_build_info{version=\"9.8.7\"} 1",
                "jampasir_sessions_total{outcome=\"in_time\"} 2",
                "jampasir_sessions_total{outcome=\"overtime\"} 2",
                "jampasir_sessions_total{outcome=\"cancelled\"} 1",
                "jampasir_sessions_total{outcome=\"interrupted\"} 1",
                "jampasir_free_passports_total 3",
                "jampasir_session_duration_seconds_bucket{le=\"15\"} 1",
                "jampasir_session_duration_seconds_bucket{le=\"30\"} 1",
                "jampasir_session_duration_seconds_bucket{le=\"45\"} 1",
                "jampasir_session_duration_seconds_bucket{le=\"60\"} 1",
                "jampasir_session_duration_seconds_bucket{le=\"75\"} 1",
                "jampasir_session_duration_seconds_bucket{le=\"90\"} 1",
                "jampasir_session_duration_seconds_bucket{le=\"105\"} 1",
                "jampasir_session_duration_seconds_bucket{le=\"120\"} 2",
                "jampasir_session_duration_seconds_bucket{le=\"150\"} 3",
                "jampasir_session_duration_seconds_bucket{le=\"180\"} 3",
                "jampasir_session_duration_seconds_bucket{le=\"240\"} 3",
                "jampasir_session_duration_seconds_bucket{le=\"300\"} 3",
                "jampasir_session_duration_seconds_bucket{le=\"600\"} 3",
                "jampasir_session_duration_seconds_bucket{le=\"+Inf\"} 4",
                "jampasir_session_duration_seconds_sum 954.001",
                "jampasir_session_duration_seconds_count 4",
                "jampasir_session_limit_seconds 120",
                "jampasir_session_running 1",
                "jampasir_session_started_timestamp_seconds 1796010000.25",
                "jampasir_button_stuck 0",
                "jampasir_display_ok 0",
                "jampasir_clock_synchronized 1",
                // the chain's start and the 6 finished sessions
                "jampasir_audit_chain_entries 7",
            ])
        // Every metric has its HELP and TYPE once, before its samples.
        for name in samples.map({ String($0.prefix { $0 != "{" && $0 != " " }) }) {
            let family = name.replacingOccurrences(of: #"_(bucket|sum|count)$"#, with: "", options: .regularExpression)
            #expect(metrics.text.components(separatedBy: "# TYPE \(family) ").count == 2, "\(family)")
        }
    }

    /// A limit that is not one of the usual bounds gets a bucket of its own; bounds print exactly.
    /// A kit's power: nothing on a counter without a UPS; on battery the state, the charge as a
    /// ratio and the runtime; an unreadable UPS says so and shows no figures.
    @Test func aKitsPowerIsPublishedOnlyWhereAUPSIsRead() {
        var metrics = CounterMetrics(version: "1", limitMs: 120_000)
        #expect(!metrics.text.contains("power") && !metrics.text.contains("battery"))
        metrics.power = .battery(PowerReading(onBattery: true, chargePercent: 87, runtime: .seconds(1830)))
        let lines = Set(metrics.text.split(separator: "\n").filter { !$0.hasPrefix("#") })
        #expect(
            lines.isSuperset(of: [
                "jampasir_power_readable 1", "jampasir_power_on_battery 1", "jampasir_battery_too_low 0",
                "jampasir_battery_charge_ratio 0.87", "jampasir_battery_runtime_seconds 1830",
            ]))
        metrics.power = .tooLow(PowerReading(onBattery: true, chargePercent: 100), reason: "test")
        #expect(metrics.text.contains("jampasir_battery_too_low 1\njampasir_battery_charge_ratio 1\n") == false)
        #expect(metrics.text.contains("jampasir_battery_too_low 1\n") && metrics.text.contains("jampasir_battery_charge_ratio 1\n"))
        metrics.power = .unknown(reason: "upsd down")
        #expect(metrics.text.contains("jampasir_power_readable 0\n") && metrics.text.contains("jampasir_power_on_battery 0\n"))
        #expect(!metrics.text.contains("jampasir_battery_charge_ratio"))
    }

    @Test func theLimitAlwaysHasABucket() {
        let metrics = CounterMetrics(version: "1", limitMs: 90_500)
        #expect(metrics.boundsMs.contains(90_500))
        #expect(metrics.boundsMs == metrics.boundsMs.sorted())
        #expect(metrics.text.contains("jampasir_session_duration_seconds_bucket{le=\"90.5\"} 0\n"))
        #expect(metrics.text.contains("jampasir_session_limit_seconds 90.5\n"))
        #expect(CounterMetrics(version: "1", limitMs: 120_000).boundsMs.filter { $0 == 120_000 }.count == 1)
        #expect(CounterMetrics.seconds(1_796_000_010_050) == "1796000010.05")
        #expect(CounterMetrics.seconds(7) == "0.007")
        #expect(CounterMetrics.seconds(-1500) == "-1.5")
        #expect(CounterMetrics.seconds(-500) == "-0.5")
    }

    /// A label value cannot break out of its quotes or its line.
    @Test func labelValuesAreEscaped() {
        let metrics = CounterMetrics(version: "1\"} 0\nevil 1\\", limitMs: 120_000)
        #expect(metrics.text.contains(#"jampasir_build_info{version="1\"} 0\nevil 1\\"} 1"#))
        #expect(!metrics.text.contains("\nevil"))
    }

    /// An edited store's unknown outcome counts nowhere; a negative duration is no handed-over time.
    @Test func anEditedStoreCannotInventOutcomes() throws {
        let directory = try TemporaryDirectory("metrics")
        let path = directory.file("s.sqlite")
        let store = try SessionStore(path: path, access: .readWrite)
        try record([(.inTime, 100_000, false), (.inTime, 100_000, false)], in: store)
        try tamperWithStore(
            at: path,
            """
            PRAGMA ignore_check_constraints = ON;
            UPDATE session SET outcome = 'granted' WHERE id = 1;
            UPDATE session SET duration_ms = -5 WHERE id = 2;
            """)
        let totals = try store.totals(boundsMs: [120_000])
        #expect(totals.sessions == [.inTime: 1, .overtime: 0, .cancelled: 0, .interrupted: 0])
        #expect(totals.handedOver == 0 && totals.handedOverAtMost == [0] && totals.handedOverMs == 0)
    }

    /// The daemon adds each outcome to the counts it took at start instead of counting the store
    /// again: for any sessions, adding them one by one gives what counting the store gives.
    @Test func countsByAdditionAreTheStoresCounts() async throws {
        let directory = try TemporaryDirectory("metrics")
        let bounds = CounterMetrics(version: "1", limitMs: 120_000).boundsMs
        let sessions = zip(Gen.int(in: 0...3), Gen.int64(in: -1...900_000), Gen.int(in: 0...1)).array(of: 0...30)
        await propertyCheck(count: 25, input: sessions) { generated in
            do {
                let store = try SessionStore(path: directory.file("\(UUID().uuidString).sqlite"), access: .readWrite)
                var added = try store.totals(boundsMs: bounds)
                for (outcomeIndex, generatedDuration, free) in generated {
                    let outcome = Outcome.allCases[outcomeIndex]
                    // What the store's checks allow: in time within the limit and not free,
                    // overtime past it and free, cancelled not free, interrupted either way and
                    // its time known or not.
                    let (duration, freeService): (Int64?, Bool) =
                        switch outcome {
                        case .inTime: (min(max(generatedDuration, 0), 120_000), false)
                        case .overtime: (max(generatedDuration, 120_001), true)
                        case .cancelled: (max(generatedDuration, 0), false)
                        case .interrupted: (generatedDuration < 0 ? nil : generatedDuration, free == 1)
                        }
                    try record([(outcome, duration, freeService)], in: store)
                    added.add(outcome: outcome, durationMs: duration, freeService: freeService, boundsMs: bounds)
                }
                added.auditEntries = try store.chainLength()
                #expect(added == (try store.totals(boundsMs: bounds)))
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
