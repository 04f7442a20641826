import Foundation
import JamPasirCore
import JamPasirReports
import JamPasirStore
import JamPasirTesting
import PropertyBased
import Testing

/// Sessions with awkward text (quotes, commas, CR/LF, tabs, control characters, non-Latin
/// scripts, emoji) written by the CSV and JSON Lines writers and read back by real parsers:
/// Python's `csv` and `json` modules, and Foundation's JSONSerialization.
@Suite("CSV and JSON Lines round trip through real parsers")
struct FormatRoundTripTests {
    static let pieces = [
        "loket-1", "\"", ",", "\r\n", "\n", "\r", "\t", "\u{1}", "\u{1F}", "Loket Paspor", "🛂", "é", "汉字", "\\",
        "'", " ", "=1+2", "\u{7F}", "\u{2028}",
    ]
    static let text = Gen.int(in: 0...(pieces.count - 1)).array(of: 1...6).map { $0.map { pieces[$0] }.joined() }
    static let sessions = zip(
        text, text, Gen.int64(in: 0...400_000), Gen.int(in: 0...4), Gen.int64(in: 0...4_000_000_000)
    )
    .array(of: 1...20)

    static func records(_ generated: [(String, String, Int64, Int, Int64)]) -> [SessionRecord] {
        generated.enumerated().map { index, item in
            let (counter, boot, duration, outcomeIndex, startSeconds) = item
            let outcome: Outcome? = [.inTime, .overtime, .cancelled, .interrupted, nil][outcomeIndex]
            let start = Date(timeIntervalSince1970: Double(startSeconds) + 0.123)
            return SessionRecord(
                id: Int64(index + 1), counterID: counter, bootID: boot, startedAt: start, startedMonotonicNs: 0,
                clockSynchronized: outcomeIndex % 2 == 0, limitMs: 120_000,
                endedAt: outcome == nil ? nil : start.addingTimeInterval(Double(duration) / 1000),
                durationMs: outcome == .interrupted || outcome == nil ? nil : duration, outcome: outcome,
                freeService: outcome.map { $0 == .overtime || $0 == .interrupted })
        }
    }

    /// Parses with Python and prints the rows back as JSON (CSV: lists of strings).
    static func python(_ script: String, file: String) throws -> Any {
        try JSONSerialization.jsonObject(with: runTool("/usr/bin/python3", ["-c", script, file]).output)
    }

    /// The CSV of `jampasir sessions` is copied from the stored values (`appendRow`); it must be
    /// byte for byte the CSV of the decoded records, which the export writes.
    @Test func theCSVCopiedFromStoredRowsIsTheRecordsCSV() async throws {
        let directory = try TemporaryDirectory("stored-csv")
        await propertyCheck(count: 30, input: Self.sessions) { generated in
            do {
                let store = try SessionStore(path: directory.file("\(UUID().uuidString).sqlite"), access: .readWrite)
                let records = Self.records(generated)
                for (index, var session) in records.enumerated() {
                    session.id = nil
                    // What the store's checks allow: one open session (the last), in time within
                    // the limit, overtime past it.
                    if session.outcome == nil && index < records.count - 1 {
                        (session.outcome, session.endedAt, session.freeService) = (.interrupted, session.startedAt, true)
                    }
                    if session.outcome == .inTime { session.durationMs = session.durationMs.map { min($0, 120_000) } }
                    if session.outcome == .overtime { session.durationMs = session.durationMs.map { max($0, 120_001) } }
                    if session.outcome == nil { _ = try store.begin(session) } else { try store.insertFinished(session) }
                }
                #expect(try Self.storedCSV(store) == Self.recordCSV(store))
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Times stored in another form than the store's own (by hand, or by another tool) go
    /// through `Date` like the record's, so the two CSVs still agree.
    @Test func timesStoredInOtherFormsGiveTheSameCSV() throws {
        let directory = try TemporaryDirectory("stored-csv-times")
        let path = directory.file("s.sqlite")
        let store = try SessionStore(path: path, access: .readWrite)
        let start = Date(timeIntervalSince1970: 1_796_000_000.25)
        for _ in 0..<5 {
            try store.insertFinished(
                SessionRecord(
                    counterID: "loket-1", bootID: "boot", startedAt: start, startedMonotonicNs: 0,
                    clockSynchronized: true, limitMs: 120_000, endedAt: start.addingTimeInterval(90),
                    durationMs: 90_000, outcome: .inTime, freeService: false))
        }
        try tamperWithStore(
            at: path,
            """
            UPDATE session SET started_at = '2026-11-29T01:02:03.456Z' WHERE id = 1;
            UPDATE session SET started_at = '2026-11-29 01:02:03' WHERE id = 2;
            UPDATE session SET ended_at = '2026-11-29 01:02:03.4' WHERE id = 4;
            """)
        let stored = try Self.storedCSV(store)
        #expect(stored == (try Self.recordCSV(store)))
        #expect(stored.contains("2026-11-29T01:02:03.456Z"))
    }

    static func storedCSV(_ store: SessionStore) throws -> String {
        var bytes: [UInt8] = []
        try store.forEachStoredSession { try CSVFormat.appendRow($0, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func recordCSV(_ store: SessionStore) throws -> String {
        var text = ""
        try store.forEachSession { text += CSVFormat.row($0) }
        return text
    }

    @Test func pythonReadsBackEveryFieldExactly() async throws {
        let directory = NSTemporaryDirectory() + "roundtrip-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await propertyCheck(count: 40, input: Self.sessions) { generated in
            let sessions = Self.records(generated)
            let csvPath = directory + "/s.csv"
            let jsonlPath = directory + "/s.jsonl"
            let csv = CSVFormat.header + sessions.map(CSVFormat.row).joined()
            let jsonl = sessions.map { SessionJSON($0).jsonLine }.joined()
            do {
                try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
                try jsonl.write(toFile: jsonlPath, atomically: true, encoding: .utf8)
                let rows =
                    try Self.python(
                        "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8-sig')))))",
                        file: csvPath) as? [[String]]
                #expect(rows?.first == SessionColumns.names)
                #expect(rows.map { Array($0.dropFirst()) } == sessions.map(SessionColumns.values))
                let objects =
                    try Self.python(
                        "import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1], encoding='utf-8').read().split('\\n') if l]))",
                        file: jsonlPath) as? [[String: Any]]
                #expect(objects?.count == sessions.count)
                for (object, session) in zip(objects ?? [], sessions) {
                    #expect(object["counter_id"] as? String == session.counterID)
                    #expect(object["boot_id"] as? String == session.bootID)
                    #expect((object["duration_ms"] as? NSNumber)?.int64Value == session.durationMs)
                    #expect(object["outcome"] as? String == session.outcome?.rawValue ?? "open")
                }
                // Foundation's own parser agrees, line by line, with the typed decoder.
                for (line, session) in zip(jsonl.split(separator: "\n"), sessions) {
                    let decoded = try JSONDecoder().decode(SessionJSON.self, from: Data(line.utf8))
                    #expect(decoded == SessionJSON(session))
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
