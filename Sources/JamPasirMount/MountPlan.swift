import JamPasirMedia

/// How a stick is mounted: where, and with which filesystem options. Always nosuid, nodev,
/// noexec and nosymfollow (added by the system call shim); read-only until authorised.
public struct MountPlan: Equatable, Sendable {
    public var source: String
    public var target: String
    public var filesystem: String
    /// Filesystem-specific options (`mount -o` data): on FAT and exFAT the files belong to the
    /// daemon's user and nobody else may read them; `flush` writes FAT data early. ext4 never
    /// follows the superblock's own error policy (`tune2fs -e panic` would panic the counter):
    /// an error makes the stick read-only (as udisks2 does since CVE-2021-3802).
    public var options: String

    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Only `/dev/<name>` with a plain kernel name: the mount point is `<mediaDirectory>/<name>`.
    public init(stick: Stick, mediaDirectory: String, ownerUID: UInt32, ownerGID: UInt32) throws(Refusal) {
        try self.init(
            devnode: stick.devnode, filesystem: stick.filesystem, mediaDirectory: mediaDirectory, ownerUID: ownerUID,
            ownerGID: ownerGID)
    }

    public init(devnode: String, filesystem: String, mediaDirectory: String, ownerUID: UInt32, ownerGID: UInt32)
        throws(Refusal)
    {
        guard let name = Self.deviceName(devnode) else {
            throw Refusal(description: "\(devnode) is not a plain device node name")
        }
        source = devnode
        target = mediaDirectory + "/" + name
        self.filesystem = filesystem
        switch filesystem {
        case "vfat": options = "uid=\(ownerUID),gid=\(ownerGID),umask=0077,flush,shortname=mixed"
        case "exfat": options = "uid=\(ownerUID),gid=\(ownerGID),umask=0077"
        case "ext4": options = "errors=remount-ro"
        default: throw Refusal(description: "\(devnode): filesystem \(filesystem) is not supported")
        }
    }

    /// `sdb1` for `/dev/sdb1`: nil unless a plain kernel name (ASCII letters and digits, at most 32).
    static func deviceName(_ devnode: String) -> String? {
        let prefix = "/dev/"
        guard devnode.hasPrefix(prefix) else { return nil }
        let name = String(devnode.dropFirst(prefix.count))
        guard !name.isEmpty, name.count <= 32, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return nil
        }
        return name
    }

    /// The options for mount(2). The read-only probe of an ext4 stick never replays its journal
    /// (`noload`): nothing from an unauthorised stick is written, not even by the kernel.
    public func mountData(readOnly: Bool) -> String {
        filesystem == "ext4" && readOnly ? options + ",noload" : options
    }

    /// ext4 keeps owners on disk: the helper hands the daemon a `JAMPASIR` directory it owns.
    public var needsOwnedExportDirectory: Bool { filesystem == "ext4" }
}
