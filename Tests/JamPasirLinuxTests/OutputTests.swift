import Foundation
import JamPasirCore
import JamPasirLinux
import JamPasirTesting
import Logging
import Synchronization
import Testing

@Suite("PWM passive buzzer through sysfs")
struct PWMChannelTests {
    /// A sysfs-like tree: pwmchip0 with its export file; the "kernel" (this test) makes pwm0.
    func tree() throws -> TemporaryDirectory {
        let root = try TemporaryDirectory("pwm")
        try FileManager.default.createDirectory(atPath: root.file("pwmchip0/pwm1"), withIntermediateDirectories: true)
        for file in ["pwmchip0/export", "pwmchip0/pwm1/period", "pwmchip0/pwm1/duty_cycle", "pwmchip0/pwm1/enable"] {
            #expect(FileManager.default.createFile(atPath: root.file(file), contents: Data()))
        }
        return root
    }

    func read(_ root: TemporaryDirectory, _ file: String) throws -> String {
        try String(contentsOfFile: root.file(file), encoding: .utf8)
    }

    @Test func setsPeriodAndHalfDutyThenSwitchesEnable() throws {
        let root = try tree()
        let channel = try PWMChannel(chip: 0, channel: 1, frequency: 2500, root: root.path)
        #expect(try read(root, "pwmchip0/pwm1/period") == "400000")
        #expect(try read(root, "pwmchip0/pwm1/duty_cycle") == "200000")
        try channel.set(true)
        #expect(try read(root, "pwmchip0/pwm1/enable") == "1")
        try channel.set(false)
        #expect(try read(root, "pwmchip0/pwm1/enable") == "0")
        #expect(try read(root, "pwmchip0/export") == "")  // already exported: not exported again
    }

    @Test func missingChipNamesTheKey() throws {
        let root = try TemporaryDirectory("pwm")
        #expect(throws: PWMChannel.Failure.self) {
            try PWMChannel(chip: 3, channel: 0, frequency: 2700, root: root.path)
        }
        do {
            _ = try PWMChannel(chip: 3, channel: 0, frequency: 2700, root: root.path)
        } catch {
            #expect(error.description.contains("(buzzer.pwm_chip)"))
        }
    }
}

final class FlakySwitch: Switch, Sendable {
    let values = Mutex<[Bool]>([])
    let failNext = Mutex(false)
    struct Gone: Error {}
    func set(_ on: Bool) throws {
        let fail = failNext.withLock { fail in
            defer { fail = false }
            return fail
        }
        if fail { throw Gone() }
        values.withLock { $0.append(on) }
    }
}

@Suite("Switched outputs")
struct SwitchedOutputTests {
    @Test func reopensAfterAFailureOnlyAfterTheBackoff() {
        let device = FlakySwitch()
        let opens = Mutex(0)
        let output = SwitchedOutput(key: "lights.red_line", logger: Logger(label: "test")) { _ in
            opens.withLock { $0 += 1 }
            return device
        }
        output.set(true, now: .seconds(0))
        device.failNext.withLock { $0 = true }
        output.set(false, now: .seconds(1))  // fails: dropped, retry in 1 s
        output.set(true, now: .seconds(1.5))  // too early: nothing
        output.set(true, now: .seconds(2.0))  // reopened
        #expect(opens.withLock { $0 } == 2)
        #expect(device.values.withLock { $0 } == [true, true])
    }
}

/// A switch that notes the clock's instant of every change.
final class ClockedSwitch: Switch, Sendable {
    let clock: ManualClock
    let changes = Mutex<[String]>([])
    init(clock: ManualClock) { self.clock = clock }
    func set(_ on: Bool) throws {
        let at = clock.now().nanoseconds / 1_000_000
        changes.withLock { $0.append("\(on ? "on" : "off")@\(at)") }
    }
}

@Suite("Buzzer patterns on the counter's one clock")
struct PatternBuzzerTests {
    @Test func eachToneEndsAtItsInstantAndANewPatternReplacesTheOld() async {
        let clock = ManualClock(now: .seconds(0))
        let device = ClockedSwitch(clock: clock)
        let output = SwitchedOutput(key: "buzzer.line", logger: Logger(label: "test")) { _ in device }
        let buzzer = PatternBuzzer(output, clock: clock)
        buzzer.play(.warning)  // 60 ms on, 90 off, 60 on
        var expected = ["on@0"]
        await eventually("first tone on") { device.changes.withLock { $0 } == expected }
        for (at, change) in [(60, "off@60"), (150, "on@150"), (210, "off@210")] {
            await eventually("sleeping until \(at) ms") { clock.sleeperCount == 1 }
            clock.advance(to: .seconds(Double(at) / 1000 - 0.001))  // not yet
            #expect(device.changes.withLock { $0 } == expected)
            clock.advance(to: .seconds(Double(at) / 1000))
            expected.append(change)
            await eventually(change) { device.changes.withLock { $0.starts(with: expected) } }
        }
        #expect(device.changes.withLock { $0 } == ["on@0", "off@60", "on@150", "off@210"])

        clock.advance(to: .seconds(1))
        buzzer.play(.limitReached)  // 1,200 ms
        await eventually("long tone on") { clock.sleeperCount == 1 }
        buzzer.play(.start)  // replaces it at once
        await eventually("the long tone cut short, then the new one") {
            device.changes.withLock { Array($0.suffix(3)) } == ["on@1000", "off@1000", "on@1000"]
        }
        clock.advance(to: .seconds(1.08))
        await eventually("start beep ends at 80 ms") { device.changes.withLock { $0.last } == "off@1080" }

        buzzer.play(.limitReached)
        await eventually("long tone on again") { clock.sleeperCount == 1 }
        buzzer.silence()  // returns once the buzzer's thread has switched it off
        #expect(device.changes.withLock { Array($0.suffix(2)) } == ["on@1080", "off@1080"])
    }
}
