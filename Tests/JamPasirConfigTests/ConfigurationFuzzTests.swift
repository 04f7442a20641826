import JamPasirConfig
import JamPasirTesting
import PropertyBased
import Testing

/// Generated configuration files, from plausible to garbage: each either loads or fails with
/// an error naming the file and (for anything on a line) the line, never a crash.
@Suite("Configuration parser under generated files")
struct ConfigurationFuzzTests {
    /// Fragments a technician (or a corrupted SD card) might put on a line.
    static let fragments = [
        "[service]", "[button]", "[display]", "[export]", "[counter]", "[[service]]", "[service", "service]", "[]",
        "limit_seconds = 120", "limit_seconds = -5", "limit_seconds = 1e400", "limit_seconds = \"120\"",
        "warning_seconds = [30, 10]", "warning_seconds = [30,", "warning_seconds = []", "line = 17", "line = 99999",
        "line = 0x11", "chip = \"gpiochip0\"", "chip = \"unterminated", "chip = 'single'", "active_low = true",
        "active_low = yes", "id = \"loket-1\"", "id = \"\"", "id = \"a b\"", "kind = \"tm1637\"", "kind = \"lcd\"",
        "brightness = 8", "authorized_keys = [\"sha256:00\"]", "= 5", "key =", "key", "# comment", "", "   ",
        "a.b = 1", "limit_seconds = 120 # trailing", "limit_seconds = 120 120", "\u{0}", "\u{FEFF}[service]",
        "limit_seconds = 9223372036854775808", "figures_seconds = 3", "usb = false", "time_zone = \"Mars/Olympus\"",
        "[power]", "ups = \"kit@localhost\"", "ups = \"kit@\"", "ups = \"kit@host:0\"", "min_runtime_seconds = 60",
        "min_runtime_seconds = 100000", "min_charge_percent = 101",
    ]

    static let files = Gen.int(in: 0...(fragments.count - 1)).array(of: 0...14)

    @Test func everyGeneratedFileLoadsOrNamesItsLine() async {
        await propertyCheck(count: propertyCases(1500), input: Self.files) { picks in
            let lines = picks.map { Self.fragments[$0] }
            let text = lines.joined(separator: "\n")
            do {
                _ = try Configuration(parsing: text, file: "/etc/jampasir/jampasir.toml")
            } catch let error as ConfigurationError {
                #expect(error.description.hasPrefix("/etc/jampasir/jampasir.toml"), "\(error)")
                if let line = error.line {
                    #expect(line >= 1 && line <= max(1, lines.count), "line \(line) of \(lines.count): \(error)")
                }
                #expect(!error.message.isEmpty)
            } catch {
                Issue.record("not a ConfigurationError: \(error)")
            }
        }
    }

    @Test func randomBytesNeverCrashTheParser() async {
        await propertyCheck(count: propertyCases(1500), input: Gen.uint8(in: 0...255).array(of: 0...200)) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                _ = try Configuration(parsing: text, file: "x.toml")
            } catch let error as ConfigurationError {
                #expect(error.description.hasPrefix("x.toml"))
            } catch {
                Issue.record("not a ConfigurationError: \(error)")
            }
        }
    }
}
