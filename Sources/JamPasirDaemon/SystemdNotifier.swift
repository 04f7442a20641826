import Foundation
import JamPasirPosix

/// The systemd notification protocol, spoken directly (no libsystemd): datagrams such as
/// `READY=1`, `STATUS=…` and `WATCHDOG=1` to the socket named by `$NOTIFY_SOCKET` (a path, or
/// an abstract name starting with `@`). Without that variable — the simulator, a terminal —
/// every call does nothing.
public struct SystemdNotifier: Sendable {
    private let socketPath: String?
    /// Half of `$WATCHDOG_USEC`, when systemd expects pings (and they are for this process).
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forUs, let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 {
            watchdogInterval = .microseconds(usec / 2)
        } else {
            watchdogInterval = nil
        }
    }

    package var isActive: Bool { socketPath != nil }

    /// Sends `state` (newline-separated assignments); returns whether it was sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath, let address = try? UnixSocketAddress(socketPath, abstractAllowed: true) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(state.utf8)
        let sent = address.withSockaddr { sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), $0, $1) }
        return sent == bytes.count
    }
}
