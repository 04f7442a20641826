import Foundation
import JamPasirCore
import JamPasirStore
import JamPasirTesting
import Testing

/// `jampasir simulate-day` as the head of office types it, on a store of the counter's sessions.
@Suite("jampasir simulate-day")
struct SimulateDayCommandTests {
    /// A store of 40 finished sessions of 60–125 s, and one cancelled session of an hour that
    /// must not be drawn (a cancelled session is not a service).
    static func store(in directory: TemporaryDirectory, sessions: Int = 40) throws -> String {
        let path = directory.path + "/counter.sqlite"
        let store = try SessionStore(path: path, access: .readWrite)
        let start = Date(timeIntervalSince1970: 1_796_000_000)
        for index in 0..<sessions {
            let startedAt = start.addingTimeInterval(Double(index) * 600)
            let duration = Int64(60_000 + (index % 14) * 5_000)
            try store.insertFinished(
                SessionRecord(
                    counterID: "loket-1", bootID: "boot", startedAt: startedAt, startedMonotonicNs: 0,
                    clockSynchronized: true, limitMs: 120_000, endedAt: startedAt.addingTimeInterval(100),
                    durationMs: index == 0 ? 3_600_000 : duration,
                    outcome: index == 0 ? .cancelled : duration <= 120_000 ? .inTime : .overtime,
                    freeService: index != 0 && duration > 120_000))
        }
        return path
    }

    static func emptyConfiguration(in directory: TemporaryDirectory) throws -> String {
        let path = directory.path + "/empty.toml"
        try Data().write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func printsOneRowPerCounterCountWithTheBreachesWarnedFirst() throws {
        let directory = try TemporaryDirectory("simulate")
        let path = try Self.store(in: directory)
        let config = try Self.emptyConfiguration(in: directory)
        let run = try runBuilt(
            "jampasir", ["simulate-day", "--store", path, "--config", config, "--counters", "2,6", "--days", "3"])
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("39 sessions drawn from \(path)") == true)
        let rows = lines.dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.map(\.first) == ["2", "6"])
        // Words: counters, arrived/day, turned away, median, P90, longest, within 2:00 ("52.9 %": two),
        // warned, breaches, warned first, …
        let two = rows[0]
        let six = rows[1]
        #expect(Int(two[9])! > 0, "two counters for 200 applicants must break the promise: \(two)")
        #expect(Int(two[8])! >= Int(two[9])!, "every ticket breached was warned")
        #expect(two[10] == "\(two[9])/\(two[9])", "every breach warned at every mark first")
        #expect(six[9] == "0")
    }

    @Test func aStoreWithoutFinishedSessionsIsRefusedWithWhatToDo() throws {
        let directory = try TemporaryDirectory("simulate-empty")
        let path = try Self.store(in: directory, sessions: 1)
        let config = try Self.emptyConfiguration(in: directory)
        let run = try runBuilt("jampasir", ["simulate-day", "--store", path, "--config", config])
        #expect(run.status == 65)
        #expect(run.error.contains("holds no finished sessions"))
        #expect(run.error.contains("make simulate-day"))
    }

    @Test func badCountsAreUsageErrors() throws {
        for arguments in [["--counters", "0-3"], ["--counters", "6-2"], ["--counters", "x"], ["--days", "0"]] {
            let run = try runBuilt("jampasir", ["simulate-day"] + arguments)
            #expect(run.status == 64, "\(arguments): \(run.error)")
        }
    }
}
