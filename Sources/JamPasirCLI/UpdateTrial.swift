import Foundation
import JamPasirConfig
import JamPasirReports

/// After an update jampasird asked for, jampasird restarts into the new version. That version
/// must report ready to systemd (Type=notify: active) within `update.start_timeout_seconds`,
/// or the version kept before it is installed again (`UpdateInstaller.rollBack`). The trial is
/// `jampasir-update-trial.service` (`--trial`): started by `--serve` once it has answered, and
/// at every boot while the trial's mark is on disk, so a power cut during the trial, or during
/// its rollback, is taken up again.
struct StartWatch: Sendable {
    /// What systemd says of jampasird.service: its state and which start this is.
    struct Unit: Equatable {
        var state: String
        var invocation: String
        /// `enabled`, `disabled`, `masked`… (systemctl's UnitFileState).
        var unitFile = "enabled"

        /// A technician disabled or masked it: a stopped jampasird is no failure of the version.
        var isSetAside: Bool { unitFile == "disabled" || unitFile.hasPrefix("masked") }

        init(state: String, invocation: String, unitFile: String = "enabled") {
            (self.state, self.invocation, self.unitFile) = (state, invocation, unitFile)
        }

        /// `systemctl show` output; nil without an ActiveState.
        init?(shown: String) {
            var values: [String: String] = [:]
            for line in shown.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                if parts.count == 2 { values[parts[0]] = parts[1] }
            }
            guard let state = values["ActiveState"] else { return nil }
            self.init(state: state, invocation: values["InvocationID"] ?? "", unitFile: values["UnitFileState"] ?? "")
        }
    }

    enum Outcome: Equatable {
        /// A start of jampasird other than the one that asked for the update reported ready.
        case ready
        /// The daemon that asked for the update still runs (it did not restart): the new
        /// version runs from its next start.
        case notRestarted
        /// No new start reported ready: how jampasird was left.
        case failed(String)
    }

    var read: @Sendable () -> Unit?
    var sleep: @Sendable (Duration) -> Void
    var now: @Sendable () -> ContinuousClock.Instant

    static let systemd = StartWatch(
        read: jampasird, sleep: { Thread.sleep(forTimeInterval: $0 / .seconds(1)) }, now: { ContinuousClock.now })

    /// Watches, every `poll` until `bound` has passed, for a start of jampasird other than
    /// `old` that is active.
    func outcome(after old: String?, within bound: Duration, every poll: Duration = .seconds(1)) -> Outcome {
        let deadline = now() + bound
        var last: Unit?
        repeat {
            sleep(poll)
            // A moment systemd cannot be asked changes nothing of what was seen before it.
            if let unit = read() { last = unit }
            if let last, last.state == "active", last.invocation != old { return .ready }
        } while now() < deadline
        guard let last else { return .failed("systemd could not be asked about jampasird.service") }
        if last.state == "active" { return .notRestarted }
        return .failed("jampasird.service is \(last.state)")
    }

    static func jampasird() -> Unit? {
        guard
            let shown = try? DebianTool.systemctl.run(
                ["show", "--property=ActiveState", "--property=InvocationID", "--property=UnitFileState", "jampasird.service"],
                what: "asking systemd about jampasird")
        else { return nil }
        return Unit(shown: String(decoding: shown, as: UTF8.self))
    }
}

/// The mark of a trial (`update.state/trial`): the version on trial, the start of jampasird
/// that asked for it, and the settings of the version that installed it (counter, update key,
/// bound), so that the trial holds even when the new version cannot read the configuration.
struct TrialMark: Equatable {
    var version: String
    var invocation: String
    var counter: String?
    var keyring: String?
    var timeoutSeconds: Int64?

    var text: String {
        "version: \(version)\ninvocation: \(invocation)\n" + (counter.map { "counter: \($0)\n" } ?? "")
            + (keyring.map { "keyring: \($0)\n" } ?? "") + (timeoutSeconds.map { "timeout: \($0)\n" } ?? "")
    }

    init(version: String, invocation: String, counter: String? = nil, keyring: String? = nil, timeoutSeconds: Int64? = nil) {
        (self.version, self.invocation) = (version, invocation)
        (self.counter, self.keyring, self.timeoutSeconds) = (counter, keyring, timeoutSeconds)
    }

    init?(parsing text: String) {
        guard let values = UpdateInstaller.markFields(text), let version = values["version"], let invocation = values["invocation"],
            Set(values.keys).isSubset(of: ["version", "invocation", "counter", "keyring", "timeout"]),
            !version.isEmpty, version.count <= 128, invocation.count <= 64, invocation.allSatisfy(\.isHexDigit)
        else { return nil }
        self.init(version: version, invocation: invocation)
        if let counter = values["counter"] {
            guard Configuration.isValidCounterID(counter) else { return nil }
            self.counter = counter
        }
        if let keyring = values["keyring"] {
            guard keyring.hasPrefix("/"), keyring.count <= 4096 else { return nil }
            self.keyring = keyring
        }
        if let timeout = values["timeout"] {
            guard let seconds = Int64(timeout), (1...3600).contains(seconds) else { return nil }
            timeoutSeconds = seconds
        }
    }
}

extension UpdateInstaller {
    var trialMark: String { state + "/trial" }

    /// Puts `version` on trial (before jampasird is told it is installed): `invocation` is the
    /// start of jampasird that asked for it ("" at boot: any start will do).
    func beginTrial(of version: String, invocation: String, counterID: String) throws {
        let mark = TrialMark(
            version: version, invocation: invocation, counter: counterID, keyring: keyring,
            timeoutSeconds: startTimeout.components.seconds)
        try Self.replace(trialMark, mark.text)
    }

    /// The trial (`--trial`): jampasird must report ready on the version on trial within
    /// `startTimeout`; otherwise the previous version is installed again and jampasird started on it.
    /// Said in the journal; the rollback's receipt is kept on the counter (jampasird chains it).
    /// The mark stays when the rollback could not begin, and while a technician keeps jampasird
    /// disabled: the next boot tries again. The settings the mark carries come first.
    func trial(counterID: String, watch: StartWatch = .systemd) {
        guard let data = FileManager.default.contents(atPath: trialMark) else {
            say("no update is on trial; nothing to do")
            return
        }
        guard let mark = TrialMark(parsing: String(decoding: data.prefix(4096), as: UTF8.self)) else {
            say("\(trialMark) is not a trial's mark; removed")
            return Self.remove(trialMark)
        }
        var installer = UpdateInstaller(keyring: mark.keyring ?? keyring, state: state, say: say)
        installer.startTimeout = mark.timeoutSeconds.map { .seconds($0) } ?? startTimeout
        installer.trial(mark, counterID: mark.counter ?? counterID, watch: watch)
    }

    private func trial(_ mark: TrialMark, counterID: String, watch: StartWatch) {
        if let unit = watch.read(), unit.isSetAside, mark.invocation.isEmpty || unit.unitFile.hasPrefix("masked") {
            // At boot a disabled jampasird does not start: no failure of the version; tried at
            // the boot after it is enabled again.
            return say("jampasird.service is \(unit.unitFile): jampasir \(mark.version) is tried at the first boot it starts at")
        }
        if let ended = ended(mark, watch: watch) {
            say(ended)
            return Self.remove(trialMark)
        }
        switch watch.outcome(after: mark.invocation, within: startTimeout) {
        case .ready:
            say("jampasird \(mark.version) reported ready")
        case .notRestarted:
            say("jampasird has not restarted: jampasir \(mark.version) runs from its next start")
        case .failed(let how):
            let reason = "jampasir \(mark.version) did not report ready within \(startTimeout.components.seconds) s (\(how))"
            say("\(reason): installing the previous version again")
            guard rollBackAndStart(mark, counterID: counterID, because: reason, watch: watch) else { return }
        }
        Self.remove(trialMark)
    }

    /// Why the trial of `mark` has nothing to watch, if it has not: another version is
    /// installed, or the new start reported ready already.
    private func ended(_ mark: TrialMark, watch: StartWatch) -> String? {
        guard (try? installedVersion()) == mark.version else {
            return "jampasir \(mark.version) is no longer the installed version (rolled back already?); nothing to try"
        }
        guard let unit = watch.read() else { return nil }
        if unit.state == "active", unit.invocation != mark.invocation {
            return "jampasird \(mark.version) reported ready"
        }
        return nil
    }

    /// False when the rollback could not begin (another update held the counter's lock).
    private func rollBackAndStart(
        _ mark: TrialMark, counterID: String, because reason: String, watch: StartWatch
    ) -> Bool {
        let lock: StateLock
        do {
            lock = try StateLock(state, waitingUpTo: .seconds(15 * 60))
        } catch {
            say("the rollback could not begin: \(error.reason); it is tried again at the next start")
            return false
        }
        defer { lock.release() }
        // Waiting for the lock, the new start may have come up, or another version gone in.
        if let ended = ended(mark, watch: watch) {
            say(ended + " after all: no rollback")
            return true
        }
        // It is not running (it did not start): stopped, so that systemd does not start it again
        // halfway through dpkg, before the rollback's receipt is there for it to chain.
        _ = try? DebianTool.systemctl.run(["stop", "jampasird.service"], what: "stopping jampasird")
        let (receipt, refusal) = rollBack(counterID: counterID, because: reason)
        keep(receipt, onStick: nil)
        let running = refusal == nil ? receipt.to ?? "?" : mark.version
        if let refusal {
            say("the rollback was refused (UPd\(refusal.code)): \(refusal.reason); jampasird is started again on jampasir \(running)")
        }
        // Started in every case: a counter is never left dark by its own updater.
        _ = try? DebianTool.systemctl.run(["reset-failed", "jampasird.service"], what: "resetting jampasird")
        _ = try? DebianTool.systemctl.run(["start", "--no-block", "jampasird.service"], what: "starting jampasird")
        switch watch.outcome(after: nil, within: startTimeout) {
        case .ready, .notRestarted:
            say((refusal == nil ? "rolled back to jampasir \(running)" : "jampasir \(running) started again") + ": jampasird reported ready")
        case .failed(let how):
            say("jampasir \(running) did not report ready either (\(how)): the counter needs a technician")
        }
        return true
    }
}
