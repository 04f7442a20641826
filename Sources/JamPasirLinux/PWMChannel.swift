import Foundation
import JamPasirPosix

/// A passive buzzer on a kernel PWM channel (`/sys/class/pwm/pwmchipN/pwmM`): a square wave at
/// the buzzer's resonant frequency, switched on and off by `enable`.
public final class PWMChannel: Switch {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let directory: String
    private var enabled: Bool?

    /// Exports the channel if needed and sets a 50 % duty cycle at `frequency` Hz.
    public init(chip: Int, channel: Int, frequency: Int, root: String = "/sys/class/pwm") throws(Failure) {
        let chipDirectory = "\(root)/pwmchip\(chip)"
        directory = "\(chipDirectory)/pwm\(channel)"
        guard FileManager.default.fileExists(atPath: chipDirectory) else {
            throw Failure(
                description:
                    "PWM chip \(chipDirectory) not found (buzzer.pwm_chip): enable the PWM overlay (dtoverlay=pwm) or fix the number"
            )
        }
        if !FileManager.default.fileExists(atPath: directory) {
            try Self.write("\(channel)", to: "\(chipDirectory)/export", key: "buzzer.pwm_channel")
        }
        let period = 1_000_000_000 / max(1, frequency)
        try Self.write("\(period)", to: "\(directory)/period", key: "buzzer.frequency_hz")
        try Self.write("\(period / 2)", to: "\(directory)/duty_cycle", key: "buzzer.frequency_hz")
    }

    public func set(_ on: Bool) throws {
        guard on != enabled else { return }
        try Self.write(on ? "1" : "0", to: "\(directory)/enable", key: "buzzer.pwm_channel")
        enabled = on
    }

    private static func write(_ value: String, to path: String, key: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            throw Failure(
                description:
                    "\(SystemError("\(path) (\(key))", code: error))\(error == EACCES ? ": the daemon's user needs write access (udev rule for the pwm class)" : "")"
            )
        }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard Foundation.write(fd, bytes, bytes.count) == bytes.count else {
            throw Failure(description: SystemError("writing \(value) to \(path) (\(key))").description)
        }
    }
}
