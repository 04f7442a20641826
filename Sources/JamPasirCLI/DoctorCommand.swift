import ArgumentParser
import CJamPasirSystem
import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirHardware
import JamPasirHub
import JamPasirLinux
import JamPasirReports
import JamPasirStore
import JamPasirPosix

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

    @Flag(name: .long, help: "Do not sound the test beep.")
    var noBeep = false

    public init() {}

    struct Finding {
        var ok: Bool
        var text: String
    }

    public func run() throws {
        let findings = check()
        for finding in findings {
            print((finding.ok ? " ok    " : " FIX   ") + finding.text.terminalSafe)
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
            let check = try store.quickCheck()
            findings.append(
                Finding(
                    ok: check == "ok", text: "store \(store.path): \(try store.count()) sessions, quick_check \(check)")
            )
        } catch {
            findings.append(Finding(ok: false, text: "\(error)"))
        }
        findings.append(room(for: configuration.storePath))
        findings.append(clock())
        findings.append(Self.power(configuration.powerUPS.map { NUTClient(ups: $0) }, rules: configuration.power))
        findings += service()
        findings.append(Finding(ok: true, text: "libgpiod \(GPIOLine.libraryVersion)"))

        let hardware = configuration.hardware
        let display = hardware.display
        let lines = ConfiguredLines(hardware)
        var daemonHoldsLines = false
        for spec in lines.all {
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
        if let call = lines.call { findings.append(callButton(call, configuration)) }
        if !daemonHoldsLines, let finding = probe(display) { findings.append(finding) }
        if !daemonHoldsLines, !noBeep, let buzzer = lines.buzzer {
            findings.append(beep(buzzer))
        }
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

    /// Free space where the store lives: a full SD card would stop the log.
    /// The call button needs a hub that takes this counter's calls (asked without calling anyone).
    private func callButton(_ line: GPIOLineSpec, _ configuration: Configuration) -> Finding {
        guard let hub = configuration.pushHub else {
            return Finding(ok: false, text: "call button (\(line.key)) has no hub to call: set push.hub")
        }
        do {
            let key = try DeviceKey.existing(at: configuration.deviceKeyPath)
            try QueueCall.check(counter: configuration.counterID, key: key, hub: hub)
            return Finding(ok: true, text: "call button (\(line.key)): hub \(hub) takes this counter's calls")
        } catch {
            return Finding(ok: false, text: "call button (\(line.key)): \(error)")
        }
    }

    private func room(for storePath: String) -> Finding {
        var info = statvfs()
        let directory = (storePath as NSString).deletingLastPathComponent
        guard statvfs(directory, &info) == 0 else {
            return Finding(ok: false, text: SystemError("cannot check free space in \(directory)").description)
        }
        let freeMB = Int(info.f_bavail) * Int(info.f_frsize) / 1_000_000
        return Finding(
            ok: freeMB >= 50,
            text: "free space for the store in \(directory): \(freeMB) MB"
                + (freeMB < 50 ? " (need at least 50 MB: clean up the SD card)" : ""))
    }

    /// The power source, as the daemon reads it: mains (no UPS configured), or the UPS's state
    /// with its charge and runtime, and whether a session may start on it.
    static func power(_ source: (any PowerSource)?, rules: PowerRules) -> Finding {
        guard let source else {
            return Finding(ok: true, text: "power: mains (no UPS configured; a kit sets power.ups)")
        }
        let reading: PowerReading
        do {
            reading = try source.read()
        } catch {
            return Finding(ok: false, text: "power: \(error)")
        }
        let state = rules.state(after: reading, was: .mains)
        switch state {
        case .mains:
            return Finding(ok: true, text: "power: mains, through the UPS (\(reading.summary))")
        case .battery, .unknown:
            return Finding(ok: true, text: "power: \(state)")
        case .tooLow:
            return Finding(ok: false, text: "power: \(state); plug the kit into mains or change the cells")
        }
    }

    /// Start and end times are only trustworthy with a synchronised wall clock (a Pi has no RTC).
    private func clock() -> Finding {
        let synchronized =
            jp_wall_clock_synchronized() == 1
            || FileManager.default.fileExists(atPath: "/run/systemd/timesync/synchronized")
        func rtcFile(_ name: String) -> String? {
            readTextFile("/sys/class/rtc/rtc0/" + name, limit: 256)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let rtc = rtcFile("name").map { name in
            RTCReading(name: name, secondsOff: rtcFile("since_epoch").flatMap(Int64.init).map { $0 - Int64(time(nil)) })
        }
        return Self.clockFinding(synchronized: synchronized, rtc: rtc)
    }

    /// The real-time clock rtc0: its driver's name, and how far its time is from the system's
    /// (nil when it cannot be read: not set, or no battery).
    struct RTCReading {
        var name: String
        var secondsOff: Int64?
        /// Within what an RTC read to the second can show.
        var agrees: Bool { secondsOff.map { abs($0) <= 5 } ?? false }
    }

    /// Where the wall clock's time comes from: NTP, a real-time clock that agrees with it, both
    /// or neither. An RTC that does not agree (a Pi 5's without its battery, a DS3231 never set)
    /// would start the clock wrong after a power cut away from the network.
    static func clockFinding(synchronized: Bool, rtc: RTCReading?) -> Finding {
        let setIt = "set it once the time is right: sudo hwclock --systohc, and check its battery"
        let rtcText = rtc.map { rtc -> String in
            if rtc.agrees { return "RTC rtc0 (\(rtc.name)) agrees and keeps the time through power cuts" }
            let state: String = rtc.secondsOff.map { "is \($0) s off" } ?? "cannot be read"
            return "RTC rtc0 (\(rtc.name)) \(state): \(setIt)"
        }
        switch (synchronized, rtc, rtcText) {
        case (true, let rtc?, let rtcText?):
            return Finding(ok: rtc.agrees, text: "wall clock synchronised (NTP); \(rtcText)")
        case (false, let rtc?, let rtcText?) where rtc.agrees:
            return Finding(
                ok: true,
                text:
                    "wall clock from the RTC, not synchronised by NTP: \(rtcText); sessions are marked as timed without a synchronised clock (?), durations are unaffected"
            )
        case (false, _?, let rtcText?):
            return Finding(
                ok: false,
                text: "wall clock not synchronised, and \(rtcText); or enable NTP (timedatectl set-ntp true); durations are unaffected")
        case (true, _, _):
            return Finding(
                ok: true,
                text:
                    "wall clock synchronised (NTP); no RTC: after a power cut away from the network the clock starts where it stopped (a DS3231: Hardware/README.md, \"Time without network\")"
            )
        case (false, _, _):
            return Finding(
                ok: false,
                text:
                    "wall clock not synchronised and no RTC: enable NTP (timedatectl set-ntp true) and give the counter network access, or fit a DS3231 RTC (Hardware/README.md, \"Time without network\"); durations are unaffected"
            )
        }
    }

    /// The service is enabled and systemd watches it.
    private func service() -> [Finding] {
        guard let enabled = Self.systemctl(["is-enabled", "jampasird.service"]) else {
            return [Finding(ok: false, text: "systemctl not found: jampasird is not running as a service")]
        }
        let watchdog = Self.systemctl(["show", "-p", "WatchdogUSec", "--value", "jampasird.service"]) ?? ""
        return [
            Finding(
                ok: enabled == "enabled",
                text: "service jampasird.service: \(enabled.isEmpty ? "not installed" : enabled)"
                    + (enabled == "enabled"
                        ? "" : " (install the package, then: sudo systemctl enable --now jampasird)")),
            Finding(
                ok: !watchdog.isEmpty && watchdog != "0" && watchdog != "infinity",
                text: "service watchdog: \(watchdog.isEmpty ? "unknown" : watchdog)"),
        ]
    }

    private static func systemctl(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["systemctl"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        if process.terminationStatus == 127 { return nil }
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A short test beep on the buzzer line.
    private func beep(_ spec: GPIOLineSpec) -> Finding {
        do {
            let line = try GPIOLine.output(spec, consumer: "jampasir-doctor", initial: true)
            usleep(150_000)
            try line.set(false)
            return Finding(
                ok: true, text: "buzzer: test beep sounded on \(spec) (heard it? if not, check the transistor wiring)")
        } catch {
            return Finding(ok: false, text: "buzzer: \(error)")
        }
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
