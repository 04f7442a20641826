import Dispatch
import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirHardware
import JamPasirStore
import JamPasirTerminal
import Logging

/// Start-up and shutdown of the counter daemon around `CounterLoop`.
public struct Daemon: Sendable {
    public enum Mode: Sendable {
        /// Real GPIO hardware, as configured.
        case hardware
        /// Terminal backends: the display drawn large, keys for the button.
        case simulate
    }

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

    public init(configuration: Configuration, mode: Mode, logger: Logger) {
        self.configuration = configuration
        self.mode = mode
        self.logger = logger
    }

    /// Runs until SIGTERM/SIGINT, or `q` in the simulator.
    public func run(screen: TerminalScreen?, startedAt: MonotonicInstant) async throws(Failure) {
        let store = try openStore()
        let clock = SystemMonotonicClock()
        let (hardware, displayWorker) = makeHardware(screen: screen, clock: clock)
        let recorder = SessionRecorder(
            store: store, counterID: configuration.counterID, bootID: BootID.current(), logger: logger)
        let controller = CounterController(
            rules: configuration.rules, hardware: hardware, recorder: recorder, clock: clock,
            wallClock: SystemWallClock(), brightness: brightnessLevels, logger: logger)

        let notifier = SystemdNotifier()
        let loop = Task {
            await CounterLoop.run(
                controller: controller, button: hardware.button, clock: clock, logger: logger,
                watchdog: notifier.watchdogInterval, notify: { notifier.notify($0) })
        }
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                logger.notice("signal \(number == SIGTERM ? "SIGTERM" : "SIGINT"): stopping")
                loop.cancel()
            }
            source.resume()
            return source
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
        await loop.value
        notifier.notify("STOPPING=1")
        for source in signals { source.cancel() }
        displayWorker?.finish(within: .seconds(1))
        await recorder.flush()
        logger.notice("stopped")
    }

    private var brightnessLevels: BrightnessLevels {
        BrightnessLevels(
            active: UInt8(configuration.hardware.display.brightness),
            idle: UInt8(configuration.hardware.display.idleBrightness))
    }

    private func openStore() throws(Failure) -> SessionStore {
        let store: SessionStore
        do {
            store = try SessionStore(path: configuration.storePath, access: .readWrite)
            // The key that signs exports: created once, on the first start, next to the store.
            let key = try DeviceKey.loadOrCreate(at: configuration.deviceKeyPath)
            logger.info("device key \(configuration.deviceKeyPath): public key \(key.publicKeyBase64)")
            let recovered = try store.interruptOpenSessions(
                at: Date(), freeService: configuration.rules.interruptedIsFree)
            for session in recovered {
                logger.warning(
                    "session \(session.id!) was still running when the daemon last stopped (power cut or crash): recorded as interrupted",
                    metadata: ["started_at": "\(session.startedAt)", "free_service": "\(session.freeService ?? false)"])
            }
        } catch {
            throw Failure(description: "\(error)", exitStatus: ExitStatus.ioError)
        }
        return store
    }

    private func makeHardware(screen: TerminalScreen?, clock: any MonotonicClock) -> (CounterHardware, DisplayWorker?) {
        switch mode {
        case .simulate:
            let screen = screen ?? TerminalScreen(title: "JamPasir \(configuration.counterID)")
            let hardware = CounterHardware(
                button: KeyboardButton(longPress: configuration.rules.longPress),
                display: TerminalDisplay(screen: screen), buzzer: TerminalBuzzer(screen: screen),
                lights: TerminalLights(screen: screen))
            return (hardware, nil)
        case .hardware:
            return HardwareFactory(configuration: configuration, clock: clock, logger: logger).make()
        }
    }
}
