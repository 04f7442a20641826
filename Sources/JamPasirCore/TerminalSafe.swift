extension StringProtocol {
    /// This text with every control character made visible, for anything printed or logged that
    /// came from a stick, an export or a store: `\n`, `\r`, `\t`, and `\u{1B}`-style escapes for
    /// the rest of C0, DEL, C1 (U+0080–U+009F), the bidirectional marks, overrides and isolates
    /// (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) and the line and paragraph
    /// separators (U+2028, U+2029). Such text can then neither move the cursor, erase or
    /// recolour a line, nor reorder what the reader sees. Everything else, backslashes included,
    /// is kept, so escaping twice changes nothing.
    public var terminalSafe: String {
        var safe = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": safe += "\\n"
            case "\r": safe += "\\r"
            case "\t": safe += "\\t"
            case _ where scalar.isTerminalControl:
                safe += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: safe.unicodeScalars.append(scalar)
            }
        }
        return safe
    }
}

extension Unicode.Scalar {
    /// C0, DEL, C1, the bidirectional marks, overrides and isolates, the line separators.
    var isTerminalControl: Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E...0x200F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
