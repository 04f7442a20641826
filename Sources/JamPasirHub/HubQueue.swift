import Foundation
import GRDB
import JamPasirExport
import JamPasirQueue
import JamPasirReports
import Synchronization

/// The office's queue, kept by the hub: today's `WaitingRoom`, every change written to the hub's
/// store before it is answered, so that a restart (or a power cut) loses no ticket and never
/// gives a number twice in a day. A new local day starts a new room; whoever still waited at
/// the day's end has left.
public final class HubQueue: Sendable {
    private let store: HubStore
    public let rules: QueueRules
    public let timeZone: TimeZone
    /// The office's name on tickets.
    public let office: String
    private struct State: Sendable {
        var day: String
        var room: WaitingRoom
        /// Rows a failed write left behind, written with the next change: a ticket that printed
        /// exists whether or not the disk took it at that moment.
        var unsaved: [(day: String, row: Persist)] = []
        /// What the last press found of the printer: nil while it printed and is not running low
        /// (or nobody pressed since the start).
        var printerTrouble: PrinterTrouble?
    }

    /// The printer's trouble, for the hall display and the metrics.
    struct PrinterTrouble: Sendable {
        var message: String
        /// Whether tickets still print (paper low: yes).
        var prints: Bool
    }

    private let state: Mutex<State>
    /// Held by a press from its number to its outcome (one printer, one ticket at a time); the
    /// queue's `state` is not held meanwhile.
    private let printing = Mutex(())

    /// Where the queue says what the store did not take (the journal).
    private let log: @Sendable (String) -> Void

    public init(
        store: HubStore, rules: QueueRules, timeZone: TimeZone, office: String, now: Date,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(HubStore.Failure) {
        self.log = log
        self.store = store
        self.rules = rules
        self.timeZone = timeZone
        self.office = office
        let day = Self.dayKey(now, in: timeZone)
        try Self.sealTicketsKeptBeforeRecords(in: store, rules: rules, timeZone: timeZone)
        // Days the hub was not running at their end (down over midnight): their waiters left.
        let unclosed = try store.read { db in
            try String.fetchAll(
                db, sql: "SELECT DISTINCT day FROM ticket WHERE state = 'waiting' AND day < ? ORDER BY day", arguments: [day])
        }
        for earlier in unclosed {
            var room = try Self.load(earlier, from: store, rules: rules)
            let before = room.tickets
            _ = room.close(at: Self.endOfDay(earlier, in: timeZone))
            let rows = Self.rows(earlier, from: before, to: room.tickets, rules: rules)
            try store.write { db in try Self.save(rows, db) }
        }
        state = Mutex(State(day: day, room: try Self.load(day, from: store, rules: rules)))
    }

    /// Counter `counter` calls the next applicant at `now`: the ticket called, if anyone waited,
    /// and everything that happened on the way (warnings and breaches due first).
    /// A call that could not be recorded did not happen: the counter is told so and may call again.
    public func call(counter: String, at now: Date) throws(HubStore.Failure)
        -> (ticket: Ticket?, events: [QueueEvent], waiting: Int)
    {
        try change(at: now, keepIfUnsaved: false) { room, _, _ in
            let events = room.callNext(counter: counter, at: Self.wallTime(now))
            let called = events.last.flatMap { event -> Ticket? in
                if case .called(let ticket, _) = event { return ticket }
                return nil
            }
            return ((called, events, room.waitingCount), [])
        }
    }

    /// The kiosk's button at `now`: prints the next ticket on `printer` and queues it only once it
    /// printed (`KioskPress`). The printer is driven outside the queue's lock (a slow or stuck
    /// printer delays no call and no hall poll); presses take turns, so the number printed is
    /// the one the queue takes next. A ticket that printed is queued even if the store fails
    /// then (it is written with the next change, and `log` says so): someone holds it.
    public func press(at now: Date, printer: some TicketPrinter) throws(HubStore.Failure) -> KioskPress {
        try printing.withLock { _ throws(HubStore.Failure) -> KioskPress in
            let at = Self.wallTime(now)
            // The ticket to print, from the room as it stands (a new day is opened first).
            typealias Next = (day: String, number: Int, next: (label: String, ahead: Int, estimate: WaitEstimate)?, waiting: Int)
            func next(_ room: WaitingRoom, _ day: String) -> Next {
                (day, room.lastNumber + 1, KioskPress.next(in: room, at: at), room.waitingCount)
            }
            let today = Self.dayKey(now, in: timeZone)
            var prepared = state.withLock { $0.day == today ? next($0.room, $0.day) : nil }
            if prepared == nil { prepared = try change(at: now, keepIfUnsaved: false) { room, _, day in (next(room, day), []) } }
            guard let prepared, let ticket = prepared.next else { return .roomFull(waiting: prepared?.waiting ?? 0) }
            let printing = KioskPress.print(
                TicketPrint(
                    office: office, label: ticket.label, issued: Self.issuedText(now, in: timeZone), ahead: ticket.ahead,
                    estimate: ticket.estimate, id: "jampasir:\(prepared.day):\(ticket.label)"),
                on: printer)
            return try change(at: now, keepIfUnsaved: true) { room, trouble, day in
                guard day == prepared.day else {
                    // The day turned while it printed: the ticket is the last day's, never queued.
                    if case .notReady(let state) = printing { return (.printerNotReady(state), []) }
                    let void = (prepared.day, Persist.voided(prepared.number, ticket.label, at: at))
                    return (.printFailed(voided: ticket.label, reason: "the day ended while it printed"), [void])
                }
                let press = KioskPress.settle(printing, in: &room, at: at)
                // What the hall shows of the printer from this press on (the reason of a failed
                // print, with the device's path, goes to the journal only), and the rows a void adds.
                switch press {
                case .issued(_, let printer):
                    trouble = printer == .paperLow ? PrinterTrouble(message: printer.message, prints: true) : nil
                    return (press, [])
                case .printerNotReady(let printer):
                    trouble = PrinterTrouble(message: printer.message, prints: false)
                    return (press, [])
                case .printFailed(let voided, _):
                    trouble = PrinterTrouble(message: "\(voided) tidak tercetak / did not print", prints: false)
                    return (press, [(day, .voided(room.lastNumber, voided, at: at))])
                case .roomFull:
                    return (press, [])
                }
            }
        }
    }

    /// Whether `label` was called to `counter` today.
    public func wasCalled(_ label: String, to counter: String) -> Bool {
        state.withLock { state in
            state.room.tickets.contains { ticket in
                guard ticket.label == label, case .called(let to, _) = ticket.state else { return false }
                return to == counter
            }
        }
    }

    /// What the hall display shows at `now` (the warnings and breaches due are recorded first).
    public func snapshot(at now: Date) throws(HubStore.Failure) -> QueueSnapshot {
        try change(at: now, keepIfUnsaved: false) { room, printer, _ in
            _ = room.advance(to: Self.wallTime(now))
            return (QueueSnapshot(room: room, at: Self.wallTime(now), timeZone: timeZone, printer: printer), [])
        }
    }

    /// Records the warnings and breaches due by `now` (and closes the last day, if it ended),
    /// and says when the next falls due (nil while nobody waits): `QueueClock` calls it, so they
    /// are written at their minute whether or not anyone looks at the queue.
    public func advance(to now: Date) throws(HubStore.Failure) -> Date? {
        try change(at: now, keepIfUnsaved: false) { room, _, _ in
            _ = room.advance(to: Self.wallTime(now))
            return (room.nextDeadline.map { Date(timeIntervalSince1970: Double(Self.milliseconds($0)) / 1000) }, [])
        }
    }

    /// Runs `body` on a copy of today's room (after closing the last day's, at its end, if the
    /// day moved on), writes every row the change touched in one transaction, and only then makes
    /// the copy the room. If the write fails, the change is dropped, unless `keepIfUnsaved` (a
    /// ticket already printed): then it stays, its rows go with the next write, and `log` says
    /// so. The printer's trouble is read and set under the same lock, so the hall never pairs a
    /// room with an older printer. `body` is told the room's day.
    private func change<T>(
        at now: Date, keepIfUnsaved: Bool,
        _ body: (inout WaitingRoom, inout PrinterTrouble?, _ day: String) -> (T, [(day: String, row: Persist)])
    ) throws(HubStore.Failure) -> T {
        try state.withLock { (state) throws(HubStore.Failure) -> T in
            var (day, room, printer) = (state.day, state.room, state.printerTrouble)
            var rows: [(day: String, row: Persist)] = []
            // Forward only: a clock stepped back over midnight does not reopen yesterday.
            let today = Self.dayKey(now, in: timeZone)
            if today > day {
                let before = room.tickets
                _ = room.close(at: min(Self.wallTime(now), Self.endOfDay(day, in: timeZone)))
                rows += Self.rows(day, from: before, to: room.tickets, rules: rules)
                (day, room) = (today, try Self.load(today, from: store, rules: rules))
            }
            let before = room.tickets
            let (result, extra) = body(&room, &printer, day)
            rows += Self.rows(day, from: before, to: room.tickets, rules: rules)
            rows += extra
            let pending = state.unsaved + rows
            do throws(HubStore.Failure) {
                if !pending.isEmpty { try store.write { db in try Self.save(pending, db) } }
                (state.day, state.room, state.unsaved, state.printerTrouble) = (day, room, [], printer)
            } catch {
                guard keepIfUnsaved else { throw error }
                (state.day, state.room, state.unsaved, state.printerTrouble) = (day, room, pending, printer)
                log("a printed ticket is queued but not yet saved (\(error)): it is written with the next change")
            }
            return result
        }
    }

    /// The rows that take the day's tickets from `before` to `after`: each ticket new or changed
    /// as it now stands, and the records of what happened to them in this change, in the order it
    /// happened.
    /// (Tickets are only appended or changed in place.)
    static func rows(_ day: String, from before: [Ticket], to after: [Ticket], rules: QueueRules)
        -> [(day: String, row: Persist)]
    {
        var changed: [(day: String, row: Persist)] = []
        var happened: [(at: WallTime, draft: QueueRecord.Draft)] = []
        for (index, ticket) in after.enumerated() {
            let old = index < before.count ? before[index] : nil
            guard ticket != old else { continue }
            changed.append((day, .ticket(ticket)))
            func record(_ event: QueueRecord.Event, _ at: WallTime, counter: String? = nil, mark: Int? = nil) {
                let draft = QueueRecord.Draft(
                    day: day, number: ticket.number, label: ticket.label, event: event, at: iso8601(at), counter: counter,
                    markMinutes: mark)
                happened.append((at, draft))
            }
            if old == nil { record(.issued, ticket.issuedAt) }
            for passed in (old?.marksPassed ?? 0)..<max(old?.marksPassed ?? 0, ticket.marksPassed)
            where passed < rules.warningMarks.count {
                let mark = rules.warningMarks[passed]
                record(.warned, ticket.issuedAt + mark, mark: Int(mark.components.seconds / 60))
            }
            if ticket.breached && old?.breached != true { record(.breached, ticket.issuedAt + rules.promise) }
            if old?.state ?? .waiting == .waiting {
                switch ticket.state {
                case .called(let counter, let at): record(.called, at, counter: counter)
                case .left(let at): record(.left, at)
                case .waiting: break
                }
            }
        }
        let ordered = happened.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        return changed + ordered.map { (day, .record($0.element.draft)) }
    }

    /// The first instant of the local day after `day` (`YYYY-MM-DD`).
    static func endOfDay(_ day: String, in timeZone: TimeZone) -> WallTime { startOfDay(day, in: timeZone, after: 1) }

    /// The first instant of the local day `days` after `day` (`YYYY-MM-DD`).
    static func startOfDay(_ day: String, in timeZone: TimeZone, after days: Int = 0) -> WallTime {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3,
            let start = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
            let next = calendar.date(byAdding: .day, value: days, to: start)
        else { return .zero }
        return wallTime(next)
    }

    /// A hub that kept tickets before it kept their records (before this version): its first
    /// records seal those tickets as they stand, each day's voided numbers (at the day's start,
    /// their time unknown) and each ticket's issue, warnings, breach, call or leaving, so that
    /// the chain accounts for every ticket from then on.
    private static func sealTicketsKeptBeforeRecords(in store: HubStore, rules: QueueRules, timeZone: TimeZone)
        throws(HubStore.Failure)
    {
        let (recorded, days, voided) = try store.read { db in
            (
                try Bool.fetchOne(db, sql: "SELECT 1 FROM queue_record LIMIT 1") == true,
                try String.fetchAll(db, sql: "SELECT DISTINCT day FROM ticket ORDER BY day"),
                try Row.fetchAll(db, sql: "SELECT day, number, label FROM ticket WHERE state = 'void' ORDER BY day, number")
            )
        }
        guard !recorded, !days.isEmpty else { return }
        var rows: [(day: String, row: Persist)] = []
        for day in days {
            for row in voided where text(row["day"]) == day {
                guard let number = Int(text(row["number"])) else { continue }
                let draft = QueueRecord.Draft(
                    day: day, number: number, label: text(row["label"]), event: .voided,
                    at: iso8601(startOfDay(day, in: timeZone)))
                rows.append((day, .record(draft)))
            }
            let tickets = try load(day, from: store, rules: rules).tickets
            rows += Self.rows(day, from: [], to: tickets, rules: rules).filter { row in
                if case .record = row.row { true } else { false }
            }
        }
        try store.write { db in try save(rows, db) }
    }

    /// A row to write: a ticket as it now stands, a number spent without a ticket (and its
    /// record), or a record of what happened (chained as it is written).
    enum Persist: Sendable {
        case ticket(Ticket)
        case voided(Int, String, at: WallTime)
        case record(QueueRecord.Draft)
    }

    private static func save(_ writes: [(day: String, row: Persist)], _ db: Database) throws {
        for (day, write) in writes {
            switch write {
            case .ticket(let ticket):
                var counter: String?
                var ended: Int64?
                var state = "waiting"
                switch ticket.state {
                case .waiting: break
                case .called(let by, let at):
                    state = "called"
                    counter = by
                    ended = milliseconds(at)
                case .left(let at):
                    state = "left"
                    ended = milliseconds(at)
                }
                try db.execute(
                    sql: """
                        INSERT INTO ticket (day, number, label, state, issued_ms, counter, ended_ms, marks_passed, breached)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (day, number) DO UPDATE SET state = excluded.state, counter = excluded.counter,
                          ended_ms = excluded.ended_ms, marks_passed = excluded.marks_passed, breached = excluded.breached
                        """,
                    arguments: [
                        day, ticket.number, ticket.label, state, milliseconds(ticket.issuedAt), counter, ended,
                        ticket.marksPassed, ticket.breached,
                    ])
            case .voided(let number, let label, let at):
                try db.execute(
                    sql: "INSERT INTO ticket (day, number, label, state) VALUES (?, ?, ?, 'void')",
                    arguments: [day, number, label])
                try append(
                    QueueRecord.Draft(day: day, number: number, label: label, event: .voided, at: iso8601(at)), db)
            case .record(let draft):
                try append(draft, db)
            }
        }
    }

    /// Chains `draft` after the last record. A last record edited by hand into something the hub
    /// never writes stops the write (and is named by `jampasir hub verify`) rather than the hub.
    private static func append(_ draft: QueueRecord.Draft, _ db: Database) throws {
        var (seq, previous) = (Int64(1), QueueRecord.origin)
        if let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM queue_record ORDER BY seq DESC LIMIT 1") {
            guard case .int64(let lastSeq) = (last["seq"] as DatabaseValue).storage, lastSeq < Int64.max,
                case .string(let hash) = (last["hash"] as DatabaseValue).storage
            else { throw HubStore.Failure(description: "the last queue record was edited by hand: run jampasir hub verify") }
            (seq, previous) = (lastSeq + 1, hash)
        }
        let record = QueueRecord(draft, seq: seq, previous: previous)
        try db.execute(
            sql: """
                INSERT INTO queue_record (seq, day, number, label, event, at, counter, mark_minutes, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                seq, draft.day, draft.number, draft.label, draft.event.rawValue, draft.at, draft.counter, draft.markMinutes,
                previous, record.hash,
            ])
    }

    /// Each day's tickets from `from` to `to` (local days, `YYYY-MM-DD`, inclusive), as recorded.
    public static func days(in store: HubStore, from: String, to: String, rules: QueueRules) throws(HubStore.Failure)
        -> [(day: String, tickets: [Ticket])]
    {
        let days = try store.read { db in
            try String.fetchAll(
                db, sql: "SELECT DISTINCT day FROM ticket WHERE day BETWEEN ? AND ? ORDER BY day", arguments: [from, to])
        }
        return try days.map { day throws(HubStore.Failure) in (day, try load(day, from: store, rules: rules).tickets) }
    }

    /// The tickets of the days from `from` to `to` whose service came in: a session from the
    /// counter that called the ticket (by the name its key first came with: a counter that
    /// renames itself serves no other's tickets), carrying its label, started after the call (a
    /// minute of clock difference allowed) and within a day of it. By day, the labels served.
    public static func served(in store: HubStore, from: String, to: String) throws(HubStore.Failure)
        -> [String: Set<String>]
    {
        try store.read { db in
            var served: [String: Set<String>] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT DISTINCT t.day, t.label FROM ticket t
                    JOIN counter c ON c.counter_id = t.counter
                    JOIN session s ON s.public_key = c.public_key AND s.ticket = t.label
                    WHERE t.state = 'called' AND t.day BETWEEN ? AND ?
                      AND (julianday(s.started_at) - 2440587.5) * 86400000.0 BETWEEN t.ended_ms - 60000 AND t.ended_ms + 86400000
                    """, arguments: [from, to])
            while let row = try rows.next() { served[row["day"], default: []].insert(row["label"]) }
            return served
        }
    }

    /// The day's room as the store holds it: its tickets, and the last number given (voided ones
    /// included), so that numbering goes on from there.
    private static func load(_ day: String, from store: HubStore, rules: QueueRules) throws(HubStore.Failure)
        -> WaitingRoom
    {
        try store.read { db in
            var tickets: [Ticket] = []
            var last = 0
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT number, label, state, issued_ms, counter, ended_ms, marks_passed, breached
                    FROM ticket WHERE day = ? ORDER BY number
                    """, arguments: [day])
            {
                let number: Int = row["number"]
                last = max(last, number)
                let state: String = row["state"]
                guard state != "void", let issued: Int64 = row["issued_ms"] else { continue }
                let ended: Int64? = row["ended_ms"]
                let ticketState: Ticket.State =
                    switch (state, ended) {
                    case ("called", let at?): .called(counter: row["counter"] ?? "?", at: .milliseconds(at))
                    case ("left", let at?): .left(at: .milliseconds(at))
                    default: .waiting
                    }
                tickets.append(
                    Ticket(
                        number: number, label: row["label"], issuedAt: .milliseconds(issued), state: ticketState,
                        marksPassed: row["marks_passed"], breached: row["breached"]))
            }
            return WaitingRoom(rules: rules, lastNumber: last, tickets: tickets)
        }
    }

    /// `2026-11-30T01:12:00.000Z`, as records write times.
    static func iso8601(_ time: WallTime) -> String {
        Timestamp.iso8601(Date(timeIntervalSince1970: Double(milliseconds(time)) / 1000))
    }

    static func wallTime(_ date: Date) -> WallTime { .milliseconds(Int64((date.timeIntervalSince1970 * 1000).rounded())) }

    static func milliseconds(_ time: WallTime) -> Int64 {
        time.components.seconds * 1000 + time.components.attoseconds / 1_000_000_000_000_000
    }

    static func dayKey(_ date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// `30-11-2026 08:12`, as people in the office write it.
    static func issuedText(_ date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%02d-%02d-%04d %02d:%02d", p.day!, p.month!, p.year!, p.hour!, p.minute!)
    }
}

/// What the hall display and the wallboard read (`GET /v1/queue`).
public struct QueueSnapshot: Codable, Equatable, Sendable {
    public struct Call: Codable, Equatable, Sendable {
        public var ticket: String
        public var counter: String
        /// Local time of the call, `08:12`.
        public var at: String
        /// What the hall's speaker says.
        public var announcement: String
    }

    public struct Waiting: Codable, Equatable, Sendable {
        public var ticket: String
        public var waitedSeconds: Int
        /// How many warning marks the wait has passed (0 to 3 by default).
        public var marks: Int
        public var breached: Bool
    }

    public var waiting: Int
    public var capacity: Int
    public var longestWaitSeconds: Int
    public var promiseSeconds: Int
    public var warningSeconds: [Int]
    /// The latest calls, newest first (at most 8).
    public var calls: [Call]
    /// Everyone waiting, longest first.
    public var waitingTickets: [Waiting]
    public var issuedToday: Int
    public var breachesToday: Int
    /// The ticket printer's trouble at the last press (paper low or out, cover open, silent, a
    /// print that failed); absent while it prints.
    public var printer: String?
    /// Whether the last press found the printer able to print (true before any press).
    public var printerReady: Bool

    /// The queue for Prometheus (`GET /metrics`): the hub's rules warn at each mark and on a breach.
    public var prometheusText: String {
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"]
            lines += samples.map { "\(name)\($0.labels) \($0.value)" }
        }
        metric("jampasir_queue_waiting", "gauge", "People holding a ticket who have not been called.", [("", waiting)])
        metric("jampasir_queue_room_capacity", "gauge", "People the waiting room holds (queue.room_capacity).", [("", capacity)])
        metric(
            "jampasir_queue_longest_wait_seconds", "gauge", "The longest wait of anyone still waiting.",
            [("", longestWaitSeconds)])
        metric(
            "jampasir_queue_promise_seconds", "gauge", "Nobody should wait this long (queue.promise_minutes).",
            [("", promiseSeconds)])
        metric(
            "jampasir_queue_waiting_past_mark", "gauge",
            "People still waiting whose wait has passed each warning mark (queue.warning_minutes).",
            warningSeconds.map { mark in
                ("{mark_minutes=\"\(mark / 60)\"}", waitingTickets.count { $0.waitedSeconds >= mark })
            })
        metric("jampasir_queue_tickets_today", "gauge", "Tickets issued today (local day).", [("", issuedToday)])
        metric(
            "jampasir_queue_breaches_today", "gauge", "Tickets that waited the whole promise today.", [("", breachesToday)])
        metric(
            "jampasir_queue_printer_ready", "gauge",
            "Whether the kiosk's last press found the ticket printer able to print (1 before any press).",
            [("", printerReady ? 1 : 0)])
        return lines.joined(separator: "\n") + "\n"
    }

    init(room: WaitingRoom, at now: WallTime, timeZone: TimeZone, printer: HubQueue.PrinterTrouble?) {
        self.printer = printer?.message
        printerReady = printer?.prints ?? true
        func seconds(_ d: Duration) -> Int { Int(d.components.seconds) }
        waiting = room.waitingCount
        capacity = room.rules.roomCapacity
        longestWaitSeconds = seconds(room.longestWait(at: now))
        promiseSeconds = seconds(room.rules.promise)
        warningSeconds = room.rules.warningMarks.map(seconds)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calls = room.tickets.compactMap { ticket -> (WallTime, Call)? in
            guard case .called(let counter, let at) = ticket.state else { return nil }
            let date = Date(timeIntervalSince1970: Double(HubQueue.milliseconds(at)) / 1000)
            let p = calendar.dateComponents([.hour, .minute], from: date)
            return (
                at,
                Call(
                    ticket: ticket.label, counter: counter, at: String(format: "%02d:%02d", p.hour!, p.minute!),
                    announcement: Announcement.text(label: ticket.label, counter: counter))
            )
        }.sorted { $0.0 > $1.0 }.prefix(8).map(\.1)
        waitingTickets = room.waiting.map {
            Waiting(ticket: $0.label, waitedSeconds: seconds($0.wait(at: now)), marks: $0.marksPassed, breached: $0.breached)
        }
        issuedToday = room.tickets.count
        breachesToday = room.tickets.count(where: \.breached)
    }
}
