import Foundation
import HTTPTypes
import HummingbirdCore
import JamPasirHub
import Logging
import NIOCore
import NIOHTTPTypes
import NIOPosix
import ServiceLifecycle
import UnixSignals
import Synchronization

/// `jampasir hub serve` on the LAN: HummingbirdCore's HTTP/1.1 server on SwiftNIO. Many
/// connections at once (up to `Limits.connections`), each one request within fixed times
/// (`RequestDeadline`), so no client, however slow, holds anything but its own connection. The
/// hub's answers may block (SQLite, the printer, espeak-ng): each endpoint's work runs on a
/// worker of its kind, never on NIO's threads, and the counters' calls never wait behind an
/// import or a report: one worker for the queue, one for the readers, one for imports, which
/// take one bundle at a time (another is told 503, and `jampasir push` tries again).
public final class HubHTTPServer: Sendable {
    public struct Limits: Sendable {
        /// A request's head must have arrived this long after its connection opened.
        public var headSeconds: Int64 = 10
        /// Its answer must be out this long after its head…
        public var answerSeconds: Int64 = 10
        /// …plus its body's time at this pace (the slowest LAN a push is waited for)…
        public var slowestBytesPerSecond: Int64 = 256 << 10
        /// …and never longer than this, whatever the pace.
        public var longestSeconds: Int64 = 600
        /// Connections open at once; more wait in the kernel's queue of `backlog`.
        public var connections = 512
        public var backlog = 256

        public init() {}

        /// The time a request with a body of `length` bytes has from its head to its answer.
        func seconds(forBody length: Int64) -> Int64 {
            min(longestSeconds, answerSeconds + max(0, length) / slowestBytesPerSecond)
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// It had listened: it stopped, rather than could not start.
        public var listened = false
    }

    let hub: HubServer
    let limits: Limits
    let stopsOnSignals: Bool
    /// The running group, for `stop()`.
    private let running = Mutex<ServiceGroup?>(nil)
    /// A bundle is being received or imported.
    private let importing = Atomic<Bool>(false)

    /// `stopsOnSignals`: SIGTERM (systemd's stop) and SIGINT stop it gracefully; not in a test
    /// process, whose children would inherit the signals ignored.
    public init(hub: HubServer, limits: Limits = Limits(), stopsOnSignals: Bool = false) {
        self.hub = hub
        self.limits = limits
        self.stopsOnSignals = stopsOnSignals
    }

    /// Serves on `address` (`HOST:PORT`, `[V6]:PORT`; port 0: any free one) until one of its
    /// signals or `stop()`: then it takes no new connection, lets the requests under way finish
    /// within their times, and returns. `listening` is told the address it listens on.
    public func run(on address: String, listening: @escaping @Sendable (String) -> Void) async throws {
        guard let (host, portText) = TCP.split(address), let port = Int(portText) else {
            throw Failure(description: "cannot listen on \(address): not HOST:PORT (e.g. 0.0.0.0:8790); check hub.listen or --listen")
        }
        var logger = Logger(label: "jampasir.hub.http")
        logger.logLevel = .critical  // the hub's own lines say what happens; NIO's would repeat them
        let workers = Workers()
        defer { workers.stop() }
        let limits = limits
        let channel = HTTP1Channel(
            responder: { [self] request, writer, channel in
                try await respond(to: request, writer: writer, peer: channel.remoteAddress?.ipAddress ?? "?", workers: workers)
            },
            configuration: .init(
                additionalChannelHandlers: [RequestDeadline(limits)],
                httpDecoderConfiguration: .init(maxHeaderFieldSize: 8 << 10, maxHeaderListSize: 16 << 10, maxHeaderFieldCount: 64)))
        let bound = Atomic<Bool>(false)
        let server = channel.server(
            configuration: ServerConfiguration(
                address: .hostname(host, port: port), backlog: limits.backlog,
                availableConnectionsDelegate: MaximumAvailableConnections(limits.connections, logger: logger)),
            onServerRunning: { channel in
                bound.store(true, ordering: .sequentiallyConsistent)
                let port = channel.localAddress?.port ?? port
                listening(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
            },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        var configuration = ServiceGroupConfiguration(services: [server], gracefulShutdownSignals: stopsOnSignals ? [.sigterm, .sigint] : [], logger: logger)
        // Every request ends within its own time; a stop waits at most this for them.
        configuration.maximumGracefulShutdownDuration = .seconds(limits.answerSeconds + 5)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        running.withLock { $0 = group }
        defer { running.withLock { $0 = nil } }
        do {
            try await withTaskExecutorPreference(Self.executor) { try await group.run() }
        } catch {
            let reason = (error as? ServiceGroupError).map { "\($0)" } ?? "\(error)"
            guard bound.load(ordering: .sequentiallyConsistent) else {
                throw Failure(description: "cannot listen on \(address): \(reason); check hub.listen or --listen")
            }
            throw Failure(description: "stopped serving on \(address): \(reason)", listened: true)
        }
    }

    /// Where `run` is started: its connections' tasks run on NIO's threads, not the process's
    /// shared pool, which a caller may keep busy (a command waiting for it, a test suite).
    public static let executor: any TaskExecutor = EventLoopExecutor(MultiThreadedEventLoopGroup.singleton)

    /// Stops `run` as its signals would.
    public func stop() async {
        await running.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// The hub's three kinds of work, each on threads of its own.
    final class Workers: Sendable {
        let queue = NIOThreadPool(numberOfThreads: 2)
        let reading = NIOThreadPool(numberOfThreads: 1)
        let importing = NIOThreadPool(numberOfThreads: 1)

        init() { [queue, reading, importing].forEach { $0.start() } }

        func pool(for work: HubServer.Endpoint.Work) -> NIOThreadPool {
            switch work {
            case .queue: queue
            case .reading: reading
            case .importing: importing
            }
        }

        /// Waits for the work under way (an import finishes its transaction).
        func stop() { [queue, reading, importing].forEach { try? $0.syncShutdownGracefully() } }
    }

    private func respond(to head: Request, writer: consuming ResponseWriter, peer: String, workers: Workers) async throws {
        var headers: [String: String] = [:]
        for field in head.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        headers["host"] = head.head.authority
        var request = HubServer.Request(method: head.method.rawValue, target: head.head.path ?? "", headers: headers, peer: peer)
        let reply: HubServer.Reply
        switch hub.route(request) {
        case .refused(let refusal):
            reply = refusal
        case .endpoint(let endpoint) where endpoint.work == .importing:
            reply = await receive(head, as: request, at: endpoint, on: workers.importing)
        case .endpoint(let endpoint):
            reply = await work(on: workers.pool(for: endpoint.work)) { [hub, request] in hub.answer(request, at: endpoint) }
        }
        request.body = Data()
        let answer = hub.finish(reply, for: request)
        var fields: HTTPFields = [.contentType: answer.contentType, .connection: "close"]
        if answer.shared {
            fields[.cacheControl] = "no-store"
            fields[.vary] = "Origin"
        }
        if let origin = answer.origin { fields[.accessControlAllowOrigin] = origin }
        let payload = answer.payload
        fields[.contentLength] = String(payload.count)
        try await writer.write(
            response: HTTPResponse(status: .init(code: answer.status, reasonPhrase: HubServer.reason(answer.status)), headerFields: fields),
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: payload)))
    }

    /// A bundle: its body (one at a time: another push is told to come back), then its import.
    private func receive(
        _ head: Request, as request: HubServer.Request, at endpoint: HubServer.Endpoint, on pool: NIOThreadPool
    ) async -> HubServer.Reply {
        guard importing.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else {
            return .busy("another bundle is being imported: try again in a moment (jampasir push does)")
        }
        defer { importing.store(false, ordering: .sequentiallyConsistent) }
        var request = request
        do {
            request.body = Data(try await head.body.collect(upTo: endpoint.bodyLimit).readableBytesView)
        } catch {
            return .badRequest("the body did not arrive: \(error)")
        }
        return await work(on: pool) { [hub, request] in hub.answer(request, at: endpoint) }
    }

    private func work(on pool: NIOThreadPool, _ body: @escaping @Sendable () -> HubServer.Reply) async -> HubServer.Reply {
        do {
            return try await pool.runIfActive(body)
        } catch {
            return .busy("the hub is stopping: \(error)")
        }
    }
}

/// Jobs of async code run on the event loops of `group`.
final class EventLoopExecutor: TaskExecutor {
    let group: any EventLoopGroup

    init(_ group: any EventLoopGroup) { self.group = group }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        group.next().execute { job.runSynchronously(on: executor) }
    }
}

/// One request per connection, each within its times (`HubHTTPServer.Limits`): its head within
/// `headSeconds` of the connection, its answer written within `seconds(forBody:)` of its head.
/// A request still unanswered then is told 408 and its connection closed, whatever pace its
/// client kept; a client too slow to read its answer is closed too. After an answer the
/// connection closes: nothing waits for a next request.
final class RequestDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: HubHTTPServer.Limits
    private var timer: Scheduled<Void>?
    /// A response head went out: a 408 can no longer be told.
    private var answering = false

    init(_ limits: HubHTTPServer.Limits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) { arm(context, seconds: limits.headSeconds) }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            arm(context, seconds: limits.seconds(forBody: head.headerFields[.contentLength].flatMap { Int64($0) } ?? 0))
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            answering = true
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            let written = promise ?? context.eventLoop.makePromise()
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.write(data, promise: written)
        }
    }

    private func arm(_ context: ChannelHandlerContext, seconds: Int64) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(seconds)) { [self] in expire(context) }
    }

    private func expire(_ context: ChannelHandlerContext) {
        if !answering {
            answering = true
            let head = HTTPResponse(status: .requestTimeout, headerFields: [.connection: "close", .contentLength: "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }
}

extension HubServer.Reply {
    static func busy(_ detail: String) -> Self { Self(status: 503, result: "busy", detail: detail) }
    static func badRequest(_ detail: String) -> Self { Self(status: 400, result: "bad_request", detail: detail) }
}
