import Foundation
@testable import JamPasirCLI
import JamPasirExport
import JamPasirReports
import JamPasirTesting
import Synchronization
import Testing

/// Issue 27, step 1: the supervisor's update stick, made with `jampasir update-key new` and
/// `jampasir update-stick` as typed, and checked by apt itself as a counter will check it: a
/// repository on the stick, Signed-By the office's update key only.
@Suite("Update stick: a signed repository apt accepts, and nothing else",
       .disabled(if: runsUnderEmulation, "gpg and apt under qemu-user: the booted arm64 counter runs them"))
struct UpdateStickTests {
    let directory: TemporaryDirectory
    let keys: String
    let stick: String

    init() throws {
        directory = try TemporaryDirectory("update-stick")
        keys = directory.file("keys")
        stick = directory.file("stick")
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
    }

    var update: String { stick + "/JAMPASIR/update" }

    /// A Debian package with these fields (its contents do not matter to the stick).
    func package(_ name: String = "jampasir", version: String, architecture: String = "arm64") throws -> String {
        let root = directory.file("pkg-\(name)-\(version)-\(architecture)")
        try FileManager.default.createDirectory(atPath: root + "/DEBIAN", withIntermediateDirectories: true)
        try """
        Package: \(name)
        Version: \(version)
        Architecture: \(architecture)
        Maintainer: JamPasir developers <dev@jampasir.invalid>
        Description: test package
         for the update stick's tests

        """.write(toFile: root + "/DEBIAN/control", atomically: true, encoding: .utf8)
        let deb = root + ".deb"
        let built = try runTool("/usr/bin/dpkg-deb", ["--root-owner-group", "--build", root, deb])
        try #require(built.status == 0)
        return deb
    }

    func newKey(in folder: String) throws -> (secret: String, keyring: String) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let made = try runBuilt("jampasir", ["update-key", "new", "--to", folder])
        try #require(made.status == 0, "\(made.error)")
        return (folder + "/jampasir-update.secret.asc", folder + "/jampasir-update.gpg")
    }

    /// apt on this machine, confined to a folder of its own, reading only the stick's repository
    /// with `keyring` as its Signed-By, for arm64: what a counter runs. Returns apt-get update's
    /// status and output, and the candidate version of jampasir it then sees.
    func aptSees(keyring: String) throws -> (status: Int32, output: String, candidate: String?) {
        let apt = directory.file("apt-\(UUID().uuidString)")
        for folder in ["lists/partial", "cache/archives/partial", "parts", "trusted.d", "preferences.d"] {
            try FileManager.default.createDirectory(atPath: apt + "/" + folder, withIntermediateDirectories: true)
        }
        try "deb [signed-by=\(keyring)] file:\(update) ./\n".write(
            toFile: apt + "/sources.list", atomically: true, encoding: .utf8)
        // None of this machine's apt configuration (apt.conf.d could allow unsigned repositories).
        try "Dir::Etc::Parts \"\(apt)/parts\";\nDir::Etc::Main \"\(apt)/apt.conf\";\n".write(
            toFile: apt + "/apt.conf", atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: apt + "/status", contents: Data())
        let options = [
            "Dir::Etc::SourceList=\(apt)/sources.list", "Dir::Etc::SourceParts=\(apt)/parts",
            "Dir::Etc::Trusted=\(apt)/trusted.gpg", "Dir::Etc::TrustedParts=\(apt)/trusted.d",
            "Dir::Etc::Preferences=\(apt)/preferences", "Dir::Etc::PreferencesParts=\(apt)/preferences.d",
            "Dir::State::Lists=\(apt)/lists", "Dir::State::status=\(apt)/status", "Dir::Cache=\(apt)/cache",
            "APT::Architecture=arm64", "APT::Architectures::=arm64", "Acquire::Languages=none",
            "APT::Sandbox::User=root", "Debug::NoLocking=true",
        ].flatMap { ["-o", $0] }
        let confined = ["APT_CONFIG=\(apt)/apt.conf"]
        let updated = try runTool("/usr/bin/env", confined + ["/bin/sh", "-c", "\"$0\" \"$@\" 2>&1", "/usr/bin/apt-get"] + options + ["update"])
        let policy = try runTool("/usr/bin/env", confined + ["/usr/bin/apt-cache"] + options + ["policy", "jampasir"])
        try #require(policy.status == 0)
        let candidate = String(decoding: policy.output, as: UTF8.self).split(separator: "\n")
            .first { $0.contains("Candidate:") }?.split(separator: " ").last.map(String.init)
        return (updated.status, String(decoding: updated.output, as: UTF8.self), candidate == "(none)" ? nil : candidate)
    }

    @Test func aStickSignedWithTheOfficesKeyIsWhatAptTakes() throws {
        let (secret, keyring) = try newKey(in: keys)
        let attributes = try FileManager.default.attributesOfItem(atPath: secret)
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "the secret half is the supervisor's alone")
        let secretText = try String(contentsOfFile: secret, encoding: .utf8)
        let again = try runBuilt("jampasir", ["update-key", "new", "--to", keys])
        #expect(again.status != 0 && again.error.contains("already exists"), "a key is never overwritten")
        #expect(try String(contentsOfFile: secret, encoding: .utf8) == secretText)

        let deb = try package(version: "0.2.0-1+deb13")
        let made = try runBuilt("jampasir", ["update-stick", "--to", stick, "--key", secret, "--deb", deb])
        #expect(made.status == 0, "\(made.error)")
        #expect(made.output.contains("copied jampasir_0.2.0-1+deb13_arm64.deb"))
        #expect(made.output.contains("arm64 0.2.0-1+deb13, signed by update key"))
        let files = try FileManager.default.contentsOfDirectory(atPath: update).sorted()
        #expect(files == ["InRelease", "Packages", "Release", "jampasir_0.2.0-1+deb13_arm64.deb"])

        let seen = try aptSees(keyring: keyring)
        #expect(seen.status == 0, "\(seen.output)")
        #expect(seen.candidate == "0.2.0-1+deb13", "\(seen.output)")

        // Signed by another office's key: apt takes nothing from it.
        let (_, otherKeyring) = try newKey(in: directory.file("other-office"))
        let foreign = try aptSees(keyring: otherKeyring)
        #expect(foreign.status != 0 && foreign.candidate == nil, "\(foreign.output)")
        #expect(foreign.output.contains("NO_PUBKEY") && foreign.output.contains("is not signed"), "\(foreign.output)")

        // The index changed after signing (a package swapped in): apt refuses it.
        let packages = update + "/Packages"
        let index = try String(contentsOfFile: packages, encoding: .utf8)
        try index.replacingOccurrences(of: "0.2.0-1+deb13", with: "0.3.0-1+deb13").write(
            toFile: packages, atomically: true, encoding: .utf8)
        let tampered = try aptSees(keyring: keyring)
        #expect(tampered.status != 0 && tampered.candidate == nil, "\(tampered.output)")
        #expect(
            ["Hash Sum mismatch", "unexpected size", "Size mismatch"].contains { tampered.output.contains($0) },
            "\(tampered.output)")
    }

    /// A new update replaces the old one on the stick, and the counters' receipts stay.
    @Test func aNewUpdateReplacesTheOldAndKeepsTheReceipts() throws {
        let (secret, keyring) = try newKey(in: keys)
        let first = try package(version: "0.2.0-1")
        #expect(try runBuilt("jampasir", ["update-stick", "--to", stick, "--key", secret, "--deb", first]).status == 0)
        try FileManager.default.createDirectory(atPath: update + "/receipts", withIntermediateDirectories: true)
        try "loket-1: 0.1.0 → 0.2.0-1\n".write(toFile: update + "/receipts/loket-1", atomically: true, encoding: .utf8)
        // Left by a run the supervisor pulled the stick out of: taken away.
        try FileManager.default.createDirectory(atPath: update + ".new/half", withIntermediateDirectories: true)
        // An epoch (left out of the file's name, as in a Debian pool), and a package given as a
        // link: the stick gets the package itself.
        let second = try package(version: "1:0.3.0-1")
        let link = directory.file("link.deb")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: second)
        let amd64 = try package(version: "1:0.3.0-1", architecture: "amd64")
        let made = try runBuilt("jampasir", ["update-stick", "--to", stick, "--key", secret, "--deb", link, "--deb", amd64])
        #expect(made.status == 0, "\(made.error)")
        let files = try FileManager.default.contentsOfDirectory(atPath: update).sorted()
        #expect(
            files == [
                "InRelease", "Packages", "Release", "jampasir_0.3.0-1_amd64.deb", "jampasir_0.3.0-1_arm64.deb", "receipts",
            ])
        let onStick = try FileManager.default.attributesOfItem(atPath: update + "/jampasir_0.3.0-1_arm64.deb")
        #expect(onStick[.type] as? FileAttributeType == .typeRegular)
        #expect(try String(contentsOfFile: update + "/receipts/loket-1", encoding: .utf8) == "loket-1: 0.1.0 → 0.2.0-1\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: stick + "/JAMPASIR") == ["update"])
        #expect(try aptSees(keyring: keyring).candidate == "1:0.3.0-1")
    }

    /// What is not JamPasir's own package for a counter is refused, with the reason, and the
    /// stick is left as it was.
    @Test func whatIsNotTheCountersPackageIsRefused() throws {
        let (secret, _) = try newKey(in: keys)
        let notADeb = directory.file("photo.deb")
        try "not a package".write(toFile: notADeb, atomically: true, encoding: .utf8)
        let cases: [(debs: [String], says: String)] = [
            ([notADeb], "photo.deb: reading it as a Debian package"),
            ([try package("openssh-server", version: "1:9.9")], "is the package openssh-server, not jampasir"),
            ([try package(version: "0.2.0-1", architecture: "armhf")], "is for armhf: the counters are arm64 or amd64"),
            ([try package(version: "0.2.0-1"), try package(version: "0.2.1-1")], "two packages for arm64"),
            ([directory.file("missing.deb")], "missing.deb: not a file"),
        ]
        for (debs, says) in cases {
            let refused = try runBuilt(
                "jampasir", ["update-stick", "--to", stick, "--key", secret] + debs.flatMap { ["--deb", $0] })
            #expect(refused.status != 0)
            #expect(refused.error.contains(says), "\(refused.error)")
            #expect(!FileManager.default.fileExists(atPath: stick + "/JAMPASIR"), "nothing written for \(says)")
        }
        // A link planted where the update's folder goes: refused, nothing followed.
        try FileManager.default.createDirectory(atPath: stick + "/JAMPASIR", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: update, withDestinationPath: directory.file("elsewhere"))
        let planted = try runBuilt("jampasir", ["update-stick", "--to", stick, "--key", secret, "--deb", try package(version: "2")])
        #expect(planted.status != 0 && planted.error.contains("is not a folder (a link or a file)"), "\(planted.error)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("elsewhere")))
        try FileManager.default.removeItem(atPath: stick + "/JAMPASIR")

        let noKey = try runBuilt(
            "jampasir", ["update-stick", "--to", stick, "--key", directory.file("nokey.asc"), "--deb", try package(version: "1")])
        #expect(noKey.status != 0 && noKey.error.contains("reading the update key"), "\(noKey.error)")
        #expect(!FileManager.default.fileExists(atPath: stick + "/JAMPASIR"), "nothing written without a key that signs")
    }
}

/// Issue 27, step 2: `jampasir update-install --from STICK` as a counter runs it, up to the point
/// where it would install (this machine has no jampasir installed by dpkg; `make test-deb`
/// installs and updates a real one). Every refusal names its reason and its display code, leaves
/// a receipt, and installs nothing.
@Suite("Update install: what a counter refuses, and why", .enabled(if: geteuid() == 0, "installs packages: root only"),
       .disabled(if: runsUnderEmulation, "gpg, apt and dpkg under qemu-user: the booted arm64 counter runs them"))
struct UpdateInstallTests {
    let fixture: UpdateStickTests
    let state: String
    let configuration: String

    init() throws {
        fixture = try UpdateStickTests()
        state = fixture.directory.file("state")
        configuration = fixture.directory.file("jampasir.toml")
        try "[counter]\nid = \"loket-7\"\n".write(toFile: configuration, atomically: true, encoding: .utf8)
    }

    var native: String {
        get throws { String(decoding: try runTool("/usr/bin/dpkg", ["--print-architecture"]).output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func install(keyring: String) throws -> (status: Int32, output: String, error: String) {
        try runBuilt(
            "jampasir",
            ["update-install", "--from", fixture.stick, "--keyring", keyring, "--state", state, "--config", configuration])
    }

    func expectRefused(
        _ ran: (status: Int32, output: String, error: String), code: Int, saying: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(ran.status == 1, "\(ran.output)\(ran.error)", sourceLocation: sourceLocation)
        #expect(ran.error.contains("(UPd\(code)): \(saying)"), "\(ran.error)", sourceLocation: sourceLocation)
        let receipt = try String(contentsOfFile: state + "/receipts/latest", encoding: .utf8)
        #expect(receipt.contains("counter: loket-7\n"), sourceLocation: sourceLocation)
        #expect(receipt.contains("result: refused UPd\(code): \(saying)"), "\(receipt)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: state + "/installed"), "nothing kept as installed", sourceLocation: sourceLocation)
    }

    @Test func aStickTheCounterCannotTrustIsRefusedWithItsReason() throws {
        let (secret, keyring) = try fixture.newKey(in: fixture.keys)
        try expectRefused(try install(keyring: keyring), code: 2, saying: "the stick has no update")

        let native = try self.native
        let foreignArchitecture = native == "arm64" ? "amd64" : "arm64"
        let deb = try fixture.package(version: "9.0.0-1", architecture: native)
        #expect(try runBuilt("jampasir", ["update-stick", "--to", fixture.stick, "--key", secret, "--deb", deb]).status == 0)
        try expectRefused(
            try install(keyring: fixture.directory.file("missing.gpg")), code: 1, saying: "no update key on this counter")

        // Another office's key; then the index changed after signing.
        let (_, otherKeyring) = try fixture.newKey(in: fixture.directory.file("other-office"))
        try expectRefused(try install(keyring: otherKeyring), code: 3, saying: "the stick's update is not signed by this counter's update key")
        let packages = fixture.update + "/Packages"
        let index = try String(contentsOfFile: packages, encoding: .utf8)
        try index.replacingOccurrences(of: "9.0.0-1", with: "9.0.1-1").write(toFile: packages, atomically: true, encoding: .utf8)
        try expectRefused(try install(keyring: keyring), code: 3, saying: "the stick's update is not signed by this counter's update key")
        try index.write(toFile: packages, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: fixture.update + "/InRelease")
        try expectRefused(try install(keyring: keyring), code: 3, saying: "the stick's update has no InRelease (it is not signed)")

        // Signed, but for another architecture.
        let other = try fixture.package(version: "9.0.0-1", architecture: foreignArchitecture)
        #expect(try runBuilt("jampasir", ["update-stick", "--to", fixture.stick, "--key", secret, "--deb", other]).status == 0)
        try expectRefused(
            try install(keyring: keyring), code: 4, saying: "the stick carries no jampasir for this counter's architecture (\(native))")
        let receipt = try String(contentsOfFile: fixture.update + "/receipts/loket-7", encoding: .utf8)
        #expect(receipt.contains("result: refused UPd4"), "the receipt is on the stick too")

        // Signed, this architecture: this machine has no jampasir of dpkg's to update.
        #expect(try runBuilt("jampasir", ["update-stick", "--to", fixture.stick, "--key", secret, "--deb", deb]).status == 0)
        try expectRefused(try install(keyring: keyring), code: 6, saying: "jampasir is not installed with dpkg here")
        #expect(
            try String(contentsOfFile: state + "/receipts/latest", encoding: .utf8).contains("to: 9.0.0-1\n"),
            "apt took the stick: the version it offered is on the receipt")
    }

    @Test func aStickWithLinksOrForeignFilesGivesTheCounterNoneOfThem() throws {
        let (secret, keyring) = try fixture.newKey(in: fixture.keys)
        let deb = try fixture.package(version: "9.0.0-1", architecture: try native)
        #expect(try runBuilt("jampasir", ["update-stick", "--to", fixture.stick, "--key", secret, "--deb", deb]).status == 0)
        try "#!/bin/sh\n".write(toFile: fixture.update + "/run-me.sh", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: fixture.update + "/jampasir_9.9_amd64.deb", withDestinationPath: "/etc/shadow")
        let ran = try install(keyring: keyring)
        // Only the signed index is read before apt has checked it; the package it names comes
        // later (this machine has no jampasir to update, so it stops before that).
        let copied = ran.output.split(separator: "\n").filter { $0.hasPrefix("copying ") }
        #expect(copied == ["copying InRelease from the stick", "copying Packages from the stick"], "\(ran.output)")
        #expect(!FileManager.default.fileExists(atPath: state + "/incoming"), "what was not installed is not kept")
    }
}

/// Issue 27: the chain says which version recorded which sessions. The real jampasird, started
/// after `jampasir update-install` left its receipt, chains the update once; `jampasir verify`
/// accepts the chain; a refused update, or a receipt that is not one, chains nothing.
@Suite("Update receipt: chained once by the daemon that the update brought")
struct UpdateChainTests {
    let directory: TemporaryDirectory
    let storePath: String
    let configPath: String
    let state: String

    init() throws {
        directory = try TemporaryDirectory("update-chain")
        storePath = directory.file("jampasir.sqlite")
        configPath = directory.file("jampasir.toml")
        state = directory.file("update-state")
        _ = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        try CheckpointTests.writeStore(at: storePath, secondIsFree: true)
        try "[counter]\nid = \"loket-1\"\n[update]\nstate = \"\(state)\"\n".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: state + "/receipts", withIntermediateDirectories: true)
    }

    func leaveReceipt(_ text: String) throws {
        try text.write(toFile: UpdateReceipt.latestPath(state: state), atomically: true, encoding: .utf8)
    }

    /// The real jampasird, simulated hardware, until its keyboard closes; what it logged.
    func startDaemon() throws -> String {
        let script = "timeout 20 \"$0\" --simulate --store \"$1\" --config \"$2\" </dev/null 2>&1"
        return String(decoding: try runTool("/bin/sh", ["-c", script, builtExecutable("jampasird"), storePath, configPath]).output, as: UTF8.self)
    }

    @Test func anInstalledUpdateIsChainedOnceAndVerifies() throws {
        let at = Date(timeIntervalSince1970: 1_796_100_000)
        try leaveReceipt(UpdateReceipt(counterID: "loket-1", from: "0.1.0-1+deb13", to: "0.2.0-1+deb13", at: at, result: UpdateReceipt.installed).text)
        let first = try startDaemon()
        #expect(first.contains("update 0.1.0-1+deb13 → 0.2.0-1+deb13 (from a stick, \(at.ISO8601Format())) recorded in the audit chain"), "\(first)")
        let again = try startDaemon()
        #expect(!again.contains("recorded in the audit chain; running"), "the same receipt is chained once: \(again)")
        let verified = try runBuilt("jampasir", ["verify", "--store", storePath])
        #expect(verified.status == 0, "\(verified.output)\(verified.error)")
    }

    @Test func aRollbackIsChainedAsOneAndSaidAsAWarning() throws {
        let at = Date(timeIntervalSince1970: 1_796_100_000)
        let receipt = UpdateReceipt(
            counterID: "loket-1", from: "0.3.0-1", to: "0.2.0-1", at: at,
            result: UpdateReceipt.rolledBack + ": jampasir 0.3.0-1 did not report ready within 90 s")
        #expect(receipt.chainFields == "from=0.3.0-1;to=0.2.0-1;at=\(at.ISO8601Format());rolled-back")
        try leaveReceipt(receipt.text)
        let logged = try startDaemon()
        #expect(logged.contains("update rolled back 0.3.0-1 → 0.2.0-1"), "\(logged)")
        #expect(logged.contains("did not report ready within 90 s"), "\(logged)")
        let verified = try runBuilt("jampasir", ["verify", "--store", storePath])
        #expect(verified.status == 0, "\(verified.output)\(verified.error)")
    }

    @Test func aRefusedUpdateOrAReceiptThatIsNotOneChainsNothing() throws {
        try leaveReceipt(
            UpdateReceipt(counterID: "loket-1", from: "0.2.0-1", to: "0.1.0-1", at: Date(), result: "refused UPd5: older").text)
        let refused = try startDaemon()
        #expect(!refused.contains("recorded in the audit chain; running"), "\(refused)")
        try leaveReceipt("counter: loket-1\nfrom: $(reboot)\nto: 0.2.0-1\nat: 2026-12-07T08:00:00Z\nresult: installed\n")
        let forged = try startDaemon()
        #expect(forged.contains("update receipt not chained: "), "\(forged)")
        #expect(forged.contains("is not a package version"), "\(forged)")
        #expect(forged.contains("chain checkpoint at start"), "the daemon starts all the same")
    }
}

/// After an update, the new jampasird must report ready within the bound, or it is rolled back:
/// what systemd says, in virtual time (the watch's sleeps only count).
@Suite("Update trial: the new version reports ready, or the previous one comes back")
struct StartWatchTests {
    /// A watch that reads `states` in turn (the last one from then on) and counts its sleeps.
    final class Script: Sendable {
        private let states: [StartWatch.Unit?]
        private let reads = Mutex(0)
        private let slept = Mutex(Duration.zero)

        init(_ states: [StartWatch.Unit?]) { self.states = states }

        private let start = ContinuousClock.now

        /// Each read costs `readTakes` of the virtual clock (systemctl is not free).
        func watch(readTakes: Duration = .zero) -> StartWatch {
            StartWatch(
                read: {
                    self.slept.withLock { $0 += readTakes }
                    return self.reads.withLock { count in count += 1; return self.states[min(count, self.states.count) - 1] }
                },
                sleep: { duration in self.slept.withLock { $0 += duration } },
                now: { self.start + self.slept.withLock { $0 } })
        }
        var sleptFor: Duration { slept.withLock { $0 } }
    }

    static let asking = StartWatch.Unit(state: "active", invocation: "old")

    @Test func aNewStartThatReportsReadyPasses() {
        let script = Script([Self.asking, .init(state: "deactivating", invocation: "old"), .init(state: "activating", invocation: "new"), .init(state: "active", invocation: "new")])
        #expect(script.watch().outcome(after: "old", within: .seconds(90)) == .ready)
        #expect(script.sleptFor == .seconds(4), "it stops watching as soon as the new start is ready")
    }

    @Test func aVersionThatNeverReportsReadyFailsAtTheBound() {
        // Restart=always: each start a new invocation that exits before READY=1.
        let script = Script([Self.asking, .init(state: "activating", invocation: "a"), .init(state: "failed", invocation: "a"), .init(state: "activating", invocation: "b")])
        #expect(script.watch().outcome(after: "old", within: .seconds(90)) == .failed("jampasird.service is activating"))
        #expect(script.sleptFor == .seconds(90), "the whole bound, not more")
    }

    @Test func theBoundIsTimeNotPolls() {
        let script = Script([Self.asking, .init(state: "activating", invocation: "a")])
        #expect(script.watch(readTakes: .milliseconds(500)).outcome(after: "old", within: .seconds(30)) == .failed("jampasird.service is activating"))
        #expect(script.sleptFor == .seconds(30), "20 polls of 1.5 s, not 30")
    }

    @Test func aMomentSystemdCannotBeAskedChangesNothing() {
        // The daemon that asked is still running; systemd does not answer the last poll.
        let script = Script([Self.asking, Self.asking, nil])
        #expect(script.watch().outcome(after: "old", within: .seconds(5)) == .notRestarted)
    }

    @Test func aTrialsMarkIsReadBackAndAnythingElseIsNot() {
        let mark = TrialMark(version: "0.2.0-1+deb13", invocation: "0123abcdef")
        #expect(TrialMark(parsing: mark.text) == mark)
        let settled = TrialMark(version: "0.2.0-1", invocation: "", counter: "loket-3", keyring: "/etc/jampasir/update-key.gpg", timeoutSeconds: 30)
        #expect(TrialMark(parsing: settled.text) == settled, "the settings of the version that installed it go with it")
        #expect(TrialMark(parsing: settled.text.replacingOccurrences(of: "keyring: /etc", with: "keyring: etc")) == nil)
        #expect(TrialMark(parsing: settled.text.replacingOccurrences(of: "timeout: 30", with: "timeout: 0")) == nil)
        #expect(TrialMark(parsing: settled.text.replacingOccurrences(of: "counter: loket-3", with: "counter: ../x")) == nil)
        #expect(TrialMark(parsing: settled.text + "shell: $(reboot)\n") == nil)
        #expect(TrialMark(parsing: "version: 0.2.0-1\ninvocation: $(reboot)\n") == nil)
        #expect(TrialMark(parsing: "version: 0.2.0-1\nversion: 0.3.0-1\ninvocation: ab\n") == nil)
        let rollback = UpdateInstaller.Interrupted(from: "0.3", to: "0.2", file: "jampasir_0.2_arm64.deb", sha256: String(repeating: "a", count: 64), rollback: true)
        #expect(UpdateInstaller.Interrupted(parsing: rollback.text) == rollback)
        #expect(UpdateInstaller.Interrupted(parsing: rollback.text.replacingOccurrences(of: "kind: rollback", with: "kind: other")) == nil)
    }

    @Test func theDaemonThatAskedStillRunningIsNoFailure() {
        let script = Script([Self.asking])
        #expect(script.watch().outcome(after: "old", within: .seconds(30)) == .notRestarted)
    }

    @Test func systemdThatCannotBeAskedIsAFailure() {
        let script = Script([nil])
        #expect(script.watch().outcome(after: "old", within: .seconds(10)) == .failed("systemd could not be asked about jampasird.service"))
    }

    @Test func whatSystemdShowsIsReadAndADisabledDaemonIsSetAside() {
        let shown = "ActiveState=inactive\nInvocationID=\nUnitFileState=disabled\n"
        #expect(StartWatch.Unit(shown: shown) == .init(state: "inactive", invocation: "", unitFile: "disabled"))
        #expect(StartWatch.Unit(shown: shown)?.isSetAside == true, "a technician's disable is no failed start")
        #expect(StartWatch.Unit(shown: "ActiveState=inactive\nUnitFileState=masked-runtime\n")?.isSetAside == true)
        #expect(StartWatch.Unit(shown: "ActiveState=failed\nInvocationID=ab\nUnitFileState=enabled\n")?.isSetAside == false)
        #expect(StartWatch.Unit(shown: "Failed to connect to bus\n") == nil)
    }

    @Test func afterARollbackAnyReadyStartCounts() {
        let script = Script([.init(state: "activating", invocation: "c"), .init(state: "active", invocation: "c")])
        #expect(script.watch().outcome(after: nil, within: .seconds(90)) == .ready)
    }
}
