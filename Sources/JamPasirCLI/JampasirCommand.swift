import ArgumentParser
import Foundation
import JamPasirCore

/// `jampasir`: the supervisor's and technician's tool. Reads the store; never changes it.
public struct JampasirCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "jampasir",
        abstract: "Sessions, statistics and exports of the JamPasir counter timer.",
        version: JamPasirVersion.string,
        subcommands: [
            SessionsCommand.self, StatsCommand.self, ReportCommand.self, ExportCommand.self, VerifyCommand.self,
            ExportKeyCommand.self, ReplayCommand.self, DoctorCommand.self, PushCommand.self, CallCommand.self, HubCommand.self,
            SimulateDayCommand.self, UpdateKeyCommand.self, UpdateStickCommand.self, UpdateInstallCommand.self,
        ])

    public init() {}

    /// Runs the command line; failures print one line and leave with their exit status.
    public static func runMain() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("jampasir: \(failure.message.terminalSafe)\n".utf8))
            Foundation.exit(failure.exitStatus)
        } catch {
            exit(withError: error)
        }
    }
}
