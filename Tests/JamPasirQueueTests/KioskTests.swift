import Foundation
import Testing

@testable import JamPasirQueue

/// A printer that answers as told, and can fail part-way through a ticket.
final class FakePrinter: TicketPrinter, @unchecked Sendable {
    struct Unplugged: Error, CustomStringConvertible {
        var description: String { "write /dev/usb/lp0: No such device" }
    }

    var states: [PrinterState]
    var failWrite = false
    var written: [[UInt8]] = []

    init(_ states: PrinterState...) { self.states = states }

    func state() -> PrinterState { states.count > 1 ? states.removeFirst() : states[0] }

    func write(_ bytes: [UInt8]) throws {
        if failWrite { throw Unplugged() }
        written.append(bytes)
    }
}

@Suite("The kiosk: a ticket exists only if it printed")
struct KioskTests {
    static func layout(_ label: String, _ ahead: Int, _ estimate: WaitEstimate) -> TicketPrint {
        TicketPrint(
            office: "Kantor Imigrasi Singkawang", label: label, issued: "30-11-2026 08:12", ahead: ahead,
            estimate: estimate, id: "jampasir:2026-11-30:\(label)")
    }

    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func hex(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            bytes[start..<min(start + 16, bytes.count)].map { String($0, radix: 16).leftPadded(2) }.joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    /// The bytes of a ticket against a golden file (hex, 16 bytes a line; JAMPASIR_UPDATE_GOLDEN=1
    /// rewrites it, and review sees the change).
    @Test func theTicketsBytesAreTheGoldenOnes() throws {
        let ticket = Self.layout("A-037", 12, WaitEstimate(low: .seconds(15 * 60), high: .seconds(30 * 60)))
        let file = Self.goldenFolder.appendingPathComponent("ticket-A-037.escpos.hex")
        if ProcessInfo.processInfo.environment["JAMPASIR_UPDATE_GOLDEN"] == "1" {
            try Self.hex(ticket.escPos).write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(Self.hex(ticket.escPos) == (try String(contentsOf: file, encoding: .utf8)))
        let text = String(decoding: ticket.escPos.filter { (0x20...0x7E).contains($0) }, as: UTF8.self)
        #expect(text.contains("A-037") && text.contains("12 orang di depan Anda") && text.contains("15-30 menit"))
        #expect(Array(ticket.escPos.suffix(4)) == [0x1D, 0x56, 0x42, 0x00], "ends with the cut")
    }

    @Test func textFromTheConfigurationCannotSendCommands() {
        let hostile = "Kantor\u{1B}@\u{1D}V\u{0}\nImigrasi é"
        #expect(EscPos.line(hostile) == Array("Kantor?@?V??Imigrasi ?".utf8) + [0x0A])
        let qr = EscPos.qrCode(String(repeating: "x", count: 500))
        #expect(qr.count == 9 + 8 + 8 + 8 + 200 + 8 + 1, "QR data is capped at 200 bytes")
    }

    @Test func printedTicketsJoinTheQueueInOrder() {
        var room = WaitingRoom()
        let printer = FakePrinter(.ready)
        let first = KioskPress.press(&room, at: .zero, printer: printer, layout: Self.layout)
        let second = KioskPress.press(&room, at: .seconds(60), printer: printer, layout: Self.layout)
        guard case .issued(let a, .ready) = first, case .issued(let b, .ready) = second else {
            Issue.record("not issued: \(first), \(second)")
            return
        }
        #expect([a.label, b.label] == ["A-001", "A-002"])
        #expect(printer.written.count == 2)
        #expect(String(decoding: printer.written[1], as: UTF8.self).contains("1 orang di depan Anda"))
    }

    @Test func aPrinterThatIsNotReadyPrintsNothingAndKeepsTheNumber() {
        for state in [PrinterState.paperOut, .coverOpen, .error, .silent] {
            var room = WaitingRoom()
            let printer = FakePrinter(state)
            #expect(KioskPress.press(&room, at: .zero, printer: printer, layout: Self.layout) == .printerNotReady(state))
            #expect(printer.written.isEmpty && room.tickets.isEmpty && room.nextLabel == "A-001")
        }
    }

    @Test func aPrinterThatFailsMidTicketVoidsTheNumberAndQueuesNobody() {
        var room = WaitingRoom()
        // Paper ran out while it printed: ready before, paper out after.
        let paper = FakePrinter(.ready, .paperOut)
        #expect(
            KioskPress.press(&room, at: .zero, printer: paper, layout: Self.layout)
                == .printFailed(voided: "A-001", reason: PrinterState.paperOut.message))
        // Unplugged during the write.
        let unplugged = FakePrinter(.ready)
        unplugged.failWrite = true
        #expect(
            KioskPress.press(&room, at: .zero, printer: unplugged, layout: Self.layout)
                == .printFailed(voided: "A-002", reason: "write /dev/usb/lp0: No such device"))
        #expect(room.tickets.isEmpty)
        // The next ticket that prints is A-003: a number is never given twice in a day.
        guard case .issued(let ticket, _) = KioskPress.press(&room, at: .zero, printer: FakePrinter(.ready), layout: Self.layout)
        else {
            Issue.record("no ticket once the printer was fixed")
            return
        }
        #expect(ticket.label == "A-003")
    }

    @Test func paperLowStillPrintsAndSaysSo() {
        var room = WaitingRoom()
        let press = KioskPress.press(&room, at: .zero, printer: FakePrinter(.paperLow), layout: Self.layout)
        guard case .issued(_, .paperLow) = press else {
            Issue.record("\(press)")
            return
        }
    }

    @Test func aFullRoomAsksTheKioskToWaitWithoutPrinting() {
        var room = WaitingRoom(rules: QueueRules(roomCapacity: 1))
        let printer = FakePrinter(.ready)
        _ = KioskPress.press(&room, at: .zero, printer: printer, layout: Self.layout)
        #expect(KioskPress.press(&room, at: .zero, printer: printer, layout: Self.layout) == .roomFull(waiting: 1))
        #expect(printer.written.count == 1)
    }

    @Test func statusBytesAreReadAsEpsonDocumentsThem() {
        #expect(PrinterState(offlineCause: 0x12, paper: 0x12) == .ready)
        #expect(PrinterState(offlineCause: 0x12, paper: 0x1E) == .paperLow)  // bits 2, 3: near end
        #expect(PrinterState(offlineCause: 0x12, paper: 0x72) == .paperOut)  // bits 5, 6: end
        #expect(PrinterState(offlineCause: 0x32, paper: 0x12) == .paperOut)  // stopped for paper end
        #expect(PrinterState(offlineCause: 0x16, paper: 0x12) == .coverOpen)
        #expect(PrinterState(offlineCause: 0x52, paper: 0x12) == .error)
        #expect(PrinterState(offlineCause: nil, paper: 0x12) == .silent)
        #expect(PrinterState(offlineCause: 0xFF, paper: 0x12) == .silent, "not a status byte: fixed bits wrong")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
