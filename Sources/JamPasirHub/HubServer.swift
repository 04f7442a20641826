import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirQueue
import JamPasirReports
import JamPasirPosix
import Synchronization

/// What the hub answers, whatever carries the request (`JamPasirHubHTTP` over the LAN): each
/// request is routed on its head alone (refused, or the endpoint it asks for and the body that
/// endpoint may bring), then answered by the endpoint's work, which may block (SQLite, the
/// printer, espeak-ng): the front runs it on the endpoint's own worker.
public struct HubServer: Sendable {
    public let store: HubStore
    public let trusted: TrustedSigners
    /// The office's local days, for the history it gives.
    public var timeZone = TimeZone.current
    /// The office's queue (`/v1/queue`, `/hall`); nil: the hub takes bundles only.
    public var queue: HubQueue?
    /// The kiosk's ticket printer (`queue.printer`); nil: `POST /v1/queue/ticket` says so.
    public var printer: (any TicketPrinter & Sendable)?
    /// The origin of the wallboard's page allowed to read the queue and the history
    /// (`hub.wallboard_origin`); nil: the hub's own Prometheus, `http://HOST:9090`, HOST as
    /// the request names the hub.
    public var wallboardOrigin: String?
    /// The names a request's `Host` may give (`HostCheck`).
    public var hostCheck = HostCheck()
    /// Which counters' calls are carried out: signed by the office's keys, once, in time.
    let calls: CallGate
    /// The last history answered, while nothing new came.
    let reports = ReportCache()
    /// Tickets over HTTP: from this machine only, at the kiosk button's pace.
    let tickets = TicketPace()
    let spoken = SpokenCalls()
    let log: @Sendable (String) -> Void

    public init(store: HubStore, trusted: TrustedSigners, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.trusted = trusted
        self.calls = CallGate(trusted: trusted)
        self.log = log
    }

    /// A request as it arrived: header names in lower case, `host` among them (the request's
    /// authority); `peer` the client's numeric address; `body` read only for an endpoint that
    /// takes one, and no longer than its `bodyLimit`.
    public struct Request: Sendable {
        public var method: String
        public var target: String
        public var headers: [String: String]
        public var peer: String
        public var body = Data()

        public init(method: String, target: String, headers: [String: String], peer: String) {
            (self.method, self.target, self.headers, self.peer) = (method, target, headers, peer)
        }

        var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
    }

    /// What a request asks for, known from its head.
    public enum Endpoint: Sendable, Equatable {
        case bundles, report, queue, call, ticket, hall, announcement, metrics

        /// Who does its work: the queue's own (calls, the hall's reads), the printer's (tickets,
        /// one at a time), the speaker's (the spoken call), the readers' (the history), or the
        /// imports' (one at a time).
        public enum Work: Sendable { case queue, printing, speaking, reading, importing }

        public var work: Work {
            switch self {
            case .bundles: .importing
            case .report: .reading
            case .announcement: .speaking
            case .ticket: .printing
            case .queue, .call, .hall, .metrics: .queue
            }
        }

        /// The body it takes: a bundle's; nothing else reads one.
        public var bodyLimit: Int { self == .bundles ? BundleTransfer.maxBody : 0 }
    }

    /// A request routed on its head: refused already, or the endpoint that answers it.
    public enum Route: Sendable {
        case refused(Reply)
        case endpoint(Endpoint)
    }

    /// An answer: its status, a word and a detail for the log (and the JSON body, unless a body
    /// of its own is given).
    public struct Reply: Sendable {
        public var status: Int
        public var result: String
        public var detail: String
        var body: Data? = nil
        public var contentType = "application/json"
        /// Readable by the wallboard's page on Prometheus's port (`wallboardOrigin`), never cached.
        public var shared = false
        /// The origin allowed to read it (`Access-Control-Allow-Origin`), when the request came
        /// from the wallboard's page.
        public var origin: String? = nil

        public init(
            status: Int, result: String, detail: String, body: Data? = nil, contentType: String = "application/json", shared: Bool = false
        ) {
            (self.status, self.result, self.detail, self.body, self.contentType, self.shared) = (status, result, detail, body, contentType, shared)
        }

        /// What the client receives: the endpoint's body, or the word and detail as JSON.
        public var payload: Data {
            body ?? Data("{\"result\":\(HubServer.json(result)),\"detail\":\(HubServer.json(Self.clipped(detail)))}\n".utf8)
        }

        static func clipped(_ detail: String) -> String { detail.count > 1024 ? detail.prefix(1024) + "…" : detail }
    }

    /// Routes `request` on its head: a foreign `Host`, an unknown path, the wrong method or a
    /// body the endpoint does not take are refused here, before any work or any body is read.
    public func route(_ request: Request) -> Route {
        // A browser sends the name it resolved: a name that is not the hub's is a page that had
        // its own name re-pointed at the hub (DNS rebinding), and is told nothing.
        if let host = request.headers["host"], !hostCheck.accepts(host) {
            return .refused(Reply(status: 421, result: "misdirected", detail: "Host \(host) is not this hub: \(hostCheck.names)"))
        }
        let endpoint: Endpoint
        switch request.path {
        case "/v1/report": endpoint = .report
        case "/v1/queue": endpoint = .queue
        case "/v1/queue/announcement.wav": endpoint = .announcement
        case "/hall": endpoint = .hall
        case "/metrics": endpoint = .metrics
        case "/v1/queue/call": endpoint = .call
        case "/v1/queue/ticket": endpoint = .ticket
        case Substring(BundleTransfer.path): endpoint = .bundles
        default: return .refused(Reply(status: 404, result: "not_found", detail: Self.routes))
        }
        let expected = [.call, .ticket, .bundles].contains(endpoint) ? "POST" : "GET"
        guard request.method == expected else {
            return .refused(Reply(status: 405, result: "method_not_allowed", detail: "\(expected) only"))
        }
        // Tickets from the hub itself, and from no web page (a browser on the hub, the hall's TV,
        // would send its page's Origin): refused here, so that nobody else takes the printer's turn.
        if endpoint == .ticket, !Self.isLoopback(request.peer) || request.headers["origin"] != nil {
            return .refused(
                Reply(
                    status: 403, result: "forbidden",
                    detail: "tickets are taken from a program on the hub itself only (and its kiosk button), not from a web page"))
        }
        let length = request.headers["content-length"].map { Int($0) ?? -1 }
        if endpoint.bodyLimit > 0 {
            guard request.headers["transfer-encoding"] == nil, let length, length >= 0 else {
                return .refused(Reply(status: 411, result: "length_required", detail: "a Content-Length is needed"))
            }
            guard length <= endpoint.bodyLimit else {
                return .refused(
                    Reply(status: 413, result: "too_large", detail: "\(length) bytes; the hub takes at most \(endpoint.bodyLimit)"))
            }
        } else if request.headers["transfer-encoding"] != nil || (length ?? 0) != 0 {
            return .refused(Reply(status: 413, result: "too_large", detail: "\(request.path) takes no body"))
        }
        return .endpoint(endpoint)
    }

    /// The answer of `endpoint` (as `route` gave it) to `request`, its body read. May block.
    public func answer(_ request: Request, at endpoint: Endpoint) -> Reply {
        switch endpoint {
        case .report: history(request.target[...])
        case .bundles: receiveBundle(request)
        default: answerQueue(endpoint, request)
        }
    }

    /// `reply` as `request` receives it (readable by the wallboard's page when it asked), logged.
    public func finish(_ reply: Reply, for request: Request) -> Reply {
        var reply = reply
        if reply.shared, let origin = request.headers["origin"], let host = request.headers["host"],
            origin == wallboardOrigin ?? HostCheck.wallboard(servedWith: host)
        {
            reply.origin = origin
        }
        log("\(request.peer): \(reply.status) \(reply.result): \(Reply.clipped(reply.detail))".terminalSafe)
        return reply
    }

    /// `GET /v1/report?days=N`: the office's figures for the last N local days (30; 1 to 366),
    /// as `jampasir hub report --format json` gives them.
    private func history(_ target: Substring) -> Reply {
        let query = target.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        var days = 30
        for pair in query.split(separator: "&") where pair.hasPrefix("days=") {
            guard let value = Int(pair.dropFirst(5)), (1...366).contains(value) else {
                return Reply(status: 400, result: "bad_request", detail: "days must be 1 to 366")
            }
            days = value
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let from = calendar.date(byAdding: .day, value: 1 - days, to: calendar.startOfDay(for: Date()))
        do {
            // The wallboard asks every minute; the answer changes only with an import or a new day.
            let key = "\(days) \(from.map(Timestamp.iso8601) ?? "") \(try store.generation())"
            let body = try reports.body(for: key) {
                try HubReport(store: store, timeZone: timeZone, from: from, to: nil).json()
            }
            return Reply(status: 200, result: "report", detail: "\(days) days", body: body, shared: true)
        } catch {
            return Reply(status: 500, result: "error", detail: "the report failed: \(error)")
        }
    }

    static let routes =
        "the hub takes bundles at POST \(BundleTransfer.path), gives its history at GET /v1/report, the queue at "
        + "GET /v1/queue, calls signed by a counter's key at POST /v1/queue/call?counter=ID, tickets from this machine at POST /v1/queue/ticket, the hall page at GET "
        + "/hall, its spoken calls at GET /v1/queue/announcement.wav?ticket=A-001&counter=ID and the queue's "
        + "metrics for Prometheus at GET /metrics"

    /// `POST /v1/bundles`: a counter's signed export, imported into the hub's store.
    private func receiveBundle(_ request: Request) -> Reply {
        guard request.body.count == Int(request.headers["content-length"] ?? "") else {
            return Reply(status: 400, result: "bad_request", detail: "the body is shorter than its Content-Length")
        }
        let folder = store.bundlesDirectory + "/.received-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            try BundleTransfer.unpack(request.body, into: folder)
        } catch {
            return Reply(status: 400, result: "bad_request", detail: "\(error)")
        }
        let result = HubImport.importBundle(folder, into: store, trusting: trusted, at: Date(), source: "http \(request.peer)")
        let counter = result.counterID.map { "\($0): " } ?? ""
        switch result.verdict {
        case .accepted(let new, let known): return Reply(status: 200, result: "imported", detail: "\(counter)\(new) new sessions, \(known) known")
        case .alreadyImported: return Reply(status: 200, result: "known", detail: "\(counter)imported before")
        case .refused(let why): return Reply(status: 422, result: "refused", detail: counter + why)
        case .historyChanged(let new, let findings):
            return Reply(status: 409, result: "history_changed", detail: "\(counter)\(new) new sessions; " + findings.joined(separator: "; "))
        }
    }

    public static func reason(_ status: Int) -> String {
        [200: "OK", 400: "Bad Request", 500: "Internal Server Error", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
         403: "Forbidden", 401: "Unauthorized", 408: "Request Timeout", 421: "Misdirected Request", 429: "Too Many Requests", 411: "Length Required", 413: "Content Too Large", 422: "Unprocessable Content", 502: "Bad Gateway",
         503: "Service Unavailable"][status] ?? "Error"
    }

    /// A JSON string literal.
    static func json(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}

/// The last `GET /v1/report` answer and what it was computed at.
final class ReportCache: Sendable {
    private let last = Mutex<(key: String, body: Data)?>(nil)

    func body(for key: String, compute: () throws -> Data) throws -> Data {
        if let last = last.withLock({ $0 }), last.key == key { return last.body }
        let body = try compute()
        last.withLock { $0 = (key, body) }
        return body
    }
}

/// The sending side: an export folder to a hub (a counter's `jampasir push`, a hub's
/// `jampasir hub forward` to the hub above it).
public enum BundlePush {
    public struct Answer: Equatable, Sendable {
        public var status: Int
        public var result: String
        public var detail: String

        /// 200 (imported, known) and 409 (taken, history changed): the hub has it.
        public var taken: Bool { status == 200 || status == 409 }
        public var text: String { "\(result): \(detail)".terminalSafe }
    }

    /// The hub could not be reached on any try.
    public struct Unreachable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends the export folder to the hub at `address`, trying `attempts` times while the hub
    /// cannot be reached or is busy (503), the pause doubling from `firstPause` seconds up to 5 minutes; `waiting`
    /// is told of each pause. Returns the hub's answer, whatever it says; throws `Unreachable`,
    /// or the reason the folder could not be read.
    public static func deliver(
        folder: String, to address: String, attempts: Int, firstPause: Double = 5, waiting: (String) -> Void
    ) throws -> Answer {
        let body = try BundleTransfer.body(ofFolder: folder)
        var pause = firstPause
        var attempt = 1
        while true {
            do {
                // 503: busy with another counter's bundle, or stopping; it asks to come back.
                let answer = try send(body, to: address)
                guard answer.status == 503, attempt < attempts else { return answer }
                waiting("hub \(address): \(answer.text); trying again in \(Int(pause)) s")
            } catch {
                guard attempt < attempts else {
                    throw Unreachable(
                        description: "cannot reach the hub \(address) after \(attempts) tr\(attempts == 1 ? "y" : "ies"): \(error)")
                }
                waiting("hub \(address): \(error); trying again in \(Int(pause)) s")
            }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 300)
            attempt += 1
        }
    }

    /// One try: the envelope to the hub at `address`, and its answer.
    static func send(_ body: Data, to address: String) throws(TCP.Failure) -> Answer {
        // Never waits for ever: a hub (or something posing as one) that trickles is left.
        let reply = try HubClient.post(
            BundleTransfer.path, body: body, contentType: "application/octet-stream", to: address, timeout: 30,
            within: 120 + Double(body.count) / 65_536)
        guard let answer = try? JSONSerialization.jsonObject(with: reply.body) as? [String: String] else {
            // A 408 has no body: the hub cut a push that came too slowly.
            let said = reply.status == 408 ? ": the push came too slowly and was cut (408)" : " (HTTP \(reply.status))"
            throw TCP.Failure(description: "\(address) did not answer as a JamPasir hub\(said)")
        }
        return Answer(status: reply.status, result: answer["result"] ?? "?", detail: answer["detail"] ?? "")
    }
}

/// A request to a hub: one POST on a fresh connection, its status and body (at most 64 KiB).
/// `timeout` bounds each connect, send and receive; `within` the whole exchange from the call.
enum HubClient {
    static func post(
        _ target: String, headers: [String: String] = [:], body: Data = Data(), contentType: String, to address: String,
        timeout: Int, within seconds: Double
    ) throws(TCP.Failure) -> (status: Int, body: Data) {
        let deadline = Date().addingTimeInterval(seconds)
        var lastError = "no address"
        for candidate in try TCP.resolve(address) {
            let fd = socket(candidate.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            TCP.setTimeouts(fd, seconds: timeout)
            let connected = candidate.address.withUnsafeBytes {
                connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(candidate.address.count))
            }
            guard connected == 0 else {
                lastError = SystemError.reason(errno)
                continue
            }
            let extra = headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined()
            let head =
                "POST \(target) HTTP/1.1\r\nHost: \(address)\r\nContent-Type: \(contentType)\r\n\(extra)Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            try TCP.sendAll(fd, Data(head.utf8) + body, deadline: deadline)
            let response = try TCP.receive(fd, limit: 64 << 10, deadline: deadline)
            guard let parsed = HTTPHead(response), parsed.firstLine.count >= 2, let status = Int(parsed.firstLine[1])
            else { throw TCP.Failure(description: "\(address) did not answer as a JamPasir hub") }
            return (status, Data(response[parsed.bodyStart...]))
        }
        throw TCP.Failure(description: "cannot connect to \(address): \(lastError)")
    }
}
