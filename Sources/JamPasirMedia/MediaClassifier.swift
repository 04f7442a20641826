/// A block device as udev describes it: its properties and the subsystems of its ancestors.
public struct MediaDevice: Equatable, Sendable {
    public var properties: [String: String]
    /// Subsystems of the parent devices, nearest first (e.g. `["scsi", "usb", "usb", "pci"]`).
    public var parentSubsystems: [String]

    public init(properties: [String: String], parentSubsystems: [String]) {
        self.properties = properties
        self.parentSubsystems = parentSubsystems
    }

    public var devnode: String { properties["DEVNAME"] ?? "?" }
}

/// A USB stick partition worth looking at for an export.
public struct Stick: Equatable, Sendable, CustomStringConvertible {
    public var devnode: String
    public var filesystem: String
    public var label: String
    public var vendor: String
    public var model: String
    public var serial: String

    public init(devnode: String, filesystem: String, label: String, vendor: String, model: String, serial: String) {
        self.devnode = devnode
        self.filesystem = filesystem
        self.label = label
        self.vendor = vendor
        self.model = model
        self.serial = serial
    }

    public var description: String { "\(vendor) \(model) serial \(serial) (\(devnode), \(filesystem))" }
}

/// Decides which block devices can carry an export: partitions (or unpartitioned whole disks)
/// on USB with a FAT32, exFAT or ext4 filesystem. Anything else is ignored with a reason that
/// goes to the log once.
public enum MediaClassifier {
    public enum Decision: Equatable, Sendable {
        case stick(Stick)
        case ignored(String)
    }

    public static let supportedFilesystems = ["vfat", "exfat", "ext4"]

    public static func classify(_ device: MediaDevice) -> Decision {
        let p = device.properties
        guard p["SUBSYSTEM"] == "block" else { return .ignored("not a block device") }
        switch p["DEVTYPE"] {
        case "partition":
            break
        case "disk":
            if p["ID_PART_TABLE_TYPE"] != nil {
                return .ignored("whole disk with a partition table: its partitions are looked at")
            }
        default:
            return .ignored("neither a disk nor a partition")
        }
        if p["ID_CDROM"] == "1" { return .ignored("optical drive") }
        // USB SSD enclosures can report ID_BUS=ata: the usb parent is what counts.
        guard p["ID_BUS"] == "usb" || device.parentSubsystems.contains("usb") else {
            return .ignored("not on USB (ID_BUS=\(p["ID_BUS"] ?? "none"))")
        }
        guard let filesystem = p["ID_FS_TYPE"], !filesystem.isEmpty else { return .ignored("no filesystem") }
        guard supportedFilesystems.contains(filesystem) else {
            return .ignored("unsupported filesystem \(filesystem): format the stick as FAT32, exFAT or ext4")
        }
        return .stick(
            Stick(
                devnode: device.devnode, filesystem: filesystem, label: p["ID_FS_LABEL"] ?? "",
                vendor: p["ID_VENDOR"] ?? "unknown", model: p["ID_MODEL"] ?? "unknown",
                serial: p["ID_SERIAL_SHORT"] ?? p["ID_SERIAL"] ?? "unknown"))
    }
}

/// Mounts and unmounts stick partitions. Mounting needs a privilege the timing daemon does not
/// have: in production the small privileged helper `jampasir-mountd` does it (`HelperMounter`);
/// tests use directories.
public protocol StickMounter: Sendable {
    /// Mounts `stick` read-only (nosuid, nodev, noexec, nosymfollow) at a private mount point.
    func mountReadOnly(_ stick: Stick) throws -> String
    func remountReadWrite(_ mountPoint: String) throws
    /// Syncs and unmounts: after this the stick is safe to remove.
    func unmount(_ mountPoint: String) throws
}
