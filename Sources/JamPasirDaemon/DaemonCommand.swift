import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import JamPasirTerminal
import Logging

/// `jampasird`: the counter daemon.
public struct DaemonCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "jampasird",
        abstract: "The two-minute passport service timer at one counter.",
        discussion: """
            Reads the start/stop button, drives the countdown display, buzzer and lights, and records \
            every session in the SQLite store. With --simulate, the display, lights and buzzer are drawn \
            in this terminal and the keyboard is the button (space/enter = press, c = long press, q = quit).
            """,
        version: JamPasirVersion.string)

    @Option(name: .long, help: ArgumentHelp("Configuration file.", valueName: "path"))
    public var config: String?

    @Option(name: .long, help: ArgumentHelp("SQLite store, overriding store.path.", valueName: "path"))
    public var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Service limit in seconds (e.g. 2 or 120), overriding service.limit_seconds.", valueName: "seconds"))
    public var limit: String?

    @Option(name: .long, help: ArgumentHelp("Counter id, overriding counter.id.", valueName: "id"))
    public var counter: String?

    @Flag(name: .long, help: "Run in this terminal with no hardware.")
    public var simulate = false

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Create a new device key although the store has history (the key file was lost and no backup exists).",
            discussion:
                "Exports signed before will not verify against the new key; the office must add its fingerprint (logged at start) to its trusted keys."
        ))
    public var newDeviceKey = false

    @Option(
        name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    public var logLevel: Logger.Level = .info

    public init() {}

    /// `jampasird` as typed: parses the command line and runs; failures leave with their status.
    /// Synchronous on purpose: the daemon runs its event loop on the calling (main) thread and
    /// starts no Swift-concurrency or libdispatch worker (see `SerialWorker`).
    public static func runMain() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    public func run() throws {
        let startedAt = SystemMonotonicClock().now()
        let configuration: Configuration
        let configFound: Bool
        do {
            (configuration, configFound) = try resolvedConfiguration()
        } catch {
            SystemLog.fatal("jampasird: configuration error: \(error)")
            throw ExitCode(ConfigurationError.exitStatus)
        }

        let screen = simulate ? TerminalScreen(title: "JamPasir · loket \(configuration.counterID) · --simulate") : nil
        let level = logLevel
        // On a terminal the simulator keeps its log at the foot of the screen; with its output
        // redirected (scripts, the torture test) the log goes to stderr like the daemon's.
        let logOnScreen = screen != nil && isatty(STDOUT_FILENO) == 1
        LoggingSystem.bootstrap { label in
            if logOnScreen, let screen { return ScreenLogHandler(screen: screen, level: level) }
            return SystemLog.handler(label: label, level: level)
        }
        let logger = Logger(label: "jampasird")
        if !configFound {
            logger.notice("no configuration file at \(config ?? Configuration.defaultPath): using the defaults")
        }

        let terminal = RawTerminalMode()
        if let screen {
            terminal.enable()
            screen.open()
        }
        defer {
            if let screen {
                screen.close()
                terminal.restore()
            }
        }
        do {
            try Daemon(
                configuration: configuration, mode: simulate ? .simulate : .hardware, logger: logger,
                newDeviceKey: newDeviceKey
            ).run(screen: screen, startedAt: startedAt)
        } catch {
            screen?.close()
            terminal.restore()
            SystemLog.fatal("jampasird: \(error)")
            throw ExitCode(error.exitStatus)
        }
    }

    /// The file (or defaults), then the command-line overrides.
    func resolvedConfiguration() throws(ConfigurationError) -> (Configuration, found: Bool) {
        var (configuration, found) = try Configuration.load(
            path: config ?? Configuration.defaultPath, required: config != nil)
        if let store { configuration.storePath = store }
        if let limit { configuration.rules.limit = try Configuration.limit(fromArgument: limit, option: "--limit") }
        if let counter { configuration.counterID = try Configuration.counterID(fromArgument: counter) }
        return (configuration, found)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
