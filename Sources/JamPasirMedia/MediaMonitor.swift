import CUdev
import Glibc
import JamPasirPosix
import Logging

/// Block devices coming and going, from udev's netlink source (events arrive after udevd has
/// probed them, so ID_BUS and ID_FS_TYPE are known), filtered to the `block` subsystem. A
/// dedicated thread sleeps in `poll()` on the monitor's fd: no busy loop, no wake-ups while
/// nothing is plugged in. Devices already present are reported first, as additions.
public final class MediaMonitor: Sendable {
    public enum Event: Equatable, Sendable {
        case added(MediaDevice)
        case removed(MediaDevice)
        case changed(MediaDevice)
    }

    private let logger: Logger
    /// Rung by `stop()`; the monitor's thread sleeps on it and on udev's socket.
    private let stopBell = Doorbell()

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The block devices present now (one enumeration, no monitoring).
    package static func presentDevices() throws(SystemError) -> [MediaDevice] {
        let collector = Collector()
        guard jp_udev_enumerate_block(nil, Collector.callback, Unmanaged.passUnretained(collector).toOpaque()) >= 0
        else {
            throw SystemError("cannot enumerate block devices with libudev")
        }
        return collector.events.map(\.device)
    }

    /// The block device behind a device node as udev describes it now (`/dev/sdb1`).
    public static func describe(devnode: String) throws(SystemError) -> MediaDevice {
        let collector = Collector()
        guard
            jp_udev_describe_devnode(devnode, Collector.callback, Unmanaged.passUnretained(collector).toOpaque()) == 0,
            let entry = collector.events.first
        else {
            throw SystemError("\(devnode) is not a block device udev knows", code: errno == 0 ? ENODEV : errno)
        }
        return entry.device
    }

    /// Starts reporting, on a thread of the monitor's own: the devices present first (as
    /// additions), then every change. Called once.
    public func start(reporting report: @escaping @Sendable (Event) -> Void) {
        let logger = logger
        let stop = stopBell
        startThread(named: "jp-media") {
            guard let monitor = jp_udev_monitor_new() else {
                logger.error("USB export: \(SystemError("cannot open the udev monitor"))")
                return
            }
            defer { jp_udev_monitor_free(monitor) }
            let collector = Collector()
            let context = Unmanaged.passUnretained(collector).toOpaque()
            _ = jp_udev_enumerate_block(monitor, Collector.callback, context)
            collector.drain(into: report)
            while true {
                switch stop.wait(readable: jp_udev_monitor_fd(monitor)) {
                case .rung: return
                case .failed(let error):
                    logger.error("USB export: \(SystemError("poll on the udev monitor failed", code: error))")
                    return
                case .readable, .deadline:
                    _ = jp_udev_receive(monitor, Collector.callback, context)
                    collector.drain(into: report)
                }
            }
        }
    }

    /// Stops reporting (shutdown).
    public func stop() {
        stopBell.ring()
    }
}

/// Receives devices from the C callback (on the calling thread only).
private final class Collector {
    struct Entry {
        var action: String
        var device: MediaDevice
    }

    var events: [Entry] = []

    static let callback: jp_udev_device_callback = { context, action, keys, values, count, parents, parentCount in
        let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
        var properties: [String: String] = [:]
        for index in 0..<Int(count) {
            if let key = keys?[index], let value = values?[index] {
                properties[String(cString: key)] = String(cString: value)
            }
        }
        let subsystems = (0..<Int(parentCount)).compactMap { parents?[$0].map { String(cString: $0) } }
        collector.events.append(
            Entry(
                action: action.map { String(cString: $0) } ?? "add",
                device: MediaDevice(properties: properties, parentSubsystems: subsystems)))
    }

    func drain(into report: (MediaMonitor.Event) -> Void) {
        for entry in events {
            switch entry.action {
            case "add": report(.added(entry.device))
            case "remove": report(.removed(entry.device))
            default: report(.changed(entry.device))
            }
        }
        events.removeAll()
    }
}
