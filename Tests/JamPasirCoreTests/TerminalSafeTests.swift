import JamPasirCore
import Testing

@Suite("Untrusted text made safe for a terminal or the journal")
struct TerminalSafeTests {
    @Test func controlCharactersBecomeVisible() {
        #expect("a\r\u{1B}[2KOK\n".terminalSafe == "a\\r\\u{1B}[2KOK\\n")
        #expect("\u{0}\t\u{7F}\u{85}\u{9B}31m".terminalSafe == "\\u{0}\\t\\u{7F}\\u{85}\\u{9B}31m")
        // Bidirectional overrides and isolates would reorder what the reader sees.
        #expect("ok\u{202E}LIAF\u{2066}x\u{2069}".terminalSafe == "ok\\u{202E}LIAF\\u{2066}x\\u{2069}")
        // So would the bidirectional marks; the Unicode line separators break a line.
        #expect("a\u{200F}b\u{061C}c\u{2028}d\u{2029}".terminalSafe == "a\\u{200F}b\\u{61C}c\\u{2028}d\\u{2029}")
    }

    @Test func ordinaryTextIsKeptAndEscapingTwiceChangesNothing() {
        let text = "Sesi 2 — loket-1, Kasir \\u{1B} ⇒ 2:01.5 ✓"
        #expect(text.terminalSafe == text)
        #expect("x\u{1B}y".terminalSafe.terminalSafe == "x\u{1B}y".terminalSafe)
    }
}
