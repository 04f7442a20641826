/// What the 4-digit display shows: four characters, the centre colon and how bright.
///
/// Characters are the ones a seven-segment font can draw (digits, `-`, space and letters such as
/// `F r E n d o`). `description` reads like the display: `2:00`, `-0:07`, `FrEE`.
public struct DisplayFrame: Equatable, Sendable, CustomStringConvertible {
    public enum Brightness: String, Equatable, Sendable {
        /// Idle: readable but not shouting across the waiting room.
        case dim
        /// A session is running or its result is showing.
        case bright
    }

    public var characters: [Character]
    public var colon: Bool
    public var brightness: Brightness

    /// A frame from how it reads: `"FrEE"`, `"2:00"` (a `:` lights the centre colon).
    /// Text shorter than four characters is right-aligned.
    public init(_ text: String, brightness: Brightness = .bright) {
        let halves = text.split(separator: ":", omittingEmptySubsequences: false)
        let characters: String
        if halves.count == 2 {
            characters = String(halves[0]).leftPadded(to: 2, with: " ") + halves[1]
        } else {
            characters = text.leftPadded(to: 4, with: " ")
        }
        precondition(characters.count == 4 && halves.count <= 2, "a frame has four characters: \(text)")
        self.characters = Array(characters)
        self.colon = halves.count == 2
        self.brightness = brightness
    }

    /// Minutes and seconds with the colon: `2:00`, `10:00`, `-0:07`. Values beyond what four
    /// digits hold are clamped (99:59, -9:59); the store keeps the exact duration.
    public static func clock(seconds: Int, negative: Bool, brightness: Brightness = .bright) -> DisplayFrame {
        let maxSeconds = negative ? 9 * 60 + 59 : 99 * 60 + 59
        let value = min(seconds, maxSeconds)
        let minutes = (negative ? "-" : "") + "\(value / 60)"
        return DisplayFrame(minutes + ":" + String(value % 60).leftPadded(to: 2, with: "0"), brightness: brightness)
    }

    /// After an overtime stop: the passport is free.
    public static let free = DisplayFrame("FrEE")
    /// After a cancel.
    public static let cancelled = DisplayFrame("----")
    /// The call button was pressed; the hub has not answered yet.
    public static let calling = DisplayFrame("CALL")
    /// A call found nobody waiting.
    public static let nobodyWaiting = DisplayFrame("nonE")
    /// The ticket a call brought: `A-037` shows as `A037` (letters and digits, the last four).
    public static func ticket(_ label: String) -> DisplayFrame {
        DisplayFrame(String(label.filter { $0 != "-" }.suffix(4)))
    }
    /// The kit's battery is too low for a session: none starts.
    public static let lowBattery = DisplayFrame("bAtt")
    /// Nothing lit (shutdown).
    public static let blank = DisplayFrame("    ", brightness: .dim)

    /// A fault, `Err` plus a one-digit code (see `FaultCode`).
    public static func fault(_ code: FaultCode) -> DisplayFrame {
        DisplayFrame("Err\(code.rawValue)")
    }

    public var description: String {
        let text = String(characters[0..<2]) + (colon ? ":" : "") + String(characters[2..<4])
        return String(text.drop { $0 == " " })
    }
}

/// Fault codes shown as `Err<code>`; the README's troubleshooting table lists them.
public enum FaultCode: Int, Sendable {
    /// The button has been held longer than the stuck-button time.
    case stuckButton = 1
    /// The call button's hub did not answer (shown for one call; the counter times as before).
    case hubUnreachable = 2
}
