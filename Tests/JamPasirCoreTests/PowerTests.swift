import JamPasirCore
import JamPasirTesting
import PropertyBased
import Testing

@Suite("Power: NUT's readings and when the battery is too low")
struct PowerReadingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var status: String
        var onBattery: Bool?
        var low = false
        var testDescription: String { "ups.status '\(status)'" }
    }

    static let statuses: [Case] = [
        Case(status: "OL", onBattery: false),
        Case(status: "OL CHRG", onBattery: false),
        // Low while the mains is there: the mains carries the Pi, nothing to refuse.
        Case(status: "OL CHRG LB", onBattery: false),
        // Both at once (a driver between two states): on battery, as upsmon takes it.
        Case(status: "OL OB", onBattery: true),
        Case(status: "OL OB LB", onBattery: true, low: true),
        Case(status: "OB DISCHRG", onBattery: true),
        Case(status: "OB LB", onBattery: true, low: true),
        Case(status: "FSD OB LB", onBattery: true, low: true),
        // Forced shutdown alone (upsmon's master set it): as good as low.
        Case(status: "FSD", onBattery: true, low: true),
        Case(status: "WAIT", onBattery: nil),
        Case(status: "", onBattery: nil),
        Case(status: "LB", onBattery: nil),
        Case(status: "OBX", onBattery: nil),
    ]

    @Test(arguments: statuses)
    func status(_ c: Case) {
        let reading = PowerReading(status: c.status)
        #expect(reading?.onBattery == c.onBattery)
        if reading != nil { #expect(reading?.low == c.low) }
    }

    @Test func chargeAndRuntimeAreTakenOnlyWhenTheyAreNumbersInRange() {
        let good = PowerReading(status: "OB", charge: "87.6", runtime: "1234")
        #expect(good?.chargePercent == 87, "rounded down: 19.6 % does not pass a 20 % line")
        #expect(good?.runtime == .seconds(1234))
        for (charge, runtime) in [("abc", "-5"), ("150", "nan"), ("-1", "inf"), ("", "1e12"), ("87%", "12 min")] {
            let reading = PowerReading(status: "OB", charge: charge, runtime: runtime)
            #expect(reading?.chargePercent == nil, "charge '\(charge)'")
            #expect(reading?.runtime == nil, "runtime '\(runtime)'")
        }
    }
}

@Suite("Power rules")
struct PowerRulesTests {
    let rules = PowerRules()  // 600 s of runtime, else 20 % of charge; margins 120 s and 5 %

    func state(runtime: Int? = nil, charge: Int? = nil, onBattery: Bool = true, low: Bool = false, was: PowerState = .mains)
        -> PowerState
    {
        rules.state(
            after: PowerReading(onBattery: onBattery, low: low, chargePercent: charge, runtime: runtime.map { .seconds($0) }),
            was: was)
    }

    @Test func theRuntimeDecidesWhereTheBoardReportsIt() {
        #expect(!state(runtime: 600, charge: 5).refusesSessions, "exactly the minimum is enough, whatever the charge")
        #expect(state(runtime: 599, charge: 90).refusesSessions)
        #expect(state(runtime: 3600) == .battery(PowerReading(onBattery: true, runtime: .seconds(3600))))
    }

    @Test func theChargeDecidesWhereTheBoardReportsNoRuntime() {
        #expect(!state(charge: 20).refusesSessions)
        #expect(state(charge: 19).refusesSessions)
        #expect(!state().refusesSessions, "a board that reports neither: the officer decides")
    }

    @Test func lowBatteryOrForcedShutdownRefusesWhateverTheFigures() {
        #expect(state(runtime: 7200, charge: 100, low: true).refusesSessions)
    }

    @Test func theMainsEndsEveryRefusal() {
        let tooLow = state(runtime: 60)
        #expect(state(runtime: 60, onBattery: false, was: tooLow) == .mains)
    }

    /// A runtime estimate wavering at the line does not flap the counter: once too low, it takes
    /// the margin above the line (or the mains) to serve again.
    @Test func onceTooLowItTakesTheMarginToServeAgain() {
        let tooLow = state(runtime: 590)
        #expect(state(runtime: 610, was: tooLow).refusesSessions)
        #expect(state(runtime: 719, was: tooLow).refusesSessions)
        #expect(!state(runtime: 720, was: tooLow).refusesSessions)
        let lowCharge = state(charge: 19)
        #expect(state(charge: 24, was: lowCharge).refusesSessions)
        #expect(!state(charge: 25, was: lowCharge).refusesSessions)
    }

    @Test func noReadingIsUnknownAndRefusesNothing() {
        let unknown = rules.state(after: nil, failure: "upsd refused the connection", was: state(runtime: 1800))
        #expect(unknown == .unknown(reason: "upsd refused the connection"))
        #expect(!unknown.refusesSessions)
    }

    /// A board whose driver fails as its cells sag: too low stays too low, and the margin holds
    /// when it answers again.
    @Test func tooLowStaysTooLowWhileTheUPSCannotBeRead() {
        let tooLow = state(runtime: 300)
        let unreadable = rules.state(after: nil, failure: "Data stale", was: tooLow)
        #expect(unreadable.refusesSessions)
        #expect(unreadable.reading == tooLow.reading)
        #expect(state(runtime: 650, was: unreadable).refusesSessions, "within the margin")
    }

    @Test func theReasonNamesTheKeyToChange() {
        guard case .tooLow(_, let reason) = state(runtime: 299) else {
            Issue.record("not too low")
            return
        }
        #expect(reason == "4 min left, a session needs 10 min (power.min_runtime_seconds)")
        guard case .tooLow(_, let byCharge) = state(charge: 7) else { return }
        #expect(byCharge.contains("power.min_charge_percent"))
    }
}

@Suite("The counter on a kit's battery")
struct PowerMachineTests {
    static let battery = PowerState.battery(PowerReading(onBattery: true, chargePercent: 87, runtime: .seconds(3000)))
    static let tooLow = PowerState.tooLow(
        PowerReading(onBattery: true, chargePercent: 9, runtime: .seconds(300)), reason: "5 min left")

    @Test func onBatteryTheIdleDisplayIsMarkedAndOneShortToneSounds() {
        var h = EngineHarness()
        h.run([.power(5, Self.battery), .power(15, Self.battery)], until: 20)
        #expect(h.frame(at: 4) == "2:00")
        #expect(h.frame(at: 5) == "b2:00")
        #expect(h.sounds.map(\.pattern) == [.powerWorse], "once, not at every reading")
        #expect(h.sounds.first?.at == .seconds(6), "a second into the idle counter")
        h.run([.power(30, .mains)], until: 31)
        #expect(h.frame(at: 30) == "2:00")
        #expect(h.sounds.count == 1, "back on mains: no tone")
    }

    @Test func tooLowAPressStartsNothingAndSaysWhy() {
        var h = EngineHarness()
        h.run([.power(1, Self.tooLow)] + EngineHarness.Input.tap(3), until: 20)
        #expect(h.starts.isEmpty)
        #expect(h.frame(at: 2) == "bAtt")
        #expect(h.sounds.map(\.pattern) == [.powerWorse, .refused])
        #expect(h.refusals == [Self.tooLow.description])
        #expect(h.refusals.first?.contains("5 min left") == true)
    }

    @Test func tooLowTheCallButtonCallsNobody() {
        var h = EngineHarness()
        h.run([.power(1, Self.tooLow)] + EngineHarness.Input.call(3), until: 20)
        #expect(h.calls.isEmpty)
        #expect(h.refusals.count == 1)
    }

    /// The battery falls too low one minute into a session: the session runs to its end, timed as
    /// ever, with no tone over it; the tone comes once its result has gone, then `bAtt`.
    @Test func aRunningSessionRunsToItsEndAndTheToneWaitsForIdle() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(10) + [.power(70, Self.tooLow)] + EngineHarness.Input.tap(100), until: 120)
        #expect(h.ends.map(\.outcome) == [.inTime])
        #expect(h.ends.first?.duration == .seconds(90))
        let tones = h.sounds.filter { $0.pattern == .powerWorse }
        #expect(tones.count == 1)
        #expect(tones.allSatisfy { $0.at > .seconds(106) && $0.at < .seconds(106.2) }, "a second after the 5 s result hold")
        #expect(h.frame(at: 106) == "bAtt")
        #expect(h.refusals.isEmpty)
    }

    @Test func theMainsBackBeforeTheSessionEndsSoundsNothing() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(10) + [.power(20, Self.battery), .power(30, .mains)] + EngineHarness.Input.tap(40), until: 60)
        #expect(!h.sounds.contains { $0.pattern == .powerWorse })
    }

    @Test func onBatteryTheLongPressShowsTheChargeThird() {
        var h = EngineHarness()
        h.run([.power(1, Self.battery)] + EngineHarness.Input.tap(3, hold: 2.5), until: 20)
        let shown = h.frames.filter { $0.at >= .seconds(5) }.map(\.text)
        #expect(shown == ["n  0", "F  0", "b 87", "b2:00"])
        #expect(h.frames.first { $0.text == "b2:00" && $0.at > .seconds(5) }?.at == .seconds(14))
    }

    /// A UPS whose upsd flaps while the kit is on battery: the tone sounded once, not at every return.
    @Test func anUnreadableUPSBetweenTwoBatteryReadingsSoundsNothingMore() {
        var h = EngineHarness()
        h.run([.power(1, Self.battery), .power(11, .unknown(reason: "upsd down")), .power(21, Self.battery)], until: 30)
        #expect(h.sounds.map(\.pattern) == [.powerWorse])
    }

    /// The battery falls too low while a call waits for the hub: a press then is refused, and the
    /// call's answer is still taken.
    @Test func aRefusedPressLeavesAWaitingCallAlone() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.call(1) + [.power(1.5, Self.tooLow)] + EngineHarness.Input.tap(2) + [.answer(3, .called(ticket: "A-007"))], until: 5)
        #expect(h.refusals.count == 1)
        #expect(h.frame(at: 3) == "A007")
    }

    /// The result hold ends at the very press that starts the next session: the power tone is
    /// not played at the session's first instant, but once it and its result are over.
    @Test func theToneNeverSoundsAtTheStartOfASession() {
        var h = EngineHarness()
        // A session ends at 20.5 (its result held until 25.5); the battery falls meanwhile; the
        // next press is taken at exactly 25.5.
        h.run(
            EngineHarness.Input.tap(10) + [.power(15, Self.battery)] + EngineHarness.Input.tap(20, hold: 0.5)
                + EngineHarness.Input.tap(25, hold: 0.5) + EngineHarness.Input.tap(40), until: 60)
        #expect(h.starts.count == 2)
        let tones = h.sounds.filter { $0.pattern == .powerWorse }.map(\.at)
        #expect(tones.count == 1)
        #expect(tones.allSatisfy { $0 > .seconds(46) }, "a second after the second session's result: \(tones)")
    }

    @Test func anUnknownPowerChangesNothingForTheOfficer() {
        var h = EngineHarness()
        h.run([.power(1, .unknown(reason: "upsd down"))] + EngineHarness.Input.tap(3) + EngineHarness.Input.tap(30), until: 40)
        #expect(h.starts.count == 1)
        #expect(h.sounds.allSatisfy { $0.pattern != .powerWorse })
        #expect(h.frame(at: 2) == "2:00")
    }

    /// Whatever the edges and whenever the battery falls too low (and the mains comes back): no
    /// session starts while too low, every session ends as it would have on mains, and the power
    /// tone never sounds while a session is open.
    @Test func tooLowNeverStartsNorEndsASession() async {
        let rules = ServiceRules()
        await propertyCheck(count: propertyCases(200), input: zip(EnginePropertyTests.steps, Gen.int(in: 0...160), Gen.int(in: 0...160))) {
            steps, lowAt, mainsAt in
            let edges = EnginePropertyTests.edges(steps)
            let onMains = EnginePropertyTests.run(edges, rules: rules)
            var engine = CounterEngine(rules: rules)
            var open = false
            var tooLow = false
            var ends: [SessionEnd] = []
            var startedBeforeLow: Int?
            func take(_ actions: [Action]) {
                for action in actions {
                    switch action {
                    case .record(.started):
                        #expect(!tooLow, "a session started on a battery too low")
                        open = true
                    case .record(.ended(let end)):
                        ends.append(end)
                        open = false
                    case .sound(.powerWorse):
                        #expect(!open, "the power tone over a session")
                    default:
                        break
                    }
                }
            }
            take(engine.start(at: .seconds(0)))
            for (index, edge) in edges.enumerated() {
                engine.run(until: edge.at) { take($1) }
                if index == lowAt {
                    tooLow = true
                    startedBeforeLow = ends.count + (open ? 1 : 0)
                    take(engine.setPower(Self.tooLow, at: edge.at))
                }
                if index == mainsAt, tooLow {
                    tooLow = false
                    take(engine.setPower(.mains, at: edge.at))
                }
                take(engine.edge(edge))
            }
            let end = (edges.last?.at ?? .seconds(1)) + rules.limit + .seconds(40)
            engine.run(until: end) { take($1) }
            take(engine.shutdown(at: end))
            // Until the battery fell, the same sessions; the one open then ends as on mains.
            let before = onMains.prefix(startedBeforeLow ?? onMains.count)
            #expect(Array(ends.prefix(before.count)) == before.compactMap(\.end))
        }
    }
}
