import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirExport
import JamPasirReports
import JamPasirStore

/// `--store` and `--config`, shared by every command that reads the store.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long, help: ArgumentHelp("SQLite store (default: store.path from the configuration).", valueName: "path")
    )
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Configuration file (default: \(Configuration.defaultPath) if present).", valueName: "path"))
    var config: String?

    func configuration() throws -> Configuration {
        var configuration = try loadConfiguration(config)
        if let store { configuration.storePath = store }
        return configuration
    }

    /// Opens the store read-only: the CLI never changes the log, and works while the daemon writes.
    func openStore(_ configuration: Configuration) throws -> SessionStore {
        do {
            return try SessionStore(path: configuration.storePath, access: .readOnly)
        } catch {
            throw CLIFailure(message: "\(error)", exitStatus: 66)
        }
    }
}

/// The configuration file at `path` (`--config`), or at the default path if there is one there.
func loadConfiguration(_ path: String?) throws -> Configuration {
    do {
        let configuration = try Configuration.load(path: path ?? Configuration.defaultPath, required: path != nil).0
        for notice in configuration.notices {
            FileHandle.standardError.write(Data("jampasir: \(path ?? Configuration.defaultPath): \(notice)\n".utf8))
        }
        return configuration
    } catch {
        throw CLIFailure(message: "configuration error: \(error)", exitStatus: ConfigurationError.exitStatus)
    }
}

/// A failure to report to the person at the terminal, with the exit status to leave with.
struct CLIFailure: Error, CustomStringConvertible {
    var message: String
    var exitStatus: Int32
    var description: String { message }
}

/// `--date`, or `--from`/`--to`: local days in the report time zone.
struct DayRangeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("One day, YYYY-MM-DD (local time).", valueName: "day"))
    var date: String?

    @Option(name: .long, help: ArgumentHelp("First day, YYYY-MM-DD, inclusive.", valueName: "day"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Last day, YYYY-MM-DD, inclusive.", valueName: "day"))
    var to: String?

    func validate() throws {
        if date != nil && (from != nil || to != nil) {
            throw ValidationError("use either --date or --from/--to, not both")
        }
    }

    /// The half-open instant range these days cover, in `timeZone`.
    func interval(in timeZone: TimeZone) throws -> (from: Date?, to: Date?) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        func day(_ text: String, option: String) throws -> Date {
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard text.count == 10, parts.count == 3,
                let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
                PeriodStatistics.dayKey(date, calendar: calendar) == text
            else {
                throw ValidationError("\(option) '\(text)' is not a date: use YYYY-MM-DD, e.g. 2026-11-29")
            }
            return date
        }
        let first = try (date ?? from).map { try day($0, option: date != nil ? "--date" : "--from") }
        let last = try (date ?? to).map { try day($0, option: date != nil ? "--date" : "--to") }
        if let first, let last, last < first {
            throw ValidationError("--to \(to!) is before --from \(from!)")
        }
        return (first, last.flatMap { calendar.date(byAdding: .day, value: 1, to: $0) })
    }
}

extension DayRangeOptions {
    /// The configuration and the sessions these days select from the store it names.
    func sessions(_ storeOptions: StoreOptions) throws -> (Configuration, [SessionRecord]) {
        let configuration = try storeOptions.configuration()
        let store = try storeOptions.openStore(configuration)
        let range = try interval(in: configuration.timeZone)
        return (configuration, try store.sessions(from: range.from, to: range.to))
    }
}

/// The counter's own device key, which the commands that sign as the counter use (export, push,
/// call); never a new one: that is jampasird's decision at its first start.
func counterKey(_ configuration: Configuration) throws -> DeviceKey {
    do {
        return try DeviceKey.existing(at: configuration.deviceKeyPath)
    } catch {
        throw CLIFailure(message: error.description, exitStatus: 66)
    }
}
