import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirHub
import JamPasirQueue
import JamPasirTesting
import Synchronization
import Testing

/// The kiosk's button on the hub: edges from a fake line, the button's own thread, the real
/// queue and store, in virtual time. (The real GPIO line under the real `jampasir hub serve` and
/// its unit is journey 10 of `make test-counter`.)
@Suite("The kiosk's button")
struct KioskButtonTests {
    /// A printer that prints what it is sent, and can be held mid-ticket (a slow printer).
    final class Printer: TicketPrinter, Sendable {
        let printed = Mutex(0)
        let held = Mutex(false)
        /// Set once a ticket is being written.
        let writing = Mutex(false)
        let answer = Mutex(PrinterState.ready)
        func state() -> PrinterState { answer.withLock { $0 } }
        func write(_ bytes: [UInt8]) throws {
            writing.withLock { $0 = true }
            while held.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.001) }
            printed.withLock { $0 += 1 }
        }
    }

    final class Log: Sendable {
        let lines = Mutex<[String]>([])
    }

    final class Kiosk: Sendable {
        let directory: TemporaryDirectory
        let queue: HubQueue
        let button = FakeButton()
        let clock = ManualClock()
        let printer = Printer()
        let log = Log()
        let kiosk: KioskButton

        init() throws {
            directory = try TemporaryDirectory("kiosk-button")
            queue = try HubQueue(
                store: try HubStore(path: directory.file("hub.sqlite")), rules: .standard, timeZone: HubQueueTests.jakarta,
                office: "K", now: Date())
            kiosk = KioskButton(button: button, rules: ServiceRules(), queue: queue, printer: printer, clock: clock) {
                [log] line in log.lines.withLock { $0.append(line) }
            }
            kiosk.start()
        }

        func press(for seconds: Double) {
            let down = clock.now()
            button.press(at: down)
            clock.advance(by: .milliseconds(Int64(seconds * 1000)))
            button.release(at: down + .milliseconds(Int64(seconds * 1000)))
        }

        var lines: [String] { log.lines.withLock { $0 } }
        var waiting: Int { (try? queue.snapshot(at: Date()).waiting) ?? -1 }
    }

    @Test func aPressPrintsATicketAndAHoldPrintsOne() async throws {
        let kiosk = try Kiosk()
        defer { kiosk.kiosk.stop() }
        kiosk.press(for: 0.2)
        await eventually("the first ticket") { kiosk.lines.count == 1 }
        #expect(kiosk.lines == ["kiosk button: A-001 printed"])
        // Held past the long-press time, as people hold a big button: one ticket while held.
        kiosk.clock.advance(by: .seconds(5))
        let down = kiosk.clock.now()
        kiosk.button.press(at: down)
        kiosk.clock.advance(by: .seconds(3))
        await eventually("the held press's ticket") { kiosk.lines.count == 2 }
        kiosk.button.release(at: down + .seconds(4))
        kiosk.clock.advance(by: .seconds(4))
        #expect(kiosk.lines.last == "kiosk button: A-002 printed")
        #expect(kiosk.printer.printed.withLock { $0 } == 2 && kiosk.waiting == 2)
    }

    @Test func pressesWhileATicketPrintsAskNothingMore() async throws {
        let kiosk = try Kiosk()
        defer { kiosk.kiosk.stop() }
        kiosk.printer.held.withLock { $0 = true }
        kiosk.press(for: 0.2)
        await eventually("the first ticket printing") { kiosk.printer.writing.withLock { $0 } }
        kiosk.clock.advance(by: .seconds(1))
        kiosk.press(for: 0.2)
        kiosk.clock.advance(by: .seconds(1))
        kiosk.press(for: 0.2)
        kiosk.printer.held.withLock { $0 = false }
        await eventually("the ticket and the presses ignored") { kiosk.lines.count == 2 }
        #expect(kiosk.lines == ["kiosk button: A-001 printed", "kiosk button: 2 more presses within 2 s of a ticket's: no more tickets"])
        // A new press once the quiet time after the ticket has passed.
        kiosk.clock.advance(by: .seconds(3))
        kiosk.press(for: 0.2)
        await eventually("the next ticket") { kiosk.lines.count == 3 }
        #expect(kiosk.lines.last == "kiosk button: A-002 printed" && kiosk.waiting == 2)
    }

    @Test func paperOutGivesNoTicketAndAStuckButtonIsNamed() async throws {
        let kiosk = try Kiosk()
        defer { kiosk.kiosk.stop() }
        kiosk.printer.answer.withLock { $0 = .paperOut }
        kiosk.press(for: 0.2)
        await eventually("the refusal") { kiosk.lines.count == 1 }
        #expect(kiosk.lines == ["kiosk button: no ticket: kertas habis / paper out"] && kiosk.waiting == 0)

        kiosk.clock.advance(by: .seconds(5))
        let down = kiosk.clock.now()
        kiosk.button.press(at: down)
        kiosk.clock.advance(by: .seconds(31))
        await eventually("the stuck button") { kiosk.lines.contains { $0.contains("stuck?") } }
        #expect(kiosk.lines.last == "kiosk button: held for 30 s: stuck? check the button and its wire (button.kiosk_line)")
        kiosk.button.release(at: down + .seconds(40))
        await eventually("released") { kiosk.lines.last == "kiosk button: released" }
    }

    /// `jampasir hub serve` as the technician starts it: a kiosk button without a printer is
    /// refused at the start, naming both keys.
    @Test func aKioskButtonWithoutAPrinterIsRefusedAtTheStart() throws {
        let directory = try TemporaryDirectory("kiosk-serve")
        let key = try DeviceKey.loadOrCreate(at: directory.file("counter.key"))
        try Data((key.publicKeyBase64 + "\n").utf8).write(to: URL(fileURLWithPath: directory.file("keys.txt")))
        try Data("[button]\nchip = \"gpiochip0\"\nkiosk_line = 22\n".utf8).write(to: URL(fileURLWithPath: directory.file("hub.toml")))
        let run = try runBuilt(
            "jampasir",
            ["hub", "serve", "--hub-store", directory.file("hub.sqlite"), "--config", directory.file("hub.toml"), "--listen",
             "127.0.0.1:0", "--trusted-keys", directory.file("keys.txt")])
        #expect(run.status == 78, "\(run.error)")
        #expect(run.error.contains("button.kiosk_line is set but queue.printer is not"), "\(run.error)")
    }
}

