import JamPasirCore
import JamPasirHardware
import JamPasirTerminal
import Testing

@Suite("Simulator display art")
struct SegmentArtTests {
    @Test func drawsLitAndUnlitSegments() {
        let rows = SegmentArt.rows(SegmentFrame(DisplayFrame("-0:07")))
        #expect(rows.count == 7)
        // Digit 1 is '-': only the middle bar lit.
        #expect(rows[0].prefix(8) == " ...... ")
        #expect(rows[3].prefix(8) == " ###### ")
        // Digit 4 is '7': top bar and right side lit, bottom unlit.
        #expect(rows[0].suffix(8) == " ###### ")
        #expect(rows[5].suffix(8) == ".      #")
        #expect(rows[6].suffix(8) == " ...... ")
        // The colon, between digits 2 and 3, is lit.
        #expect(colonDots(rows) == "##")
    }

    @Test func colonUnlitWhenFrameHasNone() {
        #expect(colonDots(SegmentArt.rows(SegmentFrame(DisplayFrame.free))) == "..")
    }

    /// The two colon dots: column 19 (two 8-wide digits, a 2-space gap, then the colon's middle) of rows 2 and 4.
    func colonDots(_ rows: [String]) -> String {
        String([rows[2], rows[4]].map { Array($0)[19] })
    }

    @Test func screenRedrawsInPlace() {
        final class Sink: @unchecked Sendable { var text = "" }
        let sink = Sink()
        let screen = TerminalScreen(title: "t") { sink.text = $0 }
        TerminalBuzzer(screen: screen).play(.start)
        #expect(sink.text.hasPrefix("\u{7}\u{1B}[H"))
        #expect(sink.text.contains("start"))
        TerminalLights(screen: screen).set(LightState(red: true))
        #expect(sink.text.hasPrefix("\u{1B}[H"))
    }
}
