import Foundation
import JamPasirMedia
import JamPasirMount
import JamPasirTesting
import Logging
import Synchronization
import Testing

/// Records what the helper asks of the system; devices come from a table.
final class FakeMountSystem: MountSystem, @unchecked Sendable {
    var devices: [String: MediaDevice] = [:]
    var failMount: String?
    /// Unmounts only detach, as umount2 does with MNT_DETACH on a busy filesystem.
    var busy = false
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
        log(
            "mount \(plan.source) \(plan.target) \(plan.filesystem) \(readOnly ? "ro" : "rw") \(plan.mountData(readOnly: readOnly))"
        )
    }
    func unmount(_ path: String) throws -> Unmounting {
        log("umount \(path)")
        return busy ? .detachedWhileBusy(reason: "Device or resource busy") : .unmounted
    }
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
                "mkdir /run/jampasir-media/sdb1",
                "mount /dev/sdb1 /run/jampasir-media/sdb1 ext4 ro errors=remount-ro,noload",
                "umount /run/jampasir-media/sdb1", "mount /dev/sdb1 /run/jampasir-media/sdb1 ext4 rw errors=remount-ro",
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

    /// Issue 13, finding 2: the superblock's own error policy (`tune2fs -e panic`) must never
    /// apply, and the read-only probe of a stick nobody has authorised yet replays no journal.
    @Test func ext4IgnoresTheSticksOwnErrorPolicyAndItsJournalUntilAuthorised() throws {
        let plan = try MountPlan(
            devnode: "/dev/sdb1", filesystem: "ext4", mediaDirectory: "/run/jampasir-media", ownerUID: 998,
            ownerGID: 997)
        #expect(plan.mountData(readOnly: true) == "errors=remount-ro,noload")
        #expect(plan.mountData(readOnly: false) == "errors=remount-ro")
        let fat = try MountPlan(
            devnode: "/dev/sda1", filesystem: "vfat", mediaDirectory: "/run/jampasir-media", ownerUID: 998,
            ownerGID: 997)
        #expect(fat.mountData(readOnly: true) == fat.mountData(readOnly: false))
    }

    /// Issue 13, finding 9: a lazy (detached) unmount is not an unmount; the daemon must hear
    /// "failed", or it would show donE while the kernel may still be writing.
    @Test func aStickOnlyDetachedWhileBusyIsNotReportedUnmounted() {
        #expect(helper.handle("mount /dev/sda1", peerUID: daemonUID) == .ok("/run/jampasir-media/sda1"))
        system.busy = true
        guard case .failed(let why) = helper.handle("unmount /run/jampasir-media/sda1", peerUID: daemonUID) else {
            Issue.record("a detached stick was reported unmounted")
            return
        }
        #expect(
            why
                == "/run/jampasir-media/sda1 was busy (Device or resource busy): only detached, the kernel may still be writing to the stick"
        )
        // It is no longer in the tree: the helper forgets it and removes its mount point.
        #expect(system.calls.suffix(2) == ["umount /run/jampasir-media/sda1", "rmdir /run/jampasir-media/sda1"])
    }

    /// Issue 13, finding 9: a restarted helper takes over the mounts it made (its naming rule:
    /// `<media>/<name>` of `/dev/<name>`), so it can unmount them and never mounts over them.
    @Test func aRestartedHelperTakesOverItsOwnMountsAndNoOthers() {
        let mountInfo = """
            22 1 179:2 / / rw,relatime shared:1 - ext4 /dev/mmcblk0p2 rw
            40 22 8:1 / /run/jampasir-media/sda1 ro,nosuid,nodev,noexec shared:20 - vfat /dev/sda1 ro,uid=998
            41 22 8:17 / /run/jampasir-media/sdb1 ro shared:21 - ext4 /dev/sdc1 ro
            42 22 8:33 / /mnt/sdc1 ro shared:22 - vfat /dev/sdc1 ro
            43 22 8:49 / /run/jampasir-media/sdd1 ro shared:23 - ntfs3 /dev/sdd1 ro
            44 22 8:65 / /run/jampasir-media/sd\\040e1 ro shared:24 - vfat /dev/sd\\040e1 ro
            garbage
            """
        let parsed = MountInfo.parse(mountInfo)
        #expect(parsed.count == 6)
        #expect(
            parsed.last == MountInfo(source: "/dev/sd e1", mountPoint: "/run/jampasir-media/sd e1", filesystem: "vfat"))
        #expect(helper.adoptMounts(parsed) == ["/run/jampasir-media/sda1"])

        #expect(helper.handle("mount /dev/sda1", peerUID: daemonUID) == .ok("/run/jampasir-media/sda1"))
        #expect(system.calls.first == "umount /run/jampasir-media/sda1")  // not stacked on the old mount
        #expect(
            helper.handle("unmount /run/jampasir-media/sdb1", peerUID: daemonUID)
                == .failed("/run/jampasir-media/sdb1 was not mounted by jampasir-mountd"))
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
    let system = FakeMountSystem()
    let helper: MountHelper
    let daemonUID: UInt32 = 998

    init() {
        system.devices["/dev/sda1"] = usbDevice("/dev/sda1")
        helper = MountHelper(
            mediaDirectory: "/media", ownerUID: daemonUID, ownerGID: 997, system: system, logger: Logger(label: "test"))
    }

    /// A connected pair: the client's end, and the end `serveConnection` gets.
    func connectedPair() throws -> (client: Int32, server: Int32) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        return (ends[0], ends[1])
    }

    func reply(on client: Int32) -> String {
        var bytes = [UInt8](repeating: 0, count: 1024)
        let count = read(client, &bytes, bytes.count)
        return String(decoding: bytes.prefix(max(count, 0)), as: UTF8.self)
    }

    /// Serves one connection and returns how long it took.
    func serve(_ server: Int32, timeout: Duration, peer: UInt32) -> Duration {
        ContinuousClock().measure {
            MountHelperServer.serveConnection(server, helper: helper, timeout: timeout, peerUID: { _ in peer })
        }
    }

    /// Issue 13, finding 9: a stranger is turned away before anything it sends is read, so it
    /// cannot make the helper wait for (or parse) a request.
    @Test func aStrangerIsRefusedBeforeItsRequestIsRead() throws {
        let (client, server) = try connectedPair()
        defer {
            close(client)
            close(server)
        }
        let elapsed = serve(server, timeout: .seconds(60), peer: 1000)  // the stranger sends nothing
        #expect(elapsed < .seconds(20))  // far below the timeout, even on a loaded emulated CPU
        #expect(reply(on: client) == "error permission denied: only uid 998 may ask\n")
        #expect(system.calls.isEmpty)
    }

    /// Issue 13, finding 9: one client at a time is served, so none may hold the helper longer
    /// than the request timeout — neither a silent one nor one trickling a byte at a time.
    @Test func aSlowClientIsCutOffAtTheTimeout() throws {
        let (client, server) = try connectedPair()
        defer {
            close(client)
            close(server)
        }
        // The trickle stops before the sockets close, so it never writes to a reused descriptor.
        let served = Mutex(false)
        let trickleEnded = DispatchSemaphore(value: 0)
        let trickle = Thread {
            defer { trickleEnded.signal() }
            for byte in Array("mount /dev/sda1".utf8) {
                var byte = byte
                guard !served.withLock({ $0 }), write(client, &byte, 1) == 1 else { return }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        trickle.start()
        let elapsed = serve(server, timeout: .milliseconds(400), peer: daemonUID)
        served.withLock { $0 = true }
        trickleEnded.wait()
        #expect(elapsed < .seconds(5))  // the whole request would take 7.5 s
        #expect(reply(on: client).hasPrefix("error no request line of at most 512 bytes within"))
        #expect(system.calls.isEmpty)
    }

    @Test func anOverlongRequestIsRefusedUnread() throws {
        let (client, server) = try connectedPair()
        defer {
            close(client)
            close(server)
        }
        let request = Array(("mount /dev/" + String(repeating: "a", count: 600) + "\n").utf8)
        #expect(write(client, request, request.count) == request.count)
        _ = serve(server, timeout: .seconds(2), peer: daemonUID)
        #expect(reply(on: client).hasPrefix("error no request line of at most 512 bytes"))
    }

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
