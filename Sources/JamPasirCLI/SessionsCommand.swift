import ArgumentParser
import Foundation
import JamPasirReports
import JamPasirStore

/// `jampasir sessions`: the log, as a table for people or CSV/JSON for programs.
public struct SessionsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List sessions (local times in the table, UTC in CSV/JSON).")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var days: DayRangeOptions
    @Option(name: .long, help: "table, csv or json.") var format: Format = .table

    public init() {}

    public func run() throws {
        print(try render(), terminator: "")
    }

    /// The command's whole output.
    public func render() throws -> String {
        let (configuration, sessions) = try days.sessions(storeOptions)
        switch format {
        case .csv:
            return CSVFormat.header + sessions.map(CSVFormat.row).joined()
        case .json:
            let data = try SessionJSON.encoder.encode(sessions.map(SessionJSON.init))
            return String(decoding: data, as: UTF8.self) + "\n"
        case .table:
            return TextTable.sessions(sessions, timeZone: configuration.timeZone)
        }
    }
}
