import Foundation
import JamPasirCore
import JamPasirStore

/// A counter's state for Prometheus, in its text exposition format: what node-exporter's
/// textfile collector publishes for the office's hub. Office and counter names are the hub's
/// scrape labels, never the device's. Remaining time is computed in PromQL from the start
/// timestamp and the limit, so the file changes only when something happens.
public struct CounterMetrics: Equatable, Sendable {
    public var version: String
    public var limitMs: Int64
    /// The duration histogram's upper bounds, one exactly at the limit ("% in time" is exact).
    public let boundsMs: [Int64]
    /// From the store, counted with `boundsMs`.
    public var totals = StoreTotals()
    /// When the running session started (wall clock); nil while none runs.
    public var runningSince: Date?
    public var buttonStuck = false
    public var displayOK = true
    public var clockSynchronized = false
    /// The kit's power, once its UPS has been read; nil on a counter without one (`power.ups`).
    public var power: PowerState?

    public init(version: String, limitMs: Int64) {
        self.version = version
        self.limitMs = limitMs
        let usual: [Int64] = [15, 30, 45, 60, 75, 90, 105, 150, 180, 240, 300, 600].map { $0 * 1000 }
        boundsMs = Set(usual + [limitMs]).sorted()
    }

    /// The file's text: every metric with its HELP and TYPE, every outcome from 0.
    public var text: String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        func one(_ value: some BinaryInteger) -> [(labels: String, value: String)] { [("", "\(value)")] }
        func flag(_ value: Bool) -> [(labels: String, value: String)] { one(value ? 1 : 0) }

        metric(
            "jampasir_build_info", "gauge", "The jampasird version writing these metrics.",
            [("{version=\"\(Self.labelValue(version))\"}", "1")])
        metric(
            "jampasir_sessions_total", "counter", "Ended sessions in the counter's store, by outcome.",
            Outcome.allCases.map { ("{outcome=\"\($0.rawValue)\"}", "\(totals.sessions[$0] ?? 0)") })
        metric(
            "jampasir_free_passports_total", "counter", "Sessions that owe the applicant a free passport.",
            one(totals.freePassports))
        // (no counts yet, or counted with other bounds: every bucket 0 rather than none)
        let atMost =
            totals.handedOverAtMost.count == boundsMs.count
            ? totals.handedOverAtMost : Array(repeating: 0, count: boundsMs.count)
        var buckets = zip(boundsMs, atMost).map { bound, count in
            ("{le=\"\(Self.seconds(bound))\"}", "\(count)")
        }
        buckets.append(("{le=\"+Inf\"}", "\(totals.handedOver)"))
        out += """
            # HELP jampasir_session_duration_seconds Passport handed over (in time or overtime) this long after the start; the bucket at the limit holds those in time.
            # TYPE jampasir_session_duration_seconds histogram

            """
        for (labels, value) in buckets { out += "jampasir_session_duration_seconds_bucket\(labels) \(value)\n" }
        out += "jampasir_session_duration_seconds_sum \(Self.seconds(totals.handedOverMs))\n"
        out += "jampasir_session_duration_seconds_count \(totals.handedOver)\n"
        metric(
            "jampasir_session_limit_seconds", "gauge", "The promise: a session this long is still in time.",
            [("", Self.seconds(limitMs))])
        metric("jampasir_session_running", "gauge", "1 while a session is counting down or over its limit.",
            flag(runningSince != nil))
        metric(
            "jampasir_session_started_timestamp_seconds", "gauge",
            "When the running session started (Unix time); 0 while none runs.",
            [("", runningSince.map { Self.seconds(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? "0")])
        metric("jampasir_button_stuck", "gauge", "1 while the button is held past the stuck time (Err1).",
            flag(buttonStuck))
        metric("jampasir_display_ok", "gauge", "1 while the display takes frames.", flag(displayOK))
        metric(
            "jampasir_clock_synchronized", "gauge",
            "1 if the system clock was synchronised at the daemon's last start or session event.",
            flag(clockSynchronized))
        metric(
            "jampasir_audit_chain_entries", "gauge", "Entries in the store's hash-chained audit log.",
            one(totals.auditEntries))
        if let power {
            metric("jampasir_power_readable", "gauge", "1 while the kit's UPS answers (power.ups).", flag(!power.isUnknown))
            metric("jampasir_power_on_battery", "gauge", "1 while the kit runs on its battery.", flag(power.severity > 0))
            metric(
                "jampasir_battery_too_low", "gauge", "1 while the battery is too low for a new session (bAtt).",
                flag(power.refusesSessions))
            if let charge = power.reading?.chargePercent {
                // Per cent as thousandths through the exact decimal writer: 87 → `0.87`, 100 → `1`.
                metric("jampasir_battery_charge_ratio", "gauge", "The battery's charge, 0 to 1.", [("", Self.seconds(Int64(charge) * 10))])
            }
            if let runtime = power.reading?.runtime {
                metric(
                    "jampasir_battery_runtime_seconds", "gauge", "What the UPS expects the battery to last at the present draw.",
                    [("", "\(runtime.components.seconds)")])
            }
        }
        return out
    }

    /// Milliseconds as decimal seconds, exactly: `120`, `90.5`, `1796000010.25`.
    static func seconds(_ ms: Int64) -> String {
        let whole = "\(ms / 1000)"
        let fraction = abs(ms % 1000)
        guard fraction != 0 else { return (ms < 0 && ms > -1000 ? "-" : "") + whole }
        var digits = String(String(fraction + 1000).dropFirst())
        while digits.hasSuffix("0") { digits.removeLast() }
        return (ms < 0 && ms > -1000 ? "-" : "") + whole + "." + digits
    }

    /// A label value escaped as the exposition format requires.
    static func labelValue(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
