import Foundation
import JamPasirCore
import JamPasirDaemon
import JamPasirReports
import JamPasirStore
import JamPasirTesting
import Logging
import Testing

/// `metrics.textfile` through the front door: the real jampasird --simulate, keys on its
/// keyboard, the file node-exporter would read.
@Suite("Prometheus metrics file")
struct MetricsTests {
    let directory: TemporaryDirectory
    let configPath: String
    let metricsPath: String

    init() throws {
        directory = try TemporaryDirectory("metrics")
        configPath = directory.file("jampasir.toml")
        metricsPath = directory.file("run/metrics/jampasir.prom")
        try """
        [counter]
        id = "loket-3"
        [store]
        path = "\(directory.file("state/jampasir.sqlite"))"
        [metrics]
        textfile = "\(metricsPath)"
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func metrics() -> String { (try? String(contentsOfFile: metricsPath, encoding: .utf8)) ?? "" }
    func has(_ line: String) -> Bool { metrics().contains("\n\(line)\n") }

    /// A session start and its end each reach the file; the counts come from the store, so a
    /// restarted daemon starts from them; a stopped daemon leaves no file behind.
    @Test func aSessionReachesTheFileAndTheCountsOutliveTheDaemon() throws {
        let daemon = try SimulatedDaemon(["--config", configPath], log: directory.file("first.log"))
        #expect(daemon.waitForLog("ready after"))
        #expect(waitUntil { has("jampasir_sessions_total{outcome=\"in_time\"} 0") })
        #expect(has("jampasir_session_running 0") && has("jampasir_session_started_timestamp_seconds 0"))
        #expect(has("jampasir_display_ok 1") && has("jampasir_button_stuck 0"))
        // Readable by node-exporter's own user, whatever the daemon's umask.
        let attributes = try FileManager.default.attributesOfItem(atPath: metricsPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)

        let pressedAt = Date().timeIntervalSince1970
        daemon.press()
        #expect(waitUntil { has("jampasir_session_running 1") })
        let started = try #require(
            metrics().split(separator: "\n").first { $0.hasPrefix("jampasir_session_started_timestamp_seconds ") }
                .flatMap { Double($0.split(separator: " ")[1]) })
        #expect(abs(started - pressedAt) < 5)

        daemon.press()
        #expect(waitUntil { has("jampasir_sessions_total{outcome=\"in_time\"} 1") })
        #expect(has("jampasir_session_running 0") && has("jampasir_session_duration_seconds_count 1"))
        #expect(has("jampasir_session_duration_seconds_bucket{le=\"120\"} 1"))
        #expect(daemon.quit() == 0)
        #expect(!FileManager.default.fileExists(atPath: metricsPath), "a stopped daemon's file is removed")

        let again = try SimulatedDaemon(["--config", configPath], log: directory.file("second.log"))
        #expect(again.waitForLog("ready after"))
        #expect(waitUntil { has("jampasir_sessions_total{outcome=\"in_time\"} 1") })
        #expect(again.quit() == 0)
    }

    /// A path the daemon cannot write is one warning naming the key; the counter goes on.
    @Test func anUnwritablePathIsOneWarningAndTheCounterGoesOn() throws {
        try """
        [store]
        path = "\(directory.file("state/jampasir.sqlite"))"
        [metrics]
        textfile = "/proc/jampasir/metrics.prom"
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let daemon = try SimulatedDaemon(["--config", configPath], log: directory.file("daemon.log"))
        #expect(daemon.waitForLog("ready after"))
        daemon.press()
        #expect(daemon.waitForLog("session 1 started"))
        daemon.press()
        #expect(daemon.waitForLog("session 1 ended"))
        #expect(daemon.quit() == 0)
        let warnings = daemon.log.components(separatedBy: "\n").filter { $0.contains("metrics:") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("/proc/jampasir") == true)
        #expect(warnings.first?.contains("metrics.textfile") == true)
    }

    /// Rewritten only when the text changes: the same state twice leaves the same file (inode).
    @Test func anUnchangedStateIsNotWrittenAgain() throws {
        let store = try SessionStore(path: directory.file("s.sqlite"), access: .readWrite)
        let publisher = MetricsPublisher(
            path: metricsPath, store: store, metrics: CounterMetrics(version: "1", limitMs: 120_000),
            logger: Logger(label: "test"))
        func inode() throws -> UInt64? {
            try FileManager.default.attributesOfItem(atPath: metricsPath)[.systemFileNumber] as? UInt64
        }
        publisher.countStore()
        let first = try inode()
        publisher.countStore()
        publisher.update { $0.buttonStuck = false }
        #expect(try inode() == first)
        publisher.update { $0.buttonStuck = true }
        #expect(try inode() != first)
        #expect(has("jampasir_button_stuck 1"))
        publisher.remove()
        #expect(!FileManager.default.fileExists(atPath: metricsPath))
        // A USB export still finishing after the stop must not bring the file back.
        publisher.countStore()
        publisher.update { $0.buttonStuck = false }
        #expect(!FileManager.default.fileExists(atPath: metricsPath))
    }
}
