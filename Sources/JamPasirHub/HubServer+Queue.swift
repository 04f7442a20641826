import Foundation
import JamPasirConfig
import JamPasirExport
import JamPasirQueue
import Synchronization

/// The queue's endpoints: the hall display's state, a counter's call, the kiosk's ticket, and
/// the hall page itself.
extension HubServer {
    /// What a counter is told when it calls: the ticket it called (nil: nobody waits) and what
    /// the hall's speaker says.
    struct CallAnswer: Codable {
        var ticket: String?
        var counter: String
        var announcement: String?
        var waiting: Int
    }

    func answerQueue(_ endpoint: Endpoint, _ request: Request) -> Reply {
        let (target, headers) = (request.target[...], request.headers)
        if endpoint == .hall {
            return Reply(
                status: 200, result: "hall", detail: "page", body: Data(HallPage.html.utf8),
                contentType: "text/html; charset=utf-8")
        }
        guard let queue else {
            return Reply(status: 404, result: "not_found", detail: "this hub keeps no queue")
        }
        if endpoint == .announcement {
            return announcement(target, in: queue)
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let now = Date()
        do {
            switch endpoint {
            case .call:
                // Exactly `counter=ID` or `counter=ID&check=1`: nothing else is signed.
                let query = target.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
                let parts = query.split(separator: "&", omittingEmptySubsequences: false)
                guard parts.count == 1 || (parts.count == 2 && parts[1] == "check=1"), parts[0].hasPrefix("counter="),
                    case let counter = String(parts[0].dropFirst(8)), Configuration.isValidCounterID(counter)
                else {
                    return Reply(
                        status: 400, result: "bad_request",
                        detail: "counter=ID is needed, and only &check=1 after it: the counter's id (letters, digits, '-', '_', '.'; at most 64)")
                }
                let check = parts.count == 2
                if let refused = try admit(counter: counter, check: check, headers: headers, at: now) { return refused }
                if check {
                    return Reply(status: 200, result: "ready", detail: "\(counter): its calls are taken (a check; nobody called)")
                }
                let (ticket, _, waiting) = try queue.call(counter: counter, at: now)
                let answer = CallAnswer(
                    ticket: ticket?.label, counter: counter,
                    announcement: ticket.map { Announcement.text(label: $0.label, counter: counter) }, waiting: waiting)
                return Reply(
                    status: 200, result: ticket == nil ? "nobody_waiting" : "called",
                    detail: "\(counter): \(ticket?.label ?? "nobody waiting")", body: try encoder.encode(answer))
            case .ticket:  // from the hub itself (`route`)
                guard tickets.take(at: now) else {
                    return Reply(
                        status: 429, result: "too_many",
                        detail: "tickets come in a burst of at most \(Int(TicketPace.burst)), then one per \(Int(TicketPace.every)) s")
                }
                guard let printer else {
                    return Reply(
                        status: 503, result: "no_printer",
                        detail: "no ticket printer: set queue.printer (e.g. \"/dev/usb/lp0\") on the hub")
                }
                switch try queue.press(at: now, printer: printer) {
                case .issued(let ticket, let state):
                    let note = state == .paperLow ? "; \(state.message)" : ""
                    return Reply(status: 200, result: "issued", detail: ticket.label + note)
                case .roomFull(let waiting):
                    return Reply(status: 409, result: "room_full", detail: "\(waiting) waiting: the room is full")
                case .printerNotReady(let state):
                    return Reply(status: 503, result: "printer_not_ready", detail: state.message)
                case .printFailed(let voided, let reason):
                    return Reply(status: 502, result: "print_failed", detail: "\(voided) voided: \(reason)")
                }
            case .metrics:
                let snapshot = try queue.snapshot(at: now)
                return Reply(
                    status: 200, result: "metrics", detail: "\(snapshot.waiting) waiting",
                    body: Data(snapshot.prometheusText.utf8), contentType: "text/plain; version=0.0.4; charset=utf-8")
            default:
                let snapshot = try queue.snapshot(at: now)
                return Reply(
                    status: 200, result: "queue", detail: "\(snapshot.waiting) waiting", body: try encoder.encode(snapshot),
                    shared: true)
            }
        } catch {
            return Reply(status: 500, result: "error", detail: "the queue failed: \(error)")
        }
    }

    /// The spoken call as WAV, from espeak-ng's Indonesian voice: only of a call made today (a
    /// ticket label and the counter it was called to), so that nobody makes the hub speak at
    /// will; only letters and number words reach the synthesiser (as one argument, no shell). The
    /// last few are kept (`SpokenCalls`): every display in the hall asks for the same call.
    func announcement(_ target: Substring, in queue: HubQueue) -> Reply {
        guard let ticket = Self.query(target, "ticket"), Ticket.isLabel(ticket),
            let counter = Self.query(target, "counter"), Configuration.isValidCounterID(counter)
        else {
            return Reply(status: 400, result: "bad_request", detail: "ticket=A-001&counter=ID are needed")
        }
        guard queue.wasCalled(ticket, to: counter) else {
            return Reply(status: 404, result: "not_found", detail: "\(ticket) was not called to \(counter) today")
        }
        let wav = spoken.wav(for: Announcement.text(label: ticket, counter: counter)) { text in Self.speak(text) }
        guard let wav else {
            return Reply(
                status: 503, result: "no_speech",
                detail: "espeak-ng failed or cannot run (\(Self.espeak)): install espeak-ng on the hub (apt install espeak-ng)")
        }
        return Reply(status: 200, result: "announcement", detail: "\(ticket) \(counter)", body: wav, contentType: "audio/wav")
    }

    /// `text` spoken by espeak-ng as a WAV with its real sizes, or nil if it failed.
    static func speak(_ text: String) -> Data? {
        let speech = Process()
        speech.executableURL = URL(fileURLWithPath: Self.espeak)
        speech.arguments = ["-v", "id", "-s", "150", "--stdout", text]
        let output = Pipe()
        speech.standardOutput = output
        speech.standardError = FileHandle.nullDevice
        do {
            try speech.run()
            // A sentence takes espeak-ng a fraction of a second; nothing may hold the hub longer.
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { if speech.isRunning { speech.terminate() } }
        } catch {
            return nil
        }
        var wav = [UInt8](output.fileHandleForReading.readDataToEndOfFile().prefix(4 << 20))
        speech.waitUntilExit()
        // Written to a pipe, the header cannot know the length: it says "as long as it gets".
        // Players that trust it (sox, some browsers) want the real sizes, set here.
        guard speech.terminationStatus == 0, wav.count > 44, wav[0..<4] == Array("RIFF".utf8)[...],
            wav[36..<40] == Array("data".utf8)[...]
        else { return nil }
        for (offset, size) in [(4, wav.count - 8), (40, wav.count - 44)] {
            for byte in 0..<4 { wav[offset + byte] = UInt8(truncatingIfNeeded: size >> (8 * byte)) }
        }
        return Data(wav)
    }

    static let espeak = "/usr/bin/espeak-ng"

    /// Nil when the call is signed by `counter`'s own key, once and in time (`CallGate`); else
    /// the refusal.
    private func admit(counter: String, check: Bool, headers: [String: String], at now: Date) throws -> Reply? {
        do {
            let call = try SignedCall(counter: counter, check: check, headers: headers)
            let counter: String?
            do {
                counter = try store.counterName(ofKey: call.publicKey)
            } catch {
                return Reply(status: 500, result: "error", detail: "the hub's store cannot say whose key signed the call: \(error)")
            }
            try calls.admit(call, nowMs: Int64(now.timeIntervalSince1970 * 1000), counter: counter)
            return nil
        } catch let problem as SignedCall.Problem {
            return Reply(status: 401, result: "unsigned", detail: problem.description)
        } catch let refusal as CallGate.Refusal {
            return Reply(status: refusal.result == "busy" ? 503 : 403, result: refusal.result, detail: refusal.description)
        }
    }

    /// A peer on this machine (`describe`'s numeric form).
    static func isLoopback(_ peer: String) -> Bool {
        peer == "::1" || peer.hasPrefix("127.") || peer.hasPrefix("::ffff:127.")
    }

    /// The value of `name` in the target's query (`/v1/queue/call?counter=loket-3`).
    static func query(_ target: Substring, _ name: String) -> String? {
        let query = target.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        return query.split(separator: "&").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}

/// The last spoken calls, by their text: a call is asked for by every display in the hall, and
/// espeak-ng runs once for it.
final class SpokenCalls: Sendable {
    static let kept = 8
    private let last = Mutex<[(text: String, wav: Data)]>([])

    func wav(for text: String, speak: (String) -> Data?) -> Data? {
        if let known = last.withLock({ $0.first { $0.text == text }?.wav }) { return known }
        guard let wav = speak(text) else { return nil }
        last.withLock { last in
            last.removeAll { $0.text == text }
            last = [(text, wav)] + last.prefix(Self.kept - 1)
        }
        return wav
    }
}

/// Tickets over HTTP at about the kiosk button's pace: a burst of `burst`, then one per `every`
/// seconds, so a program gone wrong cannot fill the room in a second.
final class TicketPace: Sendable {
    static let burst = 10.0
    static let every = 2.0
    private let state = Mutex<(tokens: Double, at: Date?)>((burst, nil))

    func take(at now: Date) -> Bool {
        state.withLock { state in
            let refill = state.at.map { max(0, now.timeIntervalSince($0)) / Self.every } ?? 0
            state = (min(Self.burst, state.tokens + refill), now)
            guard state.tokens >= 1 else { return false }
            state.tokens -= 1
            return true
        }
    }
}
