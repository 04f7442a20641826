import Foundation

/// One of Debian's own programs that an update stick is made with (GnuPG signs, apt-ftparchive
/// indexes, dpkg-deb reads a package's fields): found on PATH, run with arguments, never through
/// a shell. Its output goes to files, so neither stream can fill and stall it.
struct DebianTool {
    /// The command, and the Debian package that has it (named when it is missing).
    let command: String
    let package: String

    static let gpg = DebianTool(command: "gpg", package: "gpg")
    static let gpgconf = DebianTool(command: "gpgconf", package: "gpgconf")
    static let ftparchive = DebianTool(command: "apt-ftparchive", package: "apt-utils")
    static let dpkgDeb = DebianTool(command: "dpkg-deb", package: "dpkg")
    static let dpkg = DebianTool(command: "dpkg", package: "dpkg")
    static let dpkgQuery = DebianTool(command: "dpkg-query", package: "dpkg")
    static let aptGet = DebianTool(command: "apt-get", package: "apt")
    static let aptCache = DebianTool(command: "apt-cache", package: "apt")
    static let systemctl = DebianTool(command: "systemctl", package: "systemd")

    var path: String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs it and returns its standard output; a failure names `what` was being done and what
    /// the program said.
    @discardableResult
    func run(
        _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:], what: String
    ) throws(CLIFailure) -> Data {
        let ran = try execute(arguments, in: directory, environment: environment, what: what)
        guard ran.status == 0 else { throw failure(ran, what: what) }
        return ran.output
    }

    /// Runs it and returns all it said, standard output then standard error (apt's warnings).
    @discardableResult
    func runCollecting(_ arguments: [String], environment: [String: String] = [:], what: String) throws(CLIFailure)
        -> String
    {
        let ran = try execute(arguments, in: nil, environment: environment, what: what)
        guard ran.status == 0 else { throw failure(ran, what: what) }
        return String(decoding: ran.output, as: UTF8.self) + "\n" + ran.said
    }

    /// Whether it leaves with 0 (`dpkg --compare-versions`); 1 is false, anything else a failure.
    func succeeds(_ arguments: [String], what: String) throws(CLIFailure) -> Bool {
        let ran = try execute(arguments, in: nil, environment: [:], what: what)
        guard ran.status <= 1 else { throw failure(ran, what: what) }
        return ran.status == 0
    }

    private func failure(_ ran: (status: Int32, output: Data, said: String), what: String) -> CLIFailure {
        CLIFailure(
            message: "\(what): \(command) failed (exit \(ran.status))"
                + (ran.said.isEmpty ? "" : ": \(ran.said.split(separator: "\n").suffix(3).joined(separator: " / "))"),
            exitStatus: 70)
    }

    private func execute(_ arguments: [String], in directory: String?, environment: [String: String], what: String)
        throws(CLIFailure) -> (status: Int32, output: Data, said: String)
    {
        guard let path else {
            throw CLIFailure(message: "\(command) not found (\(what)): sudo apt install \(package)", exitStatus: 69)
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("jampasir-\(command)-\(UUID())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            // Its own user's only: a secret key's export passes through `out`.
            try FileManager.default.createDirectory(
                at: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let out = scratch.appendingPathComponent("out")
            let err = scratch.appendingPathComponent("err")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            FileManager.default.createFile(atPath: err.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try process.run()
            process.waitUntilExit()
            let said = String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return (process.terminationStatus, try Data(contentsOf: out), said)
        } catch {
            throw CLIFailure(message: "\(what): cannot run \(command): \(error)", exitStatus: 70)
        }
    }
}

/// A GnuPG home of its own for one command (the office's keys never touch a user's keyring),
/// removed afterwards with the agent it started.
func withGnuPGHome<T>(_ body: (_ environment: [String: String]) throws -> T) throws -> T {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("jampasir-gnupg-\(UUID())").path
    guard mkdir(home, 0o700) == 0 else {
        throw CLIFailure(message: "cannot create a GnuPG home in \(home)", exitStatus: 73)
    }
    let environment = ["GNUPGHOME": home]
    defer {
        _ = try? DebianTool.gpgconf.run(["--kill", "all"], environment: environment, what: "stopping gpg's agents")
        _ = try? DebianTool.gpgconf.run(["--remove-socketdir"], environment: environment, what: "removing gpg's sockets")
        try? FileManager.default.removeItem(atPath: home)
    }
    return try body(environment)
}
