import JamPasirCore
import Testing

/// A step of the wall clock as the journal says it and the chain keeps it.
@Suite("Clock steps")
struct ClockStepTests {
    func step(_ ns: Int64) -> ClockStep { ClockStep(offsetBefore: 1_000_000_000_000, offsetAfter: 1_000_000_000_000 + ns) }

    @Test func aStepIsSaidInTheUnitThatReadsBest() {
        #expect(step(12_345_000_000).description == "+12.345 s")
        #expect(step(-500_000_000).description == "-0.500 s")
        #expect(step(-11_040_000_000_000).description == "-3 h 4 min (-11,040.000 s)")
        #expect(step(63_072_012_345_000_000).description == "+730 days (+63,072,012.345 s)")
    }

    /// NTP's ordinary corrections are not evidence; a second and more is.
    @Test func fromASecondOnAStepIsChained() {
        #expect(!step(999_999_999).isChained)
        #expect(!step(-999_999_999).isChained)
        #expect(step(1_000_000_000).isChained)
        #expect(step(-1_000_000_000).isChained)
        var back = step(-2_500_000_000)
        back.monotonicNs = 42_000_000_000
        #expect(
            back.chainFields(wallAfterMs: 1_796_000_000_000, bootID: "b0")
                == "step_ms=-2500;after_ms=1796000000000;boot_id=b0;monotonic_ns=42000000000")
    }
}
