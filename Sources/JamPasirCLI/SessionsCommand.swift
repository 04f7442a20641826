import ArgumentParser
import Foundation
import JamPasirReports
import JamPasirStore
import JamPasirConfig

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
        var buffer = ""
        try write { text in
            buffer += text
            if buffer.utf8.count >= 1 << 16 {
                FileHandle.standardOutput.write(Data(buffer.utf8))
                buffer = ""
            }
        }
        FileHandle.standardOutput.write(Data(buffer.utf8))
    }

    /// The command's whole output.
    public func render() throws -> String {
        var output = ""
        try write { output += $0 }
        return output
    }

    /// CSV and JSON stream from the store a row at a time (constant memory for any log);
    /// the table, for people, is built whole.
    func write(_ out: (String) -> Void) throws {
        let configuration = try storeOptions.configuration()
        let store = try storeOptions.openStore(configuration)
        let range = try days.interval(in: configuration.timeZone)
        switch format {
        case .csv:
            // Straight from the stored values, in 64 KiB pieces of whole rows.
            out(CSVFormat.header)
            var rows: [UInt8] = []
            rows.reserveCapacity(1 << 17)
            try store.forEachStoredSession(from: range.from, to: range.to) { row in
                try CSVFormat.appendRow(row, to: &rows)
                if rows.count >= 1 << 16 {
                    out(String(decoding: rows, as: UTF8.self))
                    rows.removeAll(keepingCapacity: true)
                }
            }
            out(String(decoding: rows, as: UTF8.self))
        case .json:
            var first = true
            out("[")
            try store.forEachSession(from: range.from, to: range.to) { session in
                out((first ? "" : ",") + SessionJSON(session).jsonLine.dropLast())
                first = false
            }
            out("]\n")
        case .table:
            out(
                TextTable.sessions(try store.sessions(from: range.from, to: range.to), timeZone: configuration.timeZone)
            )
        }
    }
}
