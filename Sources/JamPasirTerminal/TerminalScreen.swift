import Foundation
import JamPasirCore
import JamPasirHardware
import Synchronization

/// The simulator's screen: the display drawn large, the lights, the last sound, recent log
/// lines and the keys. Redrawn in place on the terminal's alternate screen.
public final class TerminalScreen: Sendable {
    struct State {
        var frame = SegmentFrame(digits: [0, 0, 0, 0], colon: false, brightness: 0)
        var lights = LightState.off
        var sound = ""
        var log: [String] = []
    }

    private let state = Mutex(State())
    private let title: String
    private let output: @Sendable (String) -> Void

    public init(title: String, output: @escaping @Sendable (String) -> Void = TerminalScreen.writeToStandardOutput) {
        self.title = title
        self.output = output
    }

    public static let writeToStandardOutput: @Sendable (String) -> Void = { text in
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Switches to the alternate screen and hides the cursor.
    public func open() { output("\u{1B}[?1049h\u{1B}[?25l") }
    /// Restores the terminal as it was.
    public func close() { output("\u{1B}[?25h\u{1B}[?1049l") }

    func update(_ change: (inout State) -> Void, bell: Bool = false) {
        let text = state.withLock { state in
            change(&state)
            return render(state)
        }
        output((bell ? "\u{7}" : "") + text)
    }

    public func log(_ line: String) {
        update { state in
            state.log.append(line)
            if state.log.count > 6 { state.log.removeFirst(state.log.count - 6) }
        }
    }

    private func render(_ state: State) -> String {
        let lamp = { (on: Bool, colour: String, name: String) in
            on ? "\u{1B}[1;\(colour)m● \(name)\u{1B}[0m" : "\u{1B}[38;5;240m○ \(name)\u{1B}[0m"
        }
        let sandWidth = 20
        let filled = Int((state.lights.sand * Double(sandWidth)).rounded())
        var lines = ["", "  \u{1B}[1m\(title)\u{1B}[0m", ""]
        lines += SegmentArt.coloured(state.frame).map { "    " + $0 }
        lines += [
            "",
            "  " + lamp(state.lights.green, "32", "hijau/green") + "   "
                + lamp(state.lights.amber, "33", "kuning/amber")
                + "   " + lamp(state.lights.red, "31", "merah/red"),
            "  pasir/sand [" + String(repeating: "▮", count: filled) + String(repeating: "·", count: sandWidth - filled)
                + "]",
            "  buzzer: " + state.sound,
            "",
            "  \u{1B}[7m space/enter \u{1B}[0m start/stop   \u{1B}[7m c \u{1B}[0m long press (cancel)   \u{1B}[7m p \u{1B}[0m call next   \u{1B}[7m q \u{1B}[0m quit",
            "",
        ]
        lines += state.log.map { "  \u{1B}[2m" + $0 + "\u{1B}[0m" }
        return "\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\u{1B}[J"
    }
}

/// The display, drawn on the terminal.
public struct TerminalDisplay: SegmentDisplay {
    let screen: TerminalScreen
    public init(screen: TerminalScreen) { self.screen = screen }
    public func show(_ segments: SegmentFrame) throws {
        screen.update { $0.frame = segments }
    }
}

/// The buzzer, as text and the terminal bell.
public struct TerminalBuzzer: Buzzer {
    let screen: TerminalScreen
    public init(screen: TerminalScreen) { self.screen = screen }

    public func play(_ pattern: SoundPattern) {
        let tones = pattern.tones.map { "♪\($0.on.nanoseconds / 1_000_000)ms" }.joined(separator: " ")
        screen.update({ $0.sound = "\(pattern.rawValue)  \(tones)" }, bell: true)
    }

    public func silence() {
        screen.update { $0.sound = "" }
    }
}

/// The status lights and sand bar, drawn on the terminal.
public struct TerminalLights: IndicatorLights {
    let screen: TerminalScreen
    public init(screen: TerminalScreen) { self.screen = screen }
    public func set(_ state: LightState) {
        screen.update { $0.lights = state }
    }
}
