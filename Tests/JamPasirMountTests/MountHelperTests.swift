import Foundation
import JamPasirMedia
import JamPasirMount
import JamPasirTesting
import Logging
import Testing

/// Records what the helper asks of the system; devices come from a table.
final class FakeMountSystem: MountSystem, @unchecked Sendable {
    var devices: [String: MediaDevice] = [:]
    var failMount: String?
    private(set) var calls: [String] = []
    private let lock = NSLock()

    private func log(_ call: String) {
        lock.withLock { calls.append(call) }
    }

    func describe(devnode: String) throws -> MediaDevice {
        guard let device = devices[devnode] else { throw MountPlan.Refusal(description: "no such device \(devnode)") }
        return device
    }
    func makeMountPoint(_ path: String) throws { log("mkdir \(path)") }
    func removeMountPoint(_ path: String) { log("rmdir \(path)") }
    func mount(_ plan: MountPlan, readOnly: Bool) throws {
        if let failMount { throw MountPlan.Refusal(description: failMount) }
        log("mount \(plan.source) \(plan.target) \(plan.filesystem) \(readOnly ? "ro" : "rw") \(plan.options)")
    }
    func unmount(_ path: String) throws { log("umount \(path)") }
    func prepareExportDirectory(in mountPoint: String, uid: UInt32, gid: UInt32) throws {
        log("own \(mountPoint)/JAMPASIR \(uid):\(gid)")
    }
}

func usbDevice(_ devnode: String, filesystem: String = "vfat", bus: String? = "usb") -> MediaDevice {
    var properties = [
        "SUBSYSTEM": "block", "DEVTYPE": "partition", "DEVNAME": devnode, "ID_FS_TYPE": filesystem,
        "ID_VENDOR": "SanDisk", "ID_MODEL": "Cruzer", "ID_SERIAL_SHORT": "42",
    ]
    properties["ID_BUS"] = bus
    return MediaDevice(properties: properties, parentSubsystems: bus == nil ? ["mmc"] : ["scsi", "usb"])
}

@Suite("jampasir-mountd: what it agrees to mount, and how")
struct MountHelperTests {
    let system = FakeMountSystem()
    let helper: MountHelper
    let daemonUID: UInt32 = 998

    init() {
        system.devices = [
            "/dev/sda1": usbDevice("/dev/sda1"),
            "/dev/sdb1": usbDevice("/dev/sdb1", filesystem: "ext4"),
            "/dev/mmcblk0p2": usbDevice("/dev/mmcblk0p2", filesystem: "ext4", bus: nil),
        ]
        helper = MountHelper(
            mediaDirectory: "/run/jampasir-media", ownerUID: daemonUID, ownerGID: 997, system: system,
            logger: Logger(label: "test"))
    }

    @Test func mountsAUSBStickReadOnlyWithTheDaemonAsOwner() {
        #expect(helper.handle("mount /dev/sda1", peerUID: daemonUID) == .ok("/run/jampasir-media/sda1"))
        #expect(
            system.calls == [
                "mkdir /run/jampasir-media/sda1",
                "mount /dev/sda1 /run/jampasir-media/sda1 vfat ro uid=998,gid=997,umask=0077,flush,shortname=mixed",
            ])
    }

    @Test func refusesOtherUsersAndUnknownRequests() {
        guard case .failed(let why) = helper.handle("mount /dev/sda1", peerUID: 1000) else {
            Issue.record("a stranger was served")
            return
        }
        #expect(why.contains("only uid 998"))
        #expect(helper.handle("mount /dev/sda1", peerUID: nil) != .ok("/run/jampasir-media/sda1"))
        #expect(helper.handle("format /dev/sda1", peerUID: daemonUID) == .failed("unknown request: format /dev/sda1"))
        #expect(helper.handle("mount", peerUID: daemonUID) == .failed("unknown request: mount"))
        #expect(system.calls.isEmpty)
    }

    @Test func refusesTheSystemsOwnDisksAndOddNames() {
        guard case .failed(let why) = helper.handle("mount /dev/mmcblk0p2", peerUID: daemonUID) else {
            Issue.record("mounted the SD card")
            return
        }
        #expect(why.contains("not a USB stick"))
        system.devices["/dev/../etc/x"] = usbDevice("/dev/../etc/x")
        guard case .failed(let odd) = helper.handle("mount /dev/../etc/x", peerUID: daemonUID) else {
            Issue.record("mounted at a path outside the media directory")
            return
        }
        #expect(odd.contains("not a plain device node name"))
        #expect(helper.handle("mount /dev/sdz9", peerUID: daemonUID) == .failed("no such device /dev/sdz9"))
        #expect(system.calls.isEmpty)
    }

    @Test func onlyTouchesItsOwnMountPoints() {
        #expect(
            helper.handle("unmount /", peerUID: daemonUID) == .failed("/ was not mounted by jampasir-mountd"))
        #expect(
            helper.handle("remount-rw /boot/firmware", peerUID: daemonUID)
                == .failed("/boot/firmware was not mounted by jampasir-mountd"))
        #expect(system.calls.isEmpty)
    }

    @Test func fullCycleAndExt4GetsAnOwnedExportDirectory() {
        #expect(helper.handle("mount /dev/sdb1", peerUID: daemonUID) == .ok("/run/jampasir-media/sdb1"))
        #expect(
            helper.handle("remount-rw /run/jampasir-media/sdb1", peerUID: daemonUID) == .ok("/run/jampasir-media/sdb1"))
        #expect(
            helper.handle("unmount /run/jampasir-media/sdb1", peerUID: daemonUID) == .ok("/run/jampasir-media/sdb1"))
        #expect(
            helper.handle("unmount /run/jampasir-media/sdb1", peerUID: daemonUID)
                == .failed("/run/jampasir-media/sdb1 was not mounted by jampasir-mountd"))
        #expect(
            system.calls == [
                "mkdir /run/jampasir-media/sdb1", "mount /dev/sdb1 /run/jampasir-media/sdb1 ext4 ro ",
                "umount /run/jampasir-media/sdb1", "mount /dev/sdb1 /run/jampasir-media/sdb1 ext4 rw ",
                "own /run/jampasir-media/sdb1/JAMPASIR 998:997",
                "umount /run/jampasir-media/sdb1", "rmdir /run/jampasir-media/sdb1",
            ])
    }

    @Test func aMountLeftByAStoppedDaemonIsReplaced() {
        #expect(helper.handle("mount /dev/sda1", peerUID: daemonUID) == .ok("/run/jampasir-media/sda1"))
        #expect(helper.handle("mount /dev/sda1", peerUID: daemonUID) == .ok("/run/jampasir-media/sda1"))
        #expect(system.calls.filter { $0.hasPrefix("umount") } == ["umount /run/jampasir-media/sda1"])
        #expect(system.calls.last?.hasPrefix("mount /dev/sda1") == true)
    }

    @Test func aFailedMountLeavesNoMountPoint() {
        system.failMount = "unsupported or corrupt filesystem"
        #expect(
            helper.handle("mount /dev/sda1", peerUID: daemonUID)
                == .failed("cannot mount /dev/sda1 (vfat): unsupported or corrupt filesystem"))
        #expect(system.calls == ["mkdir /run/jampasir-media/sda1", "rmdir /run/jampasir-media/sda1"])
    }

    @Test func requestLinesRoundTrip() {
        for request in [
            MountRequest.mount(devnode: "/dev/sda1"), .remountReadWrite(mountPoint: "/run/m/sda1"),
            .unmount(mountPoint: "/run/m/sda1"),
        ] {
            #expect(MountRequest(line: request.line) == request)
        }
        #expect(MountRequest(line: "mount " + String(repeating: "a", count: 600)) == nil)
        #expect(MountReply(line: "ok /x") == .ok("/x"))
        #expect(MountReply(line: MountReply.failed("two\nlines").line) == .failed("two lines"))
        #expect(MountReply(line: "garbage") == .failed("unexpected reply from jampasir-mountd: garbage"))
    }
}

@Suite("jampasir-mountd over its real Unix socket")
struct MountSocketTests {
    @Test func theDaemonsClientTalksToTheHelper() throws {
        let directory = try TemporaryDirectory()
        let socketPath = directory.path + "/mountd.sock"
        let system = FakeMountSystem()
        system.devices["/dev/sda1"] = usbDevice("/dev/sda1")
        // Tests run as root or as a user: either way the peer is this process's uid.
        let helper = MountHelper(
            mediaDirectory: "/media", ownerUID: getuid(), ownerGID: getgid(), system: system,
            logger: Logger(label: "test"))
        let listener = try MountHelperServer.listen(at: socketPath)
        let server = Thread { _ = MountHelperServer.serve(helper, on: listener) }
        server.start()
        defer {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
        let client = HelperMounter(socketPath: socketPath, timeout: .seconds(10))
        let stick = Stick(
            devnode: "/dev/sda1", filesystem: "vfat", label: "", vendor: "SanDisk", model: "Cruzer", serial: "42")
        let mountPoint = try client.mountReadOnly(stick)
        #expect(mountPoint == "/media/sda1")
        try client.remountReadWrite(mountPoint)
        try client.unmount(mountPoint)
        #expect(throws: (any Error).self) { try client.unmount(mountPoint) }
        #expect(system.calls.contains("umount /media/sda1"))

        let nobody = HelperMounter(socketPath: directory.path + "/absent.sock", timeout: .seconds(1))
        let error = #expect(throws: HelperMounter.Failure.self) { try nobody.mountReadOnly(stick) }
        #expect(error?.description.contains("jampasir-mountd.socket") == true)
    }
}
