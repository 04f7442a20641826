import ArgumentParser
import Foundation
import JamPasirExport
import JamPasirMedia
import JamPasirPosix

/// `jampasir export-key new --to DIR`: makes a stick (mounted at DIR) an authorised one.
public struct ExportKeyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export-key", abstract: "Authorise USB sticks for exports.",
        subcommands: [New.self])

    public init() {}

    public struct New: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Write a new key file to a stick and print the line to add to the configuration.",
            discussion: """
                Writes DIR/JAMPASIR/export.key. The counter keeps only the key's SHA-256: add the printed \
                fingerprint to export.authorized_keys in /etc/jampasir/jampasir.toml of each counter the \
                stick may collect from.
                """)

        @Option(name: .customLong("to"), help: ArgumentHelp("Where the stick is mounted.", valueName: "dir"))
        var directory: String

        public init() {}

        public func run() throws {
            print(try write())
        }

        public func write() throws -> String {
            let folder = directory + "/" + ExportAuthorization.directoryName
            var info = stat()
            if lstat(folder, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
                throw CLIFailure(message: "\(folder) exists and is not a directory", exitStatus: 73)
            }
            if mkdir(folder, 0o755) != 0 && errno != EEXIST {
                throw CLIFailure(message: SystemError("cannot create \(folder)").description, exitStatus: 73)
            }
            let path = folder + "/" + ExportAuthorization.keyFileName
            guard !FileManager.default.fileExists(atPath: path) else {
                throw CLIFailure(
                    message:
                        "\(path) already exists: this stick already has a key (its fingerprint: \(ExportAuthorization.fingerprint(of: FileManager.default.contents(atPath: path) ?? Data())))",
                    exitStatus: 73)
            }
            let key = ExportAuthorization.newKey() + "\n"
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw CLIFailure(message: "cannot write \(path)", exitStatus: 73)
            }
            return """
                wrote \(path)
                add to /etc/jampasir/jampasir.toml on each counter this stick may collect from:
                [export]
                authorized_keys = ["\(ExportAuthorization.fingerprint(of: Data(key.utf8)))"]
                """
        }
    }
}
