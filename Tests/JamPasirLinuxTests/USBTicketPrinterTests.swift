import Glibc
import JamPasirLinux
import JamPasirPosix
import JamPasirQueue
import JamPasirTesting
import Synchronization
import Testing

@Suite("The kiosk's printer device (usblp), played on a pseudo-terminal")
struct USBTicketPrinterTests {
    static let ticket = TicketPrint(
        office: "Kantor Imigrasi Singkawang", label: "A-037", issued: "30-11-2026 08:12", ahead: 3,
        estimate: WaitEstimate(low: .seconds(600), high: .seconds(1200)), id: "jampasir:2026-11-30:A-037")

    @Test func asksBothStatusesAndReadsTheAnswers() throws {
        let pty = try PtyPrinter()
        let printer = USBTicketPrinter(path: pty.path)
        #expect(printer.state() == .ready)
        pty.shared.settings.withLock { $0.paper = 0x72 }
        #expect(printer.state() == .paperOut)
        pty.shared.settings.withLock {
            $0.paper = 0x12
            $0.offlineCause = 0x16
        }
        #expect(printer.state() == .coverOpen)
        #expect(pty.shared.settings.withLock { $0.requests } == [2, 4, 2, 4, 2, 4])
    }

    @Test func aPrinterThatDoesNotAnswerIsSilentNotReady() throws {
        let pty = try PtyPrinter()
        pty.shared.settings.withLock { $0.paper = nil }
        let printer = USBTicketPrinter(path: pty.path, answerTimeout: .milliseconds(50))
        #expect(printer.state() == .silent)
        #expect(USBTicketPrinter(path: "/dev/usb/lp9-not-there").state() == .silent)
    }

    @Test func theWholeTicketArrivesByteForByte() throws {
        let pty = try PtyPrinter()
        try USBTicketPrinter(path: pty.path).write(Self.ticket.escPos)
        // The printer side reads on its own thread: ask once more, which it answers after the ticket.
        _ = USBTicketPrinter(path: pty.path).state()
        #expect(pty.shared.settings.withLock { $0.received } == Self.ticket.escPos)
    }

    /// Unplugged after 40 bytes of a ticket far larger than the pty's buffers: the write fails,
    /// the kiosk issues no ticket and voids the number.
    @Test func unpluggedDuringTheWriteIsAFailedPrintThroughTheKiosk() throws {
        let pty = try PtyPrinter()
        pty.shared.settings.withLock { $0.unplugAfter = 40 }
        var room = WaitingRoom()
        let press = KioskPress.press(&room, at: .zero, printer: USBTicketPrinter(path: pty.path, writeTimeout: .seconds(5))) {
            label, _, _ in Self.ticket(label, office: String(repeating: "Kantor Imigrasi Singkawang ", count: 10_000))
        }
        guard case .printFailed(let voided, let reason) = press else {
            Issue.record("expected a failed print, got \(press)")
            return
        }
        #expect(voided == "A-001")
        #expect(reason.contains("write to the ticket printer \(pty.path) failed after"), "\(reason)")
        #expect(room.tickets.isEmpty && room.nextLabel == "A-002")
    }

    /// Unplugged once a short ticket sat in the buffers: the write succeeded, but the printer no
    /// longer answers afterwards, so the ticket did not print: no ticket, the number voided.
    @Test func unpluggedAfterTheWriteIsAFailedPrintToo() throws {
        let pty = try PtyPrinter()
        pty.shared.settings.withLock { $0.unplugAfter = 40 }
        var room = WaitingRoom()
        let printer = USBTicketPrinter(path: pty.path, answerTimeout: .milliseconds(100))
        let press = KioskPress.press(&room, at: .zero, printer: printer) { label, _, _ in Self.ticket(label) }
        #expect(press == .printFailed(voided: "A-001", reason: PrinterState.silent.message))
        #expect(room.tickets.isEmpty)
    }

    static func ticket(_ label: String, office: String = "Kantor Imigrasi Singkawang") -> TicketPrint {
        TicketPrint(
            office: office, label: label, issued: "30-11-2026 08:12", ahead: 0,
            estimate: WaitEstimate(low: .zero, high: .seconds(300)), id: "jampasir:2026-11-30:\(label)")
    }
}
