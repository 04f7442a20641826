import JamPasirCore
import JamPasirHardware
import JamPasirTesting
import Testing

@Suite("Seven-segment font and frames")
struct SegmentFrameTests {
    @Test func digitsUseTheStandardSegments() {
        // Independent of the font table: the segments of each digit, by letter.
        let expected: [Character: String] = [
            "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "6": "acdefg", "7": "abc",
            "8": "abcdefg", "9": "abcdfg", "-": "g", "F": "aefg", "r": "eg", "E": "adefg",
        ]
        for (character, segments) in expected {
            let bits = segments.reduce(UInt8(0)) { $0 | 1 << ($1.asciiValue! - Character("a").asciiValue!) }
            #expect(SevenSegmentFont.segments(for: character) == bits, "\(character)")
        }
    }

    @Test func everyFrameTheCoreShowsCanBeDrawn() {
        let frames: [DisplayFrame] = [
            .clock(seconds: 120, negative: false), .clock(seconds: 7, negative: true), .free, .cancelled,
            .fault(.stuckButton), .clock(seconds: 600, negative: false), .clock(seconds: 10_000, negative: true),
            .calling, .nobodyWaiting, .fault(.hubUnreachable), .ticket("A-037"),
        ]
        for frame in frames {
            #expect(frame.characters.allSatisfy(SevenSegmentFont.canDraw), "\(frame)")
            #expect(SegmentDecoder.text(SegmentFrame(frame)) == frame.description)
        }
    }

    /// A ticket letter the font has only in the other case is drawn in that case (`B-037` as
    /// `b037`); one it has in neither is blank, never a wrong glyph.
    @Test func ticketLettersFallBackToTheirOtherCase() {
        #expect(SegmentDecoder.text(SegmentFrame(.ticket("B-037"))) == "b037")
        #expect(SegmentDecoder.text(SegmentFrame(.ticket("D-001"))) == "d001")
        #expect(SevenSegmentFont.segments(for: "K") == 0)
    }

    @Test func brightnessFollowsTheFrame() {
        let levels = BrightnessLevels(active: 6, idle: 1)
        #expect(SegmentFrame(.clock(seconds: 120, negative: false, brightness: .dim), levels: levels).brightness == 1)
        #expect(SegmentFrame(.free, levels: levels).brightness == 6)
        #expect(BrightnessLevels(active: 200).active == 7)
    }

    @Test func clockFramesClampToFourDigits() {
        #expect(DisplayFrame.clock(seconds: 10_000, negative: true).description == "-9:59")
        #expect(DisplayFrame.clock(seconds: 600, negative: false).description == "10:00")
        #expect(DisplayFrame.clock(seconds: 120, negative: false).description == "2:00")
        #expect(DisplayFrame.clock(seconds: 7, negative: true).description == "-0:07")
    }
}
