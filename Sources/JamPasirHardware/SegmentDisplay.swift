import JamPasirCore

/// A 4-digit seven-segment display with a centre colon.
public protocol SegmentDisplay: Sendable {
    /// Writes one whole frame. Throws if the display did not acknowledge; the caller carries on.
    func show(_ segments: SegmentFrame) throws
}

/// A frame as lit segments: what actually goes to the chips.
public struct SegmentFrame: Equatable, Sendable {
    /// One byte per digit, left to right, bits `0gfedcba` (bit 0 = segment a, the top bar).
    public var digits: [UInt8]
    public var colon: Bool
    /// 0 (dimmest lit) ... 7 (brightest); drivers with 16 steps scale it.
    public var brightness: UInt8

    public init(digits: [UInt8], colon: Bool, brightness: UInt8) {
        precondition(digits.count == 4, "a frame has four digits")
        self.digits = digits
        self.colon = colon
        self.brightness = min(brightness, 7)
    }

    /// Renders a core frame with the standard font and the configured brightness levels.
    public init(_ frame: DisplayFrame, levels: BrightnessLevels = BrightnessLevels()) {
        self.init(
            digits: frame.characters.map(SevenSegmentFont.segments(for:)),
            colon: frame.colon,
            brightness: frame.brightness == .dim ? levels.idle : levels.active)
    }
}

/// Display brightness for each state, 0...7.
public struct BrightnessLevels: Equatable, Sendable {
    public var active: UInt8
    public var idle: UInt8

    public init(active: UInt8 = 7, idle: UInt8 = 2) {
        self.active = min(active, 7)
        self.idle = min(idle, 7)
    }
}
