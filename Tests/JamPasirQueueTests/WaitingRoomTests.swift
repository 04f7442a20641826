import PropertyBased
import Testing

@testable import JamPasirQueue

func minutes(_ m: Int) -> Duration { .seconds(m * 60) }

@Suite("The waiting room: tickets, calls, warnings before the two hours")
struct WaitingRoomTests {
    @Test func ticketsAreNumberedFromWhereTheDayStoodAndCalledOldestFirst() {
        // A reboot at 10:00 with 36 tickets already issued today: the next is A-037, never A-001.
        var room = WaitingRoom(lastNumber: 36)
        #expect(room.nextLabel == "A-037")
        guard case .issued(let first) = room.issue(at: minutes(600)),
            case .issued(let second) = room.issue(at: minutes(601))
        else { Issue.record("no tickets issued"); return }
        #expect([first.label, second.label] == ["A-037", "A-038"])
        let events = room.callNext(counter: "3", at: minutes(610))
        #expect(events == [.called(room.tickets[0], counter: "3")])
        #expect(room.tickets[0].state == .called(counter: "3", at: minutes(610)))
        #expect(room.tickets[0].wait(at: minutes(700)) == minutes(10))
        #expect(room.waiting.map(\.label) == ["A-038"])
    }

    @Test func labelsKeepThreeDigitsAndGrowPastThem() {
        #expect(Ticket.label(prefix: "A", number: 7) == "A-007")
        #expect(Ticket.label(prefix: "B", number: 120) == "B-120")
        #expect(Ticket.label(prefix: "A", number: 1234) == "A-1234")
    }

    @Test func aFullRoomIssuesNoTicketAndKeepsTheNumber() {
        var room = WaitingRoom(rules: QueueRules(roomCapacity: 2))
        _ = room.issue(at: .zero)
        _ = room.issue(at: .zero)
        #expect(room.issue(at: .seconds(1)) == .roomFull(waiting: 2))
        #expect(room.nextLabel == "A-003")
        _ = room.callNext(counter: "1", at: .seconds(2))
        guard case .issued(let ticket) = room.issue(at: .seconds(3)) else {
            Issue.record("a place came free but no ticket was issued")
            return
        }
        #expect(ticket.label == "A-003")
    }

    @Test func warningsAt60_90_105ThenTheBreachAt120EachOnceAndInOrder() {
        var room = WaitingRoom()
        _ = room.issue(at: .zero)
        _ = room.issue(at: minutes(10))
        #expect(room.nextDeadline == minutes(60))
        #expect(room.advance(to: minutes(59)).isEmpty)
        // Woken late (the hub was busy): everything due comes at once, in the order it fell due.
        let events = room.advance(to: minutes(100))
        #expect(
            events.map(Self.summary) == ["warning A-001 60", "warning A-002 60", "warning A-001 90", "warning A-002 90"])
        #expect(room.nextDeadline == minutes(105))
        #expect(room.advance(to: minutes(100)).isEmpty)
        let later = room.advance(to: minutes(125))
        #expect(later.map(Self.summary) == ["warning A-001 105", "warning A-002 105", "breach A-001"])
        #expect(room.nextDeadline == minutes(130))
        // Called at 2 h 10 min: the breach was recorded before the call.
        let call = room.callNext(counter: "1", at: minutes(140))
        #expect(call.map(Self.summary) == ["breach A-002", "called A-001 1"])
        #expect(room.nextDeadline == nil)
    }

    @Test func theCloseOfTheDayJudgesTheLastWaitsFirst() {
        var room = WaitingRoom()
        _ = room.issue(at: .zero)
        let events = room.close(at: minutes(61))
        #expect(events.map(Self.summary) == ["warning A-001 60", "left A-001"])
        #expect(room.waitingCount == 0)
    }

    /// Whatever the arrivals, calls and wake-up times: a breach is reported only after every
    /// warning of that ticket, every mark at most once, and nobody called within the promise is
    /// ever breached.
    @Test func warningsAlwaysComeBeforeTheBreach() async {
        await propertyCheck(input: Gen.int(in: 0...1000).array(of: 1...40)) { steps in
            var room = WaitingRoom()
            var now = Duration.zero
            var seen: [Int: [String]] = [:]
            for step in steps {
                now += .seconds(step * 17)
                var events: [QueueEvent]
                switch step % 3 {
                case 0: events = [room.issue(at: now)]
                case 1: events = room.callNext(counter: "1", at: now)
                default: events = room.advance(to: now)
                }
                for event in events {
                    switch event {
                    case .warning(let t, let mark): seen[t.number, default: []].append("w\(mark.components.seconds / 60)")
                    case .breach(let t): seen[t.number, default: []].append("breach")
                    case .called(let t, _): #expect(t.breached == (t.wait(at: now) >= minutes(120)))
                    default: break
                    }
                }
            }
            for (_, history) in seen {
                #expect(history == Array(["w60", "w90", "w105", "breach"].prefix(history.count)))
            }
        }
    }

    static func summary(_ event: QueueEvent) -> String {
        switch event {
        case .issued(let t): "issued \(t.label)"
        case .roomFull(let n): "full \(n)"
        case .called(let t, let counter): "called \(t.label) \(counter)"
        case .warning(let t, let mark): "warning \(t.label) \(mark.components.seconds / 60)"
        case .breach(let t): "breach \(t.label)"
        case .left(let t): "left \(t.label)"
        }
    }
}

@Suite("The wait printed on a ticket")
struct WaitEstimateTests {
    @Test func theRangeGrowsWithThePeopleAheadAndShrinksWithCounters() {
        let times = [4, 5, 5, 6, 6, 7, 8, 9].map(minutes)
        let one = WaitEstimate(ahead: 10, counters: 1, recentServiceTimes: times)
        let three = WaitEstimate(ahead: 10, counters: 3, recentServiceTimes: times)
        #expect(one.low == minutes(50) && one.high == minutes(90))  // 10 × 5 min … 11 × 8 min, to 5 min
        #expect(three.low == minutes(15) && three.high == minutes(30))
        #expect(three.text == "15–30 min")
    }

    @Test func nobodyAheadIsNeverPromisedNoWaitAtAll() {
        let estimate = WaitEstimate(ahead: 0, counters: 4, recentServiceTimes: [])
        #expect(estimate.low == .zero)
        #expect(estimate.high >= minutes(5))
    }
}

@Suite("The simulated office day")
struct OfficeDayTests {
    static let sessions = [70, 85, 90, 100, 110, 125].map { Duration.seconds($0) }

    @Test func theSameSeedGivesTheSameDayAndAnotherSeedAnother() {
        let day = OfficeDay(sessionDurations: Self.sessions)
        #expect(day.run(counters: 3, seed: 7) == day.run(counters: 3, seed: 7))
        #expect(day.run(counters: 3, seed: 7) != day.run(counters: 3, seed: 8))
    }

    @Test func moreCountersNeverMakeTheWaitsLongerOnTheSameDay() {
        let day = OfficeDay(sessionDurations: Self.sessions)
        let two = day.run(counters: 2, seed: 1)
        let six = day.run(counters: 6, seed: 1)
        #expect(two.arrived == six.arrived)
        #expect(two.breaches > 0, "two counters for 200 applicants at 5.6 min each must break the promise")
        #expect(six.breaches == 0 && six.longest < two.longest)
        // Every applicant is accounted for: called, left at the close, or turned away at the door.
        for r in [two, six] { #expect(r.called + r.leftAtClose + r.turnedAway == r.arrived) }
    }

    @Test func everyBreachWasWarnedAtEveryMarkFirst() {
        let day = OfficeDay(sessionDurations: Self.sessions)
        for counters in 1...3 {
            let r = day.run(counters: counters, seed: 3)
            #expect(r.breachesWarnedFirst == r.breaches)
            #expect(r.warned >= r.breaches)
        }
    }

    @Test func arrivalsFollowThePlanWithItsMorningPeak() {
        let day = OfficeDay(plan: .init(applicants: 1000), sessionDurations: Self.sessions)
        var random = SplitMix64(seed: 11)
        let times = day.arrivalTimes(using: &random)
        #expect((900...1100).contains(times.count))
        #expect(times == times.sorted())
        let firstHour = times.count { $0 < .seconds(9 * 3600) }
        let lastHour = times.count { $0 >= .seconds(13 * 3600) }
        #expect(firstHour > lastHour * 3 / 2)
    }
}

@Suite("A day's waiting-time figures")
struct QueueFiguresTests {
    @Test func wait_noShowsBreachesAndThePeakOfADay() {
        var room = WaitingRoom()
        for minute in [0, 5, 10, 15] { _ = room.issue(at: minutes(minute)) }
        _ = room.callNext(counter: "1", at: minutes(20))  // A-001 waited 20
        _ = room.callNext(counter: "2", at: minutes(45))  // A-002 waited 40
        _ = room.callNext(counter: "1", at: minutes(135))  // A-003 waited 125: a breach
        _ = room.close(at: minutes(200))  // A-004 never called: a no-show, and a breach too
        let figures = QueueFigures(period: "2026-11-30", tickets: room.tickets, promise: minutes(120))
        #expect(figures.tickets == 4 && figures.called == 3 && figures.noShows == 1)
        #expect(figures.medianWaitSeconds == 40 * 60 && figures.p90WaitSeconds == 125 * 60)
        #expect(figures.longestWaitSeconds == 125 * 60)
        #expect(figures.withinPromise == 2 && figures.breaches == 2)
        #expect(figures.peakWaiting == 4)
        let empty = QueueFigures(period: "2026-12-01", tickets: [], promise: minutes(120))
        #expect(empty.medianWaitSeconds == nil && empty.peakWaiting == 0)
    }
}
