import Foundation
import JamPasirCore
import JamPasirQueue

/// Everything a counter is told by its configuration file (`/etc/jampasir/jampasir.toml`).
/// Every key is optional; the README lists each with its default.
public struct Configuration: Equatable, Sendable {
    public static let defaultPath = "/etc/jampasir/jampasir.toml"
    public static let defaultStorePath = "/var/lib/jampasir/jampasir.sqlite"

    /// Names this counter in the store and in exports.
    public var counterID: String
    public var rules = ServiceRules()
    public var storePath = Configuration.defaultStorePath
    /// Days in statistics are local days of this zone; nil means the system's.
    public var timeZoneIdentifier: String?
    /// Language of the HTML report: "id" (Bahasa Indonesia) or "en".
    public var reportLanguage = "id"
    /// SHA-256 fingerprints (`sha256:<hex>`) of the stick key files allowed to receive exports.
    public var authorizedExportKeys: [String] = []
    /// Base64 Ed25519 public keys of the office's counters: `jampasir verify` trusts exports
    /// signed with these.
    public var trustedExportSigners: [String] = []
    /// The Ed25519 device key that signs exports; nil means `device.key` next to the store.
    public var deviceKeyPathSetting: String?
    /// Whether plugged-in USB sticks are watched for (hardware mode only).
    public var usbExportEnabled = true
    /// The socket of `jampasir-mountd`, the helper that mounts sticks for the daemon.
    public var mountHelperSocket = "/run/jampasir-mountd.sock"
    /// Where the daemon keeps its Prometheus metrics for node-exporter's textfile collector;
    /// nil (`textfile = ""`) turns them off.
    public var metricsTextfile: String? = Configuration.defaultMetricsTextfile
    public static let defaultMetricsTextfile = "/run/jampasir/metrics/jampasir.prom"
    /// The office hub's store (`jampasir hub`): every counter's history as its exports brought it.
    public var hubStorePath = "/var/lib/jampasir-hub/hub.sqlite"
    /// Where `jampasir hub serve` listens for counters' bundles.
    public var hubListen = "0.0.0.0:8790"
    /// Names of the hub besides its addresses, `localhost` and its host name (`.local` too), that
    /// a request's `Host` may give: the DNS names counters and screens reach it by.
    public var hubNames: [String] = []
    /// The origin of the wallboard's page that may read the hub's queue and history; nil: the
    /// hub's own Prometheus (`http://HOST:9090`).
    public var hubWallboardOrigin: String?
    /// The hub `jampasir push` sends this counter's export to; nil: none.
    public var pushHub: String?
    /// The second promise: the waiting room's capacity, its warnings and its two hours.
    public var queue = QueueRules.standard
    /// The office's name on tickets.
    public var queueOffice = "Kantor Imigrasi"
    /// The hub's ticket printer (the kiosk); nil: none.
    public var queuePrinter: String?
    /// The office's update key, public half: the signer of the update sticks a counter takes.
    public var updateKeyring = Configuration.defaultUpdateKeyring
    public static let defaultUpdateKeyring = "/etc/jampasir/update-key.gpg"
    /// Where the counter keeps the updates it took (and the one before) and their receipts.
    public var updateState = Configuration.defaultUpdateState
    public static let defaultUpdateState = "/var/lib/jampasir-update"
    /// How long jampasird may take to report ready after an update before the previous version
    /// kept on the counter is installed again.
    public var updateStartTimeout: Duration = .seconds(90)
    /// The kit's UPS as NUT's upsd serves it (`power.ups`); nil: on mains, nothing to read.
    public var powerUPS: UPSAddress?
    /// When the battery is too low for a new session.
    public var power = PowerRules()
    /// What the file sets that is no longer used, each with what replaced it: logged at start.
    public var notices: [String] = []

    public var deviceKeyPath: String {
        deviceKeyPathSetting ?? ((storePath as NSString).deletingLastPathComponent + "/device.key")
    }
    public var hardware = HardwareConfiguration()

    public init(counterID: String = Configuration.defaultCounterID) {
        self.counterID = counterID
    }

    /// The host name, which on an installed counter is unique in the office.
    public static var defaultCounterID: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        return host.isEmpty ? "counter-1" : host
    }

    public var timeZone: TimeZone {
        timeZoneIdentifier.flatMap(TimeZone.init(identifier:)) ?? .current
    }

    /// Reads `text` (the contents of `file`) over the defaults.
    public init(parsing text: String, file: String) throws(ConfigurationError) {
        self.init()
        let document: TOMLDocument
        do {
            document = try TOMLDocument(parsing: text)
        } catch {
            throw ConfigurationError(file: file, line: error.line, key: error.key, message: error.message)
        }
        let fields = Self.fields
        let knownTables = Set(fields.map(\.table))
        for table in document.tables where !knownTables.contains(table.name) {
            throw ConfigurationError(
                file: file, line: table.line,
                message: "unknown table [\(table.name)]; known tables: "
                    + knownTables.sorted().map { "[\($0)]" }.joined(separator: ", "))
        }
        for entry in document.entries {
            guard let field = fields.first(where: { $0.table == entry.table && $0.key == entry.key }) else {
                let known = fields.filter { $0.table == entry.table }.map(\.key)
                let hint =
                    known.isEmpty
                    ? "put keys under a [table] header" : "known keys here: " + known.joined(separator: ", ")
                throw ConfigurationError(file: file, line: entry.line, key: entry.path, message: "unknown key; \(hint)")
            }
            do {
                try field.apply(entry.value, &self)
            } catch {
                throw ConfigurationError(
                    file: file, line: entry.line, key: entry.path,
                    message: "\(Self.render(entry.value)) is not allowed: \(error.allowed)")
            }
        }
        try checkConsistency(file: file)
    }

    /// Loads the file at `path`. A missing file gives the defaults when `required` is false
    /// (the daemon's default path); a file named on the command line must exist.
    public static func load(path: String, required: Bool) throws(ConfigurationError) -> (Configuration, found: Bool) {
        guard FileManager.default.fileExists(atPath: path) else {
            if required {
                throw ConfigurationError(file: path, message: "no such file; check --config PATH")
            }
            return (Configuration(), false)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, message: "cannot read the file; check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "the file is not UTF-8 text")
        }
        return (try Configuration(parsing: text, file: path), true)
    }

    /// Parses a `--limit` style value in seconds (a decimal such as `2`, `120` or `90.5`).
    public static func limit(fromArgument text: String, option: String) throws(ConfigurationError) -> Duration {
        guard let seconds = Double(text), let duration = Allowed.seconds(in: 1...86_400).duration(seconds) else {
            throw ConfigurationError(
                file: "command line", key: option,
                message: "'\(text)' is not allowed: \(Allowed.seconds(in: 1...86_400).allowed)")
        }
        return duration
    }

    private func checkConsistency(file: String) throws(ConfigurationError) {
        if rules.longPress >= rules.stuckAfter {
            throw ConfigurationError(
                file: file, key: "button.long_press_seconds",
                message: "must be shorter than button.stuck_seconds, or a long press would be a stuck button")
        }
        if let late = queue.warningMarks.first(where: { $0 >= queue.promise }) {
            throw ConfigurationError(
                file: file, key: "queue.warning_minutes",
                message: "\(late.components.seconds / 60) is not before queue.promise_minutes "
                    + "(\(queue.promise.components.seconds / 60)): a warning must come before the breach")
        }
        if powerUPS != nil, power.minRuntime <= rules.limit {
            throw ConfigurationError(
                file: file, key: "power.min_runtime_seconds",
                message: "must be longer than service.limit_seconds: a session started on battery must be able to end")
        }
        if rules.debounce >= rules.longPress {
            throw ConfigurationError(
                file: file, key: "button.debounce_ms", message: "must be shorter than the long press")
        }
        // Two buttons on one line: each press would be both (or one would never get the line).
        let button = hardware.button
        let lines: [(key: String, line: Int?)] = [
            ("button.line", button.line), ("button.call_line", button.callLine), ("button.kiosk_line", button.kioskLine),
        ]
        for (index, later) in lines.enumerated() {
            guard let line = later.line, let earlier = lines[..<index].first(where: { $0.line == line }) else { continue }
            throw ConfigurationError(
                file: file, key: later.key,
                message: "\(line) is \(earlier.key) already: give each button a line of its own (Hardware/README.md)")
        }
    }

    private static func render(_ value: TOMLDocument.Value) -> String {
        switch value {
        case .string(let s): "\"\(s)\""
        case .integer(let i): "\(i)"
        case .float(let d): "\(d)"
        case .boolean(let b): "\(b)"
        case .array(let items): "[" + items.map(render).joined(separator: ", ") + "]"
        }
    }
}

// MARK: - The keys

/// A rejected value: says what would have been accepted.
struct Rejected: Error {
    var allowed: String
}

/// A configuration key: where it lives and how its value is checked and applied.
struct Field: Sendable {
    var table: String
    var key: String
    var apply: @Sendable (TOMLDocument.Value, inout Configuration) throws(Rejected) -> Void
}

/// Validators, each with the wording of what it allows.
enum Allowed {
    struct Seconds {
        var range: ClosedRange<Double>
        var allowed: String {
            "a number of seconds from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
        }
        func duration(_ seconds: Double) -> Duration? {
            guard seconds.isFinite, range.contains(seconds) else { return nil }
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
        static func format(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(value)
        }
    }

    static func seconds(in range: ClosedRange<Double>) -> Seconds { Seconds(range: range) }

    static func number(_ value: TOMLDocument.Value) -> Double? {
        switch value {
        case .integer(let i): Double(i)
        case .float(let d): d
        default: nil
        }
    }
}

extension Field {
    static func seconds(
        _ table: String, _ key: String, in range: ClosedRange<Double>,
        _ set: @escaping @Sendable (inout Configuration, Duration) -> Void
    ) -> Field {
        Field(table: table, key: key) { value, config throws(Rejected) in
            let rule = Allowed.seconds(in: range)
            guard let seconds = Allowed.number(value), let duration = rule.duration(seconds) else {
                throw Rejected(allowed: rule.allowed)
            }
            set(&config, duration)
        }
    }

    static func integer(
        _ table: String, _ key: String, in range: ClosedRange<Int>,
        _ set: @escaping @Sendable (inout Configuration, Int) -> Void
    ) -> Field {
        Field(table: table, key: key) { value, config throws(Rejected) in
            guard case .integer(let i) = value, let int = Int(exactly: i), range.contains(int) else {
                throw Rejected(allowed: "a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            set(&config, int)
        }
    }

    /// A GPIO line offset; `-1` (where `optional`) means not fitted.
    static func line(
        _ table: String, _ key: String, optional: Bool = false,
        _ set: @escaping @Sendable (inout Configuration, Int?) -> Void
    ) -> Field {
        Field(table: table, key: key) { value, config throws(Rejected) in
            let allowed = "a GPIO line offset from 0 to 1023" + (optional ? ", or -1 when not fitted" : "")
            guard case .integer(let i) = value, (optional ? -1 : 0)...1023 ~= i else {
                throw Rejected(allowed: allowed)
            }
            set(&config, i == -1 ? nil : Int(i))
        }
    }

    static func boolean(_ table: String, _ key: String, _ set: @escaping @Sendable (inout Configuration, Bool) -> Void)
        -> Field
    {
        Field(table: table, key: key) { value, config throws(Rejected) in
            guard case .boolean(let b) = value else { throw Rejected(allowed: "true or false (no quotes)") }
            set(&config, b)
        }
    }

    static func text(
        _ table: String, _ key: String, what: String, valid: @escaping @Sendable (String) -> Bool = { !$0.isEmpty },
        _ set: @escaping @Sendable (inout Configuration, String) -> Void
    ) -> Field {
        Field(table: table, key: key) { value, config throws(Rejected) in
            guard case .string(let s) = value, valid(s) else { throw Rejected(allowed: what) }
            set(&config, s)
        }
    }

    static func choice<T: RawRepresentable & CaseIterable & Sendable>(
        _ table: String, _ key: String, _ type: T.Type, _ set: @escaping @Sendable (inout Configuration, T) -> Void
    ) -> Field where T.RawValue == String {
        Field(table: table, key: key) { value, config throws(Rejected) in
            guard case .string(let s) = value, let choice = T(rawValue: s) else {
                throw Rejected(allowed: "one of " + T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
            }
            set(&config, choice)
        }
    }
}

extension Configuration {
    /// Every `table.key` a configuration file may hold.
    /// The keys a file may set, less the retired ones (read only to say they are).
    package static var keyNames: [String] { fields.map { "\($0.table).\($0.key)" }.filter { !retired.contains($0) } }
    static let retired: Set = ["queue.token"]

    /// Letters, digits, '-' and '.', 1 to 253 characters: a host name a `Host` header can give.
    static func isDNSName(_ name: String) -> Bool {
        (1...253).contains(name.utf8.count)
            && name.utf8.allSatisfy { $0 == 45 || $0 == 46 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    /// `http://HOST` or `https://HOST`, with `:PORT` or not, and nothing after: a page's origin
    /// as a browser sends it (so no default port, no leading zero, any case: it is lowered).
    static func isOrigin(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard let scheme = ["http://", "https://"].first(where: lower.hasPrefix) else { return false }
        let parts = lower.dropFirst(scheme.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, isDNSName(String(parts[0])), !parts[0].hasSuffix(".") else { return false }
        guard parts.count == 2 else { return true }
        let port = parts[1]
        return (1...5).contains(port.count) && port.utf8.allSatisfy { (48...57).contains($0) } && !port.hasPrefix("0")
            && UInt16(port) != nil && port != (scheme == "http://" ? "80" : "443")
    }

    static let fields: [Field] = [
        .text(
            "counter", "id", what: "a non-empty name of letters, digits, '-', '_' or '.', at most 64 characters",
            valid: isValidCounterID
        ) { $0.counterID = $1 },

        .seconds("service", "limit_seconds", in: 1...86_400) { $0.rules.limit = $1 },
        Field(table: "service", key: "warning_seconds") { value, config throws(Rejected) in
            let rejected = Rejected(allowed: "an array of seconds remaining, each from 1 to 3600, e.g. [30, 10]")
            guard case .array(let items) = value else { throw rejected }
            var warnings: [Duration] = []
            for item in items {
                guard let seconds = Allowed.number(item), let d = Allowed.seconds(in: 1...3600).duration(seconds) else {
                    throw rejected
                }
                warnings.append(d)
            }
            config.rules.warnings = warnings
        },
        .seconds("service", "result_hold_seconds", in: 1...60) { $0.rules.resultHold = $1 },
        .seconds("service", "rearm_guard_seconds", in: 0...10) { $0.rules.rearmGuard = $1 },
        .boolean("service", "interrupted_is_free") { $0.rules.interruptedIsFree = $1 },

        .text(
            "store", "path", what: "an absolute path to the SQLite file, e.g. \"\(Configuration.defaultStorePath)\"",
            valid: { $0.hasPrefix("/") }
        ) { $0.storePath = $1 },

        .text(
            "report", "language", what: "\"id\" (Bahasa Indonesia) or \"en\" (English)",
            valid: { ["id", "en"].contains($0) }
        ) {
            $0.reportLanguage = $1
        },
        .text(
            "store", "device_key", what: "an absolute path for the export signing key", valid: { $0.hasPrefix("/") }
        ) { $0.deviceKeyPathSetting = $1 },
        Field(table: "export", key: "authorized_keys") { value, config throws(Rejected) in
            let rejected = Rejected(
                allowed: "an array of \"sha256:<64 hex digits>\" lines, as printed by `jampasir export-key new`")
            guard case .array(let items) = value else { throw rejected }
            var keys: [String] = []
            for item in items {
                guard case .string(let key) = item, key.hasPrefix("sha256:"), key.count == 71,
                    key.dropFirst(7).allSatisfy(\.isHexDigit)
                else { throw rejected }
                keys.append(key.lowercased())
            }
            config.authorizedExportKeys = keys
        },
        Field(table: "export", key: "trusted_keys") { value, config throws(Rejected) in
            let rejected = Rejected(
                allowed: "an array of base64 Ed25519 public keys (32 bytes), as jampasird logs its device key at start")
            guard case .array(let items) = value else { throw rejected }
            var keys: [String] = []
            for item in items {
                guard case .string(let key) = item, Data(base64Encoded: key)?.count == 32 else { throw rejected }
                keys.append(key)
            }
            config.trustedExportSigners = keys
        },
        .boolean("export", "usb") { $0.usbExportEnabled = $1 },
        .text("update", "keyring", what: "the absolute path of the office's update key (its public half)", valid: { $0.hasPrefix("/") }) {
            $0.updateKeyring = $1
        },
        .text("update", "state", what: "an absolute path for the updates and their receipts", valid: { $0.hasPrefix("/") }) {
            $0.updateState = $1
        },
        .seconds("update", "start_timeout_seconds", in: 30...300) { $0.updateStartTimeout = $1 },
        .text(
            "export", "mount_socket", what: "the absolute path of jampasir-mountd's socket",
            valid: { $0.hasPrefix("/") }
        ) { $0.mountHelperSocket = $1 },
        .text(
            "metrics", "textfile",
            what: "an absolute path ending in .prom (node-exporter reads only those), or \"\" to turn metrics off",
            valid: { $0.isEmpty || ($0.hasPrefix("/") && $0.hasSuffix(".prom") && !$0.hasSuffix("/.prom")) }
        ) { $0.metricsTextfile = $1.isEmpty ? nil : $1 },
        .text(
            "power", "ups",
            what: "the UPS as NUT names it, NAME or NAME@HOST or NAME@HOST:PORT (e.g. \"kit@localhost\"), or \"\" for none",
            valid: { $0.isEmpty || UPSAddress($0) != nil }
        ) { $0.powerUPS = UPSAddress($1) },
        .seconds("power", "min_runtime_seconds", in: 60...7200) { $0.power.minRuntime = $1 },
        .integer("power", "min_charge_percent", in: 5...90) { $0.power.minCharge = $1 },
        .text(
            "hub", "store", what: "an absolute path to the hub's SQLite file", valid: { $0.hasPrefix("/") }
        ) { $0.hubStorePath = $1 },
        .text("hub", "listen", what: "HOST:PORT, e.g. \"0.0.0.0:8790\"", valid: isHostPort) { $0.hubListen = $1 },
        Field(table: "hub", key: "names") { value, config throws(Rejected) in
            let rejected = Rejected(allowed: "an array of DNS names, e.g. [\"hub.kanim-singkawang.go.id\"]")
            guard case .array(let items) = value, items.count <= 16 else { throw rejected }
            config.hubNames = try items.map { item throws(Rejected) in
                guard case .string(let name) = item, Self.isDNSName(name) else { throw rejected }
                return name.lowercased()
            }
        },
        .text(
            "hub", "wallboard_origin",
            what: "\"http://HOST:PORT\" of the wallboard's page as a browser names it (no default port, no path), or \"\" for the hub's own Prometheus",
            valid: { $0.isEmpty || isOrigin($0) }
        ) { $0.hubWallboardOrigin = $1.isEmpty ? nil : $1.lowercased() },
        .text("push", "hub", what: "the hub's HOST:PORT, e.g. \"hub.local:8790\"", valid: isHostPort) {
            $0.pushHub = $1
        },
        .integer("queue", "promise_minutes", in: 1...1440) { $0.queue.promise = .seconds($1 * 60) },
        Field(table: "queue", key: "warning_minutes") { value, config throws(Rejected) in
            let rejected = Rejected(allowed: "an array of different minutes of waiting, each from 1 to 1439, e.g. [60, 90, 105]")
            guard case .array(let items) = value, items.count <= 10 else { throw rejected }
            var marks: [Duration] = []
            for item in items {
                guard case .integer(let minutes) = item, (1...1439).contains(minutes), !marks.contains(.seconds(minutes * 60))
                else { throw rejected }
                marks.append(.seconds(minutes * 60))
            }
            config.queue.warningMarks = marks.sorted()
        },
        .integer("queue", "room_capacity", in: 1...10_000) { $0.queue.roomCapacity = $1 },
        .text(
            "queue", "ticket_prefix", what: "one to three capital letters, e.g. \"A\"",
            valid: { (1...3).contains($0.count) && $0.allSatisfy { ("A"..."Z").contains($0) } }
        ) { $0.queue.ticketPrefix = $1 },
        .text(
            "queue", "office", what: "the office's name for tickets: 1 to 48 printable ASCII characters",
            valid: { (1...48).contains($0.count) && $0.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) } }
        ) { $0.queueOffice = $1 },
        .text(
            "queue", "printer", what: "the ticket printer's device, e.g. \"/dev/usb/lp0\", or \"\" for none",
            valid: { $0.isEmpty || ($0.hasPrefix("/dev/") && !$0.contains("..")) }
        ) { $0.queuePrinter = $1.isEmpty ? nil : $1 },
        Field(table: "queue", key: "token") { _, config throws(Rejected) in
            config.notices.append(
                "queue.token is no longer used and can be removed: each counter signs its calls with its own device key, which the hub trusts in export.trusted_keys"
            )
        },
        .text(
            "report", "time_zone", what: "an IANA time zone such as \"Asia/Jakarta\"",
            valid: { TimeZone(identifier: $0) != nil }
        ) { $0.timeZoneIdentifier = $1 },

        .text("button", "chip", what: "a GPIO chip name, path or label, e.g. \"gpiochip0\"") {
            $0.hardware.button.chip = $1
        },
        .line("button", "line") { $0.hardware.button.line = $1! },
        .line("button", "call_line", optional: true) { $0.hardware.button.callLine = $1 },
        .line("button", "kiosk_line", optional: true) { $0.hardware.button.kioskLine = $1 },
        .boolean("button", "active_low") { $0.hardware.button.activeLow = $1 },
        .choice("button", "bias", LineBias.self) { $0.hardware.button.bias = $1 },
        Field(table: "button", key: "debounce_ms") { value, config throws(Rejected) in
            guard case .integer(let ms) = value, (1...500).contains(ms) else {
                throw Rejected(allowed: "a whole number of milliseconds from 1 to 500")
            }
            config.rules.debounce = .milliseconds(ms)
        },
        .integer("button", "kernel_debounce_ms", in: 0...100) { $0.hardware.button.kernelDebounce = .milliseconds($1) },
        .seconds("button", "long_press_seconds", in: 0.5...10) { $0.rules.longPress = $1 },
        .seconds("button", "stuck_seconds", in: 5...600) { $0.rules.stuckAfter = $1 },

        .choice("display", "kind", DisplayKind.self) { $0.hardware.display.kind = $1 },
        .integer("display", "brightness", in: 0...7) { $0.hardware.display.brightness = $1 },
        .seconds("display", "figures_seconds", in: 0...10) { $0.rules.figuresEach = $1 },
        .seconds("display", "call_seconds", in: 1...30) { $0.rules.callHold = $1 },
        .integer("display", "idle_brightness", in: 0...7) { $0.hardware.display.idleBrightness = $1 },
        .text("display", "chip", what: "a GPIO chip name, path or label") { $0.hardware.display.chip = $1 },
        .line("display", "clk_line") { $0.hardware.display.clockLine = $1! },
        .line("display", "dio_line") { $0.hardware.display.dataLine = $1! },
        .integer("display", "bit_delay_us", in: 5...1000) { $0.hardware.display.bitDelayMicroseconds = $1 },
        .integer("display", "i2c_bus", in: 0...255) { $0.hardware.display.i2cBus = $1 },
        .integer("display", "i2c_address", in: 0x08...0x77) { $0.hardware.display.i2cAddress = $1 },
        .text(
            "display", "spi_device", what: "an SPI device path such as \"/dev/spidev0.0\"",
            valid: { $0.hasPrefix("/dev/") }
        ) { $0.hardware.display.spiDevice = $1 },
        .integer("display", "chain_length", in: 1...8) { $0.hardware.display.chainLength = $1 },

        .choice("buzzer", "kind", BuzzerKind.self) { $0.hardware.buzzer.kind = $1 },
        .text("buzzer", "chip", what: "a GPIO chip name, path or label") { $0.hardware.buzzer.chip = $1 },
        .line("buzzer", "line") { $0.hardware.buzzer.line = $1! },
        .integer("buzzer", "pwm_chip", in: 0...31) { $0.hardware.buzzer.pwmChip = $1 },
        .integer("buzzer", "pwm_channel", in: 0...15) { $0.hardware.buzzer.pwmChannel = $1 },
        .integer("buzzer", "frequency_hz", in: 100...10_000) { $0.hardware.buzzer.frequencyHz = $1 },

        .text("lights", "chip", what: "a GPIO chip name, path or label") { $0.hardware.lights.chip = $1 },
        .line("lights", "green_line", optional: true) { $0.hardware.lights.greenLine = $1 },
        .line("lights", "amber_line", optional: true) { $0.hardware.lights.amberLine = $1 },
        .line("lights", "red_line", optional: true) { $0.hardware.lights.redLine = $1 },
        Field(table: "lights", key: "sand_lines") { value, config throws(Rejected) in
            let rejected = Rejected(allowed: "an array of up to 16 GPIO line offsets, e.g. [16, 20, 21], or []")
            guard case .array(let items) = value, items.count <= 16 else { throw rejected }
            var lines: [Int] = []
            for item in items {
                guard case .integer(let i) = item, (0...1023).contains(i) else { throw rejected }
                lines.append(Int(i))
            }
            config.hardware.lights.sandLines = lines
        },
    ]

    /// `host:port` or `[v6]:port`, port 1–65535.
    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0
        else { return false }
        let host = text[..<colon]
        return !host.isEmpty && host.count <= 255 && !host.contains(where: { $0 == " " || $0 == "/" })
    }

    /// The rule for a counter's id wherever one arrives (`counter.id`, `--counter`, an export's
    /// manifest, a call, a queue record): ASCII letters, digits, `-`, `_`, `.`; 1 to 64.
    public static func isValidCounterID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || "-_.".utf8.contains(byte)
            }
    }
}

extension Configuration {
    /// Checks a `--counter` value with the same rule as `counter.id`.
    public static func counterID(fromArgument text: String) throws(ConfigurationError) -> String {
        guard isValidCounterID(text) else {
            throw ConfigurationError(
                file: "command line", key: "--counter",
                message:
                    "'\(text)' is not allowed: a non-empty name of letters, digits, '-', '_' or '.', at most 64 characters"
            )
        }
        return text
    }
}
