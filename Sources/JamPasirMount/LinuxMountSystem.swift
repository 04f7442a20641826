import CJamPasirSystem
import Glibc
import JamPasirMedia
import JamPasirPosix

/// `MountSystem` on Linux: libudev, mkdir, mount(2), syncfs + umount2(2).
public struct LinuxMountSystem: MountSystem {
    public init() {}

    public func describe(devnode: String) throws -> MediaDevice {
        try MediaMonitor.describe(devnode: devnode)
    }

    public func makeMountPoint(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir \(path)") }
    }

    public func removeMountPoint(_ path: String) {
        rmdir(path)
    }

    public func mount(_ plan: MountPlan, readOnly: Bool) throws {
        guard
            jp_mount_stick(
                plan.source, plan.target, plan.filesystem, plan.mountData(readOnly: readOnly), readOnly ? 1 : 0) == 0
        else {
            throw Self.mountFailure(plan)
        }
    }

    public func unmount(_ path: String) throws -> Unmounting {
        switch jp_unmount(path) {
        case 0: return .unmounted
        case 1: return .detachedWhileBusy(reason: SystemError("umount \(path)").reason)
        default: throw SystemError("umount \(path)")
        }
    }

    public func prepareExportDirectory(in mountPoint: String, uid: UInt32, gid: UInt32) throws {
        let root = open(mountPoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw SystemError("open \(mountPoint)") }
        defer { close(root) }
        if mkdirat(root, "JAMPASIR", 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir JAMPASIR") }
        let directory = openat(root, "JAMPASIR", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else { throw SystemError("JAMPASIR on the stick is not a plain directory") }
        defer { close(directory) }
        guard fchown(directory, uid, gid) == 0 else { throw SystemError("chown JAMPASIR") }
    }

    /// Why a stick could not be mounted, in the words the daemon shows.
    public struct MountFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The kernel says little; EINVAL from mount(2) means a filesystem it cannot read.
    private static func mountFailure(_ plan: MountPlan) -> MountFailure {
        let error = errno
        let reason: String
        switch error {
        case EINVAL, EUCLEAN: reason = "unsupported or corrupt filesystem (the kernel log says more)"
        case ENODEV: reason = "the kernel has no \(plan.filesystem) driver"
        case EROFS, EACCES: reason = "the stick is write-protected"
        case ENXIO, ENOENT: reason = "the stick is gone"
        default: reason = SystemError("mount", code: error).reason
        }
        return MountFailure(description: reason)
    }
}
