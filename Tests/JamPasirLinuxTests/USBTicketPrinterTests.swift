import Glibc
import JamPasirLinux
import JamPasirPosix
import JamPasirQueue
import Synchronization
import Testing

/// A printer at the other end of a pseudo-terminal in raw mode: the real `USBTicketPrinter`
/// code opens, asks, reads and writes a real character device; this side answers DLE EOT as an
/// Epson printer does, and can be unplugged part-way through a ticket.
final class PtyPrinter: Sendable {
    struct Settings {
        var offlineCause: UInt8? = 0x12
        var paper: UInt8? = 0x12
        /// Unplug (close the pty) once this many bytes of a ticket have arrived.
        var unplugAfter: Int?
        var received: [UInt8] = []
        var requests: [UInt8] = []
    }

    final class Shared: Sendable {
        let settings = Mutex(Settings())
    }

    let path: String
    let shared = Shared()
    private let master: Int32
    private let slave: Int32
    private let stop = Doorbell()

    init() throws {
        // posix_openpt(3) by hand (Swift's Glibc module leaves it out): unlock, then ask its number.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        let TIOCSPTLCK: UInt = 0x4004_5431
        let TIOCGPTN: UInt = 0x8004_5430
        guard master >= 0, ioctl(master, TIOCSPTLCK, &unlock) == 0, ioctl(master, TIOCGPTN, &number) == 0 else {
            throw SystemError("pseudo-terminal")
        }
        path = "/dev/pts/\(number)"
        // Raw: bytes pass unchanged both ways (no echo, no CR/LF translation).
        slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        var mode = termios()
        tcgetattr(slave, &mode)
        cfmakeraw(&mode)
        tcsetattr(slave, TCSANOW, &mode)
        let master = master
        let shared = shared
        let stop = stop
        startThread(named: "pty-printer") {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while case .readable = stop.wait(readable: master) {
                let count = read(master, &buffer, buffer.count)
                guard count > 0 else { return }
                pending += buffer[..<count]
                // Take DLE EOT n out and answer it; everything else is the ticket.
                while let index = pending.firstIndex(of: 0x10), index + 2 < pending.count {
                    if pending[index + 1] == 0x04 {
                        let request = pending[index + 2]
                        shared.settings.withLock { $0.received += pending[..<index] }
                        pending.removeFirst(index + 3)
                        let answer = shared.settings.withLock { s -> UInt8? in
                            s.requests.append(request)
                            return request == 2 ? s.offlineCause : request == 4 ? s.paper : nil
                        }
                        if var answer { _ = write(master, &answer, 1) }
                    } else {
                        shared.settings.withLock { $0.received += pending[...index] }
                        pending.removeFirst(index + 1)
                    }
                }
                if !pending.contains(0x10) {
                    shared.settings.withLock { $0.received += pending }
                    pending.removeAll()
                }
                let unplug = shared.settings.withLock { s in s.unplugAfter.map { s.received.count >= $0 } ?? false }
                if unplug {
                    close(master)
                    return
                }
            }
        }
    }

    deinit {
        stop.ring()
        close(slave)
    }
}

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
