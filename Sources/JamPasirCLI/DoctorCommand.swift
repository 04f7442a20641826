import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirDaemon
import JamPasirHardware
import JamPasirLinux
import JamPasirStore

/// `jampasir doctor`: checks the configuration, the store and the wiring, and says what to fix.
public struct DoctorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the configuration, the store, the GPIO lines and the display.",
        discussion: """
            Lines held by a running jampasird are reported as in use by the daemon (that is fine); \
            the display is only probed when its lines are free. Exit status 1 when something needs fixing.
            """)

    @OptionGroup var storeOptions: StoreOptions

    public init() {}

    struct Finding {
        var ok: Bool
        var text: String
    }

    public func run() throws {
        let findings = check()
        for finding in findings {
            print((finding.ok ? " ok    " : " FIX   ") + finding.text)
        }
        let problems = findings.filter { !$0.ok }.count
        print(problems == 0 ? "\nall good" : "\n\(problems) thing\(problems == 1 ? "" : "s") to fix")
        if problems > 0 { throw ExitCode(1) }
    }

    func check() -> [Finding] {
        var findings: [Finding] = []
        let configuration: Configuration
        do {
            configuration = try storeOptions.configuration()
            findings.append(
                Finding(
                    ok: true, text: "configuration \(storeOptions.config ?? JamPasirConfig.Configuration.defaultPath)"))
        } catch {
            return [Finding(ok: false, text: "\(error)")]
        }
        do {
            let store = try SessionStore(path: configuration.storePath, access: .readOnly)
            findings.append(Finding(ok: true, text: "store \(store.path): \(try store.count()) sessions"))
        } catch {
            findings.append(Finding(ok: false, text: "\(error)"))
        }
        findings.append(Finding(ok: true, text: "libgpiod \(GPIOLine.libraryVersion)"))

        let hardware = configuration.hardware
        var lines = [GPIOLineSpec(chip: hardware.button.chip, offset: hardware.button.line, key: "button.line")]
        let display = hardware.display
        if display.kind == .tm1637 {
            lines.append(GPIOLineSpec(chip: display.chip, offset: display.clockLine, key: "display.clk_line"))
            lines.append(GPIOLineSpec(chip: display.chip, offset: display.dataLine, key: "display.dio_line"))
        }
        if hardware.buzzer.kind == .active {
            lines.append(GPIOLineSpec(chip: hardware.buzzer.chip, offset: hardware.buzzer.line, key: "buzzer.line"))
        }
        let l = hardware.lights
        for (line, key) in [
            (l.greenLine, "lights.green_line"), (l.amberLine, "lights.amber_line"), (l.redLine, "lights.red_line"),
        ] {
            if let line { lines.append(GPIOLineSpec(chip: l.chip, offset: line, key: key)) }
        }
        lines += l.sandLines.map { GPIOLineSpec(chip: l.chip, offset: $0, key: "lights.sand_lines") }

        var daemonHoldsLines = false
        for spec in lines {
            do {
                _ = try GPIOLine.input(spec, consumer: "jampasir-doctor", bias: .asIs)
                findings.append(Finding(ok: true, text: "\(spec.key): \(spec) is free"))
            } catch {
                if case .busy(let consumer) = error.kind, consumer == "jampasird" {
                    daemonHoldsLines = true
                    findings.append(Finding(ok: true, text: "\(spec.key): \(spec) is in use by jampasird (running)"))
                } else {
                    findings.append(Finding(ok: false, text: "\(error)"))
                }
            }
        }
        if !daemonHoldsLines, let finding = probe(display) { findings.append(finding) }
        if let status = DaemonStatus.read(), status.isCurrent {
            let ok = status.display != "failing"
            let problem = status.displayProblem.map { ": \($0)" } ?? ""
            findings.append(
                Finding(
                    ok: ok,
                    text:
                        "display (\(status.displayKind)) as jampasird pid \(status.pid) sees it: \(status.display)\(problem)"
                ))
        }
        return findings
    }

    /// Writes a blank frame to the display: it answers or it does not.
    private func probe(_ display: DisplayConfiguration) -> Finding? {
        let blank = SegmentFrame(digits: [0, 0, 0, 0], colon: false, brightness: 0)
        do {
            switch display.kind {
            case .none:
                return nil
            case .tm1637:
                let wires = try GPIOTM1637Wires(
                    clock: GPIOLineSpec(chip: display.chip, offset: display.clockLine, key: "display.clk_line"),
                    data: GPIOLineSpec(chip: display.chip, offset: display.dataLine, key: "display.dio_line"),
                    halfBit: .microseconds(display.bitDelayMicroseconds))
                try TM1637Display(wires: wires).show(blank)
                return Finding(ok: true, text: "TM1637 display answers (ACK)")
            case .ht16k33:
                try HT16K33Display(bus: try LinuxI2CDevice(bus: display.i2cBus, address: display.i2cAddress)).show(
                    blank)
                return Finding(ok: true, text: "HT16K33 display answers at 0x\(String(display.i2cAddress, radix: 16))")
            case .max7219:
                try MAX7219Display(bus: try LinuxSPIDevice(path: display.spiDevice), chainLength: display.chainLength)
                    .show(blank)
                return Finding(
                    ok: true, text: "MAX7219 on \(display.spiDevice) written (SPI cannot confirm that a chip listens)")
            }
        } catch {
            return Finding(ok: false, text: "display (\(display.kind.rawValue)): \(error)")
        }
    }
}
