import ArgumentParser
import Foundation
import JamPasirReports
import JamPasirStore

/// `jampasir export --to DIR`: the whole log as one CSV file, written atomically.
public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the session log as CSV (RFC 4180, UTF-8, UTC times) into a directory.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("to"), help: ArgumentHelp("Directory to write into.", valueName: "dir"))
    var directory: String

    public init() {}

    public func run() throws {
        let progress: ((Int, Int) -> Void)? =
            isatty(STDERR_FILENO) == 1 ? { done, total in Self.printProgress(done: done, total: total) } : nil
        print(try export(progress: progress))
    }

    /// Writes the file; returns a line saying where and how much.
    public func export(progress: ((Int, Int) -> Void)? = nil) throws -> String {
        let configuration = try storeOptions.configuration()
        let store = try storeOptions.openStore(configuration)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIFailure(
                message: "export directory \(directory) does not exist or is not a directory", exitStatus: 73)
        }
        let stamp = Timestamp.iso8601(Date()).replacingOccurrences(of: ":", with: "").replacingOccurrences(
            of: ".", with: "")
        let path = URL(fileURLWithPath: directory).appendingPathComponent(
            "jampasir-\(configuration.counterID)-\(stamp).csv"
        ).path
        let total = progress == nil ? 0 : try store.count()
        var written = 0
        do {
            let file = try AtomicFile(path: path)
            try file.write(CSVFormat.header)
            try store.forEachSession { session in
                try file.write(CSVFormat.row(session))
                written += 1
                if written % 10_000 == 0 { progress?(written, total) }
            }
            try file.commit()
        } catch let failure as AtomicFile.Failure {
            throw CLIFailure(message: "\(failure)", exitStatus: 73)
        }
        progress?(written, total)
        return "exported \(written) sessions to \(path)"
    }

    static func printProgress(done: Int, total: Int) {
        let percent = total == 0 ? 100 : done * 100 / total
        FileHandle.standardError.write(Data("\rexporting: \(done) / \(total) sessions (\(percent)%)\u{1B}[K".utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
