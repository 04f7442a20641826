import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirHub
import JamPasirLinux
import JamPasirQueue
import JamPasirStore
import JamPasirTesting
import Synchronization
import Testing

/// The office's queue on the hub: tickets from the kiosk's printer, calls from the counters, the
/// hall page, all over HTTP on loopback as the LAN sends them; and the store behind it across a
/// restart and a midnight.
@Suite("The hub's queue")
struct HubQueueTests {
    /// A printer that always prints (for the store's tests, where the printer is not the point).
    struct GoodPrinter: TicketPrinter, Sendable {
        func state() -> PrinterState { .ready }
        func write(_ bytes: [UInt8]) throws {}
    }

    struct Unplugged: TicketPrinter, Sendable {
        struct Gone: Error {}
        func state() -> PrinterState { .ready }
        func write(_ bytes: [UInt8]) throws { throw Gone() }
    }

    static let jakarta = TimeZone(identifier: "Asia/Jakarta")!
    /// A counter's call as it sends it: signed by its key at `date`.
    static func call(_ counter: String, by key: DeviceKey, at date: Date = Date()) throws -> String {
        request(try SignedCall(counterID: counter, key: key, at: date))
    }

    static func request(_ call: SignedCall) -> String {
        "POST \(call.target) HTTP/1.1\r\n" + call.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined()
            + "Content-Length: 0\r\n\r\n"
    }

    static let ticket = "POST /v1/queue/ticket HTTP/1.1\r\nContent-Length: 0\r\n\r\n"

    /// A counter the hub knows by its exports (a counter calls only once it has brought one):
    /// its store, key and configuration, one session exported and imported by the real
    /// `jampasir hub import` into `hubStore`.
    static func knownCounter(_ id: String, in directory: TemporaryDirectory, hubStore: String) throws -> HubTests.Counter {
        let counter = try HubTests.Counter(id, in: directory)
        try counter.record([60])
        let stick = directory.file("stick-\(id)")
        try counter.export(to: stick)
        let keys = directory.file("\(id).keys")
        try (counter.key.publicKeyBase64 + "\n").write(toFile: keys, atomically: true, encoding: .utf8)
        let imported = try runBuilt(
            "jampasir", ["hub", "import", "--hub-store", hubStore, "--trusted-keys", keys, try #require(HubImportFolders.only(under: stick))])
        #expect(imported.output.contains("IMPORTED "), "\(imported.output)")
        return counter
    }
    /// 2026-11-30 08:00 WIB.
    static let morning = Date(timeIntervalSince1970: 1_796_000_400)

    static func queue(_ store: HubStore) throws -> HubQueue {
        try HubQueue(store: store, rules: .standard, timeZone: jakarta, office: "Kantor Imigrasi Singkawang", now: Date())
    }

    static func body(_ response: String) -> String {
        response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    static func json(_ response: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(body(response).utf8)) as? [String: Any])
    }

    @Test func ticketsPrintCountersCallAndTheHallSeesIt() throws {
        let directory = try TemporaryDirectory("hub-queue")
        let pty = try PtyPrinter()
        let key = try Self.knownCounter("loket-3", in: directory, hubStore: directory.path + "/hub.sqlite").key
        let server = try Server(
            store: directory.path + "/hub.sqlite", trusting: [key.publicKeyBase64], queue: Self.queue,
            printer: USBTicketPrinter(path: pty.path))
        for label in ["A-001", "A-002", "A-003"] {
            let issued = try server.raw(Self.ticket)
            #expect(issued.hasPrefix("HTTP/1.1 200 "), "\(issued)")
            #expect(try Self.json(issued)["detail"] as? String == label)
        }
        let printed = String(decoding: pty.shared.settings.withLock { $0.received }, as: UTF8.self)
        #expect(printed.contains("A-001") && printed.contains("A-003") && printed.contains("2 orang di depan Anda"))

        let call = try server.raw(try Self.call("loket-3", by: key))
        #expect(call.hasPrefix("HTTP/1.1 200 "), "\(call)")
        let called = try Self.json(call)
        #expect(called["ticket"] as? String == "A-001")
        #expect(called["announcement"] as? String == "Nomor antrean A satu, silakan ke loket tiga.")
        #expect(called["waiting"] as? Int == 2)

        let state = try Self.json(try server.raw("GET /v1/queue HTTP/1.1\r\n\r\n"))
        #expect(state["waiting"] as? Int == 2 && state["capacity"] as? Int == 120)
        let calls = try #require(state["calls"] as? [[String: Any]])
        #expect(calls.first?["ticket"] as? String == "A-001" && calls.first?["counter"] as? String == "loket-3")
        #expect((state["waiting_tickets"] as? [[String: Any]])?.map { $0["ticket"] as? String } == ["A-002", "A-003"])

        // Paper out: no ticket, and the number is kept for the next one.
        pty.shared.settings.withLock { $0.paper = 0x72 }
        let out = try server.raw(Self.ticket)
        #expect(out.hasPrefix("HTTP/1.1 503 "), "\(out)")
        #expect(try Self.json(out)["detail"] as? String == "kertas habis / paper out")
        // The hall shows it, and Prometheus alerts on it, until a ticket prints again.
        #expect(try Self.json(try server.raw("GET /v1/queue HTTP/1.1\r\n\r\n"))["printer"] as? String == "kertas habis / paper out")
        #expect(try server.raw("GET /metrics HTTP/1.1\r\n\r\n").contains("\njampasir_queue_printer_ready 0\n"))
        pty.shared.settings.withLock { $0.paper = 0x12 }
        #expect(try Self.json(try server.raw(Self.ticket))["detail"] as? String == "A-004")

        let metrics = try server.raw("GET /metrics HTTP/1.1\r\n\r\n")
        #expect(metrics.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(try Self.json(try server.raw("GET /v1/queue HTTP/1.1\r\n\r\n"))["printer"] == nil)
        for line in ["jampasir_queue_waiting 3", "jampasir_queue_tickets_today 4", "jampasir_queue_room_capacity 120", "jampasir_queue_printer_ready 1",
            "jampasir_queue_waiting_past_mark{mark_minutes=\"60\"} 0", "jampasir_queue_waiting_past_mark{mark_minutes=\"105\"} 0"]
        {
            #expect(metrics.contains("\n" + line + "\n"), "\(line) in \(metrics)")
        }

        let hall = try server.raw("GET /hall HTTP/1.1\r\n\r\n")
        #expect(hall.hasPrefix("HTTP/1.1 200 ") && hall.contains("Content-Type: text/html") && hall.contains("/v1/queue"))
    }

    @Test func hostileCallsAreRefusedAndNothingChanges() throws {
        let directory = try TemporaryDirectory("hub-queue-bad")
        let key = try DeviceKey.loadOrCreate(at: directory.path + "/device.key")
        let server = try Server(store: directory.path + "/hub.sqlite", trusting: [key.publicKeyBase64], queue: Self.queue)
        for target in ["/v1/queue/call", "/v1/queue/call?counter=", "/v1/queue/call?counter=../../etc",
            "/v1/queue/call?counter=\(String(repeating: "x", count: 65))", "/v1/queue/call?counter=a%0Ab"]
        {
            let answer = try server.raw("POST \(target) HTTP/1.1\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(target): \(answer)")
        }
        #expect(try server.raw("GET /v1/queue/call?counter=1 HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        // Unsigned (the old shared token too), or signed with a key the office does not trust,
        // or with the counter changed after signing: nothing is called.
        for unsigned in ["", "X-JamPasir-Token: 0123456789abcdef0123\r\n"] {
            let refused = try server.raw("POST /v1/queue/call?counter=loket-1 HTTP/1.1\r\n\(unsigned)\r\n")
            #expect(refused.hasPrefix("HTTP/1.1 401 ") && refused.contains("device key"), "\(unsigned): \(refused)")
        }
        let stranger = try DeviceKey.loadOrCreate(at: directory.path + "/stranger.key")
        let foreign = try server.raw(try Self.call("loket-1", by: stranger))
        #expect(foreign.hasPrefix("HTTP/1.1 403 ") && foreign.contains("export.trusted_keys"), "\(foreign)")
        let renamed = try Self.call("loket-1", by: key).replacingOccurrences(of: "counter=loket-1", with: "counter=loket-2")
        #expect(try server.raw(renamed).hasPrefix("HTTP/1.1 401 "))
        #expect((try Self.json(try server.raw("GET /v1/queue HTTP/1.1\r\n\r\n"))["calls"] as? [Any])?.isEmpty ?? true)
        let noPrinter = try server.raw(Self.ticket)
        #expect(noPrinter.hasPrefix("HTTP/1.1 503 ") && noPrinter.contains("queue.printer"))
        // A trusted key that has brought no export is no counter yet.
        let unknown = try server.raw(try Self.call("loket-1", by: key))
        #expect(unknown.hasPrefix("HTTP/1.1 403 ") && unknown.contains("has brought no export to this hub yet"), "\(unknown)")
        for target in ["ticket=A-1&counter=x%20y", "ticket=a-1&counter=1", "ticket=A-1", "ticket=A-1234567&counter=1"] {
            let answer = try server.raw("GET /v1/queue/announcement.wav?\(target) HTTP/1.1\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(target): \(answer)")
        }
    }

    @Test func theHallHearsTheCallInIndonesian() throws {
        let directory = try TemporaryDirectory("hub-queue-wav")
        let made = Mutex<HubQueue?>(nil)
        let server = try Server(store: directory.path + "/hub.sqlite", trusting: [], queue: { store in
            let queue = try Self.queue(store)
            made.withLock { $0 = queue }
            return queue
        })
        let queue = try #require(made.withLock { $0 })
        for _ in 0..<2 { _ = try queue.press(at: Date(), printer: GoodPrinter()) }
        #expect(try queue.call(counter: "loket-3", at: Date()).ticket?.label == "A-001")
        // Only a call made today is spoken: nobody makes the hub speak at will.
        for (ticket, counter) in [("A-002", "loket-3"), ("A-001", "loket-4")] {
            let refused = try server.raw("GET /v1/queue/announcement.wav?ticket=\(ticket)&counter=\(counter) HTTP/1.1\r\n\r\n")
            #expect(refused.hasPrefix("HTTP/1.1 404 ") && refused.contains("was not called to \(counter) today"), "\(refused)")
        }
        let wav = try server.raw("GET /v1/queue/announcement.wav?ticket=A-001&counter=loket-3 HTTP/1.1\r\n\r\n")
        #expect(wav.hasPrefix("HTTP/1.1 200 ") && wav.contains("Content-Type: audio/wav"))
        #expect(Self.body(wav).hasPrefix("RIFF"))
        let length = try #require(wav.firstMatch(of: /Content-Length: (\d+)/).flatMap { Int($0.1) })
        #expect(length > 22_050 * 2 * 2, "at least 2 s of 22 kHz 16-bit speech: \(length) bytes")
        // The header says the real length (espeak-ng on a pipe cannot): players that trust it play it all.
        let directory2 = try TemporaryDirectory("hub-queue-wav-file")
        let file = directory2.path + "/call.wav"
        _ = try runTool("/usr/bin/curl", ["-s", "-o", file, "http://\(server.address)/v1/queue/announcement.wav?ticket=A-001&counter=loket-3"])
        let seconds = Double(String(decoding: try runTool("/usr/bin/soxi", ["-D", file]).output, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect((2.0...8.0).contains(seconds), "soxi reads \(seconds) s")
    }

    /// A restart mid-day keeps every ticket and the numbering (a voided number too); warnings
    /// already recorded are not given again; the next local day starts at A-001 and yesterday's
    /// last waiters are recorded as left.
    @Test func aRestartLosesNothingAndANewDayStartsAgain() throws {
        let directory = try TemporaryDirectory("hub-queue-restart")
        let path = directory.path + "/hub.sqlite"
        let morning = Self.morning
        do {
            let queue = try HubQueue(store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: morning)
            _ = try queue.press(at: morning, printer: GoodPrinter())
            #expect(try queue.press(at: morning, printer: Unplugged()) == .printFailed(voided: "A-002", reason: "Gone()"))
            _ = try queue.press(at: morning.addingTimeInterval(60), printer: GoodPrinter())
            #expect(try queue.call(counter: "loket-1", at: morning.addingTimeInterval(120)).ticket?.label == "A-001")
            let late = try queue.snapshot(at: morning.addingTimeInterval(61 * 60 + 60))
            #expect(late.waitingTickets.map(\.marks) == [1])
        }
        let queue = try HubQueue(store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: morning)
        let after = try queue.snapshot(at: morning.addingTimeInterval(62 * 60 + 60))
        #expect(after.waitingTickets.map(\.ticket) == ["A-003"] && after.waitingTickets.map(\.marks) == [1])
        #expect(after.calls.map(\.ticket) == ["A-001"])
        guard case .issued(let next, _) = try queue.press(at: morning.addingTimeInterval(63 * 60), printer: GoodPrinter()) else {
            Issue.record("no ticket after the restart")
            return
        }
        #expect(next.label == "A-004", "numbers go on after the voided A-002")
        let tomorrow = morning.addingTimeInterval(86_400)
        guard case .issued(let first, _) = try queue.press(at: tomorrow, printer: GoodPrinter()) else {
            Issue.record("no ticket the next day")
            return
        }
        #expect(first.label == "A-001")
        let reopened = try HubQueue(store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: morning)
        let yesterday = try reopened.snapshot(at: morning.addingTimeInterval(64 * 60))
        #expect(yesterday.waiting == 0, "A-003 and A-004 left at the day's end: \(yesterday.waitingTickets)")
    }

    /// A ticket still printing when the day ends (another request opened the new day meanwhile)
    /// is the last day's: voided there, never queued today, and today's numbers start at A-001.
    @Test func aTicketPrintingAtMidnightIsVoidedInItsOwnDay() throws {
        let directory = try TemporaryDirectory("hub-queue-midnight")
        let store = try HubStore(path: directory.path + "/hub.sqlite")
        let lastMinute = Self.morning.addingTimeInterval(16 * 3600 - 1)  // 23:59:59 WIB
        let queue = try HubQueue(store: store, rules: .standard, timeZone: Self.jakarta, office: "K", now: lastMinute)
        let printer = HeldPrinter()
        let pressed = Mutex<KioskPress?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            pressed.withLock { $0 = try? queue.press(at: lastMinute, printer: printer) }
            done.signal()
        }.start()
        #expect(printer.writing.wait(timeout: .now() + 10) == .success, "the printer was asked")
        let midnight = Self.morning.addingTimeInterval(16 * 3600 + 1)
        #expect(try queue.snapshot(at: midnight).waiting == 0, "the hall's poll opens the new day")
        printer.release.signal()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(pressed.withLock { $0 } == .printFailed(voided: "A-001", reason: "the day ended while it printed"))
        guard case .issued(let first, _) = try queue.press(at: midnight, printer: GoodPrinter()) else {
            Issue.record("no ticket in the new day")
            return
        }
        #expect(first.label == "A-001")
        let lastDay = try HubQueue.days(in: store, from: "2026-11-30", to: "2026-11-30", rules: .standard)
        #expect(lastDay.flatMap { $0.tickets.filter(\.isWaiting) }.isEmpty, "nothing queued in the last day: \(lastDay)")
    }

    /// The store refuses a write just after a ticket printed: the ticket is queued all the same
    /// (someone holds it), the journal says so, and the next change writes it.
    @Test func aPrintedTicketTheStoreRefusedIsQueuedAndWrittenLater() throws {
        let directory = try TemporaryDirectory("hub-queue-unsaved")
        let path = directory.path + "/hub.sqlite"
        let said = Mutex<[String]>([])
        let queue = try HubQueue(
            store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: Self.morning
        ) { line in said.withLock { $0.append(line) } }
        _ = try runTool("/usr/bin/sqlite3", [path, "CREATE TRIGGER no_more BEFORE INSERT ON ticket BEGIN SELECT RAISE(ABORT, 'disk full'); END;"])
        guard case .issued(let ticket, _) = try queue.press(at: Self.morning, printer: GoodPrinter()) else {
            Issue.record("the printed ticket was not issued")
            return
        }
        #expect(said.withLock { $0 }.contains { $0.contains("not yet saved") && $0.contains("disk full") }, "\(said.withLock { $0 })")
        _ = try runTool("/usr/bin/sqlite3", [path, "DROP TRIGGER no_more;"])
        #expect(try queue.snapshot(at: Self.morning.addingTimeInterval(2)).waitingTickets.map(\.ticket) == [ticket.label])
        let reopened = try HubQueue(store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: Self.morning)
        #expect(try reopened.snapshot(at: Self.morning.addingTimeInterval(3)).waitingTickets.map(\.ticket) == ["A-001"])
    }

    /// Nobody looks at the queue: its clock still records the first warning at the ticket's
    /// hour (not a moment before), in virtual time.
    @Test func theQueuesClockRecordsAWarningAtItsMinuteWithoutAPoll() async throws {
        let directory = try TemporaryDirectory("hub-queue-clock")
        let store = try HubStore(path: directory.path + "/hub.sqlite")
        let clock = ManualClock(now: .seconds(0))
        let wall = FakeWallClock(clock: clock, epoch: Self.morning)
        let queue = try HubQueue(store: store, rules: .standard, timeZone: Self.jakarta, office: "K", now: Self.morning)
        _ = try queue.press(at: Self.morning, printer: GoodPrinter())
        let ticking = QueueClock(queue: queue, clock: clock, wall: wall) { line in Issue.record("\(line)") }
        ticking.start()
        defer { ticking.stop() }
        func marks() throws -> [Int] {
            let day = try HubQueue.days(in: store, from: "2026-11-30", to: "2026-11-30", rules: .standard)
            return day.flatMap { $0.tickets.map(\.marksPassed) }
        }
        let firstMark = Int(QueueRules.standard.warningMarks[0].components.seconds)
        for second in stride(from: 0, to: firstMark, by: 15) {
            await eventually("the queue's clock asleep at \(second) s") { clock.sleeperCount == 1 }
            #expect(try marks() == [0], "no warning before its minute (\(second) s)")
            clock.advance(to: .seconds(Double(second + 15)))
        }
        await eventually("the queue's clock asleep after the hour") { clock.sleeperCount == 1 }
        #expect(try marks() == [1], "the warning at the ticket's hour, with no display polling")
    }

    /// A printer that takes a ticket only when the test lets it.
    final class HeldPrinter: TicketPrinter, Sendable {
        let writing = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        func state() -> PrinterState { .ready }
        func write(_ bytes: [UInt8]) throws {
            writing.signal()
            release.wait()
        }
    }

    /// A printer stuck on a ticket holds only the kiosk: the counters call and the hall reads
    /// meanwhile; the ticket joins the queue once it printed, with the number it printed.
    @Test func aStuckPrinterDelaysNoCallAndNoHallRead() throws {
        let directory = try TemporaryDirectory("hub-queue-printer")
        let queue = try HubQueue(
            store: try HubStore(path: directory.path + "/hub.sqlite"), rules: .standard, timeZone: Self.jakarta, office: "K",
            now: Self.morning)
        _ = try queue.press(at: Self.morning, printer: GoodPrinter())
        let printer = HeldPrinter()
        let pressed = Mutex<KioskPress?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            pressed.withLock { $0 = try? queue.press(at: Self.morning.addingTimeInterval(10), printer: printer) }
            done.signal()
        }.start()
        #expect(printer.writing.wait(timeout: .now() + 10) == .success, "the printer was asked")
        // Under way while the printer holds A-002 (each would wait for the printer if the queue's
        // lock were held: the test would fail at its timeout, not hang).
        let answered = DispatchSemaphore(value: 0)
        let seen = Mutex<(String?, Int)?>(nil)
        Thread {
            let called = try? queue.call(counter: "loket-1", at: Self.morning.addingTimeInterval(20))
            let hall = try? queue.snapshot(at: Self.morning.addingTimeInterval(21))
            seen.withLock { $0 = (called?.ticket?.label, hall?.waiting ?? -1) }
            answered.signal()
        }.start()
        let callFinished = answered.wait(timeout: .now() + 10) == .success
        printer.release.signal()
        #expect(callFinished, "a call and a hall read finished while the printer was stuck")
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(seen.withLock { $0 }?.0 == "A-001" && seen.withLock { $0 }?.1 == 0, "\(String(describing: seen.withLock { $0 }))")
        guard case .issued(let ticket, _) = pressed.withLock({ $0 }) else {
            Issue.record("the held ticket was not issued: \(String(describing: pressed.withLock { $0 }))")
            return
        }
        #expect(ticket.label == "A-002")
        #expect(try queue.snapshot(at: Self.morning.addingTimeInterval(30)).waitingTickets.map(\.ticket) == ["A-002"])
    }
}

extension HubQueueTests {
    /// `jampasir hub queue` as the head of office types it, on the tickets a day left in the hub's store.
    @Test func theQueueReportGivesTheDayAndItsHours() throws {
        let directory = try TemporaryDirectory("hub-queue-report")
        let path = directory.path + "/hub.sqlite"
        let queue = try HubQueue(store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: Self.morning)
        for minute in [0, 10, 70] { _ = try queue.press(at: Self.morning.addingTimeInterval(Double(minute) * 60), printer: GoodPrinter()) }
        _ = try queue.call(counter: "loket-1", at: Self.morning.addingTimeInterval(30 * 60))  // A-001: 30 min
        _ = try queue.call(counter: "loket-1", at: Self.morning.addingTimeInterval(130 * 60))  // A-002: 120 min, a breach
        let config = directory.path + "/hub.toml"
        try Data("[report]\ntime_zone = \"Asia/Jakarta\"\n".utf8).write(to: URL(fileURLWithPath: config))
        let run = try runBuilt(
            "jampasir", ["hub", "queue", "--hub-store", path, "--config", config, "--date", "2026-11-30", "--hours"])
        #expect(run.status == 0, "\(run.error)")
        let rows = run.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(rows.count == 4, "\(run.output)")
        #expect(rows[1] == "2026-11-30 3 2 0 0 30 min 120 min 120 min 50 % 1 2", "\(run.output)")
        #expect(rows[2] == "2026-11-30 08 2 2 0 0 30 min 120 min 120 min 50 % 1 2", "\(run.output)")
        #expect(rows[3] == "2026-11-30 09 1 0 0 0 – – – – 0 1", "\(run.output)")
        let json = try runBuilt("jampasir", ["hub", "queue", "--hub-store", path, "--config", config, "--format", "json"])
        #expect(json.output.contains("\"breaches\":1") && json.output.contains("\"no_shows\":0"), "\(json.output)")
        let bad = try runBuilt("jampasir", ["hub", "queue", "--hub-store", path, "--config", config, "--date", "30-11-2026"])
        #expect(bad.status == 64 && bad.error.contains("is not a date"))
    }
}

extension HubQueueTests {
    /// The hub was off over two midnights: the day's waiters are recorded as left at that day's
    /// end (not at the next request), and the report counts them as no-shows.
    @Test func aHubOffOverMidnightClosesTheDaysItMissed() throws {
        let directory = try TemporaryDirectory("hub-queue-midnight")
        let path = directory.path + "/hub.sqlite"
        do {
            let queue = try HubQueue(store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: Self.morning)
            _ = try queue.press(at: Self.morning, printer: GoodPrinter())
        }
        let later = Self.morning.addingTimeInterval(2 * 86_400)
        _ = try HubQueue(store: try HubStore(path: path), rules: .standard, timeZone: Self.jakarta, office: "K", now: later)
        let days = try HubQueue.days(in: try HubStore(path: path), from: "2026-11-30", to: "2026-11-30", rules: .standard)
        let ticket = try #require(days.first?.tickets.first)
        // Issued 08:00 WIB, the day ends 24:00 WIB (17:00 UTC): 16 hours, left, every mark and the breach recorded.
        #expect(ticket.state == .left(at: .seconds(1_796_000_400 + 16 * 3600)))
        #expect(ticket.marksPassed == 3 && ticket.breached)
    }
}

typealias Server = HubTests.Server

extension HubQueueTests {
    /// The call button through the front door: the real `jampasird --simulate` (`p`) calls the
    /// ticket the real hub on loopback issued; the session started next serves it and records it;
    /// `jampasir push` brings that session to the hub, and `jampasir hub queue` counts the ticket
    /// served. The same counter with the hub gone shows `Err2`, and times as before.
    @Test func theCallButtonLinksTheTicketToTheSessionThatServesIt() throws {
        let directory = try TemporaryDirectory("call-button")
        try FileManager.default.createDirectory(atPath: directory.file("counter"), withIntermediateDirectories: true)
        let key = try DeviceKey.loadOrCreate(at: directory.file("counter/device.key"))
        let server = try Server(
            store: directory.file("hub/hub.sqlite"), trusting: [key.publicKeyBase64], queue: Self.queue,
            printer: GoodPrinter())
        let issued = try server.raw(Self.ticket)
        #expect(try Self.json(issued)["detail"] as? String == "A-001")

        let config = directory.file("counter.toml")
        func configure(hub: String) throws {
            try """
            [counter]
            id = "loket-2"
            [store]
            path = "\(directory.file("counter/jampasir.sqlite"))"
            [push]
            hub = "\(hub)"
            [button]
            call_line = 27
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }
        // The hub knows the counter by its first export.
        try configure(hub: server.address)
        _ = try SessionStore(path: directory.file("counter/jampasir.sqlite"), access: .readWrite)
        let introduced = try runBuilt("jampasir", ["push", "--config", config])
        #expect(introduced.status == 0, "\(introduced.output)\(introduced.error)")
        // `jampasir doctor` asks the hub whether it takes this counter's calls, calling nobody: a
        // hub that does not trust the counter's key says so.
        let stranger = try Server(store: directory.file("other/hub.sqlite"), trusting: [], queue: Self.queue)
        try configure(hub: stranger.address)
        let refused = try runBuilt("jampasir", ["doctor", "--config", config, "--no-beep"])
        #expect(
            refused.output.contains("FIX   call button (button.call_line): hub \(stranger.address) answered 403: key sha256:"),
            "\(refused.output)")
        try configure(hub: server.address)
        let doctor = try runBuilt("jampasir", ["doctor", "--config", config, "--no-beep"])
        #expect(doctor.output.contains("ok    call button (button.call_line): hub \(server.address) takes this counter's calls"), "\(doctor.output)")
        let daemon = try SimulatedDaemon(["--config", config], log: directory.file("daemon.log"))
        #expect(daemon.waitForLog("ready after"))
        daemon.type("p")
        #expect(daemon.waitForLog("call button: ticket A-001 called here"), "\(daemon.log)")
        daemon.type("  ")  // start, then stop: the session serves A-001
        #expect(daemon.waitForLog("session 1 ended"), "\(daemon.log)")
        #expect(daemon.quit() == 0)
        #expect(daemon.log.contains("ticket=A-001"), "\(daemon.log)")

        let sessions = try runBuilt("jampasir", ["sessions", "--config", config, "--format", "json"])
        #expect(sessions.output.contains("\"ticket\":\"A-001\""), "\(sessions.output)")
        #expect(try runBuilt("jampasir", ["verify", "--store", directory.file("counter/jampasir.sqlite")]).status == 0)

        let push = try runBuilt("jampasir", ["push", "--config", config])
        #expect(push.status == 0, "\(push.output)\(push.error)")
        let hubConfig = directory.file("hub.toml")
        try "[report]\ntime_zone = \"Asia/Jakarta\"\n".write(toFile: hubConfig, atomically: true, encoding: .utf8)
        let figures = try runBuilt(
            "jampasir", ["hub", "queue", "--hub-store", directory.file("hub/hub.sqlite"), "--config", hubConfig, "--format", "json"])
        #expect(figures.output.contains("\"called\":1") && figures.output.contains("\"served\":1"), "\(figures.output)")

        // The hub gone: Err2 once, logged with what to check; the counter times on.
        try configure(hub: try HubTests.closedAddress())
        let alone = try SimulatedDaemon(["--config", config], log: directory.file("alone.log"))
        #expect(alone.waitForLog("ready after"))
        alone.type("p")
        #expect(alone.waitForLog("call button: no answer from the hub"), "\(alone.log)")
        #expect(alone.log.contains("(push.hub)") && alone.log.contains("the counter times as before"), "\(alone.log)")
        alone.type("  ")
        #expect(alone.waitForLog("session 2 ended"), "\(alone.log)")
        #expect(alone.quit() == 0)
    }
}

extension HubQueueTests {
    /// A counter serves only tickets called to the name its key first came with: a trusted
    /// counter that later signs exports as another counter, with sessions carrying that
    /// counter's ticket, is a finding and serves nothing of the other's.
    @Test func aCounterThatRenamesItselfServesNoOtherCountersTicket() throws {
        let directory = try TemporaryDirectory("served-by-key")
        let impostor = try HubTests.Counter("loket-3", in: directory)
        let other = try Self.knownCounter("loket-2", in: directory, hubStore: directory.file("hub/hub.sqlite")).key
        let server = try Server(
            store: directory.file("hub/hub.sqlite"), trusting: [impostor.key.publicKeyBase64, other.publicKeyBase64],
            queue: Self.queue, printer: GoodPrinter())
        _ = try server.raw(Self.ticket)
        let call = try server.raw(try Self.call("loket-2", by: other))
        #expect(try Self.json(call)["ticket"] as? String == "A-001", "\(call)")

        try impostor.record([60])
        try impostor.export(to: directory.file("first"))
        try "[counter]\nid = \"loket-2\"\n[store]\npath = \"\(impostor.storePath)\"\n".write(
            toFile: impostor.config, atomically: true, encoding: .utf8)
        let start = Date()
        let id = try impostor.store.begin(
            SessionRecord(
                counterID: "loket-2", bootID: "boot", startedAt: start, startedMonotonicNs: 0, clockSynchronized: true,
                limitMs: 120_000, ticket: "A-001"))
        try impostor.store.finish(
            id: id, endedAt: start.addingTimeInterval(50), durationMs: 50_000, outcome: .inTime, freeService: false)
        try impostor.export(to: directory.file("second"))
        let keys = directory.file("trusted.keys")
        try (impostor.key.publicKeyBase64 + "\n").write(toFile: keys, atomically: true, encoding: .utf8)
        for stick in ["first", "second"] {
            let imported = try runBuilt(
                "jampasir", ["hub", "import", "--hub-store", directory.file("hub/hub.sqlite"), "--trusted-keys", keys, directory.file(stick)])
            #expect(imported.output.contains("IMPORTED ") || imported.output.contains("HISTORY "), "\(imported.output)")
        }
        let hubConfig = directory.file("hub.toml")
        try "[report]\ntime_zone = \"Asia/Jakarta\"\n".write(toFile: hubConfig, atomically: true, encoding: .utf8)
        let counters = try runBuilt("jampasir", ["hub", "counters", "--hub-store", directory.file("hub/hub.sqlite"), "--config", hubConfig])
        #expect(counters.output.contains("this export names the counter loket-2, its earlier exports loket-3"), "\(counters.output)")
        let figures = try runBuilt(
            "jampasir", ["hub", "queue", "--hub-store", directory.file("hub/hub.sqlite"), "--config", hubConfig, "--format", "json"])
        #expect(figures.output.contains("\"called\":1") && figures.output.contains("\"served\":0"), "\(figures.output)")
        // Exporting under another counter's name gives no right to its calls either.
        let taken = try server.raw(try Self.call("loket-2", by: impostor.key))
        #expect(taken.hasPrefix("HTTP/1.1 403 ") && taken.contains("is counter loket-3's"), "\(taken)")
    }
}

extension HubQueueTests {
    /// What a hub answers (or something posing as one on the LAN) is checked before the counter
    /// shows it or stores it: a label of letters, a dash and digits, judged on its bytes.
    @Test(arguments: [
        #"{"ticket":"A\u0308-001"}"#, #"{"ticket":"A\u200d\u200d\u200d\u200d\u200d\u200d-1"}"#,
        #"{"ticket":"=HYPERLINK(1)"}"#, #"{"ticket":"A-001\u001b[2J"}"#, #"{"ticket":"AAAA-1"}"#,
    ])
    func aFakeHubsTicketIsRefused(_ body: String) throws {
        let directory = try TemporaryDirectory("fake-hub")
        let key = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        let fake = Process()
        fake.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        fake.arguments = [
            "-c",
            """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); print(s.getsockname()[1], flush=True)
            c, _ = s.accept(); c.recv(65536); body = sys.argv[1].encode()
            c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body); c.close()
            """, body,
        ]
        let output = Pipe()
        fake.standardOutput = output
        try fake.run()
        defer { fake.terminate() }
        let port = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(throws: QueueCall.Failure.self) {
            try QueueCall.call(counter: "loket-1", key: key, hub: "127.0.0.1:\(port)")
        }
    }
}

extension HubQueueTests {
    /// Each counter calls with its own key: for its own counter only (the name its exports
    /// brought), once, and only while it still waits for the answer. A check calls nobody.
    @Test func eachCounterCallsWithItsOwnKeyOnceAndInTime() throws {
        let directory = try TemporaryDirectory("signed-calls")
        let hubStore = directory.file("hub/hub.sqlite")
        let three = try Self.knownCounter("loket-3", in: directory, hubStore: hubStore)
        let fresh = try DeviceKey.loadOrCreate(at: directory.file("fresh.key"))
        let server = try Server(
            store: hubStore, trusting: [three.key.publicKeyBase64, fresh.publicKeyBase64], queue: Self.queue,
            printer: GoodPrinter())
        for _ in 0..<2 { _ = try server.raw(Self.ticket) }
        func refused(_ request: String, _ status: Int, _ words: String) throws {
            let answer = try server.raw(request)
            #expect(answer.hasPrefix("HTTP/1.1 \(status) ") && answer.contains(words), "\(words): \(answer)")
        }
        try refused(try Self.call("loket-2", by: three.key), 403, "is counter loket-3's (its first export): it cannot call for loket-2")
        try refused(try Self.call("loket-3", by: fresh), 403, "has brought no export to this hub yet")
        try refused(try Self.call("loket-3", by: three.key, at: Date().addingTimeInterval(-10)), 403, "s old: its counter has given up on it")
        try refused(try Self.call("loket-3", by: three.key, at: Date().addingTimeInterval(10)), 403, "ahead of the hub's clock")
        // A check calls nobody, and cannot be made a call (nor a call a check): the mode is signed.
        let check = Self.request(try SignedCall(counterID: "loket-3", key: three.key, at: Date(), check: true))
        try refused(check.replacingOccurrences(of: "&check=1", with: ""), 401, "does not verify")
        let ready = try server.raw(check)
        #expect(ready.hasPrefix("HTTP/1.1 200 ") && ready.contains("\"result\":\"ready\""), "\(ready)")
        let call = Self.request(try SignedCall(counterID: "loket-3", key: three.key, at: Date()))
        try refused(call.replacingOccurrences(of: "counter=loket-3", with: "counter=loket-3&check=1"), 401, "does not verify")
        try refused(call.replacingOccurrences(of: "counter=loket-3", with: "counter=loket-3&x=1"), 400, "only &check=1")
        #expect(try Self.json(try server.raw("GET /v1/queue HTTP/1.1\r\n\r\n"))["waiting"] as? Int == 2)

        #expect(try Self.json(try server.raw(call))["ticket"] as? String == "A-001")
        try refused(call, 403, "was taken already")
        #expect(try Self.json(try server.raw(try Self.call("loket-3", by: three.key)))["ticket"] as? String == "A-002")
        let nobody = try Self.json(try server.raw(try Self.call("loket-3", by: three.key)))
        #expect(nobody["ticket"] == nil && nobody["waiting"] as? Int == 0, "\(nobody)")
        let state = try Self.json(try server.raw("GET /v1/queue HTTP/1.1\r\n\r\n"))
        #expect((state["calls"] as? [Any])?.count == 2, "\(state)")
        // Tickets over HTTP come from no web page, even one on the hub itself.
        try refused("POST /v1/queue/ticket HTTP/1.1\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\n\r\n", 403, "not from a web page")
    }

    /// Sessions come under their own counter's key only: an export whose sessions name another
    /// counter is refused whole, and the hub keeps nothing of it.
    @Test func anExportOfAnotherCountersSessionsIsRefused() throws {
        let directory = try TemporaryDirectory("foreign-sessions")
        let one = try HubTests.Counter("loket-1", in: directory)
        try one.record([30])
        let start = Date(timeIntervalSince1970: 1_796_100_000)
        let id = try one.store.begin(
            SessionRecord(
                counterID: "loket-7", bootID: "boot", startedAt: start, startedMonotonicNs: 0, clockSynchronized: true,
                limitMs: 120_000, ticket: "A-001"))
        try one.store.finish(id: id, endedAt: start.addingTimeInterval(40), durationMs: 40_000, outcome: .inTime, freeService: false)
        try one.export(to: directory.file("stick"))
        let keys = directory.file("trusted.keys")
        try (one.key.publicKeyBase64 + "\n").write(toFile: keys, atomically: true, encoding: .utf8)
        let hubStore = directory.file("hub/hub.sqlite")
        let run = try runBuilt(
            "jampasir",
            ["hub", "import", "--hub-store", hubStore, "--trusted-keys", keys, try #require(HubImportFolders.only(under: directory.file("stick")))])
        #expect(run.status != 0 && run.output.contains("session 2 names the counter loket-7, but the export is signed by loket-1"), "\(run.output)")
        #expect(try HubStore(path: hubStore).counters().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("hub/bundles")).filter { !$0.hasPrefix(".") }.isEmpty)
    }
}

extension HubQueueTests {
    /// A page whose own name was re-pointed at the hub (DNS rebinding) names itself in `Host`
    /// and is told nothing; only the wallboard's page (the hub's own Prometheus, port 9090) may
    /// read the queue from another origin.
    @Test func aForeignHostIsRefusedAndOnlyTheWallboardReads() throws {
        let directory = try TemporaryDirectory("hub-host")
        let server = try Server(store: directory.path + "/hub.sqlite", trusting: [], queue: Self.queue)
        let port = try #require(server.address.split(separator: ":").last)
        for host in ["evil.example", "evil.example:\(port)", "hub.evil.example"] {
            let answer = try server.raw("GET /v1/queue HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 421 ") && !answer.contains("waiting"), "\(host): \(answer)")
        }
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)", "192.168.1.10"] {
            #expect(try server.raw("GET /v1/queue HTTP/1.1\r\nHost: \(host)\r\n\r\n").hasPrefix("HTTP/1.1 200 "), "\(host)")
        }
        let wallboard = try server.raw("GET /v1/queue HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: http://127.0.0.1:9090\r\n\r\n")
        #expect(wallboard.contains("Access-Control-Allow-Origin: http://127.0.0.1:9090\r\n"), "\(wallboard)")
        let elsewhere = try server.raw("GET /v1/queue HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: http://evil.example\r\n\r\n")
        #expect(elsewhere.hasPrefix("HTTP/1.1 200 ") && !elsewhere.contains("Access-Control-Allow-Origin"), "\(elsewhere)")
    }
}

extension HubQueueTests {
    /// The hub's clock: a step back within a minute takes no call that could be one already
    /// taken; a larger one (the clock set right after a wrong boot) is believed at once.
    @Test func aStepOfTheHubsClockRevivesNoCallAndBlocksNoneForLong() throws {
        let directory = try TemporaryDirectory("call-gate-clock")
        let key = try DeviceKey.loadOrCreate(at: directory.file("device.key"))
        let gate = CallGate(trusted: try TrustedSigners([key.publicKeyBase64]))
        let start = Date(timeIntervalSince1970: 1_796_000_400)
        func admit(issued: Date, hub: Date) throws {
            let call = try SignedCall(counterID: "loket-1", key: key, at: issued)
            try gate.admit(call, nowMs: Int64(hub.timeIntervalSince1970 * 1000), counter: "loket-1")
        }
        try admit(issued: start, hub: start)
        // Ten seconds back: refused, and said to be the hub's clock.
        let back = #expect(throws: CallGate.Refusal.self) {
            try admit(issued: start.addingTimeInterval(-10), hub: start.addingTimeInterval(-10))
        }
        #expect(back?.description.contains("the hub's clock stepped back by 10.0 s") == true, "\(String(describing: back))")
        // Two hours ahead, then set right: calls are taken again at once.
        try admit(issued: start.addingTimeInterval(7200), hub: start.addingTimeInterval(7200))
        try admit(issued: start.addingTimeInterval(5), hub: start.addingTimeInterval(5))
    }
}
