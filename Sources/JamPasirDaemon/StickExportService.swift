import Crypto
import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirMedia
import JamPasirStore
import Logging

/// What happened to a plugged-in device, and what the display and buzzer say about it.
public enum StickExportOutcome: Equatable, Sendable {
    case ignored(String)
    case refused(String)
    case failed(code: Int, String)
    case exported(directory: String, sessions: Int)
    /// Exported, then the stick's update installed: the daemon restarts into it (whether or not
    /// the stick could then be unmounted: `USb8` if not).
    case updated(from: String, to: String, unmounted: Bool)
    /// Exported, but the stick's update was not installed (`StickUpdater.Result.refused`).
    case updateRefused(code: Int, String)

    /// Failure codes beyond the writer's (`ExportWriter.FailureKind` 1–6).
    public static let mountFailed = 7
    public static let unmountFailed = 8

    /// `donE` (safe to remove), `-no-` (not an authorised stick), `USb` + code (a fault), `UPd` +
    /// code (the update refused).
    public var frame: DisplayFrame? {
        switch self {
        case .ignored: nil
        case .refused: DisplayFrame("-no-")
        case .failed(let code, _): DisplayFrame("USb\(code)")
        case .exported, .updated(_, _, true): DisplayFrame("donE")
        case .updated(_, _, false): DisplayFrame("USb\(Self.unmountFailed)")
        case .updateRefused(let code, _): DisplayFrame("UPd\(code)")
        }
    }
}

/// One stick, start to finish: classify, mount read-only, check the key file, remount
/// read-write, write the signed export, record it, sync and unmount. Whatever happens the
/// stick is unmounted and the store is only ever read (and appended one export record).
public struct StickExportService: Sendable {
    public var writer: ExportWriter
    public var store: SessionStore
    public var authorizedKeys: [String]
    public var mounter: any StickMounter
    public var logger: Logger
    public var now: @Sendable () -> Date
    /// Installs an update the stick carries, after the export; nil: updates are not taken.
    public var updater: StickUpdater?

    public init(
        writer: ExportWriter, store: SessionStore, authorizedKeys: [String], mounter: any StickMounter, logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init, updater: StickUpdater? = nil
    ) {
        self.updater = updater
        self.writer = writer
        self.store = store
        self.authorizedKeys = authorizedKeys
        self.mounter = mounter
        self.logger = logger
        self.now = now
    }

    /// Whether sticks are mounted at all. With no authorised key every stick would be refused
    /// anyway, so none is mounted: a crafted filesystem from the waiting room never reaches the
    /// kernel's filesystem code on a counter that does not export.
    public var mountsSticks: Bool { !authorizedKeys.isEmpty }

    /// Why a stick is ignored while `mountsSticks` is false.
    public static let noAuthorizedKeys =
        "export.authorized_keys is empty in the configuration, so no stick is mounted; add the fingerprint of an export stick's key (jampasir export-key new) to export"

    /// `progress` is passed to the writer (see `ExportWriter.write`); `pulledOut` says whether the
    /// stick is gone while an update waits for the counter.
    public func handle(
        _ device: MediaDevice, progress: ((Int, Int) throws -> Void)? = nil,
        pulledOut: @escaping @Sendable () -> Bool = { false }
    ) -> StickExportOutcome {
        let stick: Stick
        switch MediaClassifier.classify(device) {
        case .ignored(let reason):
            return .ignored("\(device.devnode): \(reason)")
        case .stick(let found):
            stick = found
        }
        guard mountsSticks else { return report(.ignored("\(stick): \(Self.noAuthorizedKeys)")) }
        let mountPoint: String
        do {
            mountPoint = try mounter.mountReadOnly(stick)
        } catch {
            return report(.failed(code: StickExportOutcome.mountFailed, "cannot mount \(stick): \(error)"))
        }
        var outcome = export(stick, at: mountPoint, progress: progress)
        if case .exported = outcome, let updater, StickUpdater.carriesUpdate(mountPoint) {
            switch updater.install(from: mountPoint, pulledOut: pulledOut) {
            case .installed(let from, let to)?: outcome = .updated(from: from, to: to, unmounted: true)
            case .refused(let code, let reason)?: outcome = .updateRefused(code: code, reason)
            case .current?, nil: break
            }
        }
        do {
            try mounter.unmount(mountPoint)
        } catch {
            switch outcome {
            case .updated(let from, let to, _):
                outcome = .updated(from: from, to: to, unmounted: false)
            case .exported, .updateRefused:
                outcome = .failed(
                    code: StickExportOutcome.unmountFailed,
                    "exported but could not unmount \(stick): \(error); do not remove it yet")
            case .ignored, .refused, .failed:
                break
            }
        }
        return report(outcome)
    }

    private func export(_ stick: Stick, at mountPoint: String, progress: ((Int, Int) throws -> Void)?)
        -> StickExportOutcome
    {
        let key: Data
        do {
            key = try ExportAuthorization.readKeyFile(mountPoint: mountPoint)
        } catch {
            return .refused("\(stick): \(error.description)")
        }
        guard ExportAuthorization.isAuthorized(key, allowed: authorizedKeys) else {
            return .refused(
                "\(stick): its key \(ExportAuthorization.fingerprint(of: key)) is not in export.authorized_keys")
        }
        do {
            try mounter.remountReadWrite(mountPoint)
        } catch {
            return .failed(code: ExportWriter.FailureKind.readOnly.rawValue, "\(stick) cannot be written: \(error)")
        }
        let result: ExportWriter.Result
        do {
            result = try writer.write(into: mountPoint, at: now(), progress: progress)
        } catch {
            return .failed(code: error.kind.rawValue, "\(stick): \(error.description)")
        }
        let manifest = FileManager.default.contents(atPath: result.directory + "/manifest.json") ?? Data()
        let digest = SHA256.hash(data: manifest).hexString
        do {
            try store.recordExport(
                ExportRecord(
                    exportedAt: now(), stick: stick.description, sessionCount: result.manifest.body.sessions.count,
                    lastSessionID: result.manifest.body.sessions.lastID, manifestSHA256: digest))
        } catch {
            logger.error("export to \(stick.description.terminalSafe) written, but not recorded in the store: \(error)")
        }
        if let checkpoint = try? ChainCheckpoint.current(
            store: store, counterID: writer.counterID, key: writer.key, at: now())
        {
            logger.notice("\(checkpoint.logLine("after the export"))")
        }
        return .exported(directory: result.directory, sessions: result.manifest.body.sessions.count)
    }

    /// Logs the outcome; what the stick said about itself (vendor, model, serial) and errors
    /// naming its files are made terminal-safe first.
    private func report(_ outcome: StickExportOutcome) -> StickExportOutcome {
        switch outcome {
        case .ignored(let why): logger.info("USB: ignored \(why.terminalSafe)")
        case .refused(let why): logger.warning("USB: refused \(why.terminalSafe)")
        case .failed(let code, let why): logger.error("USB: export failed (USb\(code)): \(why.terminalSafe)")
        case .exported(let directory, let sessions):
            logger.notice("USB: exported \(sessions) sessions to \(directory.terminalSafe); safe to remove")
        case .updated(let from, let to, let unmounted):
            logger.notice(
                "USB: exported, and jampasir \(from.terminalSafe) → \(to.terminalSafe) installed; \(unmounted ? "safe to remove" : "but the stick could not be unmounted (USb8): do not remove it yet")")
        case .updateRefused(let code, let why):
            logger.warning("USB: exported, but the update was refused (UPd\(code)): \(why.terminalSafe); safe to remove")
        }
        return outcome
    }
}
