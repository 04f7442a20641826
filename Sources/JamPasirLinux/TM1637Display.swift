import JamPasirHardware

/// The two wires of a TM1637: CLK and DIO. DIO is open drain: `data(true)` lets go of it
/// (the module's pull-up, or the chip, decides), `data(false)` pulls it low.
public protocol TM1637Wires: AnyObject {
    func clock(_ high: Bool) throws
    func data(_ high: Bool) throws
    /// DIO as seen on the wire (after `data(true)`): low means the chip pulls it down.
    func readData() throws -> Bool
    /// Half a bit period (≥ 50 µs by default: modules have ~10 µs rise time on their pull-ups).
    func halfBitDelay()
}

/// TM1637 4-digit display driver, bit-banged: data command 0x40 (write, auto-increment),
/// address 0xC0 then the four digits (colon on bit 7 of the second), display control
/// 0x88 | brightness. Each byte LSB first and acknowledged by the chip on the 9th clock; the wait
/// for the acknowledgement is bounded, so a missing display is an error, never a hang.
public final class TM1637Display: SegmentDisplay, @unchecked Sendable {
    public struct NoAcknowledge: Error, CustomStringConvertible {
        public var byte: UInt8
        public var description: String {
            "TM1637 did not acknowledge byte 0x\(String(byte, radix: 16, uppercase: true)): display missing, unpowered or CLK/DIO swapped (display.clk_line, display.dio_line)"
        }
    }

    private let wires: any TM1637Wires
    /// How many half-bit periods to wait for the acknowledgement.
    private let acknowledgeWait = 4

    public init(wires: any TM1637Wires) {
        self.wires = wires
    }

    public func show(_ frame: SegmentFrame) throws {
        var digits = frame.digits
        if frame.colon { digits[1] |= 0x80 }
        try transfer([0x40])
        try transfer([0xC0] + digits)
        try transfer([0x88 | (frame.brightness & 0x07)])
    }

    private func transfer(_ bytes: [UInt8]) throws {
        try start()
        do {
            for byte in bytes { try write(byte) }
        } catch {
            try? stop()  // leave the bus idle even after a failure
            throw error
        }
        try stop()
    }

    private func start() throws {
        try wires.data(true)
        try wires.clock(true)
        wires.halfBitDelay()
        try wires.data(false)
        wires.halfBitDelay()
        try wires.clock(false)
        wires.halfBitDelay()
    }

    private func write(_ byte: UInt8) throws {
        for bit in 0..<8 {
            try wires.clock(false)
            try wires.data(byte & (1 << bit) != 0)
            wires.halfBitDelay()
            try wires.clock(true)
            wires.halfBitDelay()
        }
        // Ninth clock: let go of DIO; the chip acknowledges by pulling it low.
        try wires.clock(false)
        try wires.data(true)
        wires.halfBitDelay()
        try wires.clock(true)
        wires.halfBitDelay()
        var acknowledged = try !wires.readData()
        var waited = 0
        while !acknowledged && waited < acknowledgeWait {
            wires.halfBitDelay()
            waited += 1
            acknowledged = try !wires.readData()
        }
        try wires.clock(false)
        wires.halfBitDelay()
        if !acknowledged { throw NoAcknowledge(byte: byte) }
    }

    private func stop() throws {
        try wires.clock(false)
        try wires.data(false)
        wires.halfBitDelay()
        try wires.clock(true)
        wires.halfBitDelay()
        try wires.data(true)
        wires.halfBitDelay()
    }
}

/// TM1637 wires on two GPIO lines: CLK push-pull, DIO open drain emulated (released = input,
/// low = output driving 0). The bias is left as it is: TM1637 modules carry their own pull-ups,
/// and asking for one would also override what drives the line (gpio-sim's simulated pull).
public final class GPIOTM1637Wires: TM1637Wires {
    private let clockLine: GPIOLine
    private let dataLine: GPIOLine
    private let halfBit: Duration
    private var dataReleased = true

    public init(clock: GPIOLineSpec, data: GPIOLineSpec, halfBit: Duration) throws(GPIOError) {
        clockLine = try GPIOLine.output(clock, consumer: "jampasird", initial: true)
        dataLine = try GPIOLine.input(data, consumer: "jampasird", bias: .asIs)
        self.halfBit = halfBit
    }

    public func clock(_ high: Bool) throws { try clockLine.set(high) }

    public func data(_ high: Bool) throws {
        guard high != dataReleased else { return }
        if high { try dataLine.release(bias: .asIs) } else { try dataLine.drive(false) }
        dataReleased = high
    }

    public func readData() throws -> Bool { try dataLine.value() }

    public func halfBitDelay() { spin(for: halfBit) }
}
