import Foundation
import JamPasirCore
import JamPasirDaemon
import JamPasirDaemonTesting
import JamPasirTesting
import Logging
import Synchronization
import Testing

@Suite("systemd notification protocol")
struct SystemdNotifierTests {
    /// A datagram socket standing in for systemd's notify socket.
    func listen(at path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        return fd
    }

    func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : ""
    }

    @Test func readyAndStatusReachTheSocket() throws {
        let directory = try TemporaryDirectory("notify")
        let path = directory.file("notify.sock")
        let fd = listen(at: path)
        defer { close(fd) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000"])
        #expect(notifier.isActive)
        #expect(notifier.watchdogInterval == .seconds(10))
        #expect(notifier.notify("READY=1\nSTATUS=ready"))
        #expect(receive(fd) == "READY=1\nSTATUS=ready")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive)
        #expect(notifier.watchdogInterval == nil)
        #expect(!notifier.notify("READY=1"))
    }

    @Test func watchdogMeantForAnotherProcessIsIgnored() {
        let notifier = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1",
        ])
        #expect(notifier.watchdogInterval == nil)
    }
}

@Suite("Watchdog pings from the countdown loop")
struct WatchdogLoopTests {
    @Test func loopPingsAtTheIntervalAndReportsStatus() async throws {
        let directory = try TemporaryDirectory("watchdog")
        let rig = try CounterRig(storePath: directory.file("s.sqlite"))
        let sent = Mutex<[String]>([])
        let (loop, running) = rig.runLoop(watchdog: .seconds(10)) { message in sent.withLock { $0.append(message) } }
        await eventually("a wake-up scheduled for the first ping") { rig.clock.sleeperCount == 1 }
        rig.clock.advance(to: .seconds(10))
        await eventually("first ping") { sent.withLock { $0.contains("WATCHDOG=1") } }
        rig.clock.advance(to: .seconds(10.2))
        rig.button.press(at: .seconds(10.1))
        rig.button.release(at: .seconds(10.2))
        await eventually("status follows the session") { sent.withLock { $0.contains("STATUS=session running") } }
        rig.clock.advance(to: .seconds(20))
        await eventually("second ping") { sent.withLock { $0.filter { $0 == "WATCHDOG=1" }.count == 2 } }
        loop.post(.stop)
        await running.value
    }
}
