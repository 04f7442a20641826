import Dispatch
import Glibc
import JamPasirCore
import JamPasirMount
import JamPasirPosix
import Logging

/// The update on a supervisor's stick, from the daemon's side: it holds the counter once it is
/// idle (never during a session: one that runs keeps its timing, and the update waits for it),
/// asks the privileged `jampasir update-install --serve` behind jampasir-update.socket to install
/// it, and says how it went. The daemon keeps no privileges: apt, dpkg and the update key are
/// the updater's.
public struct StickUpdater: Sendable {
    public static let defaultSocket = "/run/jampasir-update.sock"
    /// Shown while the counter is held for the update.
    public static let updating = DisplayFrame("UPd ")

    /// `UP42`: per cent of the update's package copied from the stick onto the counter.
    public static func copying(_ percent: Int) -> DisplayFrame {
        let digits = String(min(99, max(0, percent)))
        return DisplayFrame("UP" + (digits.count == 1 ? " " : "") + digits)
    }

    public enum Result: Equatable, Sendable {
        case installed(from: String, to: String)
        case current(String)
        /// `code` is the display's `UPd` number: the updater's refusals (`updaterCodes`), 7 and 8 the daemon's.
        case refused(code: Int, String)

        static let unreachable = 7
        static let noAnswer = 8
        /// The codes the updater gives (`jampasir update-install`): 7 and 8 are the daemon's own.
        static let updaterCodes: Set<Int> = [1, 2, 3, 4, 5, 6, 9]
    }

    public var socketPath: String
    /// Holds the counter showing the frame once it is idle; the callback says it is held. Asked
    /// again without one while held, only the frame changes (the copy's progress).
    public var hold: @Sendable (DisplayFrame, (@Sendable () -> Void)?) -> Void
    /// Lets sessions start again.
    public var release: @Sendable () -> Void
    public var logger: Logger
    /// How long an install may take, all told: longer than the updater's own bound
    /// (`RuntimeMaxSec=20min` in jampasir-update@.service), so systemd ends a stuck install and
    /// the daemon hears of it, rather than letting sessions start beside a running dpkg.
    public var deadline = Duration.seconds(25 * 60)

    public init(
        socketPath: String = Self.defaultSocket, hold: @escaping @Sendable (DisplayFrame, (@Sendable () -> Void)?) -> Void,
        release: @escaping @Sendable () -> Void, logger: Logger
    ) {
        self.socketPath = socketPath
        self.hold = hold
        self.release = release
        self.logger = logger
    }

    /// Whether the stick at `mountPoint` carries an update (`jampasir update-stick`).
    public static func carriesUpdate(_ mountPoint: String) -> Bool {
        var info = stat()
        return lstat(mountPoint + "/JAMPASIR/update", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Waits for the idle counter, then installs. Nil when the stick was pulled out (`pulledOut`)
    /// before the counter was free: nothing was asked. After `.installed` the counter stays held:
    /// the daemon restarts into the new version.
    public func install(from mountPoint: String, pulledOut: @Sendable () -> Bool) -> Result? {
        let held = DispatchSemaphore(value: 0)
        logger.notice("USB: the stick carries an update; it is installed once no session runs")
        hold(Self.updating) { held.signal() }
        while held.wait(timeout: .now() + .seconds(1)) == .timedOut {
            if pulledOut() {
                release()
                logger.notice("USB: the stick was pulled out before the update could begin; nothing installed")
                return nil
            }
        }
        let result = ask(mountPoint)
        switch result {
        case .installed(let from, let to):
            logger.notice("update: jampasir \(from) → \(to) installed from the stick")
        case .current(let version):
            logger.notice("update: jampasir \(version) is already installed")
            release()
        case .refused(let code, let reason):
            logger.error("update refused (UPd\(code)): \(reason)")
            release()
        }
        return result
    }

    private func ask(_ mountPoint: String) -> Result {
        let fd: Int32
        do {
            fd = try UnixSocket.connect(to: socketPath, timeout: .seconds(60))
        } catch {
            return .refused(
                code: Result.unreachable,
                "\(error.description); is jampasir-update.socket running (systemctl status jampasir-update.socket)?")
        }
        defer { close(fd) }
        guard UnixSocket.writeLine(fd, "install " + mountPoint) else {
            return .refused(code: Result.noAnswer, "jampasir-update.socket took no request")
        }
        let until = ContinuousClock.now + deadline
        var shown = Self.updating
        func show(_ frame: DisplayFrame) {
            if frame != shown { hold(frame, nil) }
            shown = frame
        }
        while let line = UnixSocket.readLine(fd, limit: 4096, deadline: until) {
            let words = line.split(separator: " ", maxSplits: 1).map(String.init)
            let rest = words.count > 1 ? words[1] : ""
            switch words.first {
            case "step":
                logger.info("update: \(rest.terminalSafe)")
                show(Self.updating)
            case "progress":
                if let percent = Int(rest) { show(Self.copying(percent)) }
            case "installed":
                let versions = rest.split(separator: " ").map(String.init)
                guard versions.count == 2 else { break }
                return .installed(from: versions[0].terminalSafe, to: versions[1].terminalSafe)
            case "current":
                return .current(rest.terminalSafe)
            case "refused":
                let parts = rest.split(separator: " ", maxSplits: 1).map(String.init)
                guard let code = parts.first.flatMap({ Int($0) }), Result.updaterCodes.contains(code) else { break }
                return .refused(code: code, (parts.count > 1 ? parts[1] : "").terminalSafe)
            default:
                break
            }
        }
        return .refused(
            code: Result.noAnswer, "jampasir-update.socket gave no answer in time (journalctl -u 'jampasir-update@*')")
    }
}
