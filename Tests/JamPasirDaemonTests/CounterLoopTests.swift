import Foundation
import JamPasirCore
import JamPasirDaemon
import JamPasirDaemonTesting
import JamPasirHardware
import JamPasirPosix
import JamPasirStore
import JamPasirTesting
import Logging
import Testing

/// The real event loop, with a clock moved by hand: no test here sleeps.
@Suite("Daemon event loop")
struct CounterLoopTests {
    @Test func edgesAndWakeupsDriveTheDisplayAndShutdownRecords() async throws {
        let directory = try TemporaryDirectory("loop")
        let rig = try CounterRig(storePath: directory.file("s.sqlite"))
        let (loop, running) = rig.runLoop()
        await eventually("idle frame") { rig.display.text == "2:00" }
        #expect(rig.clock.sleeperCount == 0)  // idle: nothing scheduled, no wake-ups

        rig.clock.advance(to: .seconds(1.1))
        rig.button.press(at: .seconds(1))
        rig.button.release(at: .seconds(1.1))
        await eventually("start beep") { rig.buzzer.patterns.map(\.value) == [.start] }
        await eventually("a wake-up scheduled") { rig.clock.sleeperCount == 1 }

        rig.clock.advance(to: .seconds(2))
        await eventually("the 1:59 frame") { rig.display.text == "1:59" }
        #expect(rig.display.frames.last?.at == .seconds(2))

        rig.clock.advance(to: .seconds(31))
        await eventually("a later frame") { rig.display.text == "1:30" }

        loop.post(.stop)
        await running.value
        await rig.settle()
        let sessions = try rig.store.sessions()
        #expect(sessions.map(\.outcome) == [.interrupted])
        #expect(sessions.first?.durationMs == 30_000)
    }

    @Test func loopEndsWhenTheButtonGoesAway() async throws {
        let directory = try TemporaryDirectory("loop")
        let rig = try CounterRig(storePath: directory.file("s.sqlite"))
        let (_, running) = rig.runLoop()
        rig.button.remove()
        await running.value
        #expect(rig.display.text == "")
    }

    @Test func aNoticePostedFromAnotherThreadShowsWhileIdleAndStopEndsTheLoop() async throws {
        let directory = try TemporaryDirectory("loop")
        let rig = try CounterRig(storePath: directory.file("s.sqlite"))
        let (loop, running) = rig.runLoop()
        await eventually("idle frame") { rig.display.text == "2:00" }
        startThread(named: "jp-test") { loop.post(.notice(DisplayFrame("donE"), sound: .exportDone)) }
        await eventually("the notice") { rig.display.text == "donE" }
        #expect(rig.buzzer.patterns.map(\.value) == [.exportDone])
        loop.post(.stop)
        await running.value
        #expect(rig.display.text == "")
    }
}
