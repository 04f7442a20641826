import CJamPasirSystem
import Foundation
import JamPasirCore
import JamPasirPosix

/// A device file (`/dev/i2c-1`, `/dev/spidev0.0`) failure, naming the configuration key.
public struct DeviceFailure: Error, CustomStringConvertible {
    public var description: String
}

/// An open device file that whole messages are written to.
final class DeviceFile {
    let fd: Int32
    let path: String

    /// `key` names the setting; `whenMissing` says how to make the device appear; `group` owns it.
    init(path: String, key: String, whenMissing: String, group: String) throws(DeviceFailure) {
        self.path = path
        fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            let error = errno
            switch error {
            case ENOENT: throw DeviceFailure(description: "\(path) not found (\(key)): \(whenMissing)")
            case EACCES, EPERM:
                throw DeviceFailure(
                    description: "\(path) (\(key)): permission denied: add the daemon's user to group \(group)")
            default: throw DeviceFailure(description: SystemError("\(path) (\(key))", code: error).description)
            }
        }
    }

    deinit { close(fd) }

    /// Writes all of `bytes` in one call; returns errno on failure.
    func write(_ bytes: [UInt8]) -> Int32? {
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count ? nil : (written < 0 ? errno : EIO)
    }
}

/// An I2C device at a 7-bit address on `/dev/i2c-<bus>`.
public final class LinuxI2CDevice: ByteBus {
    private let file: DeviceFile
    private let address: Int
    private let bus: Int

    public init(bus: Int, address: Int) throws(DeviceFailure) {
        self.bus = bus
        self.address = address
        file = try DeviceFile(
            path: "/dev/i2c-\(bus)", key: "display.i2c_bus",
            whenMissing: "enable I2C (raspi-config, or dtparam=i2c_arm=on) or fix the bus number", group: "i2c")
        if jp_i2c_set_address(file.fd, Int32(address)) != 0 {
            throw DeviceFailure(
                description: SystemError("\(file.path): cannot select address \(hex) (display.i2c_address)").description)
        }
    }

    private var hex: String { "0x" + String(address, radix: 16) }

    public func write(_ bytes: [UInt8]) throws {
        guard let error = file.write(bytes) else { return }
        throw DeviceFailure(
            description: error == ENXIO || error == EREMOTEIO
                ? "no device answers at \(hex) on \(file.path) (display.i2c_address): check wiring and address with `i2cdetect -y \(bus)`"
                : SystemError(file.path, code: error).description)
    }
}

/// An SPI device (`/dev/spidevB.C`), mode 0 at 1 MHz: well within the MAX7219's 10 MHz.
public final class LinuxSPIDevice: ByteBus {
    private let file: DeviceFile

    public init(path: String) throws(DeviceFailure) {
        file = try DeviceFile(
            path: path, key: "display.spi_device", whenMissing: "enable SPI (raspi-config, or dtparam=spi=on)",
            group: "spi")
        if jp_spi_configure(file.fd, 0, 1_000_000) != 0 {
            throw DeviceFailure(description: SystemError("\(path): cannot set SPI mode 0 at 1 MHz").description)
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        if let error = file.write(bytes) {
            throw DeviceFailure(description: SystemError(file.path, code: error).description)
        }
    }
}

/// Busy-waits on CLOCK_MONOTONIC: `nanosleep` overshoots a 50 µs bit period by more than its
/// length. Used only inside a display frame (a few milliseconds) on the display's own thread.
func spin(for duration: Duration) {
    let end = jp_monotonic_ns() + duration.nanoseconds
    while jp_monotonic_ns() < end {}
}
