import JamPasirCore
import Testing

@Suite("Session outcomes from timed presses")
struct SessionOutcomeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var stopPressAt: Double
        var hold: Double = 0.1
        var outcome: Outcome
        var free: Bool
        var durationNs: Int64
        var resultFrame: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "in time at 1:00", stopPressAt: 60, outcome: .inTime, free: false, durationNs: 60_000_000_000,
            resultFrame: "1:00"),
        Case(
            name: "exactly 120.000 s is in time", stopPressAt: 120, outcome: .inTime, free: false,
            durationNs: 120_000_000_000, resultFrame: "0:00"),
        Case(
            name: "120.001 s is overtime", stopPressAt: 120.001, outcome: .overtime, free: true,
            durationNs: 120_001_000_000, resultFrame: "FrEE"),
        Case(
            name: "stop pressed at 119.9 and released after the limit is in time", stopPressAt: 119.9, hold: 0.5,
            outcome: .inTime, free: false, durationNs: 119_900_000_000, resultFrame: "0:01"),
        Case(
            name: "cancel before the limit", stopPressAt: 50, hold: 2.5, outcome: .cancelled, free: false,
            durationNs: 50_000_000_000, resultFrame: "----"),
        Case(
            name: "cancel after the limit", stopPressAt: 130, hold: 3, outcome: .cancelled, free: false,
            durationNs: 130_000_000_000, resultFrame: "----"),
        Case(
            name: "a 1.99 s hold is a stop, not a cancel", stopPressAt: 30, hold: 1.99, outcome: .inTime, free: false,
            durationNs: 30_000_000_000, resultFrame: "1:30"),
    ]

    @Test(arguments: cases)
    func outcome(of c: Case) {
        var h = EngineHarness()
        h.run(
            EngineHarness.Input.tap(10) + EngineHarness.Input.tap(10 + c.stopPressAt, hold: c.hold),
            until: 10 + c.stopPressAt + 10)
        #expect(h.starts == [.seconds(10)])
        #expect(h.ends.count == 1)
        let end = h.ends[0]
        #expect(end.outcome == c.outcome)
        #expect(end.freeService == c.free)
        #expect(end.duration.nanoseconds == c.durationNs)
        #expect(end.endedAfterLimit == (c.durationNs > 120_000_000_000))
        #expect(h.frame(at: 10 + c.stopPressAt + c.hold) == c.resultFrame)
        let lastSound = h.sounds.last { $0.at <= .seconds(10 + c.stopPressAt + c.hold) }?.pattern
        #expect(lastSound == (c.outcome == .cancelled ? .cancel : .stop))
    }

    @Test func resultHoldsFiveSecondsThenIdle() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(0) + EngineHarness.Input.tap(121), until: 140)
        let stopRecognised = MonotonicInstant.seconds(121.1)
        #expect(h.frames.last?.text == "2:00")
        #expect(h.frames.last?.at == stopRecognised + .seconds(5))
        #expect(h.frame(at: 126.0) == "FrEE")
    }

    @Test func doublePressWithinRearmGuardIsIgnored() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(0) + EngineHarness.Input.tap(40) + EngineHarness.Input.tap(40.6), until: 50)
        #expect(h.starts == [.seconds(0)])
        #expect(h.ends.map(\.outcome) == [.inTime])
    }

    @Test func pressDuringResultHoldStartsNextSession() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(0) + EngineHarness.Input.tap(40) + EngineHarness.Input.tap(42), until: 45)
        #expect(h.starts == [.seconds(0), .seconds(42)])
        #expect(h.frame(at: 42.2) == "2:00")
        #expect(h.frame(at: 43.0) == "1:59")
    }

    @Test func longPressWhileIdleDoesNothing() {
        var h = EngineHarness()
        h.run([.down(5), .up(8)], until: 20)
        #expect(h.starts.isEmpty)
        #expect(h.sounds.isEmpty)
    }
}

@Suite("Countdown, warnings and the limit")
struct CountdownTests {
    @Test func warningBeepsAndLongToneAtTheirInstants() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(100), until: 240)
        let timeline = h.sounds.map { ($0.at, $0.pattern) }
        #expect(timeline.map(\.1) == [.start, .warning, .warning, .limitReached])
        let limitReached = MonotonicInstant.seconds(220) + Duration.nanoseconds(1)
        #expect(timeline.map(\.0) == [.seconds(100.1), .seconds(190), .seconds(210), limitReached])
    }

    @Test func framesChangeOnWholeSecondsFromThePress() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(7.25), until: 7.25 + 127.5)
        #expect(h.frame(at: 7.35) == "2:00")
        #expect(h.frame(at: 8.2499) == "2:00")
        #expect(h.frame(at: 8.25) == "1:59")
        #expect(h.frame(at: 7.25 + 119.5) == "0:01")
        #expect(h.frame(at: 7.25 + 120) == "0:00")
        #expect(h.frame(at: 7.25 + 120.001) == "-0:00")
        #expect(h.frame(at: 7.25 + 127) == "-0:07")
        // One frame per displayed second: 2:00 ... 0:00 is 121 frames, then -0:00 ... -0:07.
        let countdown = h.frames.filter { $0.at > .seconds(7.25) }
        #expect(countdown.count == 121 + 8)
        #expect(Set(countdown.map(\.text)).count == countdown.count)
    }

    @Test func idleFrameIsTheLimitDimmed() {
        var rules = ServiceRules()
        rules.limit = .seconds(2)
        var machine = SessionMachine(rules: rules)
        #expect(machine.start(at: .seconds(0)) == [.show(DisplayFrame("0:02", brightness: .dim)), .light(.ready)])
    }

    @Test func warningsNotBelowTheLimitNeverSound() {
        var rules = ServiceRules()
        rules.limit = .seconds(20)
        var h = EngineHarness(rules: rules)
        h.run(EngineHarness.Input.tap(0), until: 30)
        #expect(h.sounds.map(\.pattern) == [.start, .warning, .limitReached])
        #expect(h.sounds[1].at == .seconds(10))
    }

    @Test func lightsGoAmberAtTheFirstWarningAndRedOverTime() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(0), until: 125)
        let lights = h.log.compactMap { if case .light(let l) = $0.action { ($0.at, l) } else { nil } }
        let firstAmber = lights.first { $0.1.amber }
        let firstRed = lights.first { $0.1.red }
        #expect(firstAmber?.0 == .seconds(90))
        #expect(firstRed?.0 == .seconds(120) + .nanoseconds(1))
        #expect((lights.first { $0.1.green && $0.0 > .zeroInstant }?.1.sand ?? 0) > 0.999)
    }

    @Test func shutdownWhileRunningRecordsInterrupted() {
        var engine = CounterEngine(rules: ServiceRules())
        _ = engine.start(at: .seconds(0))
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(1)))
        _ = engine.edge(ButtonEdge(.released, at: .seconds(1.1)))
        let actions = engine.shutdown(at: .seconds(31))
        let end = actions.compactMap { if case .record(.ended(let e)) = $0 { e } else { nil } }.first
        #expect(end?.outcome == .interrupted)
        #expect(end?.duration == .seconds(30))
        #expect(end?.freeService == true)
        #expect(actions.contains(.show(.blank)))
    }
}

extension MonotonicInstant {
    static let zeroInstant = MonotonicInstant(nanoseconds: 0)
}

@Suite("Supervisor notices (USB export) never disturb a session")
struct NoticeTests {
    var engine = CounterEngine(rules: ServiceRules())
    let done = DisplayFrame("donE")

    @Test mutating func shownAndSoundedWhileIdleThenCleared() {
        _ = engine.start(at: .seconds(0))
        #expect(engine.setNotice(done, sound: .exportDone, at: .seconds(1)) == [.sound(.exportDone), .show(done)])
        #expect(engine.setNotice(nil, at: .seconds(2)) == [.show(DisplayFrame("2:00", brightness: .dim))])
    }

    @Test mutating func waitsSilentlyUntilTheSessionAndItsResultAreOver() {
        _ = engine.start(at: .seconds(0))
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(1)))
        _ = engine.edge(ButtonEdge(.released, at: .seconds(1.1)))
        _ = engine.advance(to: .seconds(10.5))
        // Mid-session: no sound, no frame; the countdown goes on as before.
        #expect(engine.setNotice(done, sound: .exportDone, at: .seconds(10.5)) == [])
        #expect(
            engine.advance(to: .seconds(11)).filter { if case .show = $0 { true } else { false } } == [
                .show(DisplayFrame("1:50"))
            ])
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(31)))
        let stop = engine.edge(ButtonEdge(.released, at: .seconds(31.1)))
        #expect(
            stop.contains(
                .record(
                    .ended(
                        SessionEnd(
                            outcome: .inTime, startedAt: .seconds(1), endedAt: .seconds(31), limit: .seconds(120),
                            freeService: false)))))
        #expect(!stop.contains(.show(done)))
        // After the result hold the counter is idle and the notice appears.
        let idle = engine.advance(to: .seconds(31.1) + ServiceRules().resultHold)
        #expect(idle.contains(.show(done)))
        #expect(!idle.contains(.sound(.exportDone)))
    }
}

@Suite("Today's figures on a long press while idle")
struct TodayFiguresTests {
    @Test func longPressWhileIdleShowsSessionsThenFreePassportsThenIdle() {
        var engine = CounterEngine(rules: ServiceRules())
        _ = engine.start(at: .seconds(0))
        engine.setTodayFigures(SessionMachine.Figures(sessions: 36, free: 1))
        // One more overtime session: 37 sessions, 2 free.
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(1)))
        _ = engine.edge(ButtonEdge(.released, at: .seconds(1.1)))
        _ = engine.advance(to: .seconds(130))
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(130)))
        _ = engine.edge(ButtonEdge(.released, at: .seconds(130.1)))
        _ = engine.advance(to: .seconds(140))
        // The supervisor holds the button.
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(150)))
        let held = engine.advance(to: .seconds(152))
        #expect(held.contains(.show(DisplayFrame("n 37"))))
        #expect(!held.contains { if case .record = $0 { true } else { false } })
        _ = engine.edge(ButtonEdge(.released, at: .seconds(152.5)))
        #expect(engine.nextWake == .seconds(155))
        #expect(engine.advance(to: .seconds(155)).contains(.show(DisplayFrame("F  2"))))
        #expect(engine.advance(to: .seconds(158)).contains(.show(DisplayFrame("2:00", brightness: .dim))))
        #expect(engine.nextWake == nil)
    }

    @Test func aPressDuringTheFiguresStartsASessionAndZeroTurnsThemOff() {
        var engine = CounterEngine(rules: ServiceRules())
        _ = engine.start(at: .seconds(0))
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(1)))
        _ = engine.advance(to: .seconds(3))
        _ = engine.edge(ButtonEdge(.released, at: .seconds(3.5)))
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(4)))
        let start = engine.edge(ButtonEdge(.released, at: .seconds(4.1)))
        #expect(start.contains(.record(.started(at: .seconds(4), limit: .seconds(120)))))

        var rules = ServiceRules()
        rules.figuresEach = .zero
        var off = CounterEngine(rules: rules)
        _ = off.start(at: .seconds(0))
        _ = off.edge(ButtonEdge(.pressed, at: .seconds(1)))
        #expect(off.advance(to: .seconds(3)).isEmpty)
    }
}

/// An update waits for the counter: never during a session or its result, and while it holds
/// the counter no session starts and no call goes out.
@Suite("Hold for an update: only an idle counter is taken")
struct HoldTests {
    var engine = CounterEngine(rules: ServiceRules())
    let updating = DisplayFrame("UPd ")

    func records(_ actions: [Action]) -> [SessionEvent] {
        actions.compactMap { if case .record(let event) = $0 { event } else { nil } }
    }

    @Test mutating func anIdleCounterIsHeldAtOnceAndRefusesPressesUntilReleased() {
        _ = engine.start(at: .seconds(0))
        #expect(engine.requestHold(updating, at: .seconds(1)) == [.holdEngaged, .show(updating), .light(LightState(amber: true))])
        #expect(engine.machine.isHeld)
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(2)))
        let press = engine.edge(ButtonEdge(.released, at: .seconds(2.1)))
        #expect(records(press).isEmpty && press.contains(.sound(.refused)), "no session starts while held")
        let call = engine.edge(ButtonEdge(.pressed, at: .seconds(3), button: .call)) + engine.edge(ButtonEdge(.released, at: .seconds(3.1), button: .call))
        #expect(!call.contains { if case .callNext = $0 { true } else { false } }, "no call goes out while held")
        // A new frame for the same hold: shown, not engaged again.
        #expect(engine.requestHold(DisplayFrame("UPd."), at: .seconds(4)) == [.show(DisplayFrame("UPd."))])
        _ = engine.releaseHold(at: .seconds(5))
        #expect(!engine.machine.isHeld)
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(6)))
        #expect(records(engine.edge(ButtonEdge(.released, at: .seconds(6.1)))) == [.started(at: .seconds(6), limit: .seconds(120))])
    }

    @Test mutating func aRunningSessionKeepsItsTimingAndTheHoldTakesTheCounterAfterItsResult() {
        _ = engine.start(at: .seconds(0))
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(1)))
        _ = engine.edge(ButtonEdge(.released, at: .seconds(1.1)))
        let mid = engine.requestHold(updating, at: .seconds(10))
        #expect(!mid.contains(.holdEngaged) && !mid.contains(.show(updating)), "mid-session: the countdown goes on")
        #expect(!engine.machine.isHeld)
        _ = engine.edge(ButtonEdge(.pressed, at: .seconds(131)))
        let stop = engine.edge(ButtonEdge(.released, at: .seconds(131.1)))
        #expect(
            records(stop) == [
                .ended(SessionEnd(outcome: .overtime, startedAt: .seconds(1), endedAt: .seconds(131), limit: .seconds(120), freeService: true))
            ])
        #expect(!stop.contains(.holdEngaged), "the result is shown first")
        let after = engine.advance(to: .seconds(131.1) + ServiceRules().resultHold)
        #expect(after.first == .holdEngaged && after.contains(.show(updating)))
    }
}
