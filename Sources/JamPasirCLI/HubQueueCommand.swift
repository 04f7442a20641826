import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirHub
import JamPasirQueue
import JamPasirStore

/// `jampasir hub queue`: the second promise's figures, from the tickets the hub kept.
public struct HubQueueCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "The queue's figures per day (or per hour): tickets, waits, breaches of the two hours, no-shows.",
        discussion: """
            From the tickets `jampasir hub serve` issued and called. Waits are those of the \
            applicants called (nearest-rank median and P90); a ticket never called is a no-show; a \
            breach is a ticket that waited the whole promise (queue.promise_minutes); served counts \
            the called tickets whose session came in from the counter's exports (the call button \
            links them). With --hours, \
            each day is also split by the hour its tickets were issued (local time, report.time_zone).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @OptionGroup var hub: HubOptions
    @OptionGroup var days: DayRangeOptions
    @Flag(name: .long, help: "Add a row for each hour of each day.") var hours = false
    @Option(name: .long, help: "table or json.") var format: Format = .table

    public init() {}

    public func run() throws {
        print(try render(), terminator: "")
    }

    public func render() throws -> String {
        let (configuration, store) = try hub.open()
        _ = try days.interval(in: configuration.timeZone)  // checks the dates
        let rules = configuration.queue
        let recorded: [(day: String, tickets: [Ticket])]
        let served: [String: Set<String>]
        do {
            let (from, to) = (days.date ?? days.from ?? "0000-01-01", days.date ?? days.to ?? "9999-12-31")
            recorded = try HubQueue.days(in: store, from: from, to: to, rules: rules)
            served = try HubQueue.served(in: store, from: from, to: to)
        } catch {
            throw CLIFailure(message: "\(error)", exitStatus: 74)
        }
        var figures: [QueueFigures] = []
        for (day, tickets) in recorded {
            figures.append(QueueFigures(period: day, tickets: tickets, promise: rules.promise, served: served[day] ?? []))
            guard hours else { continue }
            let byHour = Dictionary(grouping: tickets) { Self.localHour($0.issuedAt, configuration.timeZone) }
            for hour in byHour.keys.sorted() {
                figures.append(
                    QueueFigures(
                        period: "\(day) \(hour < 10 ? "0" : "")\(hour)", tickets: byHour[hour]!, promise: rules.promise,
                        served: served[day] ?? []))
            }
        }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(figures), as: UTF8.self) + "\n"
        case .table:
            if figures.isEmpty { return "no tickets\n" }
            let promise = rules.promise.components.seconds
            let within = "within " + (promise % 3600 == 0 ? "\(promise / 3600) h" : "\(promise / 60) min")
            let header = [
                "period", "tickets", "called", "served", "no-shows", "median wait", "P90", "longest", within, "breaches", "peak waiting",
            ]
            let rows = figures.map { f -> [String] in
                [
                    f.period, "\(f.tickets)", "\(f.called)", "\(f.served)", "\(f.noShows)", Self.minutes(f.medianWaitSeconds),
                    Self.minutes(f.p90WaitSeconds), Self.minutes(f.longestWaitSeconds),
                    f.called == 0 ? "–" : "\(f.withinPromise * 100 / f.called) %", "\(f.breaches)", "\(f.peakWaiting)",
                ]
            }
            return TextTable.render(header, rows, rightAligned: Set(1..<header.count))
        }
    }

    static func minutes(_ seconds: Int?) -> String { seconds.map { "\($0 / 60) min" } ?? "–" }

    static func localHour(_ time: WallTime, _ timeZone: TimeZone) -> Int {
        let date = Date(timeIntervalSince1970: Double(time.components.seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.component(.hour, from: date)
    }
}

/// `jampasir hub verify`: the queue's evidence, as the hub's store holds it.
public struct HubVerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the queue's records in the hub's store: their chain, and that every ticket agrees with them.",
        discussion: """
            Each ticket's issue, warnings, breach, call and leaving are recorded as they happen, each \
            record carrying the SHA-256 of the one before. This walks them from the first and compares \
            what they say with the tickets the hall and the figures read: a record edited, removed or \
            inserted, or a ticket changed by hand (a breach erased, a call moved), is named. Exit \
            status 0: intact; 1: broken (one FAIL line each); 74: the store cannot be read.
            """)

    @OptionGroup var hub: HubOptions

    public init() {}

    public func run() throws {
        let (_, store) = try hub.open()
        let found: HubQueue.Verification
        do {
            found = try HubQueue.verify(store)
        } catch {
            throw CLIFailure(message: "\(error)", exitStatus: 74)
        }
        let head = found.head.map { ", the last \($0.seq) \($0.hash.prefix(16))…" } ?? ""
        let before =
            found.beforeChain == 0 ? "" : "; \(found.beforeChain) tickets from before the records began (not chained)"
        print("\(found.records) queue records\(head); \(found.tickets) tickets agree with them\(before)".terminalSafe)
        for problem in found.problems { print("FAIL \(problem)".terminalSafe) }
        if !found.problems.isEmpty { throw ExitCode(1) }
        print("OK \(store.path)".terminalSafe)
    }
}

/// `jampasir hub export`: the queue's records, signed by the hub, for anyone to verify.
public struct HubExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the queue's records, chained and signed with the hub's key, for jampasir verify.",
        discussion: """
            Writes JAMPASIR-QUEUE/<UTC time>/ under DIR (a stick's mount point, or any folder): \
            queue.csv, every record from the first (issued, voided, warned, breached, called, left, \
            each with the hash of the one before), and manifest.json, signed with hub.key beside \
            hub.store. The key is made at the first export: keep a copy with the hub's backups, and \
            give its public key (printed here) to whoever checks the export, for jampasir verify \
            --trusted-keys FILE (not to the hub's own export.trusted_keys, which names counters). A \
            chain that does not verify is not signed (jampasir hub verify names what is wrong). Exit status 0: written; 65: the records are broken; \
            66: the key cannot be read; 73: the folder cannot be written.
            """)

    @Option(name: .long, help: ArgumentHelp("Where to write (a stick's mount point, or a folder).", valueName: "dir"))
    var to: String
    @OptionGroup var hub: HubOptions

    public init() {}

    public func run() throws {
        let (configuration, store) = try hub.open()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: to, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIFailure(
                message: "export directory \(to) does not exist or is not a directory: give a stick's mount point or a folder",
                exitStatus: 73)
        }
        let created = !FileManager.default.fileExists(atPath: store.keyPath)
        let key: DeviceKey
        do {
            key = try DeviceKey.loadOrCreate(at: store.keyPath)
        } catch {
            throw CLIFailure(message: "the hub's signing key: \(error)", exitStatus: 66)
        }
        if created { tellStandardError("jampasir: made the hub's signing key \(store.keyPath): keep a copy with the hub's backups") }
        let result: ExportWriter.Result
        do {
            result = try QueueExport.write(into: to, office: configuration.queueOffice, key: key, at: Date()) { each in
                try HubQueue.forEachRecord(in: store) { seq, parsed in
                    switch parsed {
                    case .success(let record): try each(record)
                    case .failure(let malformed):
                        throw CLIFailure(message: "record \(seq): \(malformed): run jampasir hub verify", exitStatus: 65)
                    }
                }
            }
        } catch {
            throw CLIFailure(message: "queue export failed: \(error)", exitStatus: error.kind == .store ? 65 : 73)
        }
        let count = result.manifest.body.records?.count ?? 0
        print("exported \(count) queue records to \(result.directory)".terminalSafe)
        print("signed by the hub's key \(key.publicKeyFingerprint): public key \(key.publicKeyBase64)")
    }
}
