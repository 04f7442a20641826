import ArgumentParser
import Crypto
import Foundation
import Glibc
import JamPasirConfig
import JamPasirCore
import JamPasirPosix
import JamPasirMount
import JamPasirReports
import JamPasirStore

/// `jampasir update-install --from STICK`: the counter's side of the supervisor's update stick.
/// The stick's repository is copied onto the counter, checked by apt against the office's update
/// key alone, and a newer JamPasir for this counter's architecture is installed from that copy
/// alone; anything else is refused with a numbered reason (`UPd1`…`UPd6`, the display's codes).
public struct UpdateInstallCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "update-install",
        abstract: "Install the update on a supervisor's stick (as root, on the counter).",
        discussion: """
            Copies STICK/\(UpdateStick.folder) onto the counter, lets apt check it with the office's \
            update key only (update.keyring, \(UpdateStick.counterKeyring), from jampasir update-key new; the \
            Release file's date is not checked, for counters whose clock is wrong) and installs \
            JamPasir from that copy only, if it is newer than the installed one and for this \
            counter's architecture. The installed and the previous package are kept in \
            update.state (\(Configuration.defaultUpdateState)). A receipt (from which version to which, when, the result) \
            is written there and, if the stick is writable, to \
            STICK/\(UpdateStick.folder)/receipts/<counter id>. On a counter, jampasird asks for this \
            itself (jampasir-update.socket, --serve) when an authorised stick carries an update and \
            no session runs.
            When jampasird asked (--serve), the new version must report ready within \
            update.start_timeout_seconds (--trial, jampasir-update-trial.service), or the previous \
            version kept on the counter is installed again (--rollback does that by hand); the \
            rollback is in the receipts and the audit chain.
            Refusals: UPd1 no update key on this counter, UPd2 the stick's update cannot be read, \
            UPd3 not signed by the office's update key (or changed after signing), UPd4 no JamPasir \
            for this counter's architecture, UPd5 not newer than the installed version, UPd6 apt \
            could not install it, UPd9 a version this counter rolled back (it is not taken again).
            """)

    @Option(name: .customLong("from"), help: ArgumentHelp("Where the stick is mounted.", valueName: "dir"))
    var stick: String?

    @Flag(help: "Finish an update a power cut interrupted (jampasir-update-recover.service, at boot).")
    var recover = false

    @Flag(help: "Take one request from jampasird on standard input (jampasir-update.socket).")
    var serve = false

    @Flag(help: "Install the previous version kept on this counter again, in place of the installed one.")
    var rollback = false

    @Flag(help: "The new version must report ready, or the previous one comes back (jampasir-update-trial.service).")
    var trial = false

    @Option(help: ArgumentHelp("With --serve: where the mount helper mounts sticks.", valueName: "dir"))
    var mediaDir = "/run/jampasir-media"

    @Option(help: ArgumentHelp("The office's update key, public half (default: update.keyring).", valueName: "file"))
    var keyring: String?

    @Option(help: ArgumentHelp("Where the counter keeps its updates and receipts (default: update.state).", valueName: "dir"))
    var state: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Configuration file (default: \(Configuration.defaultPath) if present).", valueName: "path"))
    var config: String?

    public init() {}

    public func validate() throws {
        guard [stick != nil, recover, serve, rollback, trial].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of --from STICK, --recover, --rollback, --trial or --serve")
        }
    }

    public func run() throws {
        guard geteuid() == 0 else {
            throw CLIFailure(message: "jampasir update-install installs packages: run it as root (sudo)", exitStatus: 77)
        }
        let configuration: Configuration
        do {
            configuration = try loadConfiguration(config)
        } catch where trial {
            // The new version may read the old file differently: the trial, which may have to
            // put the old version back, goes on with what it can.
            print("update: \("\(error)".terminalSafe); the trial goes on with the default settings")
            configuration = Configuration()
        }
        // Each line written as it is said (no buffer): a power cut or a kill mid-rollback loses none.
        let say: (String) -> Void =
            serve ? { UpdateServe.say("step", $0) } : { FileHandle.standardOutput.write(Data(($0.terminalSafe + "\n").utf8)) }
        let installer = UpdateInstaller(
            keyring: URL(fileURLWithPath: keyring ?? configuration.updateKeyring).standardizedFileURL.path,
            state: URL(fileURLWithPath: state ?? configuration.updateState).standardizedFileURL.path, say: say,
            progress: serve ? { UpdateServe.say("progress", String($0)) } : { _ in }, startTimeout: configuration.updateStartTimeout)
        if serve {
            try UpdateServe.answer(installer: installer, mediaDirectory: mediaDir, counterID: configuration.counterID)
            return
        }
        if trial {
            // Its own journal lines (no socket): the rollback is what a technician reads later.
            installer.trial(counterID: configuration.counterID)
            return
        }
        let lock: StateLock
        do {
            lock = try StateLock(installer.state)
        } catch {
            throw CLIFailure(message: "update refused (UPd\(error.code)): \(error.reason)", exitStatus: 75)
        }
        defer { lock.release() }
        let receipt: UpdateReceipt
        let refusal: UpdateRefusal?
        if stick != nil || rollback,
            (try? DebianTool.systemctl.succeeds(["is-active", "--quiet", "jampasird.service"], what: "asking systemd")) == true
        {
            // apt would restart jampasird (the package's scripts do), cutting a session.
            throw CLIFailure(
                message: rollback
                    ? "jampasird is running: stop it first (systemctl stop jampasird), between sessions"
                    : "jampasird is running: plug the stick in instead (the counter takes the update between sessions), or stop jampasird first (systemctl stop jampasird)",
                exitStatus: 75)
        }
        if rollback {
            (receipt, refusal) = installer.rollBack(
                counterID: configuration.counterID, because: "asked by hand (jampasir update-install --rollback)")
            installer.keep(receipt, onStick: nil)
        } else if let stick {
            let stickFolder = URL(fileURLWithPath: stick).standardizedFileURL.path + "/" + UpdateStick.folder
            (receipt, refusal) = installer.install(from: stickFolder, counterID: configuration.counterID)
            installer.keep(receipt, onStick: stickFolder)
        } else {
            guard let recovered = installer.recover(counterID: configuration.counterID) else {
                print("update: no update was interrupted; nothing to do")
                return
            }
            (receipt, refusal) = recovered
            installer.keep(receipt, onStick: nil)
        }
        if let refusal {
            throw CLIFailure(message: "update refused (UPd\(refusal.code)): \(refusal.reason)", exitStatus: 1)
        }
        if rollback {
            print("update: jampasir \(receipt.from ?? "none") → \(receipt.to ?? "none"): rolled back".terminalSafe)
        } else if receipt.result == UpdateReceipt.current {
            print("update: jampasir \(receipt.to ?? "none") is already installed; nothing to do".terminalSafe)
        } else {
            print("update: jampasir \(receipt.from ?? "none") → \(receipt.to ?? "none") installed".terminalSafe)
        }
    }
}

/// `--serve`: one request from jampasird over jampasir-update.socket (standard input and output):
/// `install <mount point>` (a stick the mount helper mounted). Answers `step <text>` lines as it
/// goes (and `progress <per cent>` while it copies the package), then one of `installed <from> <to>`, `current <version>`, `refused <code> <reason>`. The
/// package's scripts leave jampasird running (JAMPASIR_UPDATE_NO_RESTART): it unmounts the stick
/// and restarts into the new version itself.
enum UpdateServe {
    static func say(_ kind: String, _ text: String) {
        // A daemon that hung up loses the line; the install goes on.
        _ = try? FileHandle.standardOutput.write(contentsOf: Data((kind + " " + text.terminalSafe.replacing("\n", with: " ") + "\n").utf8))
    }

    static func answer(installer: UpdateInstaller, mediaDirectory: String, counterID: String) throws {
        setenv("JAMPASIR_UPDATE_NO_RESTART", "1", 1)
        signal(SIGPIPE, SIG_IGN)  // as systemd sets it for services; also when run by hand
        // One short line, within seconds: a silent or endless client holds nothing.
        let request = UnixSocket.readLine(0, limit: 4096, deadline: .now + .seconds(5)) ?? ""
        let words = request.split(separator: " ", maxSplits: 1).map(String.init)
        guard words.count == 2, words[0] == "install", let stick = stickPath(words[1], in: mediaDirectory) else {
            say("refused", "2 the daemon's request was not `install <a stick mounted under \(mediaDirectory)>`")
            return
        }
        let lock: StateLock
        do {
            // Another update, or a rollback, finishes first (jampasird waits longer than this).
            lock = try StateLock(installer.state, waitingUpTo: .seconds(15 * 60))
        } catch {
            say("refused", "\(error.code) \(error.reason)")
            return
        }
        defer { lock.release() }
        let folder = stick + "/" + UpdateStick.folder
        // On trial from before jampasird hears of it: it restarts into the new version at once.
        let asking = StartWatch.jampasird()?.invocation
        let (receipt, refusal) = installer.install(from: folder, counterID: counterID, trialAfter: asking)
        installer.keep(receipt, onStick: folder)
        if let refusal {
            say("refused", "\(refusal.code) \(refusal.reason)")
        } else if receipt.result == UpdateReceipt.current {
            say("current", receipt.to ?? "none")
        } else {
            say("installed", "\(receipt.from ?? "none") \(receipt.to ?? "none")")
            if FileManager.default.fileExists(atPath: installer.trialMark) {
                _ = try? DebianTool.systemctl.run(
                    ["start", "--no-block", "jampasir-update-trial.service"], what: "starting the update's trial")
            } else {
                FileHandle.standardError.write(
                    Data("update: no trial of the new version (systemd could not be asked about jampasird, or \(installer.trialMark) could not be written)\n".utf8))
            }
        }
    }

    /// A mount point directly under the media directory, and nothing else.
    static func stickPath(_ path: String, in mediaDirectory: String) -> String? {
        let prefix = mediaDirectory.hasSuffix("/") ? mediaDirectory : mediaDirectory + "/"
        guard path.hasPrefix(prefix) else { return nil }
        let name = path.dropFirst(prefix.count)
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", name.count <= 255 else { return nil }
        return path
    }
}

/// Why an update was not installed; `code` is the display's `UPd` number.
struct UpdateRefusal: Error, Equatable {
    var code: Int
    var reason: String

    static func noKey(_ reason: String) -> Self { Self(code: 1, reason: reason) }
    static func unreadable(_ reason: String) -> Self { Self(code: 2, reason: reason) }
    static func notSigned(_ reason: String) -> Self { Self(code: 3, reason: reason) }
    static func noPackage(_ reason: String) -> Self { Self(code: 4, reason: reason) }
    static func notNewer(_ reason: String) -> Self { Self(code: 5, reason: reason) }
    static func notInstalled(_ reason: String) -> Self { Self(code: 6, reason: reason) }
    static func rolledBack(_ reason: String) -> Self { Self(code: 9, reason: reason) }
}

/// The update's steps on the counter. The stick's signed index is copied first and checked by
/// apt; then only the one package it lists for this counter is copied, its SHA-256 compared with
/// the signed index as it is read. apt installs from the counter's copy, so a stick pulled out
/// or changed afterwards changes nothing, and nothing the index does not list is ever kept.
struct UpdateInstaller {
    static let package = "jampasir"
    /// How large the index and the package may be.
    static let indexLimit = 4 << 20
    static let packageLimit = 256 << 20

    let keyring: String
    let state: String
    let say: (String) -> Void
    /// Per cent of the package copied from the stick (the counter's display shows it).
    var progress: (Int) -> Void = { _ in }
    /// How long a new version may take to report ready (`update.start_timeout_seconds`).
    var startTimeout: Duration = .seconds(90)

    var incoming: String { state + "/incoming" }
    var installed: String { state + "/installed" }
    var previous: String { state + "/previous" }
    var receipts: String { state + "/receipts" }
    var aptFolder: String { state + "/apt" }
    /// Present while dpkg installs (`Interrupted`): what a power cut leaves for --recover.
    var installing: String { state + "/installing" }

    /// The receipt, and why nothing was installed (nil when the update is installed, or was
    /// already). With `trialAfter` (the start of jampasird that asked), the new version is put on
    /// trial before the install's mark goes: no power cut leaves it installed and untried. The
    /// caller holds the `StateLock`.
    func install(from stickFolder: String, counterID: String, trialAfter invocation: String? = nil, at now: Date = Date())
        -> (UpdateReceipt, UpdateRefusal?)
    {
        let receipt = UpdateReceipt(counterID: counterID, from: nil, to: nil, at: now, result: UpdateReceipt.installed)
        return run(receipt) { receipt, dpkgBegan throws in
            try installSteps(from: stickFolder, &receipt, dpkgBegan: &dpkgBegan)
            if let invocation, dpkgBegan, let to = receipt.to { try? beginTrial(of: to, invocation: invocation, counterID: counterID) }
        }
    }

    /// The version kept in `previous` installed again, in place of the one that is installed
    /// (`because`: why, in the receipt). The version given up is not kept. The caller holds the
    /// `StateLock`.
    func rollBack(counterID: String, because reason: String, at now: Date = Date()) -> (UpdateReceipt, UpdateRefusal?) {
        let receipt = UpdateReceipt(
            counterID: counterID, from: try? installedVersion(), to: nil, at: now,
            result: UpdateReceipt.rolledBack + ": " + reason)
        return run(receipt) { receipt, dpkgBegan throws in
            try rollBackSteps(&receipt, dpkgBegan: &dpkgBegan)
        }
    }

    /// Runs an install's steps: a refusal goes into the receipt; the mark and the package being
    /// installed stay only when dpkg stopped halfway.
    private func run(_ receipt: UpdateReceipt, _ steps: (inout UpdateReceipt, inout Bool) throws -> Void)
        -> (UpdateReceipt, UpdateRefusal?)
    {
        var receipt = receipt
        var refusal: UpdateRefusal?
        var dpkgBegan = false
        do {
            try steps(&receipt, &dpkgBegan)
        } catch let refused as UpdateRefusal {
            refusal = refused
        } catch {
            refusal = .notInstalled("\(error)")
        }
        if dpkgBegan, refusal != nil, (try? installedVersion()) == nil {
            // dpkg stopped halfway (a maintainer script failed, the disk filled): the mark and
            // the checked package stay for jampasir-update-recover.service.
            refusal?.reason +=
                "; jampasir is left half-installed: it is finished at the next start (jampasir-update-recover.service), or now with jampasir update-install --recover"
        } else {
            Self.remove(installing)
            // What was not installed is not kept.
            try? FileManager.default.removeItem(atPath: incoming)
        }
        try? FileManager.default.removeItem(atPath: aptFolder)  // apt's lists are remade each time
        if let refusal { receipt.result = "refused UPd\(refusal.code): \(refusal.reason)" }
        return (receipt, refusal)
    }

    private func installSteps(from stickFolder: String, _ receipt: inout UpdateReceipt, dpkgBegan: inout Bool) throws {
        try checkKeyring()
        try copyIndex(stickFolder)
        let apt = try AptConfinement(folder: aptFolder, repository: incoming, keyring: keyring)
        say("checking the update with the office's update key")
        let offered = try apt.offered(Self.package)
        receipt.to = offered.version
        let current = try installedVersion()
        receipt.from = current
        guard try Self.isNewer(offered.version, than: current) else {
            if offered.version == current {
                receipt.result = UpdateReceipt.current
                return
            }
            throw UpdateRefusal.notNewer(
                "the stick carries jampasir \(offered.version), older than the installed \(current): a counter is never downgraded by a stick")
        }
        guard !givenUp().contains(offered.version) else {
            throw UpdateRefusal.rolledBack(
                "jampasir \(offered.version) was rolled back on this counter (\(givenUpPath)): it is not installed again; a newer build is")
        }
        say("copying \(offered.file) from the stick")
        try copy(
            stickFolder + "/" + offered.file, to: incoming + "/" + offered.file, limit: Self.packageLimit,
            sha256: offered.sha256, progress: progress)
        say("installing jampasir \(offered.version) (was \(current))")
        try dpkgInstall(offered, from: current, with: apt, dpkgBegan: &dpkgBegan)
    }

    private func rollBackSteps(_ receipt: inout UpdateReceipt, dpkgBegan: inout Bool) throws {
        try checkKeyring()
        let current = try installedVersion()
        guard FileManager.default.fileExists(atPath: previous + "/InRelease") else {
            throw UpdateRefusal.notInstalled(
                "no previous version is kept on this counter (\(previous)): the first update after an install by hand has none; a technician installs one with apt")
        }
        let apt = try AptConfinement(folder: aptFolder, repository: previous, keyring: keyring)
        say("checking the kept version with the office's update key")
        let offered = try apt.offered(Self.package)
        receipt.to = offered.version
        guard try Self.sha256(of: previous + "/" + offered.file) == offered.sha256 else {
            throw UpdateRefusal.notSigned("\(previous)/\(offered.file) is not the package its signed index names")
        }
        guard offered.version != current else {
            throw UpdateRefusal.notNewer("jampasir \(current), the version kept as previous, is the one installed")
        }
        // Given up first: whatever happens next, no stick brings it back.
        let given = givenUp()
        if !given.contains(current) {
            try Self.replace(givenUpPath, (given + [current]).map { $0 + "\n" }.joined())
        }
        say("installing jampasir \(offered.version) again (was \(current))")
        try dpkgInstall(offered, from: current, with: apt, rollback: true, dpkgBegan: &dpkgBegan)
    }

    /// The versions rolled back on this counter, one a line: never taken again from a stick.
    var givenUpPath: String { state + "/rolled-back" }

    func givenUp() -> [String] {
        guard let data = FileManager.default.contents(atPath: givenUpPath), data.count <= 64 << 10 else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// apt installs `offered` from the checked copy (`incoming`, or `previous` for a rollback),
    /// which is then kept as `installed`. Until the mark is removed, a power cut mid-install is
    /// finished at the next boot (--recover).
    private func dpkgInstall(
        _ offered: (version: String, file: String, sha256: String), from current: String, with apt: AptConfinement,
        rollback: Bool = false, dpkgBegan: inout Bool
    ) throws {
        let interrupted = Interrupted(
            from: current, to: offered.version, file: offered.file, sha256: offered.sha256, rollback: rollback)
        try Self.replace(installing, interrupted.text)
        dpkgBegan = true
        try apt.install(Self.package, version: offered.version, downgrade: rollback)
        guard try installedVersion() == offered.version else {
            throw UpdateRefusal.notInstalled("apt finished but jampasir \(offered.version) is not the installed version")
        }
        rollback ? keepRolledBack() : keepPackages()
    }

    func checkKeyring() throws {
        var info = stat()
        guard stat(keyring, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0,
            access(keyring, R_OK) == 0
        else {
            throw UpdateRefusal.noKey(
                "no update key on this counter at \(keyring): copy the office's \(UpdateStick.publicKeyName) (jampasir update-key new) there once")
        }
    }

    /// What an install in progress leaves on disk: which package, checked by which hash.
    struct Interrupted: Equatable {
        var from: String
        var to: String
        var file: String
        var sha256: String
        /// A rollback: the package is the one kept in `previous`.
        var rollback = false

        var text: String {
            "from: \(from)\nto: \(to)\nfile: \(file)\nsha256: \(sha256)\n" + (rollback ? "kind: rollback\n" : "")
        }

        init(from: String, to: String, file: String, sha256: String, rollback: Bool = false) {
            (self.from, self.to, self.file, self.sha256, self.rollback) = (from, to, file, sha256, rollback)
        }

        init?(parsing text: String) {
            guard let values = UpdateInstaller.markFields(text) else { return nil }
            let kind = values["kind"]
            guard let from = values["from"], let to = values["to"], let file = values["file"], let sha256 = values["sha256"],
                values.count == (kind == nil ? 4 : 5), kind == nil || kind == "rollback", UpdateInstaller.isPackageName(file),
                sha256.count == 64
            else { return nil }
            self.init(from: from, to: to, file: file, sha256: sha256, rollback: kind != nil)
        }
    }

    /// A mark's `name: value` lines, each name once; nil for anything else.
    static func markFields(_ text: String) -> [String: String]? {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, values[parts[0]] == nil else { return nil }
            values[parts[0]] = parts[1]
        }
        return values
    }

    /// After a power cut during an install (`installing` is still there): dpkg finishes
    /// configuring jampasir, or installs the package it was installing again from the counter's
    /// copy (its hash checked again); then `dpkg --audit jampasir` must be clean. Nil when no
    /// install was interrupted.
    func recover(counterID: String, at now: Date = Date()) -> (UpdateReceipt, UpdateRefusal?)? {
        guard let marker = FileManager.default.contents(atPath: installing) else { return nil }
        var receipt = UpdateReceipt(counterID: counterID, from: nil, to: nil, at: now, result: UpdateReceipt.installed)
        let interrupted = Interrupted(parsing: String(decoding: marker, as: UTF8.self))
        (receipt.from, receipt.to) = (interrupted?.from, interrupted?.to)
        say("an update to jampasir \(receipt.to ?? "?") was interrupted (power cut?): finishing it")
        let environment = ["DEBIAN_FRONTEND": "noninteractive", "JAMPASIR_UPDATE_NO_RESTART": "1"]
        let options = ["--force-confdef", "--force-confold"]
        func settled() -> String? { (try? installedVersion()) }
        var version = settled()
        if version == nil {
            say("dpkg --configure jampasir")
            _ = try? DebianTool.dpkg.runCollecting(options + ["--configure", Self.package], environment: environment, what: "dpkg --configure")
            version = settled()
        }
        let folder = interrupted?.rollback == true ? previous : incoming
        if version == nil, let interrupted {
            let deb = folder + "/" + interrupted.file
            if (try? Self.sha256(of: deb)) == interrupted.sha256 {
                say("dpkg --install \(deb)")
                _ = try? DebianTool.dpkg.runCollecting(options + ["--install", deb], environment: environment, what: "dpkg --install")
                version = settled()
            } else {
                say("\(deb) is missing or not the package the signed index named: not installed")
            }
        }
        let audit = (try? DebianTool.dpkg.runCollecting(["--audit", Self.package], what: "dpkg --audit"))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var refusal: UpdateRefusal?
        if let version, audit == "" {
            if version == receipt.to {
                // Only once: a power cut after this and before the mark is gone must not rotate again.
                if interrupted?.rollback == true {
                    receipt.result = UpdateReceipt.rolledBack + ": finished after a power cut"
                    if FileManager.default.fileExists(atPath: previous) { keepRolledBack() }
                } else {
                    if FileManager.default.fileExists(atPath: incoming) { keepPackages() }
                    // An update finished at boot is on trial like any other (the trial unit runs
                    // after jampasird), put on it before the mark goes.
                    try? beginTrial(of: version, invocation: "", counterID: counterID)
                }
            } else {
                refusal = .notInstalled("the update was interrupted before dpkg began; jampasir \(version) is installed, as before it")
                if interrupted?.rollback != true { try? FileManager.default.removeItem(atPath: incoming) }
            }
        } else {
            refusal = .notInstalled(
                "the interrupted update could not be finished (dpkg --audit jampasir: \(audit ?? "cannot run")); the counter needs a technician: dpkg --configure -a")
        }
        if let refusal { receipt.result = "refused UPd\(refusal.code): \(refusal.reason)" }
        Self.remove(installing)
        return (receipt, refusal)
    }

    /// The installed jampasir's version; an install dpkg left half done is refused (`dpkg --audit`).
    func installedVersion() throws -> String {
        let fields: String
        do {
            fields = String(
                decoding: try DebianTool.dpkgQuery.run(
                    ["--show", "--showformat", "${db:Status-Abbrev}|${Version}", Self.package],
                    what: "reading the installed jampasir"), as: UTF8.self)
        } catch {
            throw UpdateRefusal.notInstalled("jampasir is not installed with dpkg here, so there is nothing to update: \(error)")
        }
        let parts = fields.split(separator: "|", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].hasPrefix("ii") else {
            throw UpdateRefusal.notInstalled(
                "jampasir is not fully installed (dpkg status \(parts.first ?? "?")): run dpkg --configure -a, then plug the stick in again")
        }
        return parts[1]
    }

    static func isNewer(_ offered: String, than current: String) throws -> Bool {
        try DebianTool.dpkg.succeeds(["--compare-versions", offered, "gt", current], what: "comparing versions")
    }

    /// The stick's InRelease and Packages, copied into `incoming` (a fresh folder).
    func copyIndex(_ folder: String) throws {
        var info = stat()
        guard lstat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw UpdateRefusal.unreadable("the stick has no update (\(folder) is missing, or not a folder)")
        }
        try? FileManager.default.removeItem(atPath: incoming)
        try makeFolder(state, mode: 0o755)
        try makeFolder(incoming, mode: 0o755)
        for name in ["InRelease", "Packages"] {
            guard lstat(folder + "/" + name, &info) == 0 else {
                if name == "InRelease" { throw UpdateRefusal.notSigned("the stick's update has no InRelease (it is not signed)") }
                continue
            }
            say("copying \(name) from the stick")
            try copy(folder + "/" + name, to: incoming + "/" + name, limit: Self.indexLimit, sha256: nil)
        }
    }

    /// `jampasir_VERSION_ARCH.deb`, as `jampasir update-stick` names them.
    static func isPackageName(_ name: String) -> Bool {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "jampasir" && !parts[1].isEmpty
            && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".+~-".contains($0)) }
            && parts[2].hasSuffix(".deb") && parts[2].dropLast(4).allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }
    }

    /// Copies a regular file (never a link, a FIFO or a device) of at most `limit` bytes, synced;
    /// with `sha256`, the copy must have that hash (the signed index's) or it is removed.
    func copy(_ source: String, to target: String, limit: Int, sha256 expected: String?, progress: (Int) -> Void = { _ in }) throws {
        let input = open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard input >= 0 else { throw UpdateRefusal.unreadable(SystemError("cannot read \(source)").description) }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw UpdateRefusal.unreadable("\(source) is not a plain file")
        }
        guard info.st_size <= limit else { throw UpdateRefusal.unreadable("\(source) is larger than \(limit >> 20) MiB") }
        try requireSpace(for: Int(info.st_size))
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw UpdateRefusal.unreadable(SystemError("cannot create \(target)").description) }
        defer { close(output) }
        var hash = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        var percent = -1
        while true {
            let count = read(input, &buffer, buffer.count)
            if count == 0 { break }
            guard count > 0 else {
                throw UpdateRefusal.unreadable(SystemError("cannot read \(source) (was the stick pulled out?)").description)
            }
            total += count
            guard total <= limit else { throw UpdateRefusal.unreadable("\(source) is larger than \(limit >> 20) MiB") }
            buffer.withUnsafeBytes { hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            guard write(output, buffer, count) == count else {
                throw UpdateRefusal.unreadable(SystemError("cannot write \(target)").description)
            }
            let done = info.st_size > 0 ? min(100, total * 100 / Int(info.st_size)) : 100
            if done != percent {
                percent = done
                progress(done)
            }
        }
        guard fsync(output) == 0 else { throw UpdateRefusal.unreadable(SystemError("cannot sync \(target)").description) }
        if let expected, hash.finalize().hexString != expected {
            unlink(target)
            throw UpdateRefusal.notSigned(
                "\(source) is not the package the signed index names (its SHA-256 differs): changed after signing")
        }
    }

    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw UpdateRefusal.unreadable("cannot read \(path)") }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty { hash.update(data: chunk) }
        return hash.finalize().hexString
    }

    /// Room for the package, its unpacked files and the package kept: three times its size, and
    /// 64 MiB besides for the store, on the counter's disk.
    func requireSpace(for bytes: Int) throws {
        var info = statvfs()
        guard statvfs(state, &info) == 0 else { return }
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        let needed = bytes * 3 + (64 << 20)
        guard free >= needed else {
            throw UpdateRefusal.notInstalled(
                "not enough space on the counter for the update: \(free >> 20) MiB free in \(state), \(needed >> 20) MiB needed")
        }
    }

    func makeFolder(_ path: String, mode: mode_t) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw UpdateRefusal.unreadable("\(path) exists and is not a folder")
            }
        } else if mkdir(path, mode) != 0 {
            throw UpdateRefusal.unreadable(SystemError("cannot create \(path)").description)
        }
    }

    /// The installed update is kept as `installed` (its signed index with it), the one before as
    /// `previous`.
    func keepPackages() {
        try? FileManager.default.removeItem(atPath: previous)
        if FileManager.default.fileExists(atPath: installed) { try? FileManager.default.moveItem(atPath: installed, toPath: previous) }
        try? FileManager.default.moveItem(atPath: incoming, toPath: installed)
        sync()
    }

    /// After a rollback the version put back is `installed`; the one given up is not kept.
    func keepRolledBack() {
        try? FileManager.default.removeItem(atPath: installed)
        try? FileManager.default.moveItem(atPath: previous, toPath: installed)
        sync()
    }

    /// Removed, and the removal on disk.
    static func remove(_ path: String) {
        unlink(path)
        sync()
    }

    static func replace(_ path: String, _ text: String) throws {
        let file = try AtomicFile(path: path, mode: 0o644)
        try file.write(text)
        try file.commit()
    }

    /// The receipt on the counter (`receipts/latest`, and one per update) and on the stick when
    /// it can be written; a read-only stick keeps none, which is said. An update found already
    /// installed leaves the receipts of the one that installed it.
    func keep(_ receipt: UpdateReceipt, onStick stickFolder: String?) {
        guard receipt.result != UpdateReceipt.current else { return }
        var receipt = receipt
        receipt.result = receipt.result.split(whereSeparator: \.isNewline).joined(separator: " / ")
        do {
            try makeFolder(state, mode: 0o755)
            try makeFolder(receipts, mode: 0o755)
            let stamp = String(Int(receipt.at.timeIntervalSince1970 * 1000))
            try Self.replace(receipts + "/" + stamp, receipt.text)
            try Self.replace(UpdateReceipt.latestPath(state: state), receipt.text)
        } catch {
            say("the receipt could not be kept on this counter: \(error)")
        }
        var info = stat()
        guard let stickFolder, !receipt.counterID.hasPrefix("."), lstat(stickFolder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR
        else { return }
        let folder = stickFolder + "/receipts"
        if lstat(folder, &info) != 0 { mkdir(folder, 0o755) }
        do {
            guard lstat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw UpdateRefusal.unreadable("\(folder) is not a folder")
            }
            try Self.replace(folder + "/" + receipt.counterID, receipt.text)
            say("receipt written to the stick: receipts/\(receipt.counterID)")
        } catch {
            say("no receipt on the stick (\(error)); it is kept on this counter")
        }
    }
}

/// One update at a time on a counter: `--from`, `--serve` and `--recover` share its folders.
struct StateLock {
    let fd: Int32

    /// Taken at once, or within `waitingUpTo` (jampasird's request waits for a trial's rollback).
    init(_ state: String, waitingUpTo wait: Duration = .zero) throws(UpdateRefusal) {
        if mkdir(state, 0o755) != 0 && errno != EEXIST {
            throw UpdateRefusal.unreadable(SystemError("cannot create \(state)").description)
        }
        fd = open(state + "/lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw UpdateRefusal.unreadable(SystemError("cannot open \(state)/lock").description) }
        let deadline = ContinuousClock.now + wait
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard ContinuousClock.now < deadline else {
                close(fd)
                throw UpdateRefusal.notInstalled(
                    "another update is being installed on this counter (\(state)/lock); try again when it is done")
            }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    func release() { close(fd) }
}

/// apt, reading only the counter's copy of the stick's repository, Signed-By the update key
/// alone, with none of this machine's apt configuration or sources; dpkg's database is the
/// counter's own.
struct AptConfinement {
    let folder: String
    let architecture: String
    let options: [String]
    let environment: [String: String]

    init(folder: String, repository: String, keyring: String) throws {
        self.folder = folder
        try? FileManager.default.removeItem(atPath: folder)
        do {
            for sub in ["lists/partial", "cache/archives/partial", "parts", "trusted.d", "preferences.d"] {
                try FileManager.default.createDirectory(atPath: folder + "/" + sub, withIntermediateDirectories: true)
            }
            try "deb [signed-by=\(keyring)] file:\(repository) ./\n".write(
                toFile: folder + "/sources.list", atomically: true, encoding: .utf8)
            try "Dir::Etc::Parts \"\(folder)/parts\";\nDir::Etc::Main \"\(folder)/apt.conf\";\n".write(
                toFile: folder + "/apt.conf", atomically: true, encoding: .utf8)
        } catch {
            throw UpdateRefusal.unreadable("cannot prepare apt in \(folder): \(error)")
        }
        architecture = String(
            decoding: try DebianTool.dpkg.run(["--print-architecture"], what: "reading this counter's architecture"),
            as: UTF8.self
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        options = [
            "Dir::Etc::SourceList=\(folder)/sources.list", "Dir::Etc::SourceParts=\(folder)/parts",
            "Dir::Etc::Trusted=\(folder)/trusted.gpg", "Dir::Etc::TrustedParts=\(folder)/trusted.d",
            "Dir::Etc::Preferences=\(folder)/preferences", "Dir::Etc::PreferencesParts=\(folder)/preferences.d",
            "Dir::State::Lists=\(folder)/lists", "Dir::Cache=\(folder)/cache",
            // A counter's clock may be days wrong in a village: the signature is what counts.
            "Acquire::Check-Date=false", "Acquire::Check-Valid-Until=false",
            "APT::Architectures::=\(architecture)", "Acquire::Languages=none", "APT::Sandbox::User=root",
            "APT::Get::AllowUnauthenticated=false",
        ].flatMap { ["-o", $0] }
        environment = ["APT_CONFIG": folder + "/apt.conf", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"]
    }

    static let notSigned =
        "the stick's update is not signed by this counter's update key (update.keyring), or was changed after signing; apt says"

    /// The newest version of `package` in the checked repository, for this architecture, with
    /// the package's file name and SHA-256 as the signed index gives them.
    func offered(_ package: String) throws -> (version: String, file: String, sha256: String) {
        do {
            let said = try DebianTool.aptGet.runCollecting(options + ["update"], environment: environment, what: "apt-get update")
            // apt leaves with 0 on some refusals (a warning); it names them all (E:/W:, or
            // Error:/Warning: since apt 3).
            let problems = ["E:", "W:", "Error:", "Warning:"]
            if let problem = said.split(separator: "\n").first(where: { line in problems.contains { line.hasPrefix($0) } }) {
                throw UpdateRefusal.notSigned("\(Self.notSigned): \(problem)")
            }
        } catch let failure as CLIFailure {
            throw UpdateRefusal.notSigned("\(Self.notSigned): \(failure.message)")
        }
        let table = String(
            decoding: try DebianTool.aptCache.run(options + ["madison", package], environment: environment, what: "apt-cache madison"),
            as: UTF8.self)
        // ` jampasir | 0.2.0-1 | file:/var/lib/jampasir-update/incoming ./ Packages`
        let versions = table.split(separator: "\n").compactMap { line -> String? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, cells[0] == package, cells[2].hasPrefix("file:") else { return nil }
            return cells[1]
        }
        var newest: String?
        for version in versions where try newest.map({ try UpdateInstaller.isNewer(version, than: $0) }) ?? true {
            newest = version
        }
        guard let newest else {
            throw UpdateRefusal.noPackage("the stick carries no jampasir for this counter's architecture (\(architecture))")
        }
        let record = String(
            decoding: try DebianTool.aptCache.run(
                options + ["show", "--no-all-versions", "\(package)=\(newest)"], environment: environment, what: "apt-cache show"),
            as: UTF8.self)
        var fields: [String: String] = [:]
        for line in record.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, fields[parts[0]] == nil { fields[parts[0]] = parts[1] }
        }
        let file = (fields["Filename"] ?? "").replacingOccurrences(of: "./", with: "", options: .anchored)
        guard UpdateInstaller.isPackageName(file), let sha256 = fields["SHA256"], sha256.count == 64,
            sha256.allSatisfy({ $0.isHexDigit })
        else {
            throw UpdateRefusal.noPackage("the signed index names no plain jampasir_VERSION_ARCH.deb with a SHA-256 for \(newest)")
        }
        return (newest, file, sha256.lowercased())
    }

    /// Installs exactly `version` from the checked repository (an older one only with
    /// `downgrade`); the configuration files the counter has are kept.
    func install(_ package: String, version: String, downgrade: Bool = false) throws {
        do {
            try DebianTool.aptGet.runCollecting(
                options + [
                    "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "install", "--yes",
                    "--only-upgrade", "--no-install-recommends", "--no-remove",
                ] + (downgrade ? ["--allow-downgrades"] : []) + ["\(package)=\(version)"],
                environment: environment, what: "installing jampasir \(version)")
        } catch {
            throw UpdateRefusal.notInstalled(error.message)
        }
    }
}
