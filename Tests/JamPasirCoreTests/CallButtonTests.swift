import JamPasirCore
import Testing

/// The call button ("Panggil"): asks the hub for the next ticket while no session runs, shows
/// the answer, and hands the ticket to the session that follows.
@Suite("Call button")
struct CallButtonTests {
    typealias Input = EngineHarness.Input

    /// The inputs in order, part by part: one `+` chain of array literals is more than the arm64
    /// cross compiler (Swift 6.2) type-checks in reasonable time.
    func steps(_ parts: [Input]...) -> [Input] { parts.flatMap { $0 } }

    @Test func aCalledTicketIsShownThenServedByTheNextSessionOnly() {
        var h = EngineHarness()
        h.run(
            steps(
                Input.call(1), [.answer(1.5, .called(ticket: "A-037"))], Input.tap(20), Input.tap(80), Input.tap(100),
                Input.tap(150)),
            until: 160)
        #expect(h.calls == [.seconds(1.1)])
        #expect(h.frame(at: 1.2) == "CALL")
        #expect(h.frame(at: 6) == "A037")
        #expect(h.frame(at: 7) == "2:00")  // the call hold (5 s) is over
        #expect(h.startedTickets == [Optional("A-037"), nil])
        #expect(h.engine.machine.calledTicket == nil)
    }

    @Test func aCallWhileASessionRunsIsIgnored() {
        var h = EngineHarness()
        h.run(steps(Input.tap(1), Input.call(10)), until: 12)
        #expect(h.calls.isEmpty)
        #expect(h.frame(at: 12) == "1:49")
    }

    @Test func aSecondPressWhileWaitingForTheHubAsksNothingMore() {
        var h = EngineHarness()
        h.run(steps(Input.call(1), Input.call(2), [.answer(3, .nobodyWaiting)]), until: 4)
        #expect(h.calls == [.seconds(1.1)])
        #expect(h.frame(at: 4) == "nonE")
    }

    @Test func withoutAnAnswerCallGivesWayToTheIdleDisplay() {
        var h = EngineHarness()
        h.run(Input.call(1), until: 20)
        #expect(h.frame(at: 10) == "CALL")
        #expect(h.frame(at: 11.2) == "2:00")  // 10 s after the press
    }

    @Test func anUnreachableHubShowsErr2OnceWithThreeBeepsAndTimingGoesOn() {
        var h = EngineHarness()
        h.run(steps(Input.call(1), [.answer(4, .unreachable)], Input.tap(12), Input.tap(40)), until: 50)
        #expect(h.frame(at: 5) == "Err2")
        #expect(h.sounds.first { $0.at == .seconds(4) }?.pattern == .fault)
        #expect(h.frame(at: 9.5) == "2:00")
        #expect(h.startedTickets == [nil])
        #expect(h.ends.map(\.outcome) == [.inTime])
    }

    /// A session started while `CALL` shows serves someone not called; the answer that comes
    /// after is not taken, and neither is one that comes after `CALL` gave way.
    @Test func anAnswerTheOfficerNeverSawIsNotTaken() {
        var h = EngineHarness()
        h.run(
            steps(
                Input.call(1), Input.tap(2), [.answer(3, .called(ticket: "A-038"))], Input.tap(30), Input.call(50),
                [.answer(62, .called(ticket: "A-039"))], Input.tap(70), Input.tap(80)),
            until: 90)
        #expect(h.frame(at: 3.5) == "1:59")  // the countdown keeps the display
        #expect(!h.sounds.contains { $0.at == .seconds(3) || $0.at == .seconds(62) })
        #expect(h.frame(at: 63) == "2:00")
        #expect(h.startedTickets == [nil, nil])
    }

    @Test func aCalledTicketNotServedWithinHalfAnHourGoesToNobody() {
        var h = EngineHarness()
        h.run(
            steps(Input.call(1), [.answer(1.5, .called(ticket: "A-001"))], Input.tap(1802), Input.tap(1810)),
            until: 1820)
        #expect(h.startedTickets == [nil])
    }

    @Test func aNewCallDropsTheTicketOfTheLast() {
        var h = EngineHarness()
        h.run(
            steps(
                Input.call(1), [.answer(1.5, .called(ticket: "A-001"))], Input.call(10),
                [.answer(10.5, .nobodyWaiting)], Input.tap(20), Input.tap(30)),
            until: 40)
        #expect(h.calls.count == 2)
        #expect(h.startedTickets == [nil])
    }

    /// A second tap of the stop, however the call button was pressed between, is a double press.
    @Test func theRearmGuardHoldsAcrossACall() {
        var h = EngineHarness()
        h.run(steps(Input.tap(1), Input.tap(30), Input.call(30.2), Input.tap(30.5)), until: 35)
        #expect(h.starts == [.seconds(1)])
        #expect(h.calls.count == 1)
    }

    @Test func aCallDuringTheResultIsTaken() {
        var h = EngineHarness()
        h.run(steps(Input.tap(1), Input.tap(30), Input.call(31.5), [.answer(32, .called(ticket: "B-001"))]), until: 33)
        #expect(h.calls == [.seconds(31.6)])
        #expect(h.frame(at: 33) == "B001")
    }

    @Test func aLongHoldOfTheCallButtonIsNotACall() {
        var h = EngineHarness()
        h.run([.callDown(1), .callUp(4)], until: 5)
        #expect(h.calls.isEmpty)
    }
}
