import JamPasirCore
import JamPasirDaemon
import JamPasirDaemonTesting
import JamPasirHardware
import JamPasirTesting
import Synchronization
import Testing

/// A UPS whose readings the test sets; `nil` fails the read.
final class ScriptedUPS: PowerSource {
    let next = Mutex<PowerReading?>(nil)
    let reads = Mutex(0)

    func read() throws(PowerSourceError) -> PowerReading {
        reads.withLock { $0 += 1 }
        guard let reading = next.withLock({ $0 }) else { throw PowerSourceError("upsd refused the connection") }
        return reading
    }
}

@Suite("Power watch: the UPS read on a thread of its own, its changes posted")
struct PowerWatchTests {
    static func onBattery(runtime: Int, charge: Int = 80) -> PowerReading {
        PowerReading(onBattery: true, chargePercent: charge, runtime: .seconds(runtime))
    }

    @Test func postsWhatTellsSomethingNewAndNothingElse() {
        let ups = ScriptedUPS()
        let posted = Mutex<[PowerState]>([])
        let watch = PowerWatch(source: ups, rules: PowerRules(), clock: ManualClock(), post: { s in posted.withLock { $0.append(s) } })
        let readings: [PowerReading?] = [
            PowerReading(onBattery: false),  // mains
            PowerReading(onBattery: false),  // the same: nothing
            Self.onBattery(runtime: 3000),  // battery
            Self.onBattery(runtime: 2970),  // runtime within a minute: nothing
            Self.onBattery(runtime: 2900),  // a minute or more: posted
            Self.onBattery(runtime: 2900, charge: 79),  // the charge: posted
            Self.onBattery(runtime: 500, charge: 15),  // too low
            Self.onBattery(runtime: 650, charge: 16),  // above the line, within the margin: still too low, but new figures
            nil,  // unreadable: still too low, and says why
            nil,  // the same failure: nothing
            PowerReading(onBattery: false),  // mains
            nil,  // unreadable: unknown
        ]
        for reading in readings {
            ups.next.withLock { $0 = reading }
            watch.poll()
        }
        let states = posted.withLock { $0 }
        #expect(states.map(\.severity) == [0, 1, 1, 1, 2, 2, 2, 0, 0])
        #expect(states.first == .mains)
        #expect(states[4].refusesSessions && states[5].refusesSessions)
        #expect(states[6].description.contains("the UPS cannot be read (upsd refused the connection); its last reading was too low"))
        #expect(states.last == .unknown(reason: "upsd refused the connection"))
    }

    /// The watch reads at once, then every interval of its clock; after `stop()` nothing is read
    /// or posted, and the counter shows what was posted.
    @Test func readsEveryIntervalOnItsOwnThreadUntilStopped() async throws {
        let ups = ScriptedUPS()
        ups.next.withLock { $0 = Self.onBattery(runtime: 3000) }
        let directory = try TemporaryDirectory("power")
        let rig = try CounterRig(storePath: directory.file("s.sqlite"))
        await rig.start()
        let (loop, running) = rig.runLoop()
        let clock = ManualClock()
        let watch = PowerWatch(source: ups, rules: PowerRules(), clock: clock, interval: .seconds(10), post: { loop.post(.power($0)) })
        watch.start()
        await eventually("the first reading, shown") { SegmentDecoder.text(rig.display.frames.last!.value) == "b2:00" }
        await eventually("the watch sleeps until its next reading") { clock.sleeperCount == 1 }
        #expect(ups.reads.withLock { $0 } == 1)
        ups.next.withLock { $0 = Self.onBattery(runtime: 100, charge: 5) }
        clock.advance(by: .seconds(10))
        await eventually("the second reading, too low") { SegmentDecoder.text(rig.display.frames.last!.value) == "bAtt" }
        await eventually("asleep again") { clock.sleeperCount == 1 }
        watch.stop()
        await eventually("the thread has ended") { clock.sleeperCount == 0 }
        let reads = ups.reads.withLock { $0 }
        clock.advance(by: .seconds(60))
        #expect(ups.reads.withLock { $0 } == reads)
        loop.post(.stop)
        await running.value
    }
}
