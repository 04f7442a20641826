import JamPasirCore
import JamPasirHardware
import JamPasirLinux
import Testing

// Independent of the drivers: the segment bytes a reader of the datasheets expects.
// Segments a…g are bits 0…6 on TM1637 and HT16K33.
let two: UInt8 = 0b0101_1011  // a b d e g
let zero: UInt8 = 0b0011_1111  // a b c d e f
let minus: UInt8 = 0b0100_0000  // g
let seven: UInt8 = 0b0000_0111  // a b c

/// A TM1637 on the wires: follows CLK/DIO levels, acknowledges each byte by pulling DIO low
/// on the 9th clock when present, and records every level for the decoder below.
final class FakeTM1637Wires: TM1637Wires {
    var present = true
    private(set) var levels: [(clk: Bool, dio: Bool)] = [(true, true)]
    private var clk = true
    private var released = true
    private var bitsSinceStart = 0
    private var inTransfer = false
    private var chipPullsLow = false
    private(set) var delays = 0

    var dio: Bool { released && !chipPullsLow }

    func clock(_ high: Bool) throws {
        if high && !clk && inTransfer {
            bitsSinceStart += 1
        }
        if !high && clk && inTransfer {
            // After the 8th bit's clock falls, the chip drives the ACK until the 9th clock falls.
            chipPullsLow = present && bitsSinceStart % 9 == 8
        }
        clk = high
        levels.append((clk, dio))
    }

    func data(_ high: Bool) throws {
        let before = dio
        released = high
        if clk && before && !dio {
            inTransfer = true
            bitsSinceStart = 0
        }  // start condition
        if clk && !before && dio { inTransfer = false }  // stop condition
        levels.append((clk, dio))
    }

    func readData() throws -> Bool { dio }
    func halfBitDelay() { delays += 1 }
}

/// Decodes TM1637 transfers from wire levels: start = DIO falls while CLK high, stop = DIO
/// rises while CLK high, bits sampled on CLK rising, LSB first, 9th bit = acknowledgement.
func decodeTM1637(_ levels: [(clk: Bool, dio: Bool)]) -> [[UInt8]] {
    var transfers: [[UInt8]] = []
    var current: [UInt8]?
    var bits: [Bool] = []
    for (previous, level) in zip(levels, levels.dropFirst()) {
        if previous.clk && level.clk && previous.dio && !level.dio {
            current = []
            bits = []
        } else if previous.clk && level.clk && !previous.dio && level.dio, let done = current {
            transfers.append(done)
            current = nil
        } else if !previous.clk && level.clk, current != nil {
            bits.append(level.dio)
            if bits.count == 9 {
                current!.append(bits.prefix(8).enumerated().reduce(0) { $0 | ($1.element ? 1 << $1.offset : 0) })
                bits = []
            }
        }
    }
    return transfers
}

@Suite("TM1637 driver, byte for byte")
struct TM1637Tests {
    @Test func frameIsThreeTransfersWithColonOnTheSecondDigit() throws {
        let wires = FakeTM1637Wires()
        let display = TM1637Display(wires: wires)
        try display.show(SegmentFrame(DisplayFrame("2:00")))
        #expect(decodeTM1637(wires.levels) == [[0x40], [0xC0, 0x00, two | 0x80, zero, zero], [UInt8(0x88 | 7)]])
    }

    @Test func dimFrameSetsBrightnessAndNoColon() throws {
        let wires = FakeTM1637Wires()
        try TM1637Display(wires: wires).show(
            SegmentFrame(DisplayFrame("FrEE", brightness: .dim), levels: BrightnessLevels(active: 7, idle: 2)))
        let transfers = decodeTM1637(wires.levels)
        #expect(transfers[2] == [UInt8(0x88 | 2)])
        #expect(transfers[1][2] & 0x80 == 0)
    }

    @Test func missingDisplayIsAnErrorNotAHang() throws {
        let wires = FakeTM1637Wires()
        wires.present = false
        #expect(throws: TM1637Display.NoAcknowledge.self) {
            try TM1637Display(wires: wires).show(SegmentFrame(DisplayFrame("2:00")))
        }
        // Gave up after the first byte: start (3), 8 bits (16), the bounded ACK wait (2 + 4 + 1), stop (3).
        #expect(wires.delays == 29)
        #expect(wires.levels.last.map { $0.clk && $0.dio } == true)  // bus left idle
    }
}

final class RecordingBus: ByteBus {
    var writes: [[UInt8]] = []
    var failing = false
    struct Unplugged: Error {}
    func write(_ bytes: [UInt8]) throws {
        if failing { throw Unplugged() }
        writes.append(bytes)
    }
}

@Suite("HT16K33 driver, byte for byte")
struct HT16K33Tests {
    @Test func setsUpOnceThenWritesRAMInTheBackpackLayout() throws {
        let bus = RecordingBus()
        let display = HT16K33Display(bus: bus)
        try display.show(SegmentFrame(DisplayFrame("-0:07")))
        #expect(bus.writes[0] == [0x21])
        #expect(bus.writes[1] == [0x81])
        #expect(bus.writes[2] == [0xEF])  // brightness 7 of 7 → 15 of 15
        #expect(bus.writes[3] == [0x00, minus, 0, zero, 0, 0x02, 0, zero, 0, seven, 0, 0, 0, 0, 0, 0, 0])
        try display.show(SegmentFrame(DisplayFrame("-0:08")))
        #expect(bus.writes.count == 5)  // RAM only: no set-up, same brightness
    }

    @Test func setsUpAgainAfterAFailure() throws {
        let bus = RecordingBus()
        let display = HT16K33Display(bus: bus)
        try display.show(SegmentFrame(DisplayFrame("2:00")))
        bus.failing = true
        #expect(throws: RecordingBus.Unplugged.self) { try display.show(SegmentFrame(DisplayFrame("1:59"))) }
        bus.failing = false
        bus.writes = []
        try display.show(SegmentFrame(DisplayFrame("1:58")))
        #expect(bus.writes.prefix(2) == [[0x21], [0x81]])
    }
}

@Suite("MAX7219 driver, byte for byte")
struct MAX7219Tests {
    /// DP A B C D E F G, bit 7 … 0 (no-decode mode), from the datasheet's table.
    func maxBits(_ segments: String) -> UInt8 {
        let order: [Character] = ["G", "F", "E", "D", "C", "B", "A", "P"]
        return segments.reduce(0) { $0 | 1 << order.firstIndex(of: $1)! }
    }

    @Test func setsUpAndWritesDigitRegistersWithNoOpPadding() throws {
        let bus = RecordingBus()
        try MAX7219Display(bus: bus, chainLength: 2).show(SegmentFrame(DisplayFrame("2:00")))
        let words = bus.writes.map { Array($0) }
        #expect(words.allSatisfy { $0.count == 4 && $0[0] == 0 && $0[1] == 0 })  // one no-op for the second chip
        let registers = words.map { ($0[2], $0[3]) }
        #expect(registers.prefix(4).map(\.0) == [0x0C, 0x0F, 0x0B, 0x09])
        #expect(registers.prefix(4).map(\.1) == [0x01, 0x00, 0x03, 0x00])
        #expect(registers[4] == (0x0A, 0x0F))
        #expect(registers[5] == (0x04, 0))  // leftmost blank
        #expect(registers[6] == (0x03, maxBits("ABDEG") | maxBits("P")))  // '2' with the colon point
        #expect(registers[7] == (0x02, maxBits("ABCDEF")))
        #expect(registers[8] == (0x01, maxBits("ABCDEF")))
    }
}

@Suite("Sand bar")
struct SandBarTests {
    @Test func lastLEDGoesOutOnlyAtZero() {
        #expect(GPIOLights.litSandLEDs(1, of: 8) == 8)
        #expect(GPIOLights.litSandLEDs(0.01, of: 8) == 1)
        #expect(GPIOLights.litSandLEDs(0, of: 8) == 0)
        #expect(GPIOLights.litSandLEDs(0.5, of: 8) == 4)
    }
}
