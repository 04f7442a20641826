import ArgumentParser
import Foundation
import JamPasirCore
import JamPasirPosix

/// Where an update stick keeps its repository, and the names of the update key's two halves.
enum UpdateStick {
    static let folder = "JAMPASIR/update"
    static let secretKeyName = "jampasir-update.secret.asc"
    static let publicKeyName = "jampasir-update.gpg"
    /// Where each counter keeps the public half (apt's Signed-By).
    static let counterKeyring = "/etc/jampasir/update-key.gpg"
    /// The packages a stick may carry: JamPasir's own, for the counters' architectures.
    static let packages: Set<String> = ["jampasir"]
    static let architectures: Set<String> = ["arm64", "amd64"]

    /// The fingerprint of the one secret key in a GnuPG home.
    static func fingerprint(_ environment: [String: String]) throws -> String {
        let listing = try DebianTool.gpg.run(
            ["--batch", "--with-colons", "--list-secret-keys"], environment: environment, what: "reading the update key")
        let prints = String(decoding: listing, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("fpr:") }.compactMap { $0.split(separator: ":", omittingEmptySubsequences: false).dropFirst(9).first }
        guard let first = prints.first else {
            throw CLIFailure(
                message: "the update key given holds no secret key: give its secret half (\(secretKeyName))", exitStatus: 65)
        }
        return String(first)
    }
}

/// `jampasir update-key new --to DIR`: the office's update key (OpenPGP, as apt checks it).
public struct UpdateKeyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "update-key", abstract: "The office's update key: it signs the update sticks the counters take.",
        subcommands: [New.self])

    public init() {}

    public struct New: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Make the office's update key: its secret half for the supervisor, its public half for each counter.",
            discussion: """
                Writes DIR/\(UpdateStick.secretKeyName) (the secret half, mode 0600: it stays with the \
                supervisor, on the hub or an office PC, never on a counter) and DIR/\(UpdateStick.publicKeyName) \
                (the public half: copy it to each counter once, as \(UpdateStick.counterKeyring)). Needs gpg.
                """)

        @Option(name: .customLong("to"), help: ArgumentHelp("Where to write the two files.", valueName: "dir"))
        var directory: String

        public init() {}

        public func run() throws {
            print(try write())
        }

        public func write() throws -> String {
            let secret = directory + "/" + UpdateStick.secretKeyName
            let publicKey = directory + "/" + UpdateStick.publicKeyName
            for path in [secret, publicKey] where FileManager.default.fileExists(atPath: path) {
                throw CLIFailure(message: "\(path) already exists: an update key is there already", exitStatus: 73)
            }
            let fingerprint = try withGnuPGHome { environment in
                let noPassphrase = ["--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
                try DebianTool.gpg.run(
                    noPassphrase + ["--quick-generate-key", "JamPasir update key", "ed25519", "sign", "never"],
                    environment: environment, what: "making the update key")
                let fingerprint = try UpdateStick.fingerprint(environment)
                let publicData = try DebianTool.gpg.run(
                    ["--batch", "--export", fingerprint], environment: environment, what: "exporting its public half")
                let secretData = try DebianTool.gpg.run(
                    noPassphrase + ["--armor", "--export-secret-keys", fingerprint], environment: environment,
                    what: "exporting its secret half")
                try Self.create(secret, secretData, mode: 0o600)
                try Self.create(publicKey, publicData, mode: 0o644)
                return fingerprint
            }
            return """
                update key \(fingerprint)
                wrote \(secret): the secret half; keep it with the supervisor (the hub or an office PC), never on a counter
                wrote \(publicKey): the public half; copy it to each counter once, as \(UpdateStick.counterKeyring)
                make an update stick: jampasir update-stick --to STICK --key \(secret) --deb jampasir_VERSION_arm64.deb
                """
        }

        static func create(_ path: String, _ data: Data, mode: Int) throws {
            guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: mode])
            else { throw CLIFailure(message: "cannot write \(path)", exitStatus: 73) }
        }
    }
}

/// `jampasir update-stick --to DIR --key SECRET --deb FILE…`: a small apt repository on the
/// supervisor's stick, signed with the office's update key.
public struct UpdateStickCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "update-stick",
        abstract: "Write a signed update of the counters' package onto a stick.",
        discussion: """
            Writes DIR/\(UpdateStick.folder)/: the packages, their Packages index and an InRelease \
            signed with the office's update key, as apt checks it on each counter (Signed-By its \
            \(UpdateStick.counterKeyring)). Only JamPasir's own package, one per architecture (arm64, \
            amd64). An update already on the stick is replaced; the counters' receipts are kept. \
            Needs gpg, apt-ftparchive (apt-utils) and dpkg-deb.
            """)

    @Option(name: .customLong("to"), help: ArgumentHelp("Where the stick is mounted.", valueName: "dir"))
    var directory: String

    @Option(name: .long, help: ArgumentHelp("The update key's secret half (jampasir update-key new).", valueName: "file"))
    var key: String

    @Option(name: .customLong("deb"), help: ArgumentHelp("A package to carry (repeat for each architecture).", valueName: "file"))
    var debs: [String] = []

    public init() {}

    public func validate() throws {
        if debs.isEmpty { throw ValidationError("give the package to carry: --deb jampasir_VERSION_ARCH.deb") }
    }

    struct Package {
        var file: String
        var name: String
        var version: String
        var architecture: String
        /// The name it has on the stick, as in a Debian pool (an epoch's colon spelled %3a).
        var poolName: String { "\(name)_\(version.replacingOccurrences(of: ":", with: "%3a"))_\(architecture).deb" }
    }

    public func run() throws {
        let packages = try debs.map(Self.read)
        var byArchitecture: [String: Package] = [:]
        for package in packages {
            if let other = byArchitecture[package.architecture] {
                throw CLIFailure(
                    message:
                        "two packages for \(package.architecture): \(other.file) (\(other.version)) and \(package.file) (\(package.version)); a stick carries one per architecture",
                    exitStatus: 65)
            }
            byArchitecture[package.architecture] = package
        }
        // The key first: nothing is written to the stick with a key that cannot sign.
        let fingerprint = try withGnuPGHome { environment in
            let noPassphrase = ["--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
            try DebianTool.gpg.run(noPassphrase + ["--import", key], environment: environment, what: "reading the update key \(key)")
            let fingerprint = try UpdateStick.fingerprint(environment)
            let update = try Self.updateFolder(in: directory)
            let staging = update + "/.staging-\(getpid())"
            try? FileManager.default.removeItem(atPath: staging)
            defer { try? FileManager.default.removeItem(atPath: staging) }
            guard mkdir(staging, 0o755) == 0 else {
                throw CLIFailure(message: SystemError("cannot create \(staging)").description, exitStatus: 73)
            }
            for package in packages {
                do {
                    try FileManager.default.copyItem(atPath: package.file, toPath: staging + "/" + package.poolName)
                } catch {
                    throw CLIFailure(
                        message: "cannot copy \(package.file) to the stick: \(error.localizedDescription)", exitStatus: 74)
                }
                print("copied \(package.poolName)".terminalSafe)
            }
            let index = try DebianTool.ftparchive.run(["packages", "."], in: staging, what: "indexing the packages")
            try Self.write(index, to: staging + "/Packages")
            let release = try DebianTool.ftparchive.run(
                [
                    "-o", "APT::FTPArchive::Release::Origin=JamPasir", "-o", "APT::FTPArchive::Release::Label=JamPasir update",
                    "-o", "APT::FTPArchive::Release::Suite=jampasir-update", "release", ".",
                ], in: staging, what: "writing the Release file")
            try Self.write(release, to: staging + "/Release")
            try DebianTool.gpg.run(
                noPassphrase + ["--local-user", fingerprint, "--clearsign", "--output", staging + "/InRelease", staging + "/Release"],
                environment: environment, what: "signing the update with the update key")
            try Self.replace(update, with: staging)
            return fingerprint
        }
        let update = directory + "/" + UpdateStick.folder
        let carried = packages.map { "\($0.architecture) \($0.version)" }.sorted().joined(separator: ", ")
        print("wrote \(update): \(carried), signed by update key \(fingerprint)".terminalSafe)
    }

    /// A package's own fields, as dpkg-deb reads them; refused unless it is JamPasir's, for a
    /// counter's architecture.
    static func read(_ file: String) throws -> Package {
        var info = stat()
        guard stat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw CLIFailure(message: "\(file): not a file", exitStatus: 66)
        }
        let fields = String(
            decoding: try DebianTool.dpkgDeb.run(
                ["--field", file, "Package", "Version", "Architecture"], what: "\(file): reading it as a Debian package"),
            as: UTF8.self)
        var values: [String: String] = [:]
        for line in fields.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        guard let name = values["Package"], let version = values["Version"], let architecture = values["Architecture"],
            !version.isEmpty, version.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".+~-:".contains($0)) })
        else {
            throw CLIFailure(message: "\(file): not a Debian package with a name, a version and an architecture", exitStatus: 65)
        }
        guard UpdateStick.packages.contains(name) else {
            throw CLIFailure(
                message: "\(file) is the package \(name), not jampasir: an update stick carries only JamPasir's own", exitStatus: 65)
        }
        guard UpdateStick.architectures.contains(architecture) else {
            throw CLIFailure(message: "\(file) is for \(architecture): the counters are arm64 or amd64", exitStatus: 65)
        }
        return Package(file: file, name: name, version: version, architecture: architecture)
    }

    /// DIR/JAMPASIR/update, made if needed; a link or a file in its place is refused.
    static func updateFolder(in stick: String) throws -> String {
        var path = stick
        for part in UpdateStick.folder.split(separator: "/") {
            path += "/\(part)"
            var info = stat()
            if lstat(path, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw CLIFailure(message: "\(path) exists and is not a folder (a link or a file)", exitStatus: 73)
                }
            } else if mkdir(path, 0o755) != 0 {
                throw CLIFailure(message: SystemError("cannot create \(path)").description, exitStatus: 73)
            }
        }
        return path
    }

    static func write(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw CLIFailure(message: "cannot write \(path)", exitStatus: 74)
        }
    }

    /// The staged update takes the old one's place: its packages and indexes first, the signed
    /// InRelease last (a stick pulled out before that carries no update a counter would take),
    /// and everything of the old update but the counters' receipts goes. Synced before it says so.
    static func replace(_ update: String, with staging: String) throws {
        let fileManager = FileManager.default
        let staged = (try? fileManager.contentsOfDirectory(atPath: staging)) ?? []
        do {
            for name in try fileManager.contentsOfDirectory(atPath: update)
            where name != "receipts" && !name.hasPrefix(".staging-") {
                try fileManager.removeItem(atPath: update + "/" + name)
            }
            for name in staged.filter({ $0 != "InRelease" }) + ["InRelease"] {
                guard rename(staging + "/" + name, update + "/" + name) == 0 else {
                    throw CLIFailure(message: SystemError("cannot move \(name) into \(update)").description, exitStatus: 74)
                }
            }
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw CLIFailure(message: "cannot replace the update in \(update): \(error.localizedDescription)", exitStatus: 74)
        }
        sync()  // the stick's file system whole: the supervisor pulls it next
    }
}
