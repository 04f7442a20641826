import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirTesting
import Testing

@Suite("Configuration file")
struct ConfigurationTests {
    @Test func everyKeyIsReadOverTheDefaults() throws {
        let text = """
            # a counter at Singkawang
            [counter]
            id = "loket-3"

            [service]
            limit_seconds = 90.5
            warning_seconds = [20, 5]
            result_hold_seconds = 4
            rearm_guard_seconds = 0.5
            interrupted_is_free = false

            [store]
            path = '/srv/jampasir/s.sqlite'   # literal string

            [report]
            time_zone = "Asia/Pontianak"
            language = "en"

            [export]
            authorized_keys = ["sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]

            [metrics]
            textfile = ""

            [button]
            chip = "pinctrl-bcm2711"
            line = 27
            active_low = false
            bias = "pull-down"
            debounce_ms = 20
            long_press_seconds = 3
            stuck_seconds = 45

            [display]
            kind = "ht16k33"
            brightness = 5
            idle_brightness = 1
            i2c_bus = 3
            i2c_address = 0x71
            chain_length = 2

            [buzzer]
            kind = "none"

            [lights]
            amber_line = -1
            sand_lines = [16, 20, 21]
            """
        let c = try Configuration(parsing: text, file: "test.toml")
        #expect(c.counterID == "loket-3")
        #expect(c.rules.limit == .milliseconds(90_500))
        #expect(c.rules.warnings == [.seconds(20), .seconds(5)])
        #expect(c.rules.resultHold == .seconds(4))
        #expect(c.rules.rearmGuard == .milliseconds(500))
        #expect(c.rules.interruptedIsFree == false)
        #expect(c.storePath == "/srv/jampasir/s.sqlite")
        #expect(c.metricsTextfile == nil)
        #expect(Configuration().metricsTextfile == "/run/jampasir/metrics/jampasir.prom")
        #expect(c.timeZone.identifier == "Asia/Pontianak")
        #expect(c.hardware.button.chip == "pinctrl-bcm2711")
        #expect(c.hardware.button.line == 27)
        #expect(c.hardware.button.activeLow == false)
        #expect(c.hardware.button.bias == .pullDown)
        #expect(c.rules.debounce == .milliseconds(20))
        #expect(c.rules.longPress == .seconds(3))
        #expect(c.rules.stuckAfter == .seconds(45))
        #expect(c.hardware.display.kind == .ht16k33)
        #expect(c.hardware.display.i2cAddress == 0x71)
        #expect(c.hardware.display.chainLength == 2)
        #expect(c.hardware.buzzer.kind == BuzzerKind.none)
        #expect(c.hardware.lights.amberLine == nil)
        #expect(c.hardware.lights.greenLine == 5)
        #expect(c.hardware.lights.sandLines == [16, 20, 21])
        #expect(c.reportLanguage == "en")
        #expect(c.authorizedExportKeys == ["sha256:" + String(repeating: "a", count: 64)])
        #expect(c.deviceKeyPath == "/srv/jampasir/device.key")
    }

    @Test func aKitNamesItsUPSAndWhenItsBatteryIsTooLow() throws {
        let c = try Configuration(
            parsing: "[power]\nups = \"kit@localhost\"\nmin_runtime_seconds = 900\nmin_charge_percent = 30\n", file: "kit.toml")
        #expect(c.powerUPS?.description == "kit@localhost:3493")
        #expect(c.power.minRuntime == .seconds(900))
        #expect(c.power.minCharge == 30)
        #expect(try Configuration(parsing: "[power]\nups = \"\"\n", file: "office.toml").powerUPS == nil)
        #expect(Configuration().powerUPS == nil, "an office counter reads no UPS")
        for (text, name, host, port) in [("ups", "ups", "localhost", 3493), ("hat@10.0.0.2:3494", "hat", "10.0.0.2", 3494)] {
            let address = try #require(UPSAddress(text))
            #expect([address.name, address.host] == [name, host] && address.port == UInt16(port))
        }
        for bad in ["", "@host", "kit@", "kit@host:0", "kit@host:99999", "kit@ho st", "-kit", "kit@-host", "a@b@c", "kit\u{1B}[2J", "kit@.", "kit@..",
            "kit@x-.lan", "kit@host:+80", "kit@host:080", "kit@[::1]"] {
            #expect(UPSAddress(bad) == nil, "'\(bad)'")
        }
    }

    @Test func emptyFileGivesTheDefaults() throws {
        let c = try Configuration(parsing: "", file: "empty.toml")
        #expect(c.rules == ServiceRules())
        #expect(c.storePath == "/var/lib/jampasir/jampasir.sqlite")
    }

    /// A key that is no longer used still loads (a counter upgraded unattended keeps running),
    /// and says what replaced it; a file without it says nothing.
    @Test func theRetiredQueueTokenIsANoticeNotAnError() throws {
        let old = try Configuration(parsing: "[queue]\ntoken = \"0123456789abcdef0123\"\n", file: "old.toml")
        #expect(old.notices.count == 1 && old.notices[0].contains("queue.token is no longer used"), "\(old.notices)")
        #expect(try Configuration(parsing: "[queue]\noffice = \"Kantor\"\n", file: "new.toml").notices.isEmpty)
    }

    /// The wallboard's origin is compared with what a browser sends: taken lower-case, and the
    /// forms a browser never sends (a default port, a leading zero, a path) are refused.
    @Test func theWallboardOriginIsOneABrowserSends() throws {
        let board = try Configuration(parsing: "[hub]\nwallboard_origin = \"https://Board.Example:8443\"\n", file: "hub.toml")
        #expect(board.hubWallboardOrigin == "https://board.example:8443")
        for bad in ["http://w:80", "https://w:443", "http://w:080", "http://w:+80", "http://w/x", "ftp://w", "http://w:99999"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try Configuration(parsing: "[hub]\nwallboard_origin = \"\(bad)\"\n", file: "hub.toml")
            }
        }
        let names = try Configuration(parsing: "[hub]\nnames = [\"Hub.Kanim.go.id\"]\n", file: "hub.toml")
        #expect(names.hubNames == ["hub.kanim.go.id"])
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        var text: String
        var expected: String
        var testDescription: String { expected }
    }

    static let bad: [Bad] = [
        Bad(
            text: "[service]\nlimit_seconds = -5",
            expected: "bad.toml:2: service.limit_seconds: -5 is not allowed: a number of seconds from 1 to 86400"),
        Bad(
            text: "[service]\nlimit_seconds = \"120\"",
            expected: "bad.toml:2: service.limit_seconds: \"120\" is not allowed: a number of seconds from 1 to 86400"),
        Bad(
            text: "[service]\nlimt_seconds = 120",
            expected:
                "bad.toml:2: service.limt_seconds: unknown key; known keys here: limit_seconds, warning_seconds, result_hold_seconds, rearm_guard_seconds, interrupted_is_free"
        ),
        Bad(
            text: "[servce]\nlimit_seconds = 120",
            expected:
                "bad.toml:1: unknown table [servce]; known tables: [button], [buzzer], [counter], [display], [export], [hub], [lights], [metrics], [power], [push], [queue], [report], [service], [store], [update]"
        ),
        Bad(
            text: "\n\n[service]\nlimit_seconds = ",
            expected: "bad.toml:4: service.limit_seconds: missing value after '='"),
        Bad(text: "[service]\nlimit_seconds 120", expected: "bad.toml:2: expected '=' after key 'limit_seconds'"),
        Bad(
            text: "[counter]\nid = \"loket 1\"",
            expected:
                "bad.toml:2: counter.id: \"loket 1\" is not allowed: a non-empty name of letters, digits, '-', '_' or '.', at most 64 characters"
        ),
        Bad(text: "[counter]\nid = \"unterminated", expected: "bad.toml:2: counter.id: unterminated string"),
        Bad(
            text: "[service]\ninterrupted_is_free = \"yes\"",
            expected: "bad.toml:2: service.interrupted_is_free: \"yes\" is not allowed: true or false (no quotes)"),
        Bad(
            text: "[button]\nbias = \"up\"",
            expected: "bad.toml:2: button.bias: \"up\" is not allowed: one of \"pull-up\", \"pull-down\", \"disabled\""),
        Bad(
            text: "[button]\nline = 2000",
            expected: "bad.toml:2: button.line: 2000 is not allowed: a GPIO line offset from 0 to 1023"),
        Bad(
            text: "[display]\ni2c_address = 0x80",
            expected: "bad.toml:2: display.i2c_address: 128 is not allowed: a whole number from 8 to 119"),
        Bad(
            text: "[display]\nkind = \"lcd\"",
            expected:
                "bad.toml:2: display.kind: \"lcd\" is not allowed: one of \"tm1637\", \"ht16k33\", \"max7219\", \"none\""
        ),
        Bad(
            text: "[service]\nwarning_seconds = [30, \"x\"]",
            expected:
                "bad.toml:2: service.warning_seconds: [30, \"x\"] is not allowed: an array of seconds remaining, each from 1 to 3600, e.g. [30, 10]"
        ),
        Bad(
            text: "[service]\nlimit_seconds = 1\nlimit_seconds = 2",
            expected: "bad.toml:3: key 'service.limit_seconds' is already set on line 2"),
        Bad(
            text: "[store]\npath = \"relative.sqlite\"",
            expected:
                "bad.toml:2: store.path: \"relative.sqlite\" is not allowed: an absolute path to the SQLite file, e.g. \"/var/lib/jampasir/jampasir.sqlite\""
        ),
        Bad(
            text: "[report]\ntime_zone = \"Mars/Olympus\"",
            expected:
                "bad.toml:2: report.time_zone: \"Mars/Olympus\" is not allowed: an IANA time zone such as \"Asia/Jakarta\""
        ),
        Bad(
            text: "limit_seconds = 120",
            expected: "bad.toml:1: limit_seconds: unknown key; put keys under a [table] header"),
        Bad(
            text: "[service]\nlimit_seconds = { a = 1 }",
            expected: "bad.toml:2: service.limit_seconds: inline tables are not used in this file: use a [table] header"
        ),
        Bad(
            text: "[queue]\npromise_minutes = 90\nwarning_minutes = [60, 90]",
            expected:
                "bad.toml: queue.warning_minutes: 90 is not before queue.promise_minutes (90): a warning must come before the breach"
        ),
        Bad(
            text: "[queue]\nticket_prefix = \"a-\"",
            expected:
                "bad.toml:2: queue.ticket_prefix: \"a-\" is not allowed: one to three capital letters, e.g. \"A\""
        ),
        Bad(
            text: "[queue]\nwarning_minutes = [60, \"90\"]",
            expected:
                "bad.toml:2: queue.warning_minutes: [60, \"90\"] is not allowed: an array of different minutes of waiting, each from 1 to 1439, e.g. [60, 90, 105]"
        ),
        Bad(
            text: "[button]\nlong_press_seconds = 5\nstuck_seconds = 5",
            expected:
                "bad.toml: button.long_press_seconds: must be shorter than button.stuck_seconds, or a long press would be a stuck button"
        ),
        Bad(
            text: "[button]\nline = 17\nkiosk_line = 17",
            expected:
                "bad.toml: button.kiosk_line: 17 is button.line already: give each button a line of its own (Hardware/README.md)"
        ),
        Bad(
            text: "[button]\ncall_line = 22\nkiosk_line = 22",
            expected:
                "bad.toml: button.kiosk_line: 22 is button.call_line already: give each button a line of its own (Hardware/README.md)"
        ),
        Bad(
            text: "[lights]\nsand_lines = [1, 2",
            expected: "bad.toml:2: lights.sand_lines: an array must be closed on the same line"),
        Bad(
            text: "[export]\ntrusted_keys = [\"abc\"]",
            expected:
                "bad.toml:2: export.trusted_keys: [\"abc\"] is not allowed: an array of base64 Ed25519 public keys (32 bytes), as jampasird logs its device key at start"
        ),
        Bad(
            text: "[metrics]\ntextfile = \"/run/jampasir/metrics.txt\"",
            expected:
                "bad.toml:2: metrics.textfile: \"/run/jampasir/metrics.txt\" is not allowed: an absolute path ending in .prom (node-exporter reads only those), or \"\" to turn metrics off"
        ),
        Bad(
            text: "[power]\nups = \"kit@host:70000\"",
            expected:
                "bad.toml:2: power.ups: \"kit@host:70000\" is not allowed: the UPS as NUT names it, NAME or NAME@HOST or NAME@HOST:PORT (e.g. \"kit@localhost\"), or \"\" for none"
        ),
        Bad(
            text: "[service]\nlimit_seconds = 900\n[power]\nups = \"kit\"\nmin_runtime_seconds = 900",
            expected:
                "bad.toml: power.min_runtime_seconds: must be longer than service.limit_seconds: a session started on battery must be able to end"
        ),
        Bad(
            text: "[export]\nauthorized_keys = [\"md5:abc\"]",
            expected:
                "bad.toml:2: export.authorized_keys: [\"md5:abc\"] is not allowed: an array of \"sha256:<64 hex digits>\" lines, as printed by `jampasir export-key new`"
        ),
    ]

    @Test(arguments: bad)
    func badValueNamesLineKeyAndWhatIsAllowed(_ bad: Bad) {
        #expect(throws: (any Error).self) { try Configuration(parsing: bad.text, file: "bad.toml") }
        do {
            _ = try Configuration(parsing: bad.text, file: "bad.toml")
        } catch {
            #expect(error.description == bad.expected)
        }
    }

    @Test func missingDefaultFileGivesDefaultsButANamedFileMustExist() throws {
        let directory = try TemporaryDirectory("config")
        let (defaults, found) = try Configuration.load(path: directory.file("absent.toml"), required: false)
        #expect(!found)
        #expect(defaults.rules == ServiceRules())
        #expect(throws: ConfigurationError.self) {
            try Configuration.load(path: directory.file("absent.toml"), required: true)
        }
    }

    @Test func fileThatIsNotUTF8IsRefused() throws {
        let directory = try TemporaryDirectory("config")
        let path = directory.file("latin1.toml")
        #expect(FileManager.default.createFile(atPath: path, contents: Data([0x5B, 0xE9, 0xFF, 0x5D])))
        do {
            _ = try Configuration.load(path: path, required: true)
            Issue.record("a non-UTF-8 file was accepted")
        } catch {
            #expect(error.description == "\(path): the file is not UTF-8 text")
        }
    }

    @Test func limitFlagTakesDecimalSeconds() throws {
        #expect(try Configuration.limit(fromArgument: "2", option: "--limit") == .seconds(2))
        #expect(try Configuration.limit(fromArgument: "120", option: "--limit") == .seconds(120))
        #expect(try Configuration.limit(fromArgument: "0.5e1", option: "--limit") == .seconds(5))
        #expect(throws: ConfigurationError.self) { try Configuration.limit(fromArgument: "0", option: "--limit") }
        #expect(throws: ConfigurationError.self) { try Configuration.limit(fromArgument: "nan", option: "--limit") }
        #expect(throws: ConfigurationError.self) { try Configuration.counterID(fromArgument: "a/b") }
    }

    @Test(arguments: ["tm1637", "ht16k33", "max7219"])
    func hardwareSampleConfigsLoad(_ kind: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Hardware/configs/\(kind).toml").standardized.path
        let (c, found) = try Configuration.load(path: path, required: true)
        #expect(found)
        #expect(c.hardware.display.kind.rawValue == kind)
        #expect(c.hardware.button.chip == "pinctrl-bcm2711")
    }

    static let shippedPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../systemd/jampasir.toml"
    ).standardized.path

    @Test func shippedExampleConfigLoads() throws {
        let (c, found) = try Configuration.load(path: Self.shippedPath, required: true)
        #expect(found)
        #expect(c.rules == ServiceRules())
    }

    /// The commented file a technician finds in /etc/jampasir (and jampasir.toml(5), made from
    /// it) lists every key there is, and uncommented it still loads with the default rules.
    @Test func shippedExampleConfigListsEveryKeyAndLoadsUncommented() throws {
        let text = try String(contentsOfFile: Self.shippedPath, encoding: .utf8)
        var table = ""
        var listed: [String] = []
        var uncommented = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("[") {
                table = String(line.dropFirst().dropLast())
                uncommented += line + "\n"
            } else if let match = line.wholeMatch(of: /# ([a-z_0-9]+) = (.+)/) {
                listed.append("\(table).\(match.1)")
                uncommented += line.dropFirst(2) + "\n"
            }
        }
        #expect(listed.sorted() == Configuration.keyNames.sorted())
        let c = try Configuration(parsing: uncommented, file: Self.shippedPath)
        #expect(c.rules == ServiceRules())
    }
}

/// Issue 13, finding 9: the parser recurses once per nested array; a file of 100,000 `[` must
/// be a configuration error naming the file, line and key, not a stack overflow.
@Suite("Configuration: deeply nested arrays")
struct NestedArrayTests {
    static let brackets = String(repeating: "[", count: 100_000)

    @Test func jampasirdReportsAConfigurationErrorInsteadOfOverflowingItsStack() throws {
        let directory = try TemporaryDirectory("nested")
        let path = directory.file("jampasir.toml")
        try "[counter]\nid = \(Self.brackets)\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runBuilt("jampasird", ["--config", path, "--simulate"])
        #expect(result.status == 78)
        #expect(
            result.error
                == "jampasird: configuration error: \(path):2: counter.id: arrays nested more than 8 deep are not used in this file: a value is a string, a number, a boolean or an array of them\n"
        )
    }

    @Test func aTableHeaderOfBracketsIsAnErrorToo() {
        #expect(throws: ConfigurationError.self) { try Configuration(parsing: Self.brackets, file: "bad.toml") }
        let nested = String(repeating: "[", count: 8) + String(repeating: "]", count: 8)
        #expect(throws: Never.self) { try TOMLDocument(parsing: "x = \(nested)") }
    }
}
