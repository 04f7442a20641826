/// The second promise: nobody queues two hours. These are its rules, pure like the counter's:
/// no clocks, no I/O; every call takes the time it happens at.
public struct QueueRules: Sendable, Equatable {
    /// The promise: no applicant waits this long for a counter (2 hours).
    public var promise: Duration
    /// Waits at which the hall display, the wallboard and Prometheus warn, earliest first
    /// (60, 90 and 105 minutes): time to open another counter before the promise breaks.
    public var warningMarks: [Duration]
    /// How many people the waiting room holds (120 in Singkawang).
    public var roomCapacity: Int
    /// The letter before every ticket number (`A-037`).
    public var ticketPrefix: String

    public init(
        promise: Duration = .seconds(2 * 3600),
        warningMarks: [Duration] = [.seconds(60 * 60), .seconds(90 * 60), .seconds(105 * 60)],
        roomCapacity: Int = 120, ticketPrefix: String = "A"
    ) {
        self.promise = promise
        self.warningMarks = warningMarks.sorted()
        self.roomCapacity = roomCapacity
        self.ticketPrefix = ticketPrefix
    }

    public static let standard = QueueRules()
}

/// A wall-clock instant, as the time since 1970-01-01T00:00Z. Waiting is measured across a day
/// and across reboots, so unlike the counter's two minutes it is not on the monotonic clock.
public typealias WallTime = Duration

/// One applicant's ticket, from the kiosk to a counter.
public struct Ticket: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case waiting
        /// Called to `counter` at `at`: the counter's next start press is this applicant's session.
        case called(counter: String, at: WallTime)
        /// Not called by the close of the day: left, or did not answer the call.
        case left(at: WallTime)
    }

    /// The day's number: 1, 2, … (printed `A-001`, `A-002`, …).
    public let number: Int
    public let label: String
    public let issuedAt: WallTime
    public internal(set) var state: State
    /// How many of the warning marks the wait has passed (each is reported once).
    public internal(set) var marksPassed: Int
    public internal(set) var breached: Bool

    /// A ticket as the hub's store kept it (after a restart).
    public init(
        number: Int, label: String, issuedAt: WallTime, state: State, marksPassed: Int = 0, breached: Bool = false
    ) {
        self.number = number
        self.label = label
        self.issuedAt = issuedAt
        self.state = state
        self.marksPassed = marksPassed
        self.breached = breached
    }

    public var isWaiting: Bool { state == .waiting }

    /// How long this applicant waited, or has waited so far at `now`.
    public func wait(at now: WallTime) -> Duration {
        switch state {
        case .waiting: now - issuedAt
        case .called(_, let at), .left(let at): at - issuedAt
        }
    }

    /// `A-037`: one to three capital letters, a dash, one to six digits. Judged on the bytes:
    /// a Character may hide combining marks or joiners behind a letter. Every label from
    /// elsewhere (a hub's answer, an export, a query) must pass this.
    public static func isLabel(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count == 2, (1...3).contains(parts[0].count), (1...6).contains(parts[1].count) else { return false }
        let letters = parts[0].allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        let digits = parts[1].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return letters && digits
    }

    /// `A-037`: the prefix and the number, at least three digits.
    public static func label(prefix: String, number: Int) -> String {
        let digits = String(number)
        return prefix + "-" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}

/// What the waiting room says happened; the hub records, shows and alerts on these.
public enum QueueEvent: Sendable, Equatable {
    case issued(Ticket)
    /// The room is full: no ticket was issued.
    case roomFull(waiting: Int)
    case called(Ticket, counter: String)
    /// `ticket` has now waited `mark`: warn, so that someone opens another counter.
    case warning(Ticket, mark: Duration)
    /// `ticket` has waited the whole promise: recorded against it.
    case breach(Ticket)
    case left(Ticket)
}

/// The day's queue: tickets in the order issued, called oldest first. One owner drives it (the
/// hub's loop, or the simulation), as the counter's loop drives its engine: every call returns
/// what happened, and `nextDeadline` says when to call `advance(to:)` next.
public struct WaitingRoom: Sendable {
    public let rules: QueueRules
    public private(set) var tickets: [Ticket] = []
    /// The last number issued today, including tickets issued before a reboot.
    public private(set) var lastNumber: Int

    /// `lastNumber`: the highest number already issued today (from the store after a reboot),
    /// so that a number is never issued twice in a day.
    public init(rules: QueueRules = .standard, lastNumber: Int = 0, tickets: [Ticket] = []) {
        self.rules = rules
        self.tickets = tickets.sorted { $0.number < $1.number }
        self.lastNumber = max(lastNumber, tickets.map(\.number).max() ?? 0)
    }

    /// The ticket numbered `number` today, if it was issued.
    public func ticket(_ number: Int) -> Ticket? { tickets.first { $0.number == number } }

    public var waiting: [Ticket] { tickets.filter(\.isWaiting) }
    public var waitingCount: Int { tickets.count { $0.isWaiting } }

    /// The longest wait of anyone still waiting at `now` (zero if nobody is).
    public func longestWait(at now: WallTime) -> Duration {
        tickets.first(where: \.isWaiting).map { $0.wait(at: now) } ?? .zero
    }

    /// A new ticket at `now`, unless the room is full. The caller prints it first and calls
    /// `issue` only once it printed: a ticket exists only if someone holds it.
    public mutating func issue(at now: WallTime) -> QueueEvent {
        let count = waitingCount
        guard count < rules.roomCapacity else { return .roomFull(waiting: count) }
        lastNumber += 1
        let ticket = Ticket(
            number: lastNumber, label: Ticket.label(prefix: rules.ticketPrefix, number: lastNumber), issuedAt: now,
            state: .waiting)
        tickets.append(ticket)
        return .issued(ticket)
    }

    /// The number the next ticket will carry (the kiosk shows it while printing).
    public var nextLabel: String { Ticket.label(prefix: rules.ticketPrefix, number: lastNumber + 1) }

    /// Spends the next number without a ticket in the queue: the printer failed part-way, and a
    /// torn ticket with that number may be in someone's hand. Numbers never repeat in a day.
    public mutating func voidNextNumber() -> String {
        lastNumber += 1
        return Ticket.label(prefix: rules.ticketPrefix, number: lastNumber)
    }

    /// What the last applicants took at a counter, oldest first: the time from one call to the
    /// next at the same counter, gaps over 30 minutes (a break) left out.
    public var recentServiceTimes: [Duration] {
        var lastCall: [String: WallTime] = [:]
        var times: [(at: WallTime, took: Duration)] = []
        let calls = tickets.compactMap { ticket -> (counter: String, at: WallTime)? in
            if case .called(let counter, let at) = ticket.state { return (counter, at) }
            return nil
        }.sorted { $0.at < $1.at }
        for call in calls {
            if let previous = lastCall[call.counter], call.at - previous <= .seconds(30 * 60) {
                times.append((call.at, call.at - previous))
            }
            lastCall[call.counter] = call.at
        }
        return times.map(\.took)
    }

    /// Counters that called someone in the hour before `now` (at least one: the estimate for an
    /// office that has not called yet assumes one).
    public func countersCalling(at now: WallTime) -> Int {
        var counters: Set<String> = []
        for ticket in tickets {
            if case .called(let counter, let at) = ticket.state, now - at <= .seconds(3600) { counters.insert(counter) }
        }
        return max(1, counters.count)
    }

    /// The range printed on a ticket issued now.
    public func estimate(at now: WallTime) -> WaitEstimate {
        WaitEstimate(ahead: waitingCount, counters: countersCalling(at: now), recentServiceTimes: recentServiceTimes)
    }

    /// The oldest waiting ticket, called to `counter`; nil if nobody waits. The warnings and the
    /// breach due up to `now` come first, so a wait is judged before it ends.
    public mutating func callNext(counter: String, at now: WallTime) -> [QueueEvent] {
        var events = advance(to: now)
        guard let index = tickets.firstIndex(where: \.isWaiting) else { return events }
        tickets[index].state = .called(counter: counter, at: now)
        events.append(.called(tickets[index], counter: counter))
        return events
    }

    /// The warnings and breaches due by `now`, each once, in the order they fell due.
    public mutating func advance(to now: WallTime) -> [QueueEvent] {
        var due: [(at: WallTime, event: QueueEvent)] = []
        for index in tickets.indices where tickets[index].isWaiting {
            while tickets[index].marksPassed < rules.warningMarks.count {
                let mark = rules.warningMarks[tickets[index].marksPassed]
                guard tickets[index].issuedAt + mark <= now, mark < rules.promise else { break }
                tickets[index].marksPassed += 1
                due.append((tickets[index].issuedAt + mark, .warning(tickets[index], mark: mark)))
            }
            if !tickets[index].breached && tickets[index].issuedAt + rules.promise <= now {
                tickets[index].breached = true
                due.append((tickets[index].issuedAt + rules.promise, .breach(tickets[index])))
            }
        }
        return due.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element.event)
    }

    /// When the next warning or breach falls due; nil while nobody waits.
    public var nextDeadline: WallTime? {
        tickets.lazy.filter(\.isWaiting).compactMap { ticket -> WallTime? in
            let marks = rules.warningMarks.filter { $0 < rules.promise }
            if ticket.marksPassed < marks.count { return ticket.issuedAt + marks[ticket.marksPassed] }
            return ticket.breached ? nil : ticket.issuedAt + rules.promise
        }.min()
    }

    /// Close of the day: whoever still waits has left (or did not answer).
    public mutating func close(at now: WallTime) -> [QueueEvent] {
        var events = advance(to: now)
        for index in tickets.indices where tickets[index].isWaiting {
            tickets[index].state = .left(at: now)
            events.append(.left(tickets[index]))
        }
        return events
    }
}
