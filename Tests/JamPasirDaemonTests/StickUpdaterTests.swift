import Foundation
import JamPasirCore
import JamPasirDaemon
import JamPasirExport
import JamPasirMount
import JamPasirPosix
import JamPasirStore
import JamPasirTesting
import Logging
import Synchronization
import Testing

/// Lines noted from any thread, in order.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// jampasir-update.socket as the daemon meets it: a listening socket that takes one request and
/// answers with the lines it is given (the real `jampasir update-install --serve` is run in
/// UpdateInstallTests and on the booted counter).
final class FakeUpdater: Sendable {
    let path: String
    let requests = Lines()
    private let listener: Int32

    init(at path: String, answering lines: [String]) throws {
        self.path = path
        listener = try UnixSocket.listen(at: path, mode: 0o600)
        startThread(named: "fake-updater") { [listener, requests] in
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            if let request = UnixSocket.readLine(connection, limit: 4096) { requests.append(request) }
            for line in lines { _ = UnixSocket.writeLine(connection, line) }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

/// What the counter does with an update stick (issue 27): export first, then the update once
/// the counter is held idle, the stick unmounted after it; a refusal shows `UPd` and its code
/// and lets sessions start again.
@Suite("Update stick at the counter: held idle, installed by the updater, the stick unmounted after")
struct StickUpdaterTests {
    let fixture: StickExportServiceTests
    let mounter: DirectoryMounter
    let authorized: [String]
    /// What the updater asked of the counter, in order.
    let events = Lines()

    init() throws {
        fixture = try StickExportServiceTests()
        let key = ExportAuthorization.newKey()
        #expect(FileManager.default.createFile(atPath: fixture.stickPath + "/JAMPASIR/export.key", contents: Data(key.utf8)))
        try FileManager.default.createDirectory(atPath: fixture.stickPath + "/JAMPASIR/update", withIntermediateDirectories: true)
        mounter = DirectoryMounter(sticks: ["/dev/sda1": fixture.stickPath])
        authorized = [ExportAuthorization.fingerprint(of: Data(key.utf8))]
    }

    /// The hold takes the counter at once (it is idle), or never (a session runs all along).
    func updater(socket: String, idle: Bool = true) -> StickUpdater {
        let events = events
        return StickUpdater(
            socketPath: socket,
            hold: { frame, engaged in
                events.append("hold \(frame)")
                if idle { engaged?() }
            },
            release: { events.append("release") }, logger: Logger(label: "test"))
    }

    func handle(with updater: StickUpdater, pulledOut: @escaping @Sendable () -> Bool = { false }) throws -> StickExportOutcome {
        var service = try fixture.service(mounter, authorized: authorized)
        service.updater = updater
        return service.handle(fixture.device(), pulledOut: pulledOut)
    }

    @Test func anInstalledUpdateLeavesTheCounterHeldAndTheStickUnmounted() throws {
        let socket = fixture.directory.file("update.sock")
        let fake = try FakeUpdater(
            at: socket,
            answering: [
                "step copying InRelease from the stick", "step copying jampasir_0.2.0-1_arm64.deb from the stick", "progress 0",
                "progress 7", "progress 100", "step installing jampasir 0.2.0-1", "installed 0.1.0-1 0.2.0-1",
            ])
        let outcome = try handle(with: updater(socket: socket))
        #expect(outcome == .updated(from: "0.1.0-1", to: "0.2.0-1", unmounted: true))
        #expect(outcome.frame == DisplayFrame("donE"))
        #expect(fake.requests.all == ["install \(fixture.stickPath)"])
        #expect(
            events.all == ["hold UPd ", "hold UP 0", "hold UP 7", "hold UP99", "hold UPd "],
            "held, the copy's progress shown, and not released: the daemon restarts into the update")
        #expect(mounter.log == ["mount-ro /dev/sda1", "remount-rw", "unmount"], "exported first, unmounted after the update")
        #expect(try fixture.store.lastExport() != nil)
    }

    /// Installed, but the stick could then only be detached: `USb8` (not safe to remove), and
    /// still an update that restarts the daemon, which would otherwise stay held.
    @Test func anInstalledUpdateWhoseStickWouldNotUnmountStillRestarts() throws {
        let socket = fixture.directory.file("update.sock")
        let fake = try FakeUpdater(at: socket, answering: ["installed 0.1.0-1 0.2.0-1"])
        mounter.unmountFailure.withLock { $0 = "busy: only detached" }
        let outcome = try handle(with: updater(socket: socket))
        #expect(outcome == .updated(from: "0.1.0-1", to: "0.2.0-1", unmounted: false))
        #expect(outcome.frame == DisplayFrame("USb8") && StickNotice(outcome).sound == .fault)
        _ = fake
    }

    @Test func aRefusalShowsItsCodeAndLetsSessionsStartAgain() throws {
        let socket = fixture.directory.file("update.sock")
        let fake = try FakeUpdater(at: socket, answering: ["refused 5 the stick carries jampasir 0.1.0-1, older than the installed 0.2.0-1"])
        let outcome = try handle(with: updater(socket: socket))
        #expect(outcome.frame == DisplayFrame("UPd5"))
        #expect(StickNotice(outcome).sound == .fault)
        #expect(fake.requests.all.count == 1)
        #expect(events.all == ["hold UPd ", "release"])
        #expect(mounter.log.last == "unmount")
    }

    /// A refused update on a stick that then would not unmount: `USb8`, never "safe to remove".
    @Test func aRefusedUpdateOnAStickThatWouldNotUnmountIsUSb8() throws {
        let socket = fixture.directory.file("update.sock")
        let fake = try FakeUpdater(at: socket, answering: ["refused 5 older"])
        mounter.unmountFailure.withLock { $0 = "busy: only detached" }
        let outcome = try handle(with: updater(socket: socket))
        #expect(outcome.frame == DisplayFrame("USb8"), "\(outcome)")
        _ = fake
    }

    @Test func withNoUpdaterToAskTheCounterSaysUPd7() throws {
        let outcome = try handle(with: updater(socket: fixture.directory.file("nobody.sock")))
        guard case .updateRefused(7, let reason) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(reason.contains("is jampasir-update.socket running"))
        #expect(events.all == ["hold UPd ", "release"])
    }

    @Test func anAnswerThatIsNotOneIsUPd8() throws {
        let socket = fixture.directory.file("update.sock")
        let fake = try FakeUpdater(at: socket, answering: ["refused 99 \u{1b}[2J", "refused 7 the daemon's own code", "installed only-one"])
        #expect(try handle(with: updater(socket: socket)).frame == DisplayFrame("UPd8"))
        _ = fake
    }

    /// The counter is busy (a session runs); the stick is pulled out meanwhile: nothing is
    /// asked, the hold is let go, the export stands.
    @Test func aStickPulledOutWhileTheCounterIsBusyAsksNothing() throws {
        let socket = fixture.directory.file("update.sock")
        let fake = try FakeUpdater(at: socket, answering: ["installed 0.1.0-1 0.2.0-1"])
        let events = events
        // The stick goes once the hold was asked for (and never taken).
        let outcome = try handle(with: updater(socket: socket, idle: false)) { events.all.contains("hold UPd ") }
        #expect(outcome.frame == DisplayFrame("donE"))
        if case .exported = outcome {} else { Issue.record("\(outcome)") }
        #expect(fake.requests.all.isEmpty)
        #expect(events.all == ["hold UPd ", "release"])
    }

    @Test func aStickWithoutAnUpdateIsOnlyExported() throws {
        try FileManager.default.removeItem(atPath: fixture.stickPath + "/JAMPASIR/update")
        let outcome = try handle(with: updater(socket: fixture.directory.file("nobody.sock")))
        if case .exported = outcome {} else { Issue.record("\(outcome)") }
        #expect(events.all.isEmpty)
    }
}
