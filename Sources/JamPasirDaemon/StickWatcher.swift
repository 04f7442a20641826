import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirHardware
import JamPasirLinux
import JamPasirMedia
import JamPasirReports
import JamPasirStore
import Logging
import Synchronization

/// What the supervisor sees and hears about a stick: shown by the counter only while idle.
public struct StickNotice: Equatable, Sendable {
    public var frame: DisplayFrame?
    public var sound: SoundPattern?

    /// `USb ` while mounting and checking the key.
    public static let checking = StickNotice(frame: DisplayFrame("USb "), sound: nil)
    public static let cleared = StickNotice(frame: nil, sound: nil)

    /// `U 42`: per cent of the sessions written.
    public static func writing(done: Int, of total: Int) -> StickNotice {
        let percent = total == 0 ? 100 : min(99, done * 100 / total)
        let digits = String(percent)
        return StickNotice(
            frame: DisplayFrame("U" + String(repeating: " ", count: 3 - digits.count) + digits), sound: nil)
    }

    public init(frame: DisplayFrame?, sound: SoundPattern?) {
        self.frame = frame
        self.sound = sound
    }

    public init(_ outcome: StickExportOutcome) {
        switch outcome {
        case .ignored: self = .cleared
        case .refused: self.init(frame: outcome.frame, sound: .refused)
        case .failed: self.init(frame: outcome.frame, sound: .fault)
        case .exported, .updated(_, _, true): self.init(frame: outcome.frame, sound: .exportDone)
        case .updated(_, _, false): self.init(frame: outcome.frame, sound: .fault)
        case .updateRefused: self.init(frame: outcome.frame, sound: .fault)
        }
    }
}

/// Watches block devices come and go and exports to each stick, one at a time, on its own
/// thread: the countdown loop never waits for a stick. Notices go out in order to `notify`
/// (the counter's event loop); the result stays on the display (while idle) until the stick is pulled out, so
/// `donE` means "safe to remove" for as long as the stick is in. Pulling a stick out during
/// its export abandons the export (no complete-looking files are left) and the next insertion
/// starts again from scratch.
public final class StickWatcher: Sendable {
    private let service: StickExportService
    private let logger: Logger
    private let exports = SerialWorker(name: "jp-export")
    private struct State {
        /// The stick being exported, and whether it has been pulled out.
        var exporting: String?
        var cancelled = false
        /// The stick whose notice is showing.
        var shown: String?
        /// A stick plugged in while another export was still running: next in line.
        var waiting: (Stick, MediaDevice)?
        /// Whether the log already says that sticks are ignored for want of authorised keys.
        var saidNoKeys = false
    }
    private let state = Mutex(State())
    private let notify: @Sendable (StickNotice) -> Void
    /// After an update from a stick was installed (and the stick unmounted): the daemon restarts.
    private let updated: @Sendable () -> Void

    /// `notify` gets the notices in the order they were made, from the watcher's threads.
    public init(
        service: StickExportService, logger: Logger, updated: @escaping @Sendable () -> Void = {},
        notify: @escaping @Sendable (StickNotice) -> Void
    ) {
        self.service = service
        self.logger = logger
        self.updated = updated
        self.notify = notify
    }

    /// A device event (from `MediaMonitor`'s thread).
    public func handle(_ event: MediaMonitor.Event) {
        switch event {
        case .added(let device):
            switch MediaClassifier.classify(device) {
            case .ignored(let reason):
                // Internal disks are enumerated at every start: only USB devices are worth a line.
                if device.properties["ID_BUS"] == "usb" || device.parentSubsystems.contains("usb") {
                    logger.info("USB: ignored \(device.devnode.terminalSafe): \(reason.terminalSafe)")
                }
            case .stick(let stick) where !service.mountsSticks:
                let first = state.withLock { state in
                    defer { state.saidNoKeys = true }
                    return !state.saidNoKeys
                }
                if first {
                    logger.warning(
                        "USB: ignored \(stick.description.terminalSafe) and every stick after it: \(StickExportService.noAuthorizedKeys)"
                    )
                }
            case .stick(let stick):
                start(stick, device)
            }
        case .removed(let device):
            let devnode = device.devnode
            let wasShown = state.withLock { state -> Bool in
                if state.exporting == devnode { state.cancelled = true }
                if state.waiting?.0.devnode == devnode { state.waiting = nil }
                guard state.shown == devnode else { return false }
                state.shown = nil
                return true
            }
            if wasShown { notify(.cleared) }
        case .changed:
            break
        }
    }

    /// Whether an export is running (or waiting to run).
    package var isBusy: Bool { state.withLock { $0.exporting != nil || $0.waiting != nil } }

    private func start(_ stick: Stick, _ device: MediaDevice) {
        let busy = state.withLock { state -> Bool in
            state.shown = stick.devnode
            guard state.exporting == nil else {
                state.waiting = (stick, device)
                return true
            }
            state.exporting = stick.devnode
            state.cancelled = false
            return false
        }
        notify(.checking)
        if busy {
            logger.notice("USB: \(stick.description.terminalSafe) waits for the export still running to finish")
        } else {
            exports.submit { self.export(device, stick: stick) }
        }
    }

    private func export(_ device: MediaDevice, stick: Stick) {
        let outcome = service.handle(
            device,
            progress: { done, total in
                if self.state.withLock({ $0.cancelled }) { throw ExportWriter.Failure.removed }
                self.notify(.writing(done: done, of: total))
            }, pulledOut: { self.state.withLock { $0.cancelled } })
        let (stillIn, next) = state.withLock { state in
            state.exporting = nil
            let next = state.waiting
            state.waiting = nil
            return (state.shown == stick.devnode, next)
        }
        if stillIn { notify(StickNotice(outcome)) }
        if case .updated = outcome {
            updated()
            return
        }
        if let (stick, device) = next { start(stick, device) }
    }
}
