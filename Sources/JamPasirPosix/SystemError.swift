import CJamPasirSystem
import Glibc

/// A failed system call, for people: what was attempted and the kernel's reason,
/// `"mount /dev/sdb1: No such device"`. Taken from `errno` where it is made, before another
/// call can change it.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let action: String
    public let code: Int32

    /// `action` is built after `errno` is read: building a string allocates, and an allocation
    /// may change `errno`.
    public init(_ action: @autoclosure () -> String, code: Int32 = errno) {
        self.code = code
        self.action = action()
    }

    /// The kernel's words for an errno value: "No such device".
    public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
    public var reason: String { Self.reason(code) }
    public var description: String { "\(action): \(reason)" }
}

/// A variable of the process's environment.
public func environmentValue(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// The whole of a small text file (`/proc/self/mountinfo`, `/proc/sys/kernel/random/boot_id`),
/// or nil if it cannot be read or is longer than `limit` bytes.
public func readTextFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { return nil }
        if count == 0 { return String(decoding: bytes, as: UTF8.self) }
        bytes += chunk[..<count]
        if bytes.count > limit { return nil }
    }
}

/// Starts a plain thread (a detached pthread, no Foundation, no libdispatch) named `name` as
/// `top -H` and `/proc/PID/task/*/comm` show it (the kernel keeps 15 bytes).
public func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let made = pthread_create(&thread, &attributes, { raw in
        let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
        jp_set_thread_name(start.name)
        start.body()
        return nil
    }, start)
    // Not a precondition: a release build drops its message, and this one names the cause.
    if made != 0 { fatalError("\(SystemError("cannot start thread \(name)", code: made))") }
}

/// Puts the calling thread under SCHED_FIFO at `priority`, above every ordinary thread: for the
/// countdown's deadlines. Nil when done; otherwise why not (the unit's `LimitRTPRIO` allows it,
/// a development shell usually does not), and the thread keeps its ordinary priority.
public func raiseToRealTime(priority: Int32) -> SystemError? {
    var parameters = sched_param()
    parameters.sched_priority = priority
    let failed = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
    return failed == 0 ? nil : SystemError("cannot take real-time priority \(priority) (SCHED_FIFO)", code: failed)
}
