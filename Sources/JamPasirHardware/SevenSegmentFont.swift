/// The characters a 4-digit display can show, as segment bits `0gfedcba`.
///
///      a
///    f   b
///      g
///    e   c
///      d
public enum SevenSegmentFont {
    public static let a: UInt8 = 1 << 0
    public static let b: UInt8 = 1 << 1
    public static let c: UInt8 = 1 << 2
    public static let d: UInt8 = 1 << 3
    public static let e: UInt8 = 1 << 4
    public static let f: UInt8 = 1 << 5
    public static let g: UInt8 = 1 << 6

    private static let glyphs: [Character: UInt8] = [
        "0": a | b | c | d | e | f,
        "1": b | c,
        "2": a | b | d | e | g,
        "3": a | b | c | d | g,
        "4": b | c | f | g,
        "5": a | c | d | f | g,
        "6": a | c | d | e | f | g,
        "7": a | b | c,
        "8": a | b | c | d | e | f | g,
        "9": a | b | c | d | f | g,
        " ": 0,
        "-": g,
        "_": d,
        "A": a | b | c | e | f | g,
        "b": c | d | e | f | g,
        "C": a | d | e | f,
        "c": d | e | g,
        "d": b | c | d | e | g,
        "E": a | d | e | f | g,
        "F": a | e | f | g,
        "H": b | c | e | f | g,
        "L": d | e | f,
        "n": c | e | g,
        "o": c | d | e | g,
        "P": a | b | e | f | g,
        "r": e | g,
        "S": a | c | d | f | g,
        "t": d | e | f | g,
        "U": b | c | d | e | f,
        "u": c | d | e,
        "y": b | c | d | f | g,
    ]

    /// The segments for a character, in the other case where only that one has a glyph (a
    /// ticket's `B` shows as `b`); characters without a glyph show as blank.
    public static func segments(for character: Character) -> UInt8 {
        glyphs[character] ?? glyphs[Character(character.lowercased())] ?? glyphs[Character(character.uppercased())] ?? 0
    }

    /// Whether the font can draw the character.
    package static func canDraw(_ character: Character) -> Bool {
        glyphs[character] != nil
    }
}
