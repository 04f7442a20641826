import JamPasirHardware

/// Draws a 4-digit seven-segment frame as large terminal art, segment by segment, from the
/// same bits the real chips get: what the simulator shows is what the LEDs would show.
public enum SegmentArt {
    /// Rows of the drawing, without colours: `#` lit, `.` unlit, space background.
    public static func rows(_ frame: SegmentFrame) -> [String] {
        let digits = frame.digits.map(digitRows)
        let colon = ["   ", "   ", " # ", "   ", " # ", "   ", "   "].map {
            frame.colon ? $0 : $0.replacingHash(with: ".")
        }
        return (0..<7).map { (row: Int) -> String in
            [digits[0][row], "  ", digits[1][row], colon[row], digits[2][row], "  ", digits[3][row]].joined()
        }
    }

    /// One digit, 8 columns by 7 rows.
    static func digitRows(_ bits: UInt8) -> [String] {
        func seg(_ mask: UInt8, _ lit: String, _ unlit: String) -> String { bits & mask != 0 ? lit : unlit }
        let a = seg(SevenSegmentFont.a, "######", "......")
        let g = seg(SevenSegmentFont.g, "######", "......")
        let d = seg(SevenSegmentFont.d, "######", "......")
        let f = seg(SevenSegmentFont.f, "#", ".")
        let b = seg(SevenSegmentFont.b, "#", ".")
        let e = seg(SevenSegmentFont.e, "#", ".")
        let c = seg(SevenSegmentFont.c, "#", ".")
        return [
            " \(a) ",
            "\(f)      \(b)",
            "\(f)      \(b)",
            " \(g) ",
            "\(e)      \(c)",
            "\(e)      \(c)",
            " \(d) ",
        ]
    }

    /// The rows in ANSI colour: lit segments LED red (dimmer when idle), unlit ones faint and
    /// shaded, so the digits read right even where colours do not show.
    public static func coloured(_ frame: SegmentFrame) -> [String] {
        let lit = frame.brightness >= 4 ? "\u{1B}[1;91m" : "\u{1B}[31m"
        let unlit = "\u{1B}[38;5;236m"
        let reset = "\u{1B}[0m"
        return rows(frame).map { row in
            var out = ""
            for ch in row {
                switch ch {
                case "#": out += lit + "█" + reset
                case ".": out += unlit + "░" + reset
                default: out.append(ch)
                }
            }
            return out
        }
    }
}

extension String {
    fileprivate func replacingHash(with replacement: Character) -> String {
        String(map { $0 == "#" ? replacement : $0 })
    }
}
