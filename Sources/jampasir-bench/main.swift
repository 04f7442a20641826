import CJamPasirSystem
import Foundation
import JamPasirCore
import JamPasirDaemon
import JamPasirHardware
import JamPasirStore
import JamPasirDaemonTesting
import JamPasirTesting
import Logging

// jampasir-bench: the in-process benchmarks `make bench` runs (scripts/bench.sh runs the
// process-level ones). Each prints one line: name, figures, and the anchor where there is one.
//
//   jampasir-bench commit-latency DIR [N]     store commits (begin + finish, synchronous=FULL)
//   jampasir-bench edge-to-frame [N]          button edge → frame at the display (fake), real clock
//   jampasir-bench frame-timing [SECONDS]     countdown frames against their ideal instants, real clock
//   jampasir-bench memory DIR [SESSIONS]      RSS of the daemon's wiring idle and after N sessions

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
}

func milliseconds(_ ns: Int64) -> Double { Double(ns) / 1e6 }
func format(_ ms: Double) -> String { String(format: "%.3f ms", ms) }

/// Records when each frame reaches the display, on CLOCK_MONOTONIC.
final class TimingDisplay: SegmentDisplay, @unchecked Sendable {
    private let lock = NSLock()
    private var stamps: [(Int64, SegmentFrame)] = []
    func show(_ segments: SegmentFrame) throws {
        let now = jp_monotonic_ns()
        lock.withLock { stamps.append((now, segments)) }
    }
    var frames: [(Int64, SegmentFrame)] { lock.withLock { stamps } }
}

struct Silent: Buzzer, IndicatorLights {
    func play(_ pattern: SoundPattern) {}
    func silence() {}
    func set(_ state: LightState) {}
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let logger = Logger(label: "jampasir-bench")
/// The loop's priority as the daemon asks for it (SCHED_FIFO, granted to root and under the
/// unit's LimitRTPRIO); `JAMPASIR_BENCH_PRIORITY=ordinary` measures without it.
let loopPriority: Int32? =
    ProcessInfo.processInfo.environment["JAMPASIR_BENCH_PRIORITY"] == "ordinary" ? nil : Daemon.realTimePriority
var arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.isEmpty ? "" : arguments.removeFirst()

func wiring(storePath: String, display: any SegmentDisplay, clock: any MonotonicClock) throws -> (
    CounterController, SessionRecorder
) {
    let store = try SessionStore(path: storePath, access: .readWrite)
    let recorder = SessionRecorder(store: store, counterID: "bench", bootID: "bench", logger: logger)
    let controller = CounterController(
        rules: ServiceRules(),
        hardware: CounterHardware(button: FakeButton(), display: display, buzzer: Silent(), lights: Silent()),
        recorder: recorder, clock: clock, wallClock: SystemWallClock(), logger: logger)
    return (controller, recorder)
}

switch command {
case "commit-latency":
    let directory = arguments.first ?? NSTemporaryDirectory()
    let count = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
    let store = try SessionStore(path: directory + "/commit-bench.sqlite", access: .readWrite)
    var latencies: [Double] = []
    for index in 0..<count {
        let started = jp_monotonic_ns()
        let id = try store.begin(
            SessionRecord(
                counterID: "bench", bootID: "bench", startedAt: Date(), startedMonotonicNs: Int64(index),
                clockSynchronized: true, limitMs: 120_000))
        latencies.append(milliseconds(jp_monotonic_ns() - started))
        let finishing = jp_monotonic_ns()
        try store.finish(
            id: id, endedAt: Date(), durationMs: 60_000, outcome: .inTime, freeService: false, edges: "P1 R2 P3 R4")
        latencies.append(milliseconds(jp_monotonic_ns() - finishing))
    }
    print(
        "commit-latency: \(latencies.count) commits (synchronous=FULL, WAL): median \(format(percentile(latencies, 50))), p99 \(format(percentile(latencies, 99))), max \(format(latencies.max() ?? 0))"
    )

case "edge-to-frame":
    // Through the daemon's event loop on its own thread, as a button's thread reports edges.
    let count = Int(arguments.first ?? "") ?? 500
    let directory = NSTemporaryDirectory() + "/jampasir-bench-\(getpid())"
    let display = TimingDisplay()
    let clock = SystemMonotonicClock()
    let (controller, recorder) = try wiring(storePath: directory + "/s.sqlite", display: display, clock: clock)
    let button = FakeButton()
    let loop = CounterLoop()
    let running = Task {
        await loop.runOnOwnThread(
            controller: controller, button: button, clock: clock, logger: logger, realTimePriority: loopPriority)
    }
    try await Task.sleep(for: .milliseconds(200))
    var latencies: [Double] = []
    var firstUse = Double.nan
    for index in 0...count {
        // A press and release 100 ms apart (the press is decided at release): the frame that
        // answers it must follow the release edge's timestamp.
        button.press(at: MonotonicInstant(nanoseconds: jp_monotonic_ns()))
        try await Task.sleep(for: .milliseconds(100))  // a press, not contact bounce
        let before = display.frames.count
        let up = jp_monotonic_ns()
        button.release(at: MonotonicInstant(nanoseconds: up))
        try await Task.sleep(for: .milliseconds(1100))  // past the re-arm guard
        guard let frame = display.frames.dropFirst(before).first else { continue }
        // The first edge also pays for first use (the code's pages faulted in): reported apart.
        if index == 0 { firstUse = milliseconds(frame.0 - up) } else { latencies.append(milliseconds(frame.0 - up)) }
    }
    button.remove()
    await running.value
    recorder.flush()
    print(
        "edge-to-frame (button thread → event loop → fake display, this machine): \(latencies.count) edges: median \(format(percentile(latencies, 50))), p99 \(format(percentile(latencies, 99))), max \(format(latencies.max() ?? .nan)); first edge \(format(firstUse)) (target p99 ≤ 1 ms)"
    )
    try? FileManager.default.removeItem(atPath: directory)

case "frame-timing":
    let seconds = Int(arguments.first ?? "") ?? 120
    let directory = NSTemporaryDirectory() + "/jampasir-bench-\(getpid())"
    let display = TimingDisplay()
    let clock = SystemMonotonicClock()
    let (controller, recorder) = try wiring(storePath: directory + "/s.sqlite", display: display, clock: clock)
    let button = FakeButton()
    let loop = CounterLoop()
    let running = Task {
        await loop.runOnOwnThread(
            controller: controller, button: button, clock: clock, logger: logger, realTimePriority: loopPriority)
    }
    try await Task.sleep(for: .milliseconds(200))
    let start = jp_monotonic_ns()
    button.press(at: MonotonicInstant(nanoseconds: start))
    button.release(at: MonotonicInstant(nanoseconds: start + 100_000_000))
    try await Task.sleep(for: .seconds(seconds + 2))
    button.remove()
    await running.value
    recorder.flush()
    // The countdown frame for "k seconds elapsed" is due at start + k s (2:00 shows for the
    // first second; the display changes on whole seconds from the press).
    var errors: [Double] = []
    for (at, _) in display.frames where at > start + 150_000_000 && at < start + Int64(seconds) * 1_000_000_000 {
        let elapsed = Double(at - start) / 1e9
        errors.append(abs(elapsed - elapsed.rounded()) * 1000)
    }
    print(
        "frame-timing (real clock, \(seconds) s countdown): \(errors.count) frames, lateness median \(format(percentile(errors, 50))), p90 \(format(percentile(errors, 90))), worst \(format(errors.max() ?? .nan)), \(errors.filter { $0 > 1 }.count) over 1 ms (target ≤ 1 ms)"
    )
    try? FileManager.default.removeItem(atPath: directory)

case "memory":
    let directory = arguments.first ?? NSTemporaryDirectory()
    let sessions = arguments.count > 1 ? Int(arguments[1]) ?? 10_000 : 10_000
    let idle = Soak.residentKiB()
    let report = try await Soak.run(
        sessions: sessions, storePath: directory + "/memory-bench.sqlite", sampleEvery: max(1, sessions / 10))
    print("memory samples: " + report.samples.map(\.description).joined(separator: "; "))
    print(
        "memory (daemon wiring, fake hardware): RSS idle \(idle / 1024) MiB, after \(sessions) sessions \((report.samples.last?.residentKiB ?? 0) / 1024) MiB, fds \(report.samples.first?.openFiles ?? 0) → \(report.samples.last?.openFiles ?? 0), store \(report.storeBytes / Int64(max(1, sessions))) bytes/session"
    )

default:
    FileHandle.standardError.write(
        Data("usage: jampasir-bench commit-latency|edge-to-frame|frame-timing|memory …\n".utf8))
    exit(64)
}
