import Foundation
import JamPasirMedia
import Logging

/// The privileged operations `jampasir-mountd` needs, behind a protocol so its decisions can be
/// tested without root.
public protocol MountSystem: Sendable {
    /// The block device behind a device node, as udev describes it now.
    func describe(devnode: String) throws -> MediaDevice
    func makeMountPoint(_ path: String) throws
    func removeMountPoint(_ path: String)
    func mount(_ plan: MountPlan, readOnly: Bool) throws
    func unmount(_ path: String) throws
    /// Creates `<mountPoint>/JAMPASIR` if missing (never through a link) and gives it to `uid`.
    func prepareExportDirectory(in mountPoint: String, uid: UInt32, gid: UInt32) throws
}

/// The decisions of `jampasir-mountd`: who may ask, which devices may be mounted (only what the
/// daemon itself would call a stick: USB, FAT/exFAT/ext4), where, and how. It only ever touches
/// mount points it made itself, so a compromised daemon cannot unmount or remount anything else.
public final class MountHelper: @unchecked Sendable {
    private let mediaDirectory: String
    private let ownerUID: UInt32
    private let ownerGID: UInt32
    private let system: any MountSystem
    private let logger: Logger
    private let lock = NSLock()
    private var mounted: [String: MountPlan] = [:]

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

    public func handle(_ line: String, peerUID: UInt32?) -> MountReply {
        guard let peerUID, peerUID == ownerUID || peerUID == 0 else {
            logger.warning("refused a request from uid \(peerUID.map(String.init) ?? "unknown")")
            return .failed("permission denied: only uid \(ownerUID) may ask")
        }
        guard let request = MountRequest(line: line) else {
            return .failed("unknown request: \(line.prefix(80))")
        }
        lock.lock()
        defer { lock.unlock() }
        let reply = perform(request)
        switch reply {
        case .ok: logger.info("\(request.line): done")
        case .failed(let why): logger.warning("\(request.line): \(why)")
        }
        return reply
    }

    private func perform(_ request: MountRequest) -> MountReply {
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
                try? system.unmount(plan.target)
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
                try system.unmount(mountPoint)
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
            do {
                try system.unmount(mountPoint)
            } catch {
                return .failed("cannot unmount \(mountPoint): \(error)")
            }
            mounted[mountPoint] = nil
            system.removeMountPoint(mountPoint)
            return .ok(mountPoint)
        }
    }
}
