import JamPasirConfig
import JamPasirCore
import JamPasirHardware
import JamPasirLinux
import JamPasirReports
import Logging

/// Builds the real backends from the `[button]`, `[display]`, `[buzzer]` and `[lights]` keys.
/// Nothing here fails: a part that cannot be had is logged and retried in the background,
/// so a miswired counter still counts, records and tells the technician what is wrong.
struct HardwareFactory {
    let configuration: Configuration
    let clock: any MonotonicClock
    let logger: Logger
    let metrics: MetricsPublisher?

    func make() -> (hardware: CounterHardware, display: DisplayWorker?) {
        let hardware = configuration.hardware
        let lines = ConfiguredLines(hardware)
        let now: @Sendable () -> MonotonicInstant = { [clock] in clock.now() }
        let button = GPIOButton(GPIOButton.Settings(line: lines.button, wiring: hardware.button), logger: logger)
        let callButton = lines.call.map { line in
            GPIOButton(GPIOButton.Settings(line: line, wiring: hardware.button, button: .call), logger: logger)
        }
        let display = makeDisplay(hardware.display, lines: lines)
        let buzzer = makeBuzzer(hardware.buzzer, line: lines.buzzer)
        let indicators = GPIOLights(
            green: lines.green, amber: lines.amber, red: lines.red, sand: lines.sand, clock: now, logger: logger)
        return (
            CounterHardware(
                button: button, display: display ?? NoDisplay(), buzzer: buzzer, lights: indicators,
                callButton: callButton),
            display
        )
    }

    private func makeBuzzer(_ buzzer: BuzzerConfiguration, line: GPIOLineSpec?) -> any Buzzer {
        switch buzzer.kind {
        case .none:
            return NoBuzzer()
        case .active:
            guard let line else { return NoBuzzer() }
            return PatternBuzzer(SwitchedOutput(line, logger: logger), clock: clock)
        case .passive:
            let (chip, channel, frequency) = (buzzer.pwmChip, buzzer.pwmChannel, buzzer.frequencyHz)
            let output = SwitchedOutput(key: "buzzer.pwm_channel", logger: logger) { _ in
                try PWMChannel(chip: chip, channel: channel, frequency: frequency)
            }
            return PatternBuzzer(output, clock: clock)
        }
    }

    private func makeDisplay(_ display: DisplayConfiguration, lines: ConfiguredLines) -> DisplayWorker? {
        let name = display.kind.rawValue.uppercased()
        let report: @Sendable (DisplayWorker.Health) -> Void = { [metrics] health in
            DaemonStatus(displayKind: display.kind.rawValue, health: health).write()
            if case .starting = health { return }
            metrics?.update {
                if case .ok = health { $0.displayOK = true } else { $0.displayOK = false }
            }
        }
        switch display.kind {
        case .none:
            return nil
        case .tm1637:
            guard let clockLine = lines.displayClock, let dataLine = lines.displayData else { return nil }
            let halfBit = Duration.microseconds(display.bitDelayMicroseconds)
            return DisplayWorker(
                name: name, clock: clock, logger: logger, healthChanged: report, realTimePriority: Daemon.realTimePriority
            ) {
                TM1637Display(wires: try GPIOTM1637Wires(clock: clockLine, data: dataLine, halfBit: halfBit))
            }
        case .ht16k33:
            let (bus, address) = (display.i2cBus, display.i2cAddress)
            return DisplayWorker(
                name: name, clock: clock, logger: logger, healthChanged: report, realTimePriority: Daemon.realTimePriority
            ) {
                HT16K33Display(bus: try LinuxI2CDevice(bus: bus, address: address))
            }
        case .max7219:
            let (path, chain) = (display.spiDevice, display.chainLength)
            return DisplayWorker(
                name: name, clock: clock, logger: logger, healthChanged: report, realTimePriority: Daemon.realTimePriority
            ) {
                MAX7219Display(bus: try LinuxSPIDevice(path: path), chainLength: chain)
            }
        }
    }
}

/// `display.kind = "none"`.
struct NoDisplay: SegmentDisplay {
    func show(_ segments: SegmentFrame) {}
}

/// `buzzer.kind = "none"`.
struct NoBuzzer: Buzzer {
    func play(_ pattern: SoundPattern) {}
    func silence() {}
}

extension DaemonStatus {
    init(displayKind: String, health: DisplayWorker.Health) {
        switch health {
        case .ok: self.init(displayKind: displayKind, display: "ok")
        case .starting: self.init(displayKind: displayKind, display: "starting")
        case .failing(let problem): self.init(displayKind: displayKind, display: "failing", problem: problem)
        }
    }
}
