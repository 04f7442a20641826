import Foundation
import JamPasirCore
import JamPasirDaemon
import JamPasirExport
import JamPasirMedia
import JamPasirStore
import JamPasirTesting
import Logging
import Synchronization
import Testing
import JamPasirReports

/// "Mounts" a stick by handing out a directory prepared by the test; records every call.
final class DirectoryMounter: StickMounter {
    let sticks: [String: String]  // devnode → directory
    let calls = Mutex<[String]>([])
    let failMount: Bool
    /// What jampasir-mountd answers to unmount, when it does not say ok.
    let unmountFailure = Mutex<String?>(nil)
    /// Runs when the stick is made writable: lets a test pull the stick out mid-export.
    let onRemount: Mutex<(@Sendable () -> Void)?> = Mutex(nil)
    struct Refused: Error {}
    struct Answer: Error, CustomStringConvertible { var description: String }

    init(sticks: [String: String], failMount: Bool = false) {
        self.sticks = sticks
        self.failMount = failMount
    }

    func mountReadOnly(_ stick: Stick) throws -> String {
        calls.withLock { $0.append("mount-ro \(stick.devnode)") }
        guard !failMount, let directory = sticks[stick.devnode] else { throw Refused() }
        return directory
    }

    func remountReadWrite(_ mountPoint: String) throws {
        calls.withLock { $0.append("remount-rw") }
        onRemount.withLock { $0 }?()
    }
    func unmount(_ mountPoint: String) throws {
        calls.withLock { $0.append("unmount") }
        if let failure = unmountFailure.withLock({ $0 }) { throw Answer(description: failure) }
    }
    var log: [String] { calls.withLock { $0 } }
}

@Suite("USB stick export, start to finish")
struct StickExportServiceTests {
    let directory: TemporaryDirectory
    let store: SessionStore
    let stickPath: String
    let key = ExportAuthorization.newKey()
    /// Authorised keys that are not this stick's: sticks are mounted, and refused.
    let someoneElse = [ExportAuthorization.fingerprint(of: Data("another stick's key".utf8))]

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

    func service(_ mounter: DirectoryMounter, authorized: [String], logger: Logger = Logger(label: "test")) throws
        -> StickExportService
    {
        let key = try DeviceKey.loadOrCreate(at: directory.file("state/device.key"))
        let writer = ExportWriter(
            store: store, counterID: "loket-1", key: key, timeZone: TimeZone(identifier: "Asia/Jakarta")!,
            language: .indonesian)
        return StickExportService(
            writer: writer, store: store, authorizedKeys: authorized, mounter: mounter, logger: logger,
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

    /// Issue 13, finding 9: when jampasir-mountd could only detach the stick (busy), the export
    /// is not done: the counter shows USb8, never donE, and the log does not say safe to remove.
    @Test func aStickOnlyDetachedIsNotSafeToRemove() throws {
        #expect(
            FileManager.default.createFile(
                atPath: stickPath + "/JAMPASIR/export.key", contents: Data((key + "\n").utf8)))
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath])
        mounter.unmountFailure.withLock {
            $0 =
                "/media/sda1 was busy (Device or resource busy): only detached, the kernel may still be writing to the stick"
        }
        let lines = CapturedLog()
        let outcome = try service(
            mounter, authorized: [ExportAuthorization.fingerprint(of: Data(key.utf8))],
            logger: Logger(label: "test") { _ in lines }
        ).handle(device())
        #expect(outcome.frame?.description == "USb8")
        #expect(!lines.messages.contains { $0.contains("safe to remove") })
        #expect(lines.messages.contains { $0.contains("only detached") && $0.contains("do not remove it yet") })
    }

    @Test func theReportSaysWhatIsNewSinceThePreviousExport() throws {
        #expect(
            FileManager.default.createFile(
                atPath: stickPath + "/JAMPASIR/export.key", contents: Data((key + "\n").utf8)))
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath])
        let first = try service(mounter, authorized: [ExportAuthorization.fingerprint(of: Data(key.utf8))])
        guard case .exported(let firstDirectory, _) = first.handle(device()) else {
            Issue.record("first export failed")
            return
        }
        let firstReport = try String(contentsOfFile: firstDirectory + "/report.html", encoding: .utf8)
        #expect(!firstReport.contains("Sejak ekspor sebelumnya"))
        let id = try store.begin(
            SessionRecord(
                counterID: "loket-1", bootID: "b", startedAt: Date(timeIntervalSince1970: 1_796_090_000),
                startedMonotonicNs: 0, clockSynchronized: true, limitMs: 120_000))
        try store.finish(id: id, endedAt: Date(), durationMs: 80_000, outcome: .inTime, freeService: false)
        var later = first
        later.now = { Date(timeIntervalSince1970: 1_796_200_000) }
        guard case .exported(let secondDirectory, let sessions) = later.handle(device()) else {
            Issue.record("second export failed")
            return
        }
        #expect(sessions == 3)
        let secondReport = try String(contentsOfFile: secondDirectory + "/report.html", encoding: .utf8)
        #expect(secondReport.contains("Sejak ekspor sebelumnya"))
        #expect(secondReport.contains("<b>1</b> sesi baru"))
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
        let outcome = try service(mounter, authorized: someoneElse).handle(device())
        #expect(outcome == .refused("SanDisk Cruzer serial 42 (/dev/sda1, vfat): no JAMPASIR/export.key on the stick"))
    }

    @Test func aStickNamedWithEscapeSequencesIsLoggedWithThemVisible() throws {
        var evil = device()
        evil.properties["ID_VENDOR"] = "Evil\u{1B}[2K\rSanDisk"
        evil.properties["ID_SERIAL_SHORT"] = "42\nUSB: exported 9 sessions\u{202E}"
        let lines = CapturedLog()
        let logger = Logger(label: "test") { _ in lines }
        _ = try service(DirectoryMounter(sticks: ["/dev/sda1": stickPath]), authorized: someoneElse, logger: logger)
            .handle(evil)
        #expect(
            lines.messages == [
                "USB: refused Evil\\u{1B}[2K\\rSanDisk Cruzer serial 42\\nUSB: exported 9 sessions\\u{202E} (/dev/sda1, vfat): no JAMPASIR/export.key on the stick"
            ])
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
        let outcome = try service(mounter, authorized: someoneElse).handle(device())
        #expect(outcome.frame?.description == "USb7")
    }

    /// Issue 13, finding 2: a counter with no authorised key refuses every stick anyway, so it
    /// mounts none: a crafted filesystem never reaches the kernel.
    @Test func withNoAuthorisedKeysNoStickIsEvenMounted() throws {
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath])
        let outcome = try service(mounter, authorized: []).handle(device())
        #expect(
            outcome == .ignored("SanDisk Cruzer serial 42 (/dev/sda1, vfat): \(StickExportService.noAuthorizedKeys)"))
        #expect(outcome.frame == nil)
        #expect(mounter.log.isEmpty)
    }

    /// ... and the watcher says so once, not at every stick the waiting room plugs in.
    @Test func withNoAuthorisedKeysTheWatcherSaysOnceWhySticksAreIgnored() throws {
        let mounter = DirectoryMounter(sticks: ["/dev/sda1": stickPath, "/dev/sdb1": stickPath])
        let lines = CapturedLog()
        let watcher = StickWatcher(
            service: try service(mounter, authorized: []), logger: Logger(label: "test") { _ in lines }, notify: { _ in })
        for devnode in ["/dev/sda1", "/dev/sdb1", "/dev/sda1"] {
            watcher.handle(.added(device(devnode)))
        }
        #expect(!watcher.isBusy)
        #expect(mounter.log.isEmpty)
        #expect(
            lines.messages == [
                "USB: ignored SanDisk Cruzer serial 42 (/dev/sda1, vfat) and every stick after it: \(StickExportService.noAuthorizedKeys)"
            ])
    }
}

@Suite("Sticks plugged in and pulled out: what the counter shows")
struct StickWatcherTests {
    let fixture: StickExportServiceTests
    let mounter: DirectoryMounter
    let watcher: StickWatcher
    /// What the counter would be told, in order.
    let noticeStream: AsyncStream<StickNotice>

    init() throws {
        fixture = try StickExportServiceTests()
        let key = ExportAuthorization.newKey()
        #expect(
            FileManager.default.createFile(
                atPath: fixture.stickPath + "/JAMPASIR/export.key", contents: Data(key.utf8)))
        mounter = DirectoryMounter(sticks: ["/dev/sda1": fixture.stickPath])
        let service = try fixture.service(mounter, authorized: [ExportAuthorization.fingerprint(of: Data(key.utf8))])
        let (stream, sink) = AsyncStream.makeStream(of: StickNotice.self)
        noticeStream = stream
        watcher = StickWatcher(service: service, logger: Logger(label: "test")) { sink.yield($0) }
    }

    func exportDirectories() throws -> [String] {
        let counter = fixture.stickPath + "/JAMPASIR/loket-1"
        return (try? FileManager.default.contentsOfDirectory(atPath: counter))?.map { counter + "/" + $0 } ?? []
    }

    @Test func checkingProgressDoneThenClearedWhenPulledOut() async throws {
        var notices = noticeStream.makeAsyncIterator()
        watcher.handle(.added(fixture.device()))
        #expect(await notices.next() == .checking)
        #expect(await notices.next()?.frame?.description == "U 99")
        #expect(await notices.next() == StickNotice(frame: DisplayFrame("donE"), sound: .exportDone))
        watcher.handle(.removed(fixture.device()))
        #expect(await notices.next() == .cleared)
        #expect(try exportDirectories().count == 1)
    }

    @Test func pulledOutMidExportLeavesNothingCompleteAndTheNextInsertionStartsAfresh() async throws {
        let watcher = watcher
        let device = fixture.device()
        mounter.onRemount.withLock { $0 = { watcher.handle(.removed(device)) } }
        var notices = noticeStream.makeAsyncIterator()
        watcher.handle(.added(device))
        #expect(await notices.next() == .checking)
        #expect(await notices.next() == .cleared)
        await eventually("the abandoned export is over") { !watcher.isBusy }
        #expect(mounter.log.last == "unmount")
        #expect(try exportDirectories().isEmpty)  // the abandoned export's files were removed
        #expect(try fixture.store.lastExport() == nil)

        mounter.onRemount.withLock { $0 = nil }
        watcher.handle(.added(device))
        #expect(await notices.next() == .checking)
        var last: StickNotice?
        repeat { last = await notices.next() } while last?.frame?.description.hasPrefix("U ") == true
        #expect(last?.frame?.description == "donE")
        let complete = try exportDirectories().filter {
            FileManager.default.fileExists(atPath: $0 + "/manifest.json")
        }
        #expect(complete.count == 1)
        #expect(ExportVerifier.verify(directory: complete[0]).isEmpty)
    }
}

/// Keeps the messages logged through it.
final class CapturedLog: LogHandler, @unchecked Sendable {
    private let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var messages: [String] { lines.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.withLock { $0.append(event.message.description) }
    }
}
