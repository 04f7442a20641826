import Foundation
import JamPasirDaemon
import JamPasirExport
import JamPasirMedia
import JamPasirStore
import JamPasirTesting
import Logging
import Synchronization
import Testing

/// "Mounts" a stick by handing out a directory prepared by the test; records every call.
final class DirectoryMounter: StickMounter {
    let sticks: [String: String]  // devnode → directory
    let calls = Mutex<[String]>([])
    let failMount: Bool
    struct Refused: Error {}

    init(sticks: [String: String], failMount: Bool = false) {
        self.sticks = sticks
        self.failMount = failMount
    }

    func mountReadOnly(_ stick: Stick) throws -> String {
        calls.withLock { $0.append("mount-ro \(stick.devnode)") }
        guard !failMount, let directory = sticks[stick.devnode] else { throw Refused() }
        return directory
    }

    func remountReadWrite(_ mountPoint: String) throws { calls.withLock { $0.append("remount-rw") } }
    func unmount(_ mountPoint: String) throws { calls.withLock { $0.append("unmount") } }
    var log: [String] { calls.withLock { $0 } }
}

@Suite("USB stick export, start to finish")
struct StickExportServiceTests {
    let directory: TemporaryDirectory
    let store: SessionStore
    let stickPath: String
    let key = ExportAuthorization.newKey()

    init() throws {
        directory = try TemporaryDirectory("stick-export")
        store = try SessionStore(path: directory.file("state/jampasir.sqlite"), access: .readWrite)
        for second in [0, 300] {
            let id = try store.begin(
                SessionRecord(
                    counterID: "loket-1", bootID: "b",
                    startedAt: Date(timeIntervalSince1970: 1_796_000_000 + Double(second)),
                    startedMonotonicNs: 0, clockSynchronized: true, limitMs: 120_000))
            try store.finish(id: id, endedAt: Date(), durationMs: 90_000, outcome: .inTime, freeService: false)
        }
        stickPath = directory.file("stick")
        try FileManager.default.createDirectory(atPath: stickPath + "/JAMPASIR", withIntermediateDirectories: true)
    }

    func device(_ devnode: String = "/dev/sda1", bus: String = "usb") -> MediaDevice {
        MediaDevice(
            properties: [
                "SUBSYSTEM": "block", "DEVTYPE": "partition", "DEVNAME": devnode, "ID_BUS": bus, "ID_FS_TYPE": "vfat",
                "ID_VENDOR": "SanDisk", "ID_MODEL": "Cruzer", "ID_SERIAL_SHORT": "42",
            ], parentSubsystems: bus == "usb" ? ["scsi", "usb"] : ["mmc"])
    }

    func service(_ mounter: DirectoryMounter, authorized: [String]) throws -> StickExportService {
        let key = try DeviceKey.loadOrCreate(at: directory.file("state/device.key"))
        let writer = ExportWriter(
            store: store, counterID: "loket-1", key: key, timeZone: TimeZone(identifier: "Asia/Jakarta")!,
            language: .indonesian)
        return StickExportService(
            writer: writer, store: store, authorizedKeys: authorized, mounter: mounter, logger: Logger(label: "test"),
            now: { Date(timeIntervalSince1970: 1_796_100_000) })
    }

    @Test func authorisedStickGetsAVerifiedExportAndIsUnmounted() throws {
        #expect(
            FileManager.default.createFile(
                atPath: stickPath + "/JAMPASIR/export.key", contents: Data((key + "\n").utf8)))
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath])
        let outcome = try service(mounter, authorized: [ExportAuthorization.fingerprint(of: Data(key.utf8))]).handle(
            device())
        guard case .exported(let exportDirectory, let sessions) = outcome else {
            Issue.record("not exported: \(outcome)")
            return
        }
        #expect(sessions == 2)
        #expect(outcome.frame?.description == "donE")
        #expect(ExportVerifier.verify(directory: exportDirectory).isEmpty)
        #expect(mounter.log == ["mount-ro /dev/sda1", "remount-rw", "unmount"])
        let record = try #require(try store.lastExport())
        #expect(record.sessionCount == 2)
        #expect(record.lastSessionID == 2)
        #expect(record.stick.contains("SanDisk Cruzer serial 42"))
    }

    @Test func unauthorisedStickGetsNothingAndIsUnmountedUntouched() throws {
        #expect(
            FileManager.default.createFile(
                atPath: stickPath + "/JAMPASIR/export.key", contents: Data("someone else\n".utf8)))
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath])
        let outcome = try service(mounter, authorized: [ExportAuthorization.fingerprint(of: Data(key.utf8))]).handle(
            device())
        guard case .refused(let reason) = outcome else {
            Issue.record("not refused: \(outcome)")
            return
        }
        #expect(reason.contains("SanDisk Cruzer serial 42"))
        #expect(outcome.frame?.description == "-no-")
        #expect(mounter.log == ["mount-ro /dev/sda1", "unmount"])  // never remounted read-write
        #expect(try FileManager.default.contentsOfDirectory(atPath: stickPath + "/JAMPASIR") == ["export.key"])
        #expect(try store.lastExport() == nil)
    }

    @Test func stickWithoutKeyFileIsRefused() throws {
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath])
        let outcome = try service(mounter, authorized: []).handle(device())
        #expect(outcome == .refused("SanDisk Cruzer serial 42 (/dev/sda1, vfat): no JAMPASIR/export.key on the stick"))
    }

    @Test func sdCardIsIgnoredAndNeverMounted() throws {
        let mounter = DirectoryMounter(sticks: [:])
        let outcome = try service(mounter, authorized: []).handle(device("/dev/mmcblk0p1", bus: "mmc"))
        #expect(outcome == .ignored("/dev/mmcblk0p1: not on USB (ID_BUS=mmc)"))
        #expect(outcome.frame == nil)
        #expect(mounter.log.isEmpty)
    }

    @Test func mountFailureHasItsOwnCode() throws {
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath], failMount: true)
        let outcome = try service(mounter, authorized: []).handle(device())
        #expect(outcome.frame?.description == "USb7")
    }
}
