import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirDaemonTesting
import JamPasirTesting
import Testing

/// The README's table "What the counter does", executed row by row (keyd's `.t` files in
/// spirit): each row's moment is played on the daemon's wiring in virtual time, and what the row
/// says of the display (every `quoted` reading, in order, dimmed or bright), the buzzer (beeps
/// and tones, by the patterns' lengths) and the lights (the colour named first) is read back from
/// the fakes. A row changed in the README without the counter, or the counter without the row,
/// fails here.
@Suite("README: what the counter does, row by row")
struct RulesTableTests {
    struct Row: CustomStringConvertible, Sendable {
        var moment, display, buzzer, lights: String
        var description: String { moment }
    }

    /// A moment played on a fresh counter: the window of virtual seconds the row speaks of.
    typealias Scenario = @Sendable (CounterRig) async -> ClosedRange<Double>

    static let scenarios: [String: Scenario] = [
        "idle": { rig in
            await rig.run(until: 1)
            return 0...1
        },
        "press: documents complete, session starts": { rig in
            await rig.tap(at: 1)
            await rig.run(until: 3.5)
            return 1...3.5
        },
        "0:30 and 0:10 remaining": { rig in
            await rig.tap(at: 1)
            await rig.run(until: 115)
            return 90.5...115
        },
        "limit passes (after exactly 120.000 s)": { rig in
            await rig.tap(at: 1)
            await rig.run(until: 123.5)
            return 120.5...123.5
        },
        "press: passport handed over in time": { rig in
            await rig.tap(at: 1)
            await rig.tap(at: 84)  // 83 s taken: 37 s were left
            await rig.run(until: 88)
            return 84...88
        },
        "press: handed over after the limit": { rig in
            await rig.tap(at: 1)
            await rig.tap(at: 130)
            await rig.run(until: 134)
            return 130...134
        },
        "hold ≥ 2 s while running: cancelled": { rig in
            await rig.tap(at: 1)
            await rig.tap(at: 10, hold: 2.5)
            await rig.run(until: 16)
            return 10...16
        },
        "button held > 30 s (stuck)": { rig in
            await rig.edge(.pressed, at: 1)
            await rig.run(until: 40)
            return 30.5...40
        },
        "long press while idle (supervisor)": { rig in
            // Today: 37 sessions, 2 of them over the limit (free).
            var at = 1.0
            for session in 0..<37 {
                await rig.tap(at: at)
                at += session < 2 ? 125 : 20
                await rig.tap(at: at)
                at += 10
            }
            await rig.settle()  // the figures come from the store
            await rig.tap(at: at, hold: 2.5)
            await rig.run(until: at + 8)
            return at...(at + 8)
        },
        "call button while idle: the hub calls ticket A-037 here": { rig in
            await rig.tap(at: 1, button: .call)
            await rig.answerCall(.called(ticket: "A-037"), at: 1.3)
            await rig.run(until: 7)
            return 1...7
        },
        "call button: nobody waiting": { rig in
            await rig.tap(at: 1, button: .call)
            await rig.answerCall(.nobodyWaiting, at: 1.3)
            await rig.run(until: 7)
            return 1...7
        },
        "call button: the hub does not answer": { rig in
            await rig.tap(at: 1, button: .call)
            await rig.answerCall(.unreachable, at: 4.1)
            await rig.run(until: 10)
            return 1...10
        },
        "a kit's UPS goes on battery (`power.ups`)": { rig in
            await rig.power(.battery(PowerReading(onBattery: true, chargePercent: 87)), at: 1)
            await rig.run(until: 3)
            return 1...3
        },
        "battery below `power.min_runtime_seconds`: press": { rig in
            let reading = PowerReading(onBattery: true, chargePercent: 12, runtime: .seconds(420))
            await rig.power(.tooLow(reading, reason: "test"), at: 1)
            await rig.tap(at: 3)
            await rig.run(until: 9)
            return 3...9
        },
        "long press while idle on battery": { rig in
            await rig.power(.battery(PowerReading(onBattery: true, chargePercent: 87)), at: 1)
            await rig.tap(at: 3, hold: 2.5)
            await rig.run(until: 15)
            return 5...15
        },
    ]

    static func readmeRows() throws -> [Row] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let lines = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        guard let heading = lines.firstIndex(of: "## What the counter does") else { return [] }
        let table = lines[heading...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2)
        return table.map { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return Row(moment: cells[0], display: cells[1], buzzer: cells[2], lights: cells[3])
        }
    }

    @Test func everyRowHasItsScenarioAndEveryScenarioItsRow() throws {
        let moments = try Self.readmeRows().map(\.moment)
        #expect(moments.count == 15)
        #expect(Set(moments) == Set(Self.scenarios.keys))
    }

    @Test(arguments: try RulesTableTests.readmeRows())
    func theCounterDoesWhatTheRowSays(_ row: Row) async throws {
        let scenario = try #require(Self.scenarios[row.moment], "no scenario for the README row '\(row.moment)'")
        let directory = try TemporaryDirectory("rules")
        let rig = try CounterRig(storePath: directory.file("s.sqlite"))
        await rig.start()
        let window = await scenario(rig)
        let inWindow = { (at: MonotonicInstant) in window.contains(Double(at.nanoseconds) / 1e9) }

        // Display: the quoted readings, in this order, among the frames shown in the window.
        let frames = rig.display.frames.filter { inWindow($0.at) }
        let readings = row.display.matches(of: /`([^`]+)`/).map { String($0.1) }
        var shown = frames.map { SegmentDecoder.text($0.value) }[...]
        for reading in readings {
            let found = shown.firstIndex(of: reading)
            #expect(found != nil, "\(row): '\(reading)' not shown; shown: \(frames.map { SegmentDecoder.text($0.value) })")
            if let found { shown = shown[(found + 1)...] }
        }
        let levels = BrightnessLevels()
        if row.display.contains("dimmed") { #expect(frames.allSatisfy { $0.value.brightness == levels.idle }) }
        if row.display.contains("bright") { #expect(frames.allSatisfy { $0.value.brightness == levels.active }) }

        // Buzzer: what the words say of every pattern played in the window.
        let patterns = rig.buzzer.patterns.filter { inWindow($0.at) }.map(\.value)
        if row.buzzer == "—" {
            #expect(patterns.isEmpty, "\(row): played \(patterns)")
        } else {
            let heard = try #require(Self.sounds[row.buzzer], "\(row): no meaning for the buzzer words '\(row.buzzer)'")
            #expect(!patterns.isEmpty && patterns.allSatisfy { heard($0.tones) }, "\(row): played \(patterns)")
        }

        // Lights: the colour named first is the one lit at the end of the window.
        let end = MonotonicInstant.seconds(window.upperBound)
        let last = try #require(rig.lights.history.last { $0.at <= end }?.value, "\(row): no light state")
        let colour = try #require(row.lights.matches(of: /green|amber|red/).first.map { String($0.0) })
        #expect([("green", last.green), ("amber", last.amber), ("red", last.red)].filter(\.1).map(\.0) == [colour], "\(row): \(last)")
        if row.lights.contains("sand bar full") {
            // Full on the bar, which shows the fraction rounded to its LEDs.
            #expect((rig.lights.history.first { inWindow($0.at) }?.value.sand ?? 0) > 0.99, "\(row)")
        }
    }

    /// The buzzer column's words, as lengths of the core's patterns.
    static let sounds: [String: @Sendable ([SoundPattern.Tone]) -> Bool] = [
        "short beep": { $0.count == 1 && $0[0].on <= .milliseconds(100) },
        "two short beeps": { $0.count == 2 && $0.allSatisfy { $0.on <= .milliseconds(100) } },
        "long tone": { $0.count == 1 && $0[0].on >= .seconds(1) },
        "two long beeps": { $0.count == 2 && $0.allSatisfy { $0.on >= .milliseconds(200) } },
        "three beeps": { $0.count == 3 },
        "two clicks, once the counter is idle": { $0.count == 2 && $0.allSatisfy { $0.on <= .milliseconds(50) } },
        "one long beep": { $0.count == 1 && (Duration.milliseconds(500)..<Duration.seconds(1)).contains($0[0].on) },
    ]
}
