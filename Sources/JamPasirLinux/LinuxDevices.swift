import CJamPasirSystem
import Foundation

/// An I2C device at a 7-bit address on `/dev/i2c-<bus>`.
public final class LinuxI2CDevice: ByteBus {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let fd: Int32
    private let path: String
    private let address: Int

    public init(bus: Int, address: Int) throws(Failure) {
        path = "/dev/i2c-\(bus)"
        self.address = address
        fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            let error = errno
            throw Failure(
                description: error == ENOENT
                    ? "I2C bus \(path) not found (display.i2c_bus): enable I2C (raspi-config, or dtparam=i2c_arm=on) or fix the bus number"
                    : "\(path) (display.i2c_bus): \(String(cString: strerror(error)))\(error == EACCES ? ": add the daemon's user to group i2c" : "")"
            )
        }
        if jp_i2c_set_address(fd, Int32(address)) != 0 {
            let error = errno
            close(fd)
            throw Failure(
                description:
                    "\(path): cannot select address 0x\(String(address, radix: 16)) (display.i2c_address): \(String(cString: strerror(error)))"
            )
        }
    }

    deinit { close(fd) }

    public func write(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count {
            let error = errno
            throw Failure(
                description: error == ENXIO || error == EREMOTEIO
                    ? "no device answers at 0x\(String(address, radix: 16)) on \(path) (display.i2c_address): check wiring and address with `i2cdetect -y \(path.dropFirst(9))`"
                    : "\(path): \(String(cString: strerror(error)))")
        }
    }
}

/// An SPI device (`/dev/spidevB.C`), mode 0 at 1 MHz: well within the MAX7219's 10 MHz.
public final class LinuxSPIDevice: ByteBus {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let fd: Int32
    private let path: String

    public init(path: String) throws(Failure) {
        self.path = path
        fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            let error = errno
            throw Failure(
                description: error == ENOENT
                    ? "SPI device \(path) not found (display.spi_device): enable SPI (raspi-config, or dtparam=spi=on)"
                    : "\(path) (display.spi_device): \(String(cString: strerror(error)))\(error == EACCES ? ": add the daemon's user to group spi" : "")"
            )
        }
        if jp_spi_configure(fd, 0, 1_000_000) != 0 {
            let error = errno
            close(fd)
            throw Failure(description: "\(path): cannot set SPI mode 0 at 1 MHz: \(String(cString: strerror(error)))")
        }
    }

    deinit { close(fd) }

    public func write(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count {
            throw Failure(description: "\(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Busy-waits on CLOCK_MONOTONIC: `nanosleep` overshoots a 50 µs bit period by more than its
/// length. Used only inside a display frame (a few milliseconds) on the display's own thread.
func spin(for duration: Duration) {
    let end = jp_monotonic_ns() + duration.nanoseconds
    while jp_monotonic_ns() < end {}
}
