import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirQueue
import JamPasirReports
import JamPasirPosix
import Synchronization

/// `jampasir hub serve`: takes counters' bundles over the LAN. One connection at a time (the
/// imports are one at a time anyway), each bounded in size and in silence, so a stuck or
/// hostile client delays the next by at most `timeout` seconds and costs no more memory than
/// the largest bundle.
public struct HubServer: Sendable {
    public let store: HubStore
    public let trusted: TrustedSigners
    /// Silence allowed within a request.
    public var timeout = 10
    /// The office's local days, for the history it gives.
    public var timeZone = TimeZone.current
    /// The request's head must arrive within this; its body at no less than this pace.
    static let headSeconds = 15.0
    static let slowestBytesPerSecond = 128.0 * 1024
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
    let log: @Sendable (String) -> Void

    public init(store: HubStore, trusted: TrustedSigners, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.trusted = trusted
        self.calls = CallGate(trusted: trusted)
        self.log = log
    }

    /// A listening socket on `address` (`HOST:PORT`; `0.0.0.0:8790` for every IPv4 interface).
    public static func listen(on address: String) throws -> Int32 {
        var lastError = "no address"
        for candidate in try TCP.resolve(address, passive: true) {
            let fd = socket(candidate.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            let bound = candidate.address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(candidate.address.count))
            }
            if bound == 0 && Foundation.listen(fd, 16) == 0 { return fd }
            lastError = SystemError.reason(errno)
            close(fd)
        }
        throw TCP.Failure(description: "cannot listen on \(address): \(lastError); check hub.listen or --listen")
    }

    /// Serves until the listening socket is shut down (`shutdown(listener, SHUT_RDWR)`), which
    /// is how a test ends it; the command serves until the process is stopped. A connection
    /// that fails before it is accepted is skipped; running out of descriptors or memory waits a
    /// moment instead of spinning.
    public func serve(_ listener: Int32) {
        while true {
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            guard client >= 0 else {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO, EPERM: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: usleep(100_000)
                default: return
                }
                continue
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            handle(client, peer: Self.describe(&peer, length))
            close(client)
        }
    }

    /// The port a listening socket was bound to (for `127.0.0.1:0`).
    public static func port(of listener: Int32) -> Int {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let isIPv6 = address.ss_family == sa_family_t(AF_INET6)
        let port = withUnsafePointer(to: &address) {
            isIPv6
                ? $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port }
                : $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }
        }
        return Int(UInt16(bigEndian: port))
    }

    /// An answer: its status, a word and a detail for the log (and the JSON body, unless a body
    /// of its own is given).
    struct Reply {
        var status: Int
        var result: String
        var detail: String
        var body: Data? = nil
        var contentType = "application/json"
        /// Readable by the wallboard's page on Prometheus's port (`wallboardOrigin`), never cached.
        var shared = false
        /// The origin allowed to read it (`Access-Control-Allow-Origin`), when the request came
        /// from the wallboard's page.
        var origin: String? = nil
    }

    /// One request: read, answer, log.
    public func handle(_ client: Int32, peer: String) {
        TCP.setTimeouts(client, seconds: timeout)
        let reply = answer(client, peer: peer)
        let detail = reply.detail.count > 1024 ? reply.detail.prefix(1024) + "…" : reply.detail
        let body = reply.body ?? Data("{\"result\":\(Self.json(reply.result)),\"detail\":\(Self.json(detail))}\n".utf8)
        let head =
            "HTTP/1.1 \(reply.status) \(Self.reason(reply.status))\r\nContent-Type: \(reply.contentType)\r\n"
            + "Content-Length: \(body.count)\r\n"
            + (reply.shared ? "Cache-Control: no-store\r\nVary: Origin\r\n" : "")
            + (reply.origin.map { "Access-Control-Allow-Origin: \($0)\r\n" } ?? "") + "Connection: close\r\n\r\n"
        try? TCP.sendAll(client, Data(head.utf8) + body, deadline: Date().addingTimeInterval(Self.headSeconds))
        log("\(peer): \(reply.status) \(reply.result): \(detail)".terminalSafe)
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

    private func answer(_ client: Int32, peer: String) -> Reply {
        var head: HTTPHead?
        var reply = route(client, peer: peer, head: &head)
        if reply.shared, let origin = head?.headers["origin"], let host = head?.headers["host"],
            origin == wallboardOrigin ?? HostCheck.wallboard(servedWith: host)
        {
            reply.origin = origin
        }
        return reply
    }

    /// The request's answer by its path; `head` is the request's head once read.
    private func route(_ client: Int32, peer: String, head parsed: inout HTTPHead?) -> Reply {
        var message = Data()
        do {
            try TCP.receive(
                client, into: &message, limit: BundleTransfer.maxHead, deadline: Date().addingTimeInterval(Self.headSeconds)
            ) { HTTPHead($0) != nil }
        } catch {
            return Reply(status: 400, result: "bad_request", detail: "no request head: \(error)")
        }
        guard let head = HTTPHead(message), head.firstLine.count == 3, head.firstLine[2].hasPrefix("HTTP/1.")
        else { return Reply(status: 400, result: "bad_request", detail: "not an HTTP/1.1 request") }
        parsed = head
        // A browser sends the name it resolved: a name that is not the hub's is a page that had
        // its own name re-pointed at the hub (DNS rebinding), and is told nothing.
        if let host = head.headers["host"], !hostCheck.accepts(host) {
            return Reply(status: 421, result: "misdirected", detail: "Host \(host) is not this hub: \(hostCheck.names)")
        }
        let (method, target) = (head.firstLine[0], head.firstLine[1])
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let expected: String
        switch path {
        case "/v1/report": expected = "GET"
        case "/v1/queue", "/v1/queue/announcement.wav", "/hall", "/metrics": expected = "GET"
        case "/v1/queue/call", "/v1/queue/ticket", Substring(BundleTransfer.path): expected = "POST"
        default: return Reply(status: 404, result: "not_found", detail: Self.routes)
        }
        guard method == expected else {
            return Reply(status: 405, result: "method_not_allowed", detail: "\(expected) only")
        }
        switch path {
        case "/v1/report": return history(target)
        case "/v1/queue", "/v1/queue/call", "/v1/queue/ticket", "/v1/queue/announcement.wav", "/hall", "/metrics":
            return answerQueue(path: path, target: target, peer: peer, headers: head.headers)
        default: return receiveBundle(message, head: head, client: client, peer: peer)
        }
    }

    /// `POST /v1/bundles`: a counter's signed export, imported into the hub's store.
    private func receiveBundle(_ message: Data, head: HTTPHead, client: Int32, peer: String) -> Reply {
        var message = message
        guard head.headers["transfer-encoding"] == nil, let lengthText = head.headers["content-length"],
            let length = Int(lengthText), length >= 0
        else { return Reply(status: 411, result: "length_required", detail: "a Content-Length is needed") }
        guard length <= BundleTransfer.maxBody else {
            return Reply(status: 413, result: "too_large", detail: "\(length) bytes; the hub takes at most \(BundleTransfer.maxBody)")
        }
        // The body into the same buffer, at no less than the slowest LAN's pace: a client that
        // trickles is dropped, and the next one waits at most that long.
        let total = head.bodyStart - message.startIndex + length
        message.reserveCapacity(total + 1)
        do {
            try TCP.receive(
                client, into: &message, limit: total,
                deadline: Date().addingTimeInterval(Self.headSeconds + Double(length) / Self.slowestBytesPerSecond)
            ) { $0.count >= total }
        } catch {
            return Reply(status: 400, result: "bad_request", detail: "the body did not arrive: \(error)")
        }
        guard message.count >= total else { return Reply(status: 400, result: "bad_request", detail: "the body is shorter than its Content-Length") }
        let folder = store.bundlesDirectory + "/.received-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            try BundleTransfer.unpack(message[head.bodyStart..<message.startIndex + total], into: folder)
        } catch {
            return Reply(status: 400, result: "bad_request", detail: "\(error)")
        }
        let result = HubImport.importBundle(folder, into: store, trusting: trusted, at: Date(), source: "http \(peer)")
        let counter = result.counterID.map { "\($0): " } ?? ""
        switch result.verdict {
        case .accepted(let new, let known): return Reply(status: 200, result: "imported", detail: "\(counter)\(new) new sessions, \(known) known")
        case .alreadyImported: return Reply(status: 200, result: "known", detail: "\(counter)imported before")
        case .refused(let why): return Reply(status: 422, result: "refused", detail: counter + why)
        case .historyChanged(let new, let findings):
            return Reply(status: 409, result: "history_changed", detail: "\(counter)\(new) new sessions; " + findings.joined(separator: "; "))
        }
    }

    static func describe(_ peer: inout sockaddr_storage, _ length: socklen_t) -> String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        return status == 0 ? String(cString: host) : "?"
    }

    static func reason(_ status: Int) -> String {
        [200: "OK", 400: "Bad Request", 500: "Internal Server Error", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
         403: "Forbidden", 401: "Unauthorized", 421: "Misdirected Request", 429: "Too Many Requests", 411: "Length Required", 413: "Content Too Large", 422: "Unprocessable Content", 502: "Bad Gateway",
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
    /// cannot be reached, the pause doubling from `firstPause` seconds up to 5 minutes; `waiting`
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
                return try send(body, to: address)
            } catch {
                guard attempt < attempts else {
                    throw Unreachable(
                        description: "cannot reach the hub \(address) after \(attempts) tr\(attempts == 1 ? "y" : "ies"): \(error)")
                }
                waiting("hub \(address): \(error); trying again in \(Int(pause)) s")
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 300)
                attempt += 1
            }
        }
    }

    /// One try: the envelope to the hub at `address`, and its answer.
    static func send(_ body: Data, to address: String) throws(TCP.Failure) -> Answer {
        // Never waits for ever: a hub (or something posing as one) that trickles is left.
        let reply = try HubClient.post(
            BundleTransfer.path, body: body, contentType: "application/octet-stream", to: address, timeout: 30,
            within: 120 + Double(body.count) / 65_536)
        guard let answer = try? JSONSerialization.jsonObject(with: reply.body) as? [String: String] else {
            throw TCP.Failure(description: "\(address) did not answer as a JamPasir hub")
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
        for candidate in try TCP.resolve(address, passive: false) {
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
            let response = try TCP.receive(fd, limit: 64 << 10, deadline: deadline) { _ in false }
            guard let parsed = HTTPHead(response), parsed.firstLine.count >= 2, let status = Int(parsed.firstLine[1])
            else { throw TCP.Failure(description: "\(address) did not answer as a JamPasir hub") }
            return (status, Data(response[parsed.bodyStart...]))
        }
        throw TCP.Failure(description: "cannot connect to \(address): \(lastError)")
    }
}
