import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirHardware
import JamPasirLinux
import JamPasirMedia
import JamPasirMount
import JamPasirPosix
import JamPasirReports
import JamPasirStore
import JamPasirTerminal
import Logging

/// Start-up and shutdown of the counter daemon around `CounterLoop`, which runs on a thread of
/// its own.
public struct Daemon: Sendable {
    public enum Mode: Equatable, Sendable {
        /// Real GPIO hardware, as configured.
        case hardware
        /// Terminal backends: the display drawn large, keys for the button.
        case simulate
    }

    /// SCHED_FIFO priority of the countdown's loop and the display's thread (the unit's
    /// `LimitRTPRIO`): above every ordinary thread, below the kernel's own.
    package static let realTimePriority: Int32 = 10

    /// Exit statuses from sysexits.h, so that systemd and a technician can tell causes apart.
    public enum ExitStatus {
        public static let ioError: Int32 = 74
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public var exitStatus: Int32
    }

    public let configuration: Configuration
    public let mode: Mode
    public let logger: Logger
    /// Create a new device key even though the store has history (`jampasird --new-device-key`).
    public let newDeviceKey: Bool

    public init(configuration: Configuration, mode: Mode, logger: Logger, newDeviceKey: Bool = false) {
        self.configuration = configuration
        self.mode = mode
        self.logger = logger
        self.newDeviceKey = newDeviceKey
    }

    /// Runs until SIGTERM/SIGINT, or `q` in the simulator. The event loop runs on the calling
    /// thread; every other thread is a plain one sleeping on its own descriptor.
    public func run(screen: TerminalScreen?, startedAt: MonotonicInstant) throws(Failure) {
        let stopSignals = StopSignals()  // before any thread starts, so that every thread blocks them
        let (store, deviceKey) = try openStore()
        let clock = SystemMonotonicClock()
        let metrics = publishMetrics(store: store)
        let (hardware, displayWorker) = makeHardware(screen: screen, clock: clock, metrics: metrics)
        let loop = CounterLoop()
        let caller = HubTicketCaller(
            hub: configuration.pushHub, key: deviceKey, counterID: configuration.counterID,
            logger: logger, answered: { loop.post(.callAnswered($0, call: $1)) })
        let recorder = SessionRecorder(
            store: store, counterID: configuration.counterID, bootID: BootID.current(), logger: logger,
            checkpoints: .init(key: deviceKey, lastAt: Date()), metrics: metrics)
        let controller = CounterController(
            rules: configuration.rules, hardware: hardware, recorder: recorder, clock: clock,
            wallClock: SystemWallClock(), brightness: brightnessLevels, logger: logger,
            timeZone: configuration.timeZone,
            figures: { [logger] day in
                do {
                    let today = try store.figures(from: day.start, to: day.end)
                    return SessionMachine.Figures(sessions: today.sessions, free: today.free)
                } catch {
                    logger.error("cannot count today's sessions for the display: \(error)")
                    return SessionMachine.Figures()
                }
            }, metrics: metrics, caller: caller)

        for notice in configuration.notices { logger.notice("configuration: \(notice)") }
        let notifier = SystemdNotifier()
        stopSignals.forward(to: loop, logger: logger)
        let monitor = watchSticks(store: store, key: deviceKey, loop: loop, metrics: metrics)
        let power = configuration.powerUPS.map { ups in
            let watch = PowerWatch(
                source: NUTClient(ups: ups), rules: configuration.power, clock: clock, post: { loop.post(.power($0)) })
            logger.info("power: reading the UPS \(ups) every \(PowerWatch.defaultInterval.components.seconds) s")
            watch.start()
            return watch
        }
        let readyAfter = clock.now() - startedAt
        logger.notice(
            "ready after \(readyAfter.nanoseconds / 1_000_000) ms",
            metadata: [
                "counter": "\(configuration.counterID)",
                "limit_s": "\(Double(configuration.rules.limit.nanoseconds) / 1e9)",
                "store": "\(store.path)",
            ])
        notifier.notify("READY=1")
        do {
            try WallClockSteps.watch(
                { recorder.recordClockStep($0, wallTime: Date()) },
                onEnd: { [logger] in logger.warning("\($0): a step of the wall clock will not be recorded") })
        } catch {
            logger.warning("\(error): a step of the wall clock will not be recorded")
        }
        recorder.countForMetrics()  // after ready: counting a store of years must not hold up the first frame
        loop.run(
            controller: controller, button: hardware.button, callButton: hardware.callButton, clock: clock, logger: logger,
            watchdog: notifier.watchdogInterval, realTimePriority: Self.realTimePriority, notify: { notifier.notify($0) })
        notifier.notify("STOPPING=1")
        power?.stop()
        monitor?.stop()
        displayWorker?.finish(within: .seconds(1))
        recorder.flush()
        metrics?.remove()
        logger.notice("stopped")
    }

    private var brightnessLevels: BrightnessLevels {
        BrightnessLevels(
            active: UInt8(configuration.hardware.display.brightness),
            idle: UInt8(configuration.hardware.display.idleBrightness))
    }

    /// USB sticks, in hardware mode: udev events to the export service on threads of their own,
    /// its notices to the counter's event loop.
    private func watchSticks(
        store: SessionStore, key: DeviceKey, loop: CounterLoop, metrics: MetricsPublisher?
    ) -> MediaMonitor? {
        guard mode == .hardware, configuration.usbExportEnabled else { return nil }
        if configuration.authorizedExportKeys.isEmpty {
            logger.notice("USB export: \(StickExportService.noAuthorizedKeys)")
        }
        let updater = StickUpdater(
            hold: { loop.post(.hold($0, engaged: $1)) }, release: { loop.post(.releaseHold) }, logger: logger)
        let service = StickExportService(
            writer: ExportWriter(configuration: configuration, store: store, key: key), store: store,
            authorizedKeys: configuration.authorizedExportKeys,
            mounter: HelperMounter(socketPath: configuration.mountHelperSocket), logger: logger, updater: updater)
        let watcher = StickWatcher(
            service: service, logger: logger,
            updated: { [logger] in
                // Restart=always brings the new version up; the counter stays held until then.
                logger.notice("restarting into the new version")
                loop.post(.stop)
            }
        ) { notice in
            loop.post(.notice(notice.frame, sound: notice.sound))
            // A completed export added to the audit chain (read at its end only, not at every
            // percent). An export whose stick then failed to unmount is read at the next outcome.
            if notice.sound == .exportDone { metrics?.chainGrew() }
        }
        let monitor = MediaMonitor(logger: logger)
        monitor.start { watcher.handle($0) }
        return monitor
    }

    private func openStore() throws(Failure) -> (SessionStore, DeviceKey) {
        let store: SessionStore
        let key: DeviceKey
        do {
            store = try SessionStore(path: configuration.storePath, access: .readWrite)
            switch store.copyBeforeMigration {
            case .copied(let copy)?:
                logger.notice(
                    "store \(store.path): migrated to this version's schema; the store as it was is kept at \(copy)")
            case .failed(let reason)?:
                logger.warning(
                    "store \(store.path): migrated to this version's schema WITHOUT a copy of the store as it was (\(reason)); its history is intact, but going back to the previous version needs a backup")
            case nil: break
            }
            // The key that signs exports: created on the first start, next to the store; never
            // silently again once the store has history.
            let history = try store.historySummary()
            let existed = FileManager.default.fileExists(atPath: configuration.deviceKeyPath)
            key = try DeviceKey.loadOrCreate(
                at: configuration.deviceKeyPath, history: history, newIdentity: newDeviceKey)
            if !existed, let history {
                logger.warning(
                    "device key \(configuration.deviceKeyPath): NEW IDENTITY (\(DeviceKey.newIdentityFlag)) for a store holding \(history); exports from now on are signed by fingerprint \(key.publicKeyFingerprint): add it to the office's trusted keys"
                )
            }
            logger.info(
                "device key \(configuration.deviceKeyPath): public key \(key.publicKeyBase64) (fingerprint \(key.publicKeyFingerprint))"
            )
            let recovered = try store.interruptOpenSessions(
                at: Date(), freeService: configuration.rules.interruptedIsFree)
            if try store.recordRules(configuration.rules.auditDescription) {
                logger.notice("service rules recorded in the audit chain: \(configuration.rules.auditDescription)")
            }
            recordUpdate(in: store)
            // A signed head for a journal that leaves the box (or a supervisor's copy).
            if let checkpoint = try ChainCheckpoint.current(
                store: store, counterID: configuration.counterID, key: key, at: Date())
            {
                logger.notice("\(checkpoint.logLine("at start"))")
            }
            for session in recovered {
                logger.warning(
                    "session \(session.id!) was still running when the daemon last stopped (power cut or crash): recorded as interrupted",
                    metadata: ["started_at": "\(session.startedAt)", "free_service": "\(session.freeService ?? false)"])
            }
        } catch {
            throw Failure(description: "\(error)", exitStatus: ExitStatus.ioError)
        }
        return (store, key)
    }

    /// The update this version came with from a supervisor's stick, chained once: the sessions
    /// from here on were recorded by it. A receipt that cannot be read is logged, not fatal.
    private func recordUpdate(in store: SessionStore) {
        do {
            guard let receipt = try UpdateReceipt.latest(state: configuration.updateState), let fields = receipt.chainFields
            else { return }
            guard try store.recordUpdate(fields) else { return }
            if receipt.result == UpdateReceipt.installed {
                logger.notice(
                    "update \(receipt.from ?? "none") → \(receipt.to ?? "none") (from a stick, \(receipt.at.ISO8601Format())) recorded in the audit chain; running \(JamPasirVersion.string)")
            } else {
                logger.warning(
                    "update rolled back \(receipt.from ?? "none") → \(receipt.to ?? "none") (\(receipt.at.ISO8601Format())): \(receipt.result.terminalSafe); recorded in the audit chain; running \(JamPasirVersion.string)")
            }
        } catch {
            logger.warning("update receipt not chained: \("\(error)".terminalSafe)")
        }
    }

    /// The metrics file (`metrics.textfile`); first written once the store's counts are in,
    /// just after ready (counting a store of years takes longer than the start may).
    private func publishMetrics(store: SessionStore) -> MetricsPublisher? {
        guard let path = configuration.metricsTextfile else { return nil }
        var metrics = CounterMetrics(
            version: JamPasirVersion.string, limitMs: configuration.rules.limit.millisecondsRoundedUp)
        metrics.clockSynchronized = SystemWallClock().isSynchronized
        return MetricsPublisher(path: path, store: store, metrics: metrics, logger: logger)
    }

    private func makeHardware(screen: TerminalScreen?, clock: any MonotonicClock, metrics: MetricsPublisher?) -> (
        CounterHardware, DisplayWorker?
    ) {
        switch mode {
        case .simulate:
            let screen = screen ?? TerminalScreen(title: "JamPasir \(configuration.counterID)")
            let hardware = CounterHardware(
                button: KeyboardButton(longPress: configuration.rules.longPress),
                display: TerminalDisplay(screen: screen), buzzer: TerminalBuzzer(screen: screen),
                lights: TerminalLights(screen: screen))
            return (hardware, nil)
        case .hardware:
            return HardwareFactory(configuration: configuration, clock: clock, logger: logger, metrics: metrics).make()
        }
    }
}
