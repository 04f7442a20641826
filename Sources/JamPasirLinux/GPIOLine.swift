import CGPIOD
import Foundation
import JamPasirCore
import JamPasirPosix

/// Where a line is configured, so an error can name the keys to fix.
public struct GPIOLineSpec: Equatable, Sendable, CustomStringConvertible {
    public var chip: String
    public var offset: Int
    /// The configuration key of the offset, e.g. `button.line`; the chip key is its table's `chip`.
    public var key: String

    public init(chip: String, offset: Int, key: String) {
        self.chip = chip
        self.offset = offset
        self.key = key
    }

    public var chipKey: String { key.split(separator: ".").first.map { "\($0).chip" } ?? "chip" }
    public var description: String { "\(chip) line \(offset)" }
}

public enum LineBiasSetting: Sendable {
    case pullUp, pullDown, disabled, asIs

    var raw: Int32 {
        switch self {
        case .asIs: Int32(JP_GPIO_BIAS_AS_IS.rawValue)
        case .pullUp: Int32(JP_GPIO_BIAS_PULL_UP.rawValue)
        case .pullDown: Int32(JP_GPIO_BIAS_PULL_DOWN.rawValue)
        case .disabled: Int32(JP_GPIO_BIAS_DISABLED.rawValue)
        }
    }
}

/// A GPIO request failure, worded for the technician: what, where, and what to do.
public struct GPIOError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        case chipMissing
        case offsetOutOfRange(lines: Int)
        case busy(consumer: String)
        case permissionDenied
        case failed(errno: Int32)
    }

    public var kind: Kind
    public var line: GPIOLineSpec
    public var chipName: String

    public init(kind: Kind, line: GPIOLineSpec, chipName: String) {
        self.kind = kind
        self.line = line
        self.chipName = chipName
    }

    public var description: String {
        let place = "\(line.key) = \(line.offset) on \(line.chipKey) = \"\(line.chip)\""
        switch kind {
        case .chipMissing:
            return
                "GPIO chip \"\(line.chip)\" not found (\(line.chipKey)): check the chip name, path or label with `gpiodetect`"
        case .offsetOutOfRange(let lines):
            return
                "\(place): the chip \(chipName) has lines 0 to \(lines - 1) only; check the wiring table and \(line.key)"
        case .busy(let consumer):
            let holder = consumer.isEmpty ? "another user (unnamed)" : "\"\(consumer)\""
            return
                "\(place): line busy, held by \(holder); stop that program or choose another line (`\(GPIOLine.infoCommand(chip: chipName))`)"
        case .permissionDenied:
            return
                "\(place): permission denied on /dev/\(chipName.isEmpty ? "gpiochip*" : chipName): add the daemon's user to the group that owns it (usually `gpio`: sudo usermod -aG gpio jampasir)"
        case .failed(let errno):
            return SystemError(place, code: errno).description
        }
    }
}

/// One requested GPIO line (libgpiod v1 or v2 behind the C shim). Not thread-safe: each
/// device using one serialises its calls.
public final class GPIOLine: @unchecked Sendable {
    private let handle: OpaquePointer
    public let spec: GPIOLineSpec

    /// "v1 1.6.3" or "v2 2.2.1".
    public static var libraryVersion: String { String(cString: jp_gpio_library_version()) }

    /// How the libgpiod tools beside this library list a chip's lines: 2.x wants `-c`.
    static func infoCommand(chip: String) -> String {
        libraryVersion.hasPrefix("v2") ? "gpioinfo -c \(chip)" : "gpioinfo \(chip)"
    }

    private init(handle: OpaquePointer, spec: GPIOLineSpec) {
        self.handle = handle
        self.spec = spec
    }

    deinit { jp_gpio_release(handle) }

    /// An input; with `edges`, both-edge events are delivered on `eventDescriptor` (and the
    /// line can no longer change direction). Values and edges are physical levels.
    public static func input(
        _ spec: GPIOLineSpec, consumer: String, bias: LineBiasSetting, edges: Bool = false,
        kernelDebounce: Duration = .zero
    ) throws(GPIOError) -> GPIOLine {
        try request(spec) { status in
            jp_gpio_request_input(
                spec.chip, UInt32(spec.offset), consumer, bias.raw, edges ? 1 : 0,
                UInt32(kernelDebounce.nanoseconds / 1000), status)
        }
    }

    public static func output(_ spec: GPIOLineSpec, consumer: String, initial: Bool = false) throws(GPIOError)
        -> GPIOLine
    {
        try request(spec) { status in
            jp_gpio_request_output(spec.chip, UInt32(spec.offset), consumer, initial ? 1 : 0, status)
        }
    }

    private static func request(
        _ spec: GPIOLineSpec, _ body: (UnsafeMutablePointer<jp_gpio_status>) -> OpaquePointer?
    ) throws(GPIOError) -> GPIOLine {
        var status = jp_gpio_status()
        guard spec.offset >= 0, let handle = body(&status) else {
            throw error(from: status, spec: spec)
        }
        return GPIOLine(handle: handle, spec: spec)
    }

    static func error(from status: jp_gpio_status, spec: GPIOLineSpec) -> GPIOError {
        let chipName = text(status.chip_name)
        let kind: GPIOError.Kind
        switch status.error {
        case ENOENT, ENODEV, ENOTTY: kind = chipName.isEmpty ? .chipMissing : .failed(errno: status.error)
        case ERANGE:
            kind = .offsetOutOfRange(lines: Int(status.num_lines))
        case EBUSY: kind = .busy(consumer: text(status.consumer))
        case EACCES, EPERM: kind = .permissionDenied
        default: kind = .failed(errno: status.error)
        }
        return GPIOError(kind: kind, line: spec, chipName: chipName)
    }

    private static func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    public var eventDescriptor: Int32 { jp_gpio_event_fd(handle) }

    /// Reads one pending edge: kernel CLOCK_MONOTONIC timestamp and whether it rose.
    public func readEvent() throws(GPIOIOError) -> (timestampNs: Int64, rising: Bool) {
        var timestamp: Int64 = 0
        var rising: Int32 = 0
        guard jp_gpio_read_event(handle, &timestamp, &rising) == 0 else { throw GPIOIOError(spec: spec, errno: errno) }
        return (timestamp, rising != 0)
    }

    public func value() throws(GPIOIOError) -> Bool {
        let value = jp_gpio_get_value(handle)
        guard value >= 0 else { throw GPIOIOError(spec: spec, errno: errno) }
        return value == 1
    }

    public func set(_ value: Bool) throws(GPIOIOError) {
        guard jp_gpio_set_value(handle, value ? 1 : 0) == 0 else { throw GPIOIOError(spec: spec, errno: errno) }
    }

    /// Open-drain emulation: let go of the line (requested again as an input); the pull decides its level.
    public func release(bias: LineBiasSetting) throws(GPIOIOError) {
        guard jp_gpio_rerequest_input(handle, bias.raw) == 0 else { throw GPIOIOError(spec: spec, errno: errno) }
    }

    /// Open-drain emulation: drive the line (requested again as an output).
    public func drive(_ value: Bool) throws(GPIOIOError) {
        guard jp_gpio_rerequest_output(handle, value ? 1 : 0) == 0 else { throw GPIOIOError(spec: spec, errno: errno) }
    }
}

/// A read or write on a requested line failed (device gone, I/O error).
public struct GPIOIOError: Error, CustomStringConvertible {
    public var spec: GPIOLineSpec
    public var errno: Int32
    public var description: String { SystemError("\(spec) (\(spec.key))", code: errno).description }
}
