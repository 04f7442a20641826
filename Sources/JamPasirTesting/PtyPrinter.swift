import Glibc
import JamPasirPosix
import Synchronization

/// A printer at the other end of a pseudo-terminal in raw mode: the real `USBTicketPrinter`
/// code opens, asks, reads and writes a real character device; this side answers DLE EOT as an
/// Epson printer does, and can be unplugged part-way through a ticket.
public final class PtyPrinter: Sendable {
    public struct Settings: Sendable {
        public var offlineCause: UInt8? = 0x12
        public var paper: UInt8? = 0x12
        /// Unplug (close the pty) once this many bytes of a ticket have arrived.
        public var unplugAfter: Int?
        public var received: [UInt8] = []
        public var requests: [UInt8] = []
    }

    public final class Shared: Sendable {
        public let settings = Mutex(Settings())
    }

    public let path: String
    public let shared = Shared()
    private let master: Int32
    private let slave: Int32
    private let stop = Doorbell()

    public init() throws {
        // posix_openpt(3) by hand (Swift's Glibc module leaves it out): unlock, then ask its number.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        let TIOCSPTLCK: UInt = 0x4004_5431
        let TIOCGPTN: UInt = 0x8004_5430
        guard master >= 0, ioctl(master, TIOCSPTLCK, &unlock) == 0, ioctl(master, TIOCGPTN, &number) == 0 else {
            throw SystemError("pseudo-terminal")
        }
        path = "/dev/pts/\(number)"
        // Raw: bytes pass unchanged both ways (no echo, no CR/LF translation).
        slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        var mode = termios()
        tcgetattr(slave, &mode)
        cfmakeraw(&mode)
        tcsetattr(slave, TCSANOW, &mode)
        let master = master
        let shared = shared
        let stop = stop
        startThread(named: "pty-printer") {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while case .readable = stop.wait(readable: master) {
                let count = read(master, &buffer, buffer.count)
                guard count > 0 else { return }
                pending += buffer[..<count]
                // Take DLE EOT n out and answer it; everything else is the ticket.
                while let index = pending.firstIndex(of: 0x10), index + 2 < pending.count {
                    if pending[index + 1] == 0x04 {
                        let request = pending[index + 2]
                        shared.settings.withLock { $0.received += pending[..<index] }
                        pending.removeFirst(index + 3)
                        let answer = shared.settings.withLock { s -> UInt8? in
                            s.requests.append(request)
                            return request == 2 ? s.offlineCause : request == 4 ? s.paper : nil
                        }
                        if var answer { _ = write(master, &answer, 1) }
                    } else {
                        shared.settings.withLock { $0.received += pending[...index] }
                        pending.removeFirst(index + 1)
                    }
                }
                if !pending.contains(0x10) {
                    shared.settings.withLock { $0.received += pending }
                    pending.removeAll()
                }
                let unplug = shared.settings.withLock { s in s.unplugAfter.map { s.received.count >= $0 } ?? false }
                if unplug {
                    close(master)
                    return
                }
            }
        }
    }

    deinit {
        stop.ring()
        close(slave)
    }
}
