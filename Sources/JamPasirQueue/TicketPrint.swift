/// A ticket as the kiosk's thermal printer prints it: the raw ESC/POS commands that Epson,
/// Xprinter and most 58/80 mm receipt printers share, written to `/dev/usb/lp0` as they are.
/// Every text on it is reduced to printable ASCII first, so that nothing from a configuration
/// file can reach the printer as a command.
public struct TicketPrint: Sendable, Equatable {
    /// The office's name, on top (`queue.office` would set it; "Kantor Imigrasi").
    public var office: String
    public var label: String
    /// Local date and time of issue, as people read them: `30-11-2026 08:12`.
    public var issued: String
    public var ahead: Int
    public var estimate: WaitEstimate
    /// What the QR code holds: the ticket's id, for the counter and the records.
    public var id: String

    public init(office: String, label: String, issued: String, ahead: Int, estimate: WaitEstimate, id: String) {
        self.office = office
        self.label = label
        self.issued = issued
        self.ahead = ahead
        self.estimate = estimate
        self.id = id
    }

    /// The ticket, in Bahasa Indonesia: office, number (four times the normal size), people
    /// ahead, the wait as a range, time of issue, the QR code, the two promises, a cut.
    public var escPos: [UInt8] {
        var out: [UInt8] = EscPos.initialize
        out += EscPos.center
        out += EscPos.bold(true)
        out += EscPos.line(office)
        out += EscPos.bold(false)
        out += EscPos.line("Nomor antrean")
        out += EscPos.size(4)
        out += EscPos.line(label)
        out += EscPos.size(1)
        out += EscPos.line(ahead == 0 ? "Tidak ada antrean di depan Anda" : "\(ahead) orang di depan Anda")
        out += EscPos.line("Perkiraan tunggu \(Self.minutes(estimate.low))-\(Self.minutes(estimate.high)) menit")
        out += EscPos.line("Diambil \(issued)")
        out += EscPos.qrCode(id)
        out += EscPos.line("Paspor 2 menit setelah berkas lengkap,")
        out += EscPos.line("lewat dari itu gratis. Antre tidak sampai 2 jam.")
        out += EscPos.feedAndCut
        return out
    }

    static func minutes(_ duration: Duration) -> Int { Int(duration.components.seconds / 60) }
}

/// The few ESC/POS commands a ticket needs (Epson's ESC/POS command reference; the QR code is
/// `GS ( k`, function 165–181, model 2).
public enum EscPos {
    public static let initialize: [UInt8] = [0x1B, 0x40]  // ESC @
    public static let center: [UInt8] = [0x1B, 0x61, 0x01]  // ESC a 1
    public static let feedAndCut: [UInt8] = [0x1B, 0x64, 0x04, 0x1D, 0x56, 0x42, 0x00]  // ESC d 4, GS V 66 0

    public static func bold(_ on: Bool) -> [UInt8] { [0x1B, 0x45, on ? 1 : 0] }  // ESC E n

    /// Character width and height multiplied by `factor` (1…8): GS ! n.
    public static func size(_ factor: Int) -> [UInt8] {
        let n = UInt8(min(8, max(1, factor)) - 1)
        return [0x1D, 0x21, n << 4 | n]
    }

    /// `text` as printable ASCII and a line feed: anything else (a control byte, ESC, a letter
    /// outside ASCII) becomes `?`, so that text can never be read as a command.
    public static func line(_ text: String) -> [UInt8] {
        printable(text) + [0x0A]
    }

    public static func printable(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { (0x20...0x7E).contains($0.value) ? UInt8($0.value) : UInt8(ascii: "?") }
    }

    /// A QR code of `text` (printable ASCII, at most 200 bytes): model 2, 6-dot modules, error
    /// correction M, stored then printed, and a line feed.
    public static func qrCode(_ text: String) -> [UInt8] {
        // One statement per command: Swift 6.2's type checker gives up on the whole sum at once.
        let data = Array(printable(text).prefix(200))
        let stored = data.count + 3
        var out: [UInt8] = [0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]  // model 2
        out += [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06] as [UInt8]  // module size 6
        out += [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31] as [UInt8]  // error correction M
        out += [0x1D, 0x28, 0x6B, UInt8(stored & 0xFF), UInt8(stored >> 8), 0x31, 0x50, 0x30] as [UInt8]  // store
        out += data
        out += [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, 0x0A] as [UInt8]  // print, line feed
        return out
    }

    /// Real-time status requests (DLE EOT n), answered with one byte even while printing.
    public enum StatusRequest: UInt8, Sendable {
        /// Offline cause: bit 2 cover open, bit 5 stopped for paper end, bit 6 error.
        case offlineCause = 2
        /// Roll paper sensor: bits 5 and 6 paper end (bits 2 and 3: near end).
        case paper = 4

        public var bytes: [UInt8] { [0x10, 0x04, rawValue] }
    }
}

/// What the printer says about itself before and after a ticket.
public enum PrinterState: Sendable, Equatable {
    case ready
    /// Near the end of the roll: the ticket prints, and the kiosk tells someone to change it.
    case paperLow
    case paperOut
    case coverOpen
    case error
    /// No answer: unplugged, switched off, or not a printer that answers status requests.
    case silent

    /// Reads the answers to `offlineCause` and `paper` (DLE EOT 2 and 4).
    public init(offlineCause: UInt8?, paper: UInt8?) {
        guard let offlineCause, let paper, offlineCause & 0x93 == 0x12, paper & 0x93 == 0x12 else {
            self = .silent
            return
        }
        if paper & 0x60 != 0 || offlineCause & 0x20 != 0 {
            self = .paperOut
        } else if offlineCause & 0x04 != 0 {
            self = .coverOpen
        } else if offlineCause & 0x40 != 0 {
            self = .error
        } else if paper & 0x0C != 0 {
            self = .paperLow
        } else {
            self = .ready
        }
    }

    public var canPrint: Bool { self == .ready || self == .paperLow }

    /// For the kiosk's display and the alert, in Bahasa Indonesia then English.
    public var message: String {
        switch self {
        case .ready: "siap / ready"
        case .paperLow: "kertas hampir habis / paper low"
        case .paperOut: "kertas habis / paper out"
        case .coverOpen: "tutup printer terbuka / printer cover open"
        case .error: "printer error"
        case .silent: "printer tidak menjawab / printer not answering"
        }
    }
}
