import JamPasirConfig
import JamPasirLinux
import Testing

@Suite("The GPIO lines a configuration names (one mapping for the daemon and doctor)")
struct ConfiguredLinesTests {
    @Test func theDefaultCounterUsesTheLinesOfThePinTable() {
        let lines = ConfiguredLines(HardwareConfiguration())
        #expect(lines.all.map(\.offset) == [17, 23, 24, 18, 5, 6, 13])
        #expect(lines.all.map(\.key) == [
            "button.line", "display.clk_line", "display.dio_line", "buzzer.line", "lights.green_line",
            "lights.amber_line", "lights.red_line",
        ])
    }

    @Test func partsNotOnGPIOAndLightsNotFittedHoldNoLine() throws {
        let configuration = try Configuration(
            parsing: """
                [display]
                kind = "ht16k33"
                [buzzer]
                kind = "passive"
                [lights]
                chip = "gpiochip4"
                amber_line = -1
                sand_lines = [20, 21]
                """, file: "test.toml")
        let lines = ConfiguredLines(configuration.hardware)
        #expect(lines.displayClock == nil && lines.displayData == nil && lines.buzzer == nil && lines.amber == nil)
        #expect(lines.all.map(\.key) == ["button.line", "lights.green_line", "lights.red_line", "lights.sand_lines", "lights.sand_lines"])
        #expect(lines.sand.map(\.chip) == ["gpiochip4", "gpiochip4"])
    }
}
