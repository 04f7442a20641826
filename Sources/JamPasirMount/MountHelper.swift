import JamPasirMedia
import Synchronization
import Logging

/// The privileged operations `jampasir-mountd` needs, behind a protocol so its decisions can be
/// tested without root.
public protocol MountSystem: Sendable {
    /// The block device behind a device node, as udev describes it now.
    func describe(devnode: String) throws -> MediaDevice
    func makeMountPoint(_ path: String) throws
    func removeMountPoint(_ path: String)
    func mount(_ plan: MountPlan, readOnly: Bool) throws
    func unmount(_ path: String) throws -> Unmounting
    /// Creates `<mountPoint>/JAMPASIR` if missing (never through a link) and gives it to `uid`.
    func prepareExportDirectory(in mountPoint: String, uid: UInt32, gid: UInt32) throws
}

/// What came of an unmount that did not fail outright.
public enum Unmounting: Equatable, Sendable {
    case unmounted
    /// The filesystem was busy (or its device gone) and was only detached from the tree: the
    /// kernel may still be writing to the stick.
    case detachedWhileBusy(reason: String)
}

/// The decisions of `jampasir-mountd`: who may ask, which devices may be mounted (only what the
/// daemon itself would call a stick: USB, FAT/exFAT/ext4), where, and how. It only ever touches
/// mount points it made itself, so a compromised daemon cannot unmount or remount anything else.
public final class MountHelper: Sendable {
    private let mediaDirectory: String
    private let ownerUID: UInt32
    private let ownerGID: UInt32
    private let system: any MountSystem
    private let logger: Logger
    /// The mount points this helper made, and their plans.
    private let mountedPlans = Mutex<[String: MountPlan]>([:])

    /// `ownerUID`/`ownerGID`: the daemon's user, the only one (with root) allowed to ask, and the
    /// owner of the files on the stick.
    public init(
        mediaDirectory: String, ownerUID: UInt32, ownerGID: UInt32, system: any MountSystem, logger: Logger
    ) {
        self.mediaDirectory = mediaDirectory
        self.ownerUID = ownerUID
        self.ownerGID = ownerGID
        self.system = system
        self.logger = logger
    }

    /// The reply to a client that may not ask (only the daemon's user and root may): checked
    /// before its request is read. Nil for a client that may.
    public func refusal(peerUID: UInt32?) -> MountReply? {
        guard let peerUID, peerUID == ownerUID || peerUID == 0 else {
            logger.warning("refused a request from uid \(peerUID.map(String.init) ?? "unknown")")
            return .failed("permission denied: only uid \(ownerUID) may ask")
        }
        return nil
    }

    /// Takes over the sticks an earlier run of the helper mounted (found in `/proc/self/mountinfo`):
    /// mount points `<mediaDirectory>/<name>` of `/dev/<name>` with a stick's filesystem. A
    /// restarted helper can then unmount them, and never mounts a second stick over one.
    /// Returns the mount points taken over.
    @discardableResult
    public func adoptMounts(_ mounts: [MountInfo]) -> [String] {
        mountedPlans.withLock { mounted in
            var adopted: [String] = []
            for mount in mounts {
                guard
                    let plan = try? MountPlan(
                        devnode: mount.source, filesystem: mount.filesystem, mediaDirectory: mediaDirectory,
                        ownerUID: ownerUID, ownerGID: ownerGID),
                    plan.target == mount.mountPoint, mounted[plan.target] == nil
                else { continue }
                mounted[plan.target] = plan
                adopted.append(plan.target)
            }
            return adopted
        }
    }

    public func handle(_ line: String, peerUID: UInt32?) -> MountReply {
        if let refusal = refusal(peerUID: peerUID) { return refusal }
        guard let request = MountRequest(line: line) else {
            return .failed("unknown request: \(line.prefix(80))")
        }
        let reply = mountedPlans.withLock { perform(request, mounted: &$0) }
        switch reply {
        case .ok: logger.info("\(request.line): done")
        case .failed(let why): logger.warning("\(request.line): \(why)")
        }
        return reply
    }

    private func perform(_ request: MountRequest, mounted: inout [String: MountPlan]) -> MountReply {
        switch request {
        case .mount(let devnode):
            let plan: MountPlan
            do {
                let device = try system.describe(devnode: devnode)
                guard case .stick(let stick) = MediaClassifier.classify(device) else {
                    return .failed("\(devnode) is not a USB stick with a supported filesystem")
                }
                plan = try MountPlan(
                    stick: stick, mediaDirectory: mediaDirectory, ownerUID: ownerUID, ownerGID: ownerGID)
            } catch {
                return .failed("\(error)")
            }
            if mounted[plan.target] != nil {
                // Left by a daemon that stopped mid-export: start again from a clean mount.
                logger.notice("\(plan.target) was still mounted from an earlier request: unmounting it first")
                _ = try? system.unmount(plan.target)
                mounted[plan.target] = nil
            }
            do {
                try system.makeMountPoint(plan.target)
                do {
                    try system.mount(plan, readOnly: true)
                } catch {
                    system.removeMountPoint(plan.target)
                    throw error
                }
            } catch {
                return .failed("cannot mount \(devnode) (\(plan.filesystem)): \(error)")
            }
            mounted[plan.target] = plan
            return .ok(plan.target)
        case .remountReadWrite(let mountPoint):
            guard let plan = mounted[mountPoint] else {
                return .failed("\(mountPoint) was not mounted by jampasir-mountd")
            }
            // A fresh read-write mount rather than MS_REMOUNT: a remount would not reach the copy
            // of the mount that propagated into jampasird's own mount namespace (systemd's
            // ProtectSystem), which would stay read-only there.
            do {
                // A read-only mount detached while busy has nothing left to write.
                _ = try system.unmount(mountPoint)
                try system.mount(plan, readOnly: false)
                if plan.needsOwnedExportDirectory {
                    try system.prepareExportDirectory(in: mountPoint, uid: ownerUID, gid: ownerGID)
                }
            } catch {
                mounted[mountPoint] = nil
                system.removeMountPoint(mountPoint)
                return .failed("cannot make \(plan.source) writable: \(error)")
            }
            return .ok(mountPoint)
        case .unmount(let mountPoint):
            guard mounted[mountPoint] != nil else { return .failed("\(mountPoint) was not mounted by jampasir-mountd") }
            let unmounting: Unmounting
            do {
                unmounting = try system.unmount(mountPoint)
            } catch {
                return .failed("cannot unmount \(mountPoint): \(error)")
            }
            mounted[mountPoint] = nil
            system.removeMountPoint(mountPoint)
            switch unmounting {
            case .unmounted:
                return .ok(mountPoint)
            case .detachedWhileBusy(let reason):
                // Never "ok": the daemon would show donE while data may still be on its way.
                return .failed(
                    "\(mountPoint) was busy (\(reason)): only detached, the kernel may still be writing to the stick")
            }
        }
    }
}
