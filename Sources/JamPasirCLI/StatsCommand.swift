import ArgumentParser
import Foundation
import JamPasirReports
import JamPasirStore
import JamPasirConfig

/// `jampasir stats`: per-day figures, the free passports among them.
public struct StatsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per-day statistics: sessions, in time, overtime (free passports), cancelled, interrupted.",
        discussion: """
            Days are local days in report.time_zone. % in time is in-time sessions over services \
            (in time + overtime + interrupted; cancelled sessions are not services). Median and p90 \
            are nearest-rank over in-time and overtime sessions.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var days: DayRangeOptions
    @Option(name: .long, help: "table or json.") var format: Format = .table

    public init() {}

    public func run() throws {
        print(try render(), terminator: "")
    }

    public func render() throws -> String {
        let (configuration, sessions) = try days.sessions(storeOptions)
        let stats = PeriodStatistics.compute(sessions, timeZone: configuration.timeZone)
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(stats), as: UTF8.self) + "\n"
        case .table:
            return TextTable.statistics(stats)
        }
    }
}
