import ArgumentParser
import Foundation
import Glibc
import JamPasirConfig
import JamPasirCore
import JamPasirPosix

/// Where an update stick keeps its repository, and the names of the update key's two halves.
enum UpdateStick {
    static let folder = "JAMPASIR/update"
    static let secretKeyName = "jampasir-update.secret.asc"
    static let publicKeyName = "jampasir-update.gpg"
    /// Where each counter keeps the public half (apt's Signed-By).
    static let counterKeyring = Configuration.defaultUpdateKeyring
    /// The packages a stick may carry: JamPasir's own, for the counters' architectures.
    static let packages: Set<String> = ["jampasir"]
    static let architectures: Set<String> = ["arm64", "amd64"]

    /// The time the update key is made at and signs at (gpg's `--faked-system-time`, frozen):
    /// 2020-01-01. A counter's clock is not trusted (a kit without an RTC, a clock years
    /// behind), and apt's verifier on Debian 13 (sqv) refuses a key or a signature "from the
    /// future"; dated before any clock a counter can have (systemd never sets one before its own
    /// build), the signature is judged by the key alone. What keeps an old stick from taking a
    /// counter back is the version rule (`UPd5`), not a date.
    static let keyTime = "20200101T000000!"

    /// The fingerprint of the one secret key in a GnuPG home, and the time it was made (seconds
    /// since 1970, gpg's `--faked-system-time` for its signatures); a file of none or of several is
    /// refused.
    static func secretKey(_ environment: [String: String]) throws -> (fingerprint: String, created: String) {
        let lines = try secretKeyListing(environment)
        guard let record = lines.first(where: { $0.hasPrefix("sec:") })?.split(separator: ":", omittingEmptySubsequences: false),
            record.count > 5, !record[5].isEmpty, record[5].allSatisfy(\.isNumber)
        else {
            throw CLIFailure(message: "the update key gives no time it was made at", exitStatus: 65)
        }
        return (try fingerprint(environment), String(record[5]))
    }

    private static func secretKeyListing(_ environment: [String: String]) throws -> [Substring] {
        let listing = try DebianTool.gpg.run(
            ["--batch", "--with-colons", "--list-secret-keys"], environment: environment, what: "reading the update key")
        return String(decoding: listing, as: UTF8.self).split(separator: "\n")
    }

    /// The fingerprint of the one secret key in a GnuPG home; a file of none or of several is refused.
    static func fingerprint(_ environment: [String: String]) throws -> String {
        let lines = try secretKeyListing(environment)
        // A primary key's `sec` record, then its `fpr` record (field 10).
        guard lines.filter({ $0.hasPrefix("sec:") }).count == 1,
            let index = lines.firstIndex(where: { $0.hasPrefix("sec:") }),
            let record = lines[(index + 1)...].first(where: { $0.hasPrefix("fpr:") }),
            let fingerprint = record.split(separator: ":", omittingEmptySubsequences: false).dropFirst(9).first,
            !fingerprint.isEmpty
        else {
            throw CLIFailure(
                message: "the update key given is not one secret key: give the secret half \(secretKeyName) from jampasir update-key new",
                exitStatus: 65)
        }
        return String(fingerprint)
    }

    /// Creates `path` with `data` and exactly `mode`, never over a file or through a link.
    static func createExclusive(_ path: String, _ data: Data, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CLIFailure(message: SystemError("cannot create \(path)").description, exitStatus: 73) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fchmod(fd, mode) == 0, fsync(fd) == 0 else {
            throw CLIFailure(message: SystemError("cannot write \(path)").description, exitStatus: 74)
        }
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
                    noPassphrase + [
                        "--faked-system-time", UpdateStick.keyTime, "--quick-generate-key", "JamPasir update key", "ed25519",
                        "sign", "never",
                    ],
                    environment: environment, what: "making the update key")
                let fingerprint = try UpdateStick.fingerprint(environment)
                let publicData = try DebianTool.gpg.run(
                    ["--batch", "--export", fingerprint], environment: environment, what: "exporting its public half")
                let secretData = try DebianTool.gpg.run(
                    noPassphrase + ["--armor", "--export-secret-keys", fingerprint], environment: environment,
                    what: "exporting its secret half")
                try UpdateStick.createExclusive(secret, secretData, mode: 0o600)
                try UpdateStick.createExclusive(publicKey, publicData, mode: 0o644)
                return fingerprint
            }
            return """
                update key \(fingerprint)
                wrote \(secret): the secret half; keep it with the supervisor (the hub or an office PC), never on a counter
                wrote \(publicKey): the public half; copy it to each counter once, as \(UpdateStick.counterKeyring)
                make an update stick: jampasir update-stick --to STICK --key \(secret) --deb jampasir_VERSION_arm64.deb
                """
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
            amd64). The new update is made beside the stick's earlier one and takes its place whole; \
            the counters' receipts are kept. Needs gpg, apt-ftparchive (apt-utils) and dpkg-deb.
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

    struct Package: Equatable {
        var file: String
        var name: String
        var version: String
        var architecture: String
        /// Its name on the stick, as in a Debian pool: the version without its epoch.
        var poolName: String {
            let upstream: Substring = version.split(separator: ":").last ?? ""
            return name + "_" + upstream + "_" + architecture + ".deb"
        }
    }

    public func run() throws {
        let packages = try debs.map { try Self.read(absolute($0)) }
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
        let secret = absolute(key)
        // The key first: nothing is written to the stick with a key that cannot sign.
        let fingerprint = try withGnuPGHome { environment in
            let noPassphrase = ["--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
            try DebianTool.gpg.run(
                noPassphrase + ["--import", "--", secret], environment: environment, what: "reading the update key \(secret)")
            let (fingerprint, created) = try UpdateStick.secretKey(environment)
            let stick = try StickFolders(absolute(directory))
            let staging = try stick.freshStaging()
            for package in packages {
                let staged = staging + "/" + package.poolName
                do {
                    try UpdateStick.createExclusive(staged, try Data(contentsOf: URL(fileURLWithPath: package.file)), mode: 0o644)
                } catch let failure as CLIFailure {
                    throw failure
                } catch {
                    throw CLIFailure(message: "cannot read \(package.file): \(error.localizedDescription)", exitStatus: 66)
                }
                // What is indexed is the copy: it must still be the package that was checked.
                guard try Self.read(staged).version == package.version else {
                    throw CLIFailure(message: "\(package.file) changed while it was copied", exitStatus: 74)
                }
                print("copied \(package.poolName)".terminalSafe)
            }
            let index = try DebianTool.ftparchive.run(["packages", "."], in: staging, what: "indexing the packages")
            try UpdateStick.createExclusive(staging + "/Packages", index, mode: 0o644)
            let release = try DebianTool.ftparchive.run(
                [
                    "-o", "APT::FTPArchive::Release::Origin=JamPasir", "-o", "APT::FTPArchive::Release::Label=JamPasir update",
                    "-o", "APT::FTPArchive::Release::Suite=jampasir-update", "release", ".",
                ], in: staging, what: "writing the Release file")
            try UpdateStick.createExclusive(staging + "/Release", release, mode: 0o644)
            // Signed at the time the key was made: never "in the future" for a counter (`keyTime`).
            try DebianTool.gpg.run(
                noPassphrase + [
                    "--faked-system-time", created + "!", "--local-user", fingerprint, "--clearsign", "--output",
                    staging + "/InRelease", "--", staging + "/Release",
                ], environment: environment, what: "signing the update with the update key")
            try stick.takeTheUpdate(from: staging)
            return fingerprint
        }
        let carried = packages.map { "\($0.architecture) \($0.version)" }.sorted().joined(separator: ", ")
        print("wrote \(directory)/\(UpdateStick.folder): \(carried), signed by update key \(fingerprint)".terminalSafe)
    }

    /// A path as given, made absolute: no path reaches a program as one of its options.
    func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

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

    /// JAMPASIR/update on the stick and its neighbours: the new update is made in `update.new`
    /// and takes the old one's place by two renames (the old one set aside as `update.old`
    /// meanwhile), so a stick pulled out at any moment carries the old update or the new one
    /// whole, never a mix; a run after such a pull puts the set-aside one back first.
    struct StickFolders {
        let update: String
        var new: String { update + ".new" }
        var old: String { update + ".old" }

        /// JAMPASIR, made if needed; a link or a file in its place is refused.
        init(_ stick: String) throws {
            let jampasir = stick + "/JAMPASIR"
            try Self.requireFolder(jampasir, create: true)
            update = jampasir + "/update"
            if !Self.exists(update) && Self.exists(old) {
                try Self.rename(old, update)  // pulled out between the two renames: the old one is whole
            }
            if Self.exists(update) { try Self.requireFolder(update, create: false) }
        }

        /// An empty `update.new`, with the counters' receipts copied from the update it replaces.
        func freshStaging() throws -> String {
            for leftover in [new, old] where Self.exists(leftover) {
                try? FileManager.default.removeItem(atPath: leftover)
            }
            try Self.requireFolder(new, create: true)
            let receipts = update + "/receipts"
            var info = stat()
            if lstat(receipts, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                try Self.requireFolder(new + "/receipts", create: true)
                for name in (try? FileManager.default.contentsOfDirectory(atPath: receipts)) ?? [] {
                    // Receipts are small plain files a counter wrote; anything else stays behind.
                    guard lstat(receipts + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
                        info.st_size < 1 << 20, let data = FileManager.default.contents(atPath: receipts + "/" + name)
                    else { continue }
                    try UpdateStick.createExclusive(new + "/receipts/" + name, data, mode: 0o644)
                }
            }
            return new
        }

        /// Synced, then the new update in the old one's place.
        func takeTheUpdate(from staging: String) throws {
            sync()
            if Self.exists(update) { try Self.rename(update, old) }
            try Self.rename(staging, update)
            sync()
            try? FileManager.default.removeItem(atPath: old)
            sync()  // the stick's file system whole: the supervisor pulls it next
        }

        static func exists(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0
        }

        static func requireFolder(_ path: String, create: Bool) throws {
            var info = stat()
            if lstat(path, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw CLIFailure(message: "\(path) exists and is not a folder (a link or a file)", exitStatus: 73)
                }
            } else if !create || mkdir(path, 0o755) != 0 {
                throw CLIFailure(message: SystemError("cannot create \(path)").description, exitStatus: 73)
            }
        }

        static func rename(_ from: String, _ to: String) throws {
            guard Glibc.rename(from, to) == 0 else {
                throw CLIFailure(message: SystemError("cannot rename \(from) to \(to)").description, exitStatus: 74)
            }
        }
    }
}
