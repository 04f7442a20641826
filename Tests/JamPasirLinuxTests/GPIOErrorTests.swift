import JamPasirLinux
import Testing

@Suite("GPIO errors a technician can act on")
struct GPIOErrorTests {
    let spec = GPIOLineSpec(chip: "gpiochip0", offset: 17, key: "button.line")

    func message(_ kind: GPIOError.Kind) -> String {
        GPIOError(kind: kind, line: spec, chipName: "gpiochip0").description
    }

    @Test func eachKindNamesTheKeyAndWhatToDo() {
        #expect(
            message(.chipMissing)
                == "GPIO chip \"gpiochip0\" not found (button.chip): check the chip name, path or label with `gpiodetect`"
        )
        #expect(
            message(.offsetOutOfRange(lines: 16)).contains(
                "button.line = 17 on button.chip = \"gpiochip0\": the chip gpiochip0 has lines 0 to 15 only"))
        #expect(message(.busy(consumer: "gpioset")).contains("line busy, held by \"gpioset\""))
        #expect(message(.busy(consumer: "")).contains("held by another user (unnamed)"))
        #expect(
            message(.permissionDenied).contains(
                "permission denied on /dev/gpiochip0: add the daemon's user to the group that owns it (usually `gpio`"))
    }

    @Test func realRequestOnAMachineWithoutThatChipSaysChipMissing() {
        let missing = GPIOLineSpec(chip: "no-such-chip-label", offset: 0, key: "display.clk_line")
        do {
            _ = try GPIOLine.output(missing, consumer: "test")
            Issue.record("a chip that does not exist was opened")
        } catch {
            #expect(error.kind == .chipMissing)
            #expect(error.description.contains("(display.chip)"))
        }
    }
}

@Suite("I2C and SPI device errors")
struct DeviceErrorTests {
    @Test func missingBusesNameTheKeyAndTheFix() {
        do {
            _ = try LinuxI2CDevice(bus: 250, address: 0x70)
            Issue.record("/dev/i2c-250 opened")
        } catch {
            #expect(
                error.description
                    == "/dev/i2c-250 not found (display.i2c_bus): enable I2C (raspi-config, or dtparam=i2c_arm=on) or fix the bus number"
            )
        }
        do {
            _ = try LinuxSPIDevice(path: "/dev/spidev9.9")
            Issue.record("/dev/spidev9.9 opened")
        } catch {
            #expect(error.description.hasPrefix("/dev/spidev9.9 not found (display.spi_device): enable SPI"))
        }
    }
}
