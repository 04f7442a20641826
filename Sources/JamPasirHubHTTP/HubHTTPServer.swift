import Foundation
import HTTPTypes
import HummingbirdCore
import JamPasirHub
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTPTypes
import NIOPosix
import ServiceLifecycle
import UnixSignals
import Synchronization

/// `jampasir hub serve` on the LAN: HummingbirdCore's HTTP/1.1 server on SwiftNIO. Many
/// connections at once (up to `Limits.connections`), each one request on a schedule
/// (`RequestDeadline`), so a slow or silent client is cut within seconds. The hub's answers may
/// block (SQLite, the printer, espeak-ng): each endpoint's work runs on a worker of its kind,
/// never on NIO's threads, each with a bounded line (`Workers`): the queue's, the printer's
/// (a ticket at a time, printed outside the queue's lock), the speaker's (espeak-ng), the
/// readers' (the history) and the imports', one bundle at a time (another is told 503, and
/// `jampasir push` tries again). The workers still share the hub store's one SQLite
/// connection: a call waits for an import's write transaction, if one is under way.
public final class HubHTTPServer: Sendable {
    public struct Limits: Sendable {
        /// A request's head must have arrived this long after its connection opened…
        public var headSeconds: Int64 = 10
        /// …its body within this of its head plus the time its bytes take at
        /// `slowestBytesPerSecond` (the slowest LAN a push is waited for)…
        public var answerSeconds: Int64 = 10
        public var slowestBytesPerSecond: Int64 = 256 << 10
        /// …never longer than this, whatever the pace; and the hub's own work within this too.
        public var longestSeconds: Int64 = 600
        /// Connections open at once; more wait in the kernel's queue of `backlog`.
        public var connections = 512
        public var backlog = 256

        public init() {}
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
        let limits = limits
        let channel = HTTP1Channel(
            responder: { [self] request, writer, channel in
                try await respond(to: request, writer: writer, channel: channel, workers: workers)
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
        // A stop waits this long for the requests under way, then cuts their connections; the
        // work already started (an import's transaction) still finishes before `run` returns.
        configuration.maximumGracefulShutdownDuration = .seconds(limits.answerSeconds + 5)
        configuration.maximumCancellationDuration = nil
        let group = ServiceGroup(configuration: configuration)
        running.withLock { $0 = group }
        defer { running.withLock { $0 = nil } }
        do {
            try await withTaskExecutorPreference(Self.executor) { try await group.run() }
            await workers.stop()
        } catch {
            await workers.stop()
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

    /// The hub's five kinds of work, each on threads of its own, each with a bounded line: a
    /// request that finds its line full is told 503 at once, and a job whose client has gone
    /// (its connection cut at its time) is skipped, so a flood of one kind neither grows
    /// without end nor delays another kind.
    final class Workers: Sendable {
        final class Worker: Sendable {
            let pool: NIOThreadPool
            let room: Int
            private let taken = Atomic<Int>(0)

            init(threads: Int, room: Int) {
                pool = NIOThreadPool(numberOfThreads: threads)
                self.room = room
                pool.start()
            }

            /// `body`'s answer, run on this worker's threads while `channel` is still open.
            func run(for channel: any Channel, _ body: @escaping @Sendable () -> HubServer.Reply) async -> HubServer.Reply {
                guard taken.wrappingAdd(1, ordering: .relaxed).newValue <= room else {
                    taken.wrappingSubtract(1, ordering: .relaxed)
                    return .busy("the hub has \(room) such requests under way: try again in a moment")
                }
                defer { taken.wrappingSubtract(1, ordering: .relaxed) }
                do {
                    return try await pool.runIfActive {
                        channel.isActive ? body() : HubServer.Reply.busy("the client left before its turn")
                    }
                } catch {
                    return .busy("the hub is stopping: \(error)")
                }
            }
        }

        let queue = Worker(threads: 2, room: 64)
        let reading = Worker(threads: 1, room: 4)
        let printing = Worker(threads: 1, room: 2)
        let speaking = Worker(threads: 1, room: 4)
        let importing = Worker(threads: 1, room: 1)

        func worker(for work: HubServer.Endpoint.Work) -> Worker {
            switch work {
            case .queue: queue
            case .reading: reading
            case .printing: printing
            case .speaking: speaking
            case .importing: importing
            }
        }

        /// Waits for the work under way (an import finishes its transaction).
        func stop() async { for worker in [queue, printing, speaking, reading, importing] { try? await worker.pool.shutdownGracefully() } }
    }

    private func respond(to head: Request, writer: consuming ResponseWriter, channel: any Channel, workers: Workers) async throws {
        let peer = channel.remoteAddress?.ipAddress ?? "?"
        var headers: [String: String] = [:]
        for field in head.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        headers["host"] = head.head.authority
        let request = HubServer.Request(method: head.method.rawValue, target: head.head.path ?? "", headers: headers, peer: peer)
        let reply: HubServer.Reply
        switch hub.route(request) {
        case .refused(let refusal):
            reply = refusal
        case .endpoint(let endpoint) where endpoint.bodyLimit > 0:
            reply = await receive(head, as: request, at: endpoint, on: workers.worker(for: endpoint.work), channel: channel)
        case .endpoint(let endpoint):
            reply = await workers.worker(for: endpoint.work).run(for: channel) { [hub] in hub.answer(request, at: endpoint) }
        }
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

    /// A bundle: its body, then its import, one at a time: another push is told to come back.
    /// The body is taken at no less than the slowest LAN's pace (`RequestDeadline`).
    private func receive(
        _ head: Request, as request: HubServer.Request, at endpoint: HubServer.Endpoint, on worker: Workers.Worker,
        channel: any Channel
    ) async -> HubServer.Reply {
        guard importing.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else {
            return .busy("another bundle is being imported: try again in a moment (jampasir push does)")
        }
        defer { importing.store(false, ordering: .sequentiallyConsistent) }
        var request = request
        do {
            let body = try await head.body.collect(upTo: endpoint.bodyLimit)
            request.body = Data(buffer: body, byteTransferStrategy: .noCopy)
        } catch {
            return .badRequest("the body did not arrive: \(error)")
        }
        return await worker.run(for: channel) { [hub, request] in hub.answer(request, at: endpoint) }
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

/// One request per connection, each within its times (`HubHTTPServer.Limits`), whatever pace
/// its client keeps:
/// - its head within `headSeconds` of the connection;
/// - its body (if any) on schedule: by `answerSeconds` after the head plus the time the bytes
///   received so far take at `slowestBytesPerSecond`, never past `longestSeconds`, so a
///   client that falls silent or trickles is cut within seconds;
/// - once it is read, the hub's own work (its workers bound it) within `longestSeconds`;
/// - its answer read by the client within `answerSeconds` of its head going out.
/// A request cut before its answer is told 408, and its connection closed. An answer given
/// before the body was read (a refusal: 503, 413) is followed by a lingering close: the hub
/// stops writing and drops what the client still sends, on the body's schedule and for at
/// most `answerSeconds`, so that a client that sends its whole body before it reads (as most
/// do) is told why rather than reset. Anything sent after the first request (pipelined) is
/// dropped unread.
final class RequestDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: HubHTTPServer.Limits
    private var timer: Scheduled<Void>?
    /// When the head arrived, and the body's bytes since.
    private var head: NIODeadline?
    private var received: Int64 = 0
    /// The request was read whole: what follows is not read.
    private var read = false
    /// A response head went out: a 408 can no longer be told.
    private var answering = false
    /// The answer is out, the body was not read whole: what still comes is dropped, until
    /// `lingerEnd` at the latest.
    private var lingering = false
    private var lingerEnd = NIODeadline.distantFuture

    init(_ limits: HubHTTPServer.Limits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) { arm(context, at: .now() + .seconds(limits.headSeconds)) }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !read else { return }
        switch unwrapInboundIn(data) {
        case .head:
            head = .now()
            armForBody(context)
        case .body(let bytes):
            received += Int64(bytes.readableBytes)
            armForBody(context)
        case .end:
            read = true
            if lingering { context.close(promise: nil) }
            if !answering { arm(context, at: .now() + .seconds(limits.longestSeconds)) }
        }
        if !lingering { context.fireChannelRead(data) }
    }

    /// While lingering, reads go on whatever the handlers behind want (nothing reads them now).
    func channelReadComplete(context: ChannelHandlerContext) {
        if lingering { context.read() }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            answering = true
            arm(context, at: .now() + .seconds(limits.answerSeconds))
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenComplete { [self] _ in
                guard !read, head != nil else { return context.close(promise: nil) }
                lingering = true
                lingerEnd = .now() + .seconds(limits.answerSeconds)
                let halfClosed = context.eventLoop.makePromise(of: Void.self)
                halfClosed.futureResult.assumeIsolated().whenFailure { error in
                    // HummingbirdCore may have closed the output first (`Connection: close`): still lingering.
                    if error as? ChannelError != .outputClosed { context.close(promise: nil) }
                }
                context.close(mode: .output, promise: halfClosed)
                armForBody(context)
                context.read()
            }
            context.write(data, promise: written)
        }
    }

    /// The body's schedule: `answerSeconds` after the head, plus the time of the bytes so far
    /// (and no later than `lingerEnd` once the answer is out).
    private func armForBody(_ context: ChannelHandlerContext) {
        guard let head, !answering || lingering else { return }
        let bytes = min(received, limits.slowestBytesPerSecond * limits.longestSeconds)  // no overflow below
        let paced = limits.answerSeconds * 1_000_000_000 + bytes * 1_000_000_000 / limits.slowestBytesPerSecond
        arm(context, at: min(lingerEnd, head + .nanoseconds(min(paced, limits.longestSeconds * 1_000_000_000))))
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in expire(context) }
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
