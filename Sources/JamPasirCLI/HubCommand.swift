import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirHub
import JamPasirHubHTTP
import JamPasirLinux
import JamPasirReports
import JamPasirStore
import JamPasirPosix
import Logging
import Synchronization

/// `jampasir hub`: the office's history, on the hub. Counters' signed exports (from sticks, or
/// copied from `jampasir export --to`) are verified, witnessed and kept once each.
public struct HubCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract:
            "The office hub: import counters' signed exports, list the counters, report on the office, keep the queue's records.",
        discussion: """
            The hub accepts exports signed by the office's counters (export.trusted_keys of its \
            configuration, or --trusted-keys FILE) and keeps every session once, by counter key and \
            session id. It is the witness of each counter's history: an export whose sessions or \
            chain contradict what the hub received before is named and kept as a finding.
            """,
        subcommands: [
            HubImportCommand.self, HubServeCommand.self, HubForwardCommand.self, HubCountersCommand.self,
            HubReportCommand.self, HubQueueCommand.self, HubVerifyCommand.self, HubExportCommand.self,
        ])

    public init() {}
}

/// The office's counter keys, for the hub's commands that take exports.
struct OfficeKeysOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file of the office's counter keys (one base64 public key per line) instead of export.trusted_keys.",
            valueName: "file"))
    var trustedKeys: String?

    func trusted(config: String?) throws -> TrustedSigners {
        guard let trusted = try officeKeys(trustedKeys: trustedKeys, config: config) else {
            throw CLIFailure(
                message:
                    "no counter is trusted yet: add each counter's public key (jampasird logs it at start) to export.trusted_keys of the hub's configuration, or give --trusted-keys FILE",
                exitStatus: 78)
        }
        return trusted
    }
}

/// How long to keep trying a hub that cannot be reached (the push, the forward).
struct DeliveryOptions: ParsableArguments {
    @Option(name: .long, help: "Tries before giving up (the pause doubles from 5 s, at most 5 min).")
    var attempts = 5

    func validate() throws {
        guard (1...20).contains(attempts) else { throw ValidationError("--attempts must be 1 to 20") }
    }
}

/// `--hub-store` and `--config`, shared by the hub's commands.
struct HubOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The hub's SQLite store (default: hub.store from the configuration).", valueName: "path"))
    var hubStore: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Configuration file (default: \(Configuration.defaultPath) if present).", valueName: "path"))
    var config: String?

    func open() throws -> (Configuration, HubStore) {
        let configuration = try loadConfiguration(config)
        do {
            let store = try HubStore(path: hubStore ?? configuration.hubStorePath)
            store.removeAbandonedFolders()
            return (configuration, store)
        } catch {
            throw CLIFailure(message: "\(error); check --hub-store or hub.store", exitStatus: 74)
        }
    }
}

public struct HubImportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import counters' signed exports: a stick's root, a JAMPASIR folder or one export folder.",
        discussion: """
            One line per export: IMPORTED (new sessions added), KNOWN (imported before), REFUSED \
            (not verified, or not signed by one of the office's counters) or HISTORY CHANGED (taken, \
            but it contradicts what the hub received before). Exit status 0 when every export was \
            imported or known; 1 otherwise; 66 when no export was found.
            """)

    @Argument(help: ArgumentHelp("Where the exports are.", valueName: "dir")) var directories: [String]
    @OptionGroup var hub: HubOptions
    @OptionGroup var office: OfficeKeysOptions

    public init() {}

    /// One line per export as it is taken (the progress of a stick with many), then exit status
    /// 1 if any was refused or changed history.
    public func run() throws {
        if try !importAll(telling: { print($0.terminalSafe) }) { throw ExitCode(1) }
    }

    /// Whether every export was taken without a finding.
    func importAll(telling tell: (String) -> Void) throws -> Bool {
        let trusted = try office.trusted(config: hub.config)
        let (_, store) = try hub.open()
        let folders = directories.flatMap(HubImport.exportFolders(under:))
        guard !folders.isEmpty else {
            throw CLIFailure(
                message:
                    "no export found in \(directories.joined(separator: ", ")): give a stick's root, its JAMPASIR folder or an export folder (the one holding manifest.json)",
                exitStatus: 66)
        }
        var failed = false
        for folder in folders {
            let result = HubImport.importBundle(folder, into: store, trusting: trusted, at: Date(), source: folder)
            let counter = result.counterID.map { " (\($0))" } ?? ""
            switch result.verdict {
            case .accepted(let new, let known):
                tell("IMPORTED \(folder)\(counter): \(new) new session\(new == 1 ? "" : "s"), \(known) known")
            case .alreadyImported:
                tell("KNOWN \(folder)\(counter): imported before")
            case .refused(let why):
                failed = true
                tell("REFUSED \(folder)\(counter): \(why)")
            case .historyChanged(let new, let findings):
                failed = true
                tell("HISTORY CHANGED \(folder)\(counter): \(new) new session\(new == 1 ? "" : "s"); " + findings.joined(separator: "; "))
            }
        }
        return !failed
    }
}

public struct HubCountersCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "counters", abstract: "The counters the hub has received exports from, and its findings.")

    @OptionGroup var hub: HubOptions

    public init() {}

    public func run() throws {
        print(try render(), terminator: "")
    }

    public func render() throws -> String {
        let (_, store) = try hub.open()
        let counters = try store.counters()
        if counters.isEmpty { return "no export imported yet: jampasir hub import DIR\n" }
        let rows = counters.map { c -> [String] in
            // One cell at a time: Debian's Swift gives up type-checking the row as one expression.
            let key: String = TrustedSigners.fingerprint(of: c.publicKey).map { String($0.prefix(23)) + "…" } ?? "?"
            let version: String = c.softwareVersion?.terminalSafe ?? "?"
            let chain: String = c.head.map { String($0.seq) } ?? "—"
            let findings: String = c.findings == 0 ? "" : String(c.findings)
            return [c.counterID.terminalSafe, key, version, String(c.sessions), chain, c.lastImport, findings]
        }
        var text = TextTable.render(
            ["COUNTER", "KEY", "VERSION", "SESSIONS", "CHAIN", "LAST IMPORT", "FINDINGS"], rows, rightAligned: [3, 4, 6])
        for finding in try store.findings() {
            text += "FINDING \(finding.foundAt) \(finding.counterID): \(finding.description)".terminalSafe + "\n"
        }
        return text
    }
}

public struct HubReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The office report: per day, each counter's figures and the office's.",
        discussion: """
            Days are local days in report.time_zone. The same figures as `jampasir stats` and the \
            counter's report. html: a self-contained page, in report.language (Bahasa Indonesia by \
            default).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json, html
    }

    @OptionGroup var hub: HubOptions
    @OptionGroup var days: DayRangeOptions
    @Option(name: .long, help: "table, csv, json or html.") var format: Format = .table

    public init() {}

    public func run() throws {
        print(try render(), terminator: "")
    }

    public func render() throws -> String {
        let (configuration, store) = try hub.open()
        let timeZone = configuration.timeZone
        let range = try days.interval(in: timeZone)
        let report = try HubReport(store: store, timeZone: timeZone, from: range.from, to: range.to)
        let (office, counters) = (report.office, report.counters)
        switch format {
        case .table:
            if office.isEmpty { return "no sessions\n" }
            return (counters + [(name: "office", days: office)]).map {
                "\($0.name.terminalSafe)\n" + TextTable.statistics($0.days)
            }.joined(separator: "\n")
        case .csv:
            return (counters.enumerated().map { index, counter in
                PeriodStatistics.csv(counter.days, kind: "counter " + counter.name, header: index == 0)
            } + [PeriodStatistics.csv(office, kind: "office", header: counters.isEmpty)]).joined()
        case .json:
            return String(decoding: try report.json(), as: UTF8.self) + "\n"
        case .html:
            let language = HTMLReport.Language(rawValue: configuration.reportLanguage) ?? .indonesian
            var html = HTMLReport(
                counterID: language == .indonesian
                    ? "semua loket (\(counters.count))" : "all counters (\(counters.count))",
                generatedAt: Date(), timeZone: timeZone, limitMs: configuration.rules.limit.millisecondsRoundedUp,
                days: office, serviceTimesMs: report.serviceTimesMs, language: language)
            html.counters = counters
            return html.render()
        }
    }
}

public struct HubServeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the office over the LAN: counters' bundles, their calls, the queue and the hall display.",
        discussion: """
            Listens on hub.listen (default 0.0.0.0:8790). Takes POST /v1/bundles (jampasir push), as \
            hub import takes sticks; POST /v1/queue/call?counter=ID, signed by a counter's device key \
            (jampasir call, the call button), taken once, for that key's own counter, only while the \
            counter still waits; POST /v1/queue/ticket from this machine only. Answers GET \
            /v1/report?days=N (the last N local days, as hub report --format json gives them) and GET \
            /v1/queue to the wallboard (hub.wallboard_origin), GET /hall, \
            /v1/queue/announcement.wav and /metrics. A request whose Host is not the hub's address \
            or name (hub.names) is refused. Logs one line per request to standard error (the \
            journal under systemd). Runs until stopped.
            """)

    @OptionGroup var hub: HubOptions
    @Option(name: .long, help: ArgumentHelp("HOST:PORT to listen on (default: hub.listen).", valueName: "address"))
    var listen: String?
    @Option(
        name: .long,
        help: "Seconds a client has to send its request's head, and the hub to answer it (a bundle's body has more, by its size).")
    var timeout = 10
    @OptionGroup var office: OfficeKeysOptions

    public init() {}

    public func validate() throws {
        guard (1...300).contains(timeout) else { throw ValidationError("--timeout must be 1 to 300 seconds") }
    }

    public func run() throws {
        let trusted = try office.trusted(config: hub.config)
        let (configuration, store) = try hub.open()
        let address = listen ?? configuration.hubListen
        var server = HubServer(store: store, trusted: trusted) { line in
            tellStandardError("jampasir hub: \(line)")
        }
        server.timeZone = configuration.timeZone
        server.hostCheck = HostCheck(names: configuration.hubNames)
        server.wallboardOrigin = configuration.hubWallboardOrigin
        do {
            server.queue = try HubQueue(
                store: store, rules: configuration.queue, timeZone: configuration.timeZone,
                office: configuration.queueOffice, now: Date()) { line in tellStandardError("jampasir hub: \(line)") }
        } catch {
            throw CLIFailure(message: "\(error)", exitStatus: 74)
        }
        if let queue = server.queue {
            QueueClock(queue: queue) { line in tellStandardError("jampasir hub: \(line)") }.start()
        }
        let printer = configuration.queuePrinter.map { USBTicketPrinter(path: $0) }
        server.printer = printer
        if let line = ConfiguredLines(configuration.hardware).kiosk, let queue = server.queue {
            guard let printer else {
                throw CLIFailure(
                    message: "button.kiosk_line is set but queue.printer is not: set the ticket printer's device (e.g. \"/dev/usb/lp0\")",
                    exitStatus: 78)
            }
            let button = GPIOButton(
                GPIOButton.Settings(line: line, wiring: configuration.hardware.button),
                logger: Logger(label: "jampasir.hub.kiosk"))
            KioskButton(button: button, rules: configuration.rules, queue: queue, printer: printer) { line in
                tellStandardError("jampasir hub: \(line)")
            }.start()
            tellStandardError("jampasir hub: the kiosk's button is \(line.offset) on \(line.chip) (button.kiosk_line)")
        }
        var limits = HubHTTPServer.Limits()
        (limits.headSeconds, limits.answerSeconds) = (Int64(timeout), Int64(timeout))
        let http = HubHTTPServer(hub: server, limits: limits, stopsOnSignals: true)
        let path = store.path
        let stopped = Mutex<(any Error)?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: HubHTTPServer.executor) {
            do {
                try await http.run(on: address) { tellStandardError("jampasir hub: listening on \($0), store \(path)") }
            } catch {
                stopped.withLock { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let error = stopped.withLock({ $0 }) {
            throw CLIFailure(message: "\(error)", exitStatus: (error as? HubHTTPServer.Failure)?.listened == true ? 71 : 69)
        }
        tellStandardError("jampasir hub: stopped")
    }
}

/// `jampasir push`: this counter's export to the office hub over the LAN.
public struct PushCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send this counter's signed export to the office hub (push.hub), when something new was recorded.",
        discussion: """
            Reads the store read-only and signs with the device key, as `jampasir export` does, then \
            sends the export to the hub's `jampasir hub serve`, retrying with a growing pause when the \
            hub cannot be reached. Nothing is sent when the store's chain has not moved since the last \
            push to the same hub. Exit status 0: sent, or nothing new; 1: taken, but the hub found the \
            counter's history changed; 65: refused by the hub; 69: the hub could not be reached; 78: \
            no hub configured.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .long, help: ArgumentHelp("The hub's HOST:PORT (default: push.hub).", valueName: "address"))
    var hub: String?
    @OptionGroup var delivery: DeliveryOptions
    @Flag(name: .long, help: "Send even when nothing new was recorded since the last push.") var force = false

    public init() {}

    struct State: Codable, Equatable {
        var hub: String
        var head: AuditChain.Head?
    }

    public func run() throws {
        let configuration = try storeOptions.configuration()
        guard let address = hub ?? configuration.pushHub else {
            throw CLIFailure(
                message: "no hub to push to: set push.hub in \(storeOptions.config ?? Configuration.defaultPath) or give --hub HOST:PORT",
                exitStatus: 78)
        }
        let store = try storeOptions.openStore(configuration)
        let statePath = (configuration.storePath as NSString).deletingLastPathComponent + "/push.json"
        let state = State(hub: address, head: try store.chainHead())
        let last = FileManager.default.contents(atPath: statePath).flatMap { try? JSONDecoder().decode(State.self, from: $0) }
        if last == state && !force {
            print("nothing new since the last push to \(address)".terminalSafe)
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jampasir-push-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let export: String
        do {
            export = try ExportWriter(configuration: configuration, store: store, key: try counterKey(configuration))
                .write(into: folder, at: Date()).directory
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw CLIFailure(message: "export failed: \(error)", exitStatus: 73)
        }
        let answer: BundlePush.Answer
        do {
            answer = try BundlePush.deliver(folder: export, to: address, attempts: delivery.attempts) { tellStandardError("jampasir: \($0)") }
        } catch let unreachable as BundlePush.Unreachable {
            throw CLIFailure(
                message: "\(unreachable); the export goes at the next push (jampasir-push.timer), and sticks still work",
                exitStatus: 69)
        }
        guard answer.taken else {
            throw CLIFailure(message: "the hub \(address) refused the export: \(answer.text)", exitStatus: 65)
        }
        if let data = try? JSONEncoder().encode(state), let file = try? AtomicFile(path: statePath) {
            try? file.write(String(decoding: data, as: UTF8.self))
            try? file.commit()
        }
        print("pushed to \(address.terminalSafe): \(answer.text)")
        if answer.status == 409 { throw ExitCode(1) }
    }
}

/// One line to standard error (the journal under systemd), made safe for a terminal.
func tellStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line.terminalSafe + "\n").utf8))
}

/// `jampasir hub forward`: the bundles this hub took, to the hub above it.
public struct HubForwardCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Send every export this hub took to the hub above it (push.hub), each once.",
        discussion: """
            For a directorate whose regional or national hub runs `jampasir hub serve` too: every \
            export this hub accepted (kept as received in bundles/ beside hub.store) is sent as its \
            counter signed it, so the hub above verifies and witnesses it itself; it must trust the \
            counters' keys. Exports go in the order they arrived, each until the hub above has it. \
            Exit status 0: all sent, or nothing to send; 1: the hub above found a counter's history \
            changed; 65: it refused some (listed; they are sent again next time); 69: it could not \
            be reached (the rest go next time); 78: no hub above configured.
            """)

    @OptionGroup var hub: HubOptions
    @Option(name: .long, help: ArgumentHelp("The hub above, HOST:PORT (default: push.hub).", valueName: "address"))
    var to: String?
    @OptionGroup var delivery: DeliveryOptions

    public init() {}

    public func run() throws {
        let (configuration, store) = try hub.open()
        guard let address = to ?? configuration.pushHub else {
            throw CLIFailure(
                message: "no hub above to forward to: set push.hub in \(hub.config ?? Configuration.defaultPath) or give --to HOST:PORT",
                exitStatus: 78)
        }
        let pending = try store.bundles(notForwardedTo: address)
        guard !pending.isEmpty else {
            print("nothing to forward to \(address)".terminalSafe)
            return
        }
        var refused = 0
        var changed = false
        for (index, bundle) in pending.enumerated() {
            let name = "\(bundle.id.prefix(16)) (\(bundle.counterID))"
            let answer: BundlePush.Answer
            do {
                answer = try BundlePush.deliver(
                    folder: store.bundlesDirectory + "/" + bundle.id, to: address, attempts: delivery.attempts
                ) { tellStandardError("jampasir: \($0)") }
            } catch let unreachable as BundlePush.Unreachable {
                throw CLIFailure(
                    message: "\(unreachable); \(index) of \(pending.count) forwarded, the rest go next time",
                    exitStatus: 69)
            } catch {
                refused += 1
                print("NOT SENT \(name): its copy cannot be read: \(error)".terminalSafe)
                continue
            }
            guard answer.taken else {
                refused += 1
                print("REFUSED \(name): \(answer.text)".terminalSafe)
                continue
            }
            try store.markForwarded(bundle.id, to: address, answer: answer.text, at: Timestamp.iso8601(Date()))
            print("FORWARDED \(name): \(answer.text)".terminalSafe)
            changed = changed || answer.status == 409
        }
        if refused > 0 {
            throw CLIFailure(
                message: "\(refused) of \(pending.count) exports not taken by \(address) (listed above)", exitStatus: 65)
        }
        if changed { throw ExitCode(1) }
    }
}
