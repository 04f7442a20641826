import Foundation
import JamPasirCore
import JamPasirReports
import JamPasirStore
import JamPasirTesting
import Testing

func session(
    id: Int64, startedAt: String, durationMs: Int64?, outcome: Outcome?, limitMs: Int64 = 120_000,
    counter: String = "loket-1"
) -> SessionRecord {
    let start = try! Date(startedAt, strategy: .iso8601)
    let free: Bool? = outcome.map { $0 == .overtime || $0 == .interrupted }
    return SessionRecord(
        id: id, counterID: counter, bootID: "b", startedAt: start, startedMonotonicNs: 0, clockSynchronized: true,
        limitMs: limitMs, endedAt: outcome == nil ? nil : start.addingTimeInterval(Double(durationMs ?? 0) / 1000),
        durationMs: durationMs, outcome: outcome, freeService: free)
}

@Suite("Daily statistics")
struct PeriodStatisticsTests {
    @Test func countsAndPercentilesPerLocalDay() {
        let jakarta = TimeZone(identifier: "Asia/Jakarta")!  // UTC+7
        let sessions = [
            // 2026-11-29 local (UTC+7): 01:00Z is 08:00 local
            session(id: 1, startedAt: "2026-11-29T01:00:00Z", durationMs: 60_000, outcome: .inTime),
            session(id: 2, startedAt: "2026-11-29T01:10:00Z", durationMs: 100_000, outcome: .inTime),
            session(id: 3, startedAt: "2026-11-29T01:20:00Z", durationMs: 125_000, outcome: .overtime),
            session(id: 4, startedAt: "2026-11-29T01:30:00Z", durationMs: 130_000, outcome: .cancelled),
            session(id: 5, startedAt: "2026-11-29T01:40:00Z", durationMs: 20_000, outcome: .cancelled),
            session(id: 6, startedAt: "2026-11-29T01:50:00Z", durationMs: nil, outcome: .interrupted),
            // 17:30Z on the 29th is 00:30 local on the 30th
            session(id: 7, startedAt: "2026-11-29T17:30:00Z", durationMs: 90_000, outcome: .inTime),
        ]
        let days = PeriodStatistics.compute(sessions, timeZone: jakarta)
        #expect(days.map(\.period) == ["2026-11-29", "2026-11-30"])
        let d = days[0]
        #expect(d.sessions == 6)
        #expect(d.inTime == 2)
        #expect(d.overtime == 1)
        #expect(d.cancelled == 2)
        #expect(d.cancelledAfterLimit == 1)
        #expect(d.interrupted == 1)
        #expect(d.freeServices == 2)
        #expect(d.percentInTime == 50.0)  // 2 of 4 services
        #expect(d.medianServiceMs == 100_000)  // nearest rank over 60, 100, 125 s
        #expect(d.p90ServiceMs == 125_000)
        #expect(days[1].sessions == 1)
    }

    @Test func nearestRankPercentile() {
        let values: [Int64] = (1...10).map { Int64($0) }
        #expect(PeriodStatistics.percentile(50, ofSorted: values) == 5)
        #expect(PeriodStatistics.percentile(90, ofSorted: values) == 9)
        #expect(PeriodStatistics.percentile(100, ofSorted: values) == 10)
        #expect(PeriodStatistics.percentile(90, ofSorted: []) == nil)
        #expect(PeriodStatistics.percentile(90, ofSorted: [7]) == 7)
    }
}

@Suite("CSV and JSON writers")
struct FormatTests {
    @Test func csvFollowsRFC4180() {
        #expect(
            CSVFormat.row(["plain", "with,comma", "with \"quote\"", "two\nlines", ""])
                == "plain,\"with,comma\",\"with \"\"quote\"\"\",\"two\nlines\",\r\n")
        #expect(CSVFormat.header.hasPrefix("\u{FEFF}id,counter_id,started_at,ended_at,duration_ms"))
        #expect(CSVFormat.header.hasSuffix("\r\n"))
    }

    @Test func csvRowCarriesUTCTimesAndOutcome() {
        let row = CSVFormat.row(
            session(
                id: 3, startedAt: "2026-11-29T01:20:00Z", durationMs: 125_000, outcome: .overtime, counter: "loket,3"))
        #expect(
            row
                == "3,\"loket,3\",2026-11-29T01:20:00.000Z,2026-11-29T01:22:05.000Z,125000,120000,overtime,true,true,b,\r\n"
        )
    }

    @Test func jsonHasEveryKeyEvenWhenUnknown() throws {
        let data = try SessionJSON.encoder.encode([
            SessionJSON(session(id: 6, startedAt: "2026-11-29T01:50:00Z", durationMs: nil, outcome: nil))
        ])
        let objects = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(Set(objects[0].keys) == Set(SessionColumnsNames.all))
        #expect(objects[0]["duration_ms"] is NSNull)
        #expect(objects[0]["outcome"] as? String == "open")
    }

    @Test func atomicFileIsAbsentUntilCommitted() throws {
        let directory = try TemporaryDirectory("atomic")
        let path = directory.file("out.csv")
        let file = try AtomicFile(path: path)
        try file.write(String(repeating: "x", count: 200_000))
        #expect(!FileManager.default.fileExists(atPath: path))
        try file.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 200_000)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.csv"])
    }

    @Test func abandonedAtomicFileLeavesNothing() throws {
        let directory = try TemporaryDirectory("atomic")
        do {
            let file = try AtomicFile(path: directory.file("out.csv"))
            try file.write("partial")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}

enum SessionColumnsNames {
    static let all = SessionColumns.names
}

@Suite("Hand-written formats agree with Foundation")
struct FastFormatTests {
    @Test(arguments: [
        (0, "1970-01-01T00:00:00.000Z"), (1_796_000_000_123, "2026-11-30T00:53:20.123Z"),
        (951_782_400_500, "2000-02-29T00:00:00.500Z"), (-1_500, "1969-12-31T23:59:58.500Z"),
        (1_798_761_599_999, "2026-12-31T23:59:59.999Z"),
    ])
    func timestampIsISO8601WithMilliseconds(_ milliseconds: Int64, _ expected: String) {
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: Double(milliseconds) / 1000)) == expected)
        #expect(Timestamp.millisecondsSinceEpoch(canonical: expected) == milliseconds)
    }

    /// The hub's reading of times agrees with Foundation's parser on every millisecond-form
    /// time over four centuries (leap days included), and refuses what is no date.
    @Test func readingTimesAgreesWithFoundation() {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let milliseconds = Int64.random(in: -2_208_988_800_000...10_413_792_000_000, using: &generator)
            let text = Timestamp.iso8601(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            #expect(Timestamp.millisecondsSinceEpoch(canonical: text) == milliseconds, "\(text)")
            #expect(Timestamp.date(text) == parser.date(from: text), "\(text)")
        }
        for wrong in [
            "2026-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-04-31T00:00:00.000Z",
            "2026-12-01T24:00:00.000Z", "2026-12-01T09:60:00.000Z", "2026-12-0aT00:00:00.000Z", "2026-12-01 00:00:00.000Z",
        ] {
            #expect(Timestamp.millisecondsSinceEpoch(canonical: wrong) == nil, "\(wrong)")
        }
        #expect(Timestamp.millisecondsSinceEpoch(canonical: "2000-02-29T00:00:00.000Z") != nil)
        // Other spellings of a time with its zone still read, through Foundation.
        #expect(Timestamp.date("2026-12-01T09:00:00.000+07:00") == Timestamp.date("2026-12-01T02:00:00.000Z"))
        #expect(Timestamp.date("yesterday") == nil)
    }

    @Test func jsonLineEqualsTheEncodersOutput() throws {
        var record = session(id: 7, startedAt: "2026-11-29T01:20:00Z", durationMs: 125_000, outcome: .overtime)
        record.counterID = "lo\"ket\\1\n"
        let json = SessionJSON(record)
        let encoded = String(decoding: try SessionJSON.encoder.encode(json), as: UTF8.self)
        #expect(json.jsonLine == encoded + "\n")
        let open = SessionJSON(session(id: 8, startedAt: "2026-11-29T01:20:00Z", durationMs: nil, outcome: nil))
        #expect(open.jsonLine == String(decoding: try SessionJSON.encoder.encode(open), as: UTF8.self) + "\n")
    }
}
