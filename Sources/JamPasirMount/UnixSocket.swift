import CJamPasirSystem
import Glibc
import JamPasirMedia
import JamPasirPosix

/// The little socket code the helper and its client share: a stream socket at a path, one
/// line each way, with timeouts so neither side can hang the other.
package enum UnixSocket {
    package static func connect(to path: String, timeout: Duration) throws(SystemError) -> Int32 {
        let address = try UnixSocketAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        guard address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 else {
            let error = SystemError("connect to \(path)")
            close(fd)
            throw error
        }
        setTimeout(fd, timeout)
        return fd
    }

    package static func listen(at path: String, mode: mode_t) throws(SystemError) -> Int32 {
        let address = try UnixSocketAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        unlink(path)
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0, chmod(path, mode) == 0, Glibc.listen(fd, 8) == 0 else {
            let error = SystemError("listen on \(path)")
            close(fd)
            throw error
        }
        return fd
    }

    package static func setTimeout(_ fd: Int32, _ timeout: Duration, options: [Int32] = [SO_RCVTIMEO, SO_SNDTIMEO]) {
        let (seconds, attoseconds) = max(timeout, .microseconds(1)).components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        for option in options {
            setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Reads up to the first newline (at most `limit` bytes); nil on timeout, EOF first or overflow.
    /// With a `deadline`, the whole line must arrive by then: a client trickling a byte at a time
    /// gets no more time than a silent one.
    package static func readLine(_ fd: Int32, limit: Int, deadline: ContinuousClock.Instant? = nil) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count <= limit {
            if let deadline {
                let left = deadline - .now
                guard left > .zero else { return nil }
                setTimeout(fd, left, options: [SO_RCVTIMEO])
            }
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    package static func writeLine(_ fd: Int32, _ line: String) -> Bool {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }
}

/// Serves `MountHelper` on a listening socket: one connection at a time, one request each.
public enum MountHelperServer {
    /// The socket systemd passed (socket activation: `LISTEN_FDS`), if any.
    public static func activatedSocket() -> Int32? {
        guard let pid = environmentValue("LISTEN_PID").flatMap(Int32.init), pid == getpid(),
            let count = environmentValue("LISTEN_FDS").flatMap(Int.init), count >= 1
        else { return nil }
        return 3
    }

    /// A socket of our own at `path`, for running without systemd (tests, the VM).
    public static func listen(at path: String) throws -> Int32 {
        try UnixSocket.listen(at: path, mode: 0o660)
    }

    /// How long a client has to send its whole request: one client at a time is served, so a
    /// silent one holds the others back this long at most.
    public static let requestTimeout = Duration.seconds(2)

    /// Accepts connections until the socket fails or is shut down, and returns why.
    public static func serve(_ helper: MountHelper, on listener: Int32) -> String {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return SystemError("accept failed").description
            }
            serveConnection(connection, helper: helper)
            close(connection)
        }
    }

    /// One client: its uid is checked first (SO_PEERCRED), then one request line of at most
    /// `MountRequest.maximumLength` bytes is read, within `timeout`; one reply line is written.
    /// `peerUID` is replaceable for tests, which run as root.
    public static func serveConnection(
        _ connection: Int32, helper: MountHelper, timeout: Duration = requestTimeout,
        peerUID: (Int32) -> UInt32? = peerUID
    ) {
        UnixSocket.setTimeout(connection, timeout)
        let uid = peerUID(connection)
        let reply: MountReply
        if let refusal = helper.refusal(peerUID: uid) {
            reply = refusal
        } else if let line = UnixSocket.readLine(
            connection, limit: MountRequest.maximumLength, deadline: .now + timeout)
        {
            reply = helper.handle(line, peerUID: uid)
        } else {
            reply = .failed(
                "no request line of at most \(MountRequest.maximumLength) bytes within \(timeout)")
        }
        _ = UnixSocket.writeLine(connection, reply.line)
    }

    /// The uid of the process at the other end (SO_PEERCRED), nil when the kernel does not say.
    public static func peerUID(_ connection: Int32) -> UInt32? {
        let uid = jp_peer_uid(connection)
        return uid >= 0 ? UInt32(uid) : nil
    }
}

/// The daemon's side: `StickMounter` by asking `jampasir-mountd` over its socket.
public struct HelperMounter: StickMounter {
    public var socketPath: String
    public var timeout: Duration

    public init(socketPath: String, timeout: Duration = .seconds(60)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public func mountReadOnly(_ stick: Stick) throws -> String {
        try ask(.mount(devnode: stick.devnode))
    }

    public func remountReadWrite(_ mountPoint: String) throws {
        _ = try ask(.remountReadWrite(mountPoint: mountPoint))
    }

    public func unmount(_ mountPoint: String) throws {
        _ = try ask(.unmount(mountPoint: mountPoint))
    }

    func ask(_ request: MountRequest) throws(Failure) -> String {
        let fd: Int32
        do {
            fd = try UnixSocket.connect(to: socketPath, timeout: timeout)
        } catch {
            throw Failure(
                description:
                    "\(error.description); is jampasir-mountd.socket running (systemctl status jampasir-mountd.socket)?"
            )
        }
        defer { close(fd) }
        guard UnixSocket.writeLine(fd, request.line), let line = UnixSocket.readLine(fd, limit: 4096) else {
            throw Failure(description: "jampasir-mountd did not answer '\(request.line)'")
        }
        switch MountReply(line: line) {
        case .ok(let path): return path
        case .failed(let why): throw Failure(description: why)
        }
    }
}
