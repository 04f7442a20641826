import JamPasirHardware

/// Something bytes can be written to: an I2C device at an address, or an SPI device.
public protocol ByteBus: AnyObject {
    func write(_ bytes: [UInt8]) throws
}

/// HT16K33 driver for the Adafruit 7-segment backpack: oscillator on (0x21), display on
/// without blinking (0x81), brightness 0xE0 | 0…15, then display RAM from address 0 with the
/// digits at bytes 0, 2, 6, 8 and the colon at byte 4.
public final class HT16K33Display: SegmentDisplay, @unchecked Sendable {
    private let bus: any ByteBus
    private var initialised = false
    private var brightness: UInt8?

    public init(bus: any ByteBus) {
        self.bus = bus
    }

    public func show(_ frame: SegmentFrame) throws {
        do {
            if !initialised {
                try bus.write([0x21])
                try bus.write([0x81])
                initialised = true
            }
            if brightness != frame.brightness {
                try bus.write([0xE0 | (frame.brightness * 2 + 1)])
                brightness = frame.brightness
            }
            var ram = [UInt8](repeating: 0, count: 16)
            ram[0] = frame.digits[0]
            ram[2] = frame.digits[1]
            ram[4] = frame.colon ? 0x02 : 0x00
            ram[6] = frame.digits[2]
            ram[8] = frame.digits[3]
            try bus.write([0x00] + ram)
        } catch {
            initialised = false  // set the chip up again once it answers
            brightness = nil
            throw error
        }
    }
}

/// MAX7219 driver (no-decode mode, 4 digits): leaves shutdown (0x0C = 1), display test off
/// (0x0F = 0), scan limit 3 (0x0B), no decode (0x09 = 0), intensity 0…15 (0x0A), then digit
/// registers 4 (leftmost) … 1 (rightmost). The colon is the decimal point of the second digit.
/// With chained chips, this display is the first: its word goes last, after no-op words.
public final class MAX7219Display: SegmentDisplay, @unchecked Sendable {
    private let bus: any ByteBus
    private let chainLength: Int
    private var initialised = false

    public init(bus: any ByteBus, chainLength: Int = 1) {
        self.bus = bus
        self.chainLength = max(1, chainLength)
    }

    public func show(_ frame: SegmentFrame) throws {
        do {
            if !initialised {
                for (register, value): (UInt8, UInt8) in [(0x0C, 0x01), (0x0F, 0x00), (0x0B, 0x03), (0x09, 0x00)] {
                    try send(register, value)
                }
                initialised = true
            }
            try send(0x0A, frame.brightness * 2 + 1)
            for (index, segments) in frame.digits.enumerated() {
                let point: UInt8 = frame.colon && index == 1 ? 0x80 : 0
                try send(UInt8(4 - index), Self.maxSegments(segments) | point)
            }
        } catch {
            initialised = false
            throw error
        }
    }

    private func send(_ register: UInt8, _ value: UInt8) throws {
        try bus.write([UInt8](repeating: 0, count: 2 * (chainLength - 1)) + [register, value])
    }

    /// Our `0gfedcba` to the MAX7219's no-decode layout `DP A B C D E F G` (bit 7 … bit 0).
    static func maxSegments(_ bits: UInt8) -> UInt8 {
        var out: UInt8 = 0
        for segment in 0..<7 where bits & (1 << segment) != 0 {
            out |= 1 << (6 - segment)
        }
        return out
    }
}
