import JamPasirMedia

/// How a stick is mounted: where, and with which filesystem options. Always nosuid, nodev,
/// noexec and nosymfollow (added by the system call shim); read-only until authorised.
public struct MountPlan: Equatable, Sendable {
    public var source: String
    public var target: String
    public var filesystem: String
    /// Filesystem-specific options (`mount -o` data): on FAT and exFAT the files belong to the
    /// daemon's user and nobody else may read them; `flush` writes FAT data early.
    public var options: String

    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Only `/dev/<name>` with a plain kernel name: the mount point is `<mediaDirectory>/<name>`.
    public init(stick: Stick, mediaDirectory: String, ownerUID: UInt32, ownerGID: UInt32) throws(Refusal) {
        let prefix = "/dev/"
        let name = stick.devnode.hasPrefix(prefix) ? String(stick.devnode.dropFirst(prefix.count)) : ""
        guard !name.isEmpty, name.count <= 32, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw Refusal(description: "\(stick.devnode) is not a plain device node name")
        }
        source = stick.devnode
        target = mediaDirectory + "/" + name
        filesystem = stick.filesystem
        switch stick.filesystem {
        case "vfat": options = "uid=\(ownerUID),gid=\(ownerGID),umask=0077,flush,shortname=mixed"
        case "exfat": options = "uid=\(ownerUID),gid=\(ownerGID),umask=0077"
        case "ext4": options = ""
        default: throw Refusal(description: "\(stick.devnode): filesystem \(stick.filesystem) is not supported")
        }
    }

    /// ext4 keeps owners on disk: the helper hands the daemon a `JAMPASIR` directory it owns.
    public var needsOwnedExportDirectory: Bool { filesystem == "ext4" }
}
