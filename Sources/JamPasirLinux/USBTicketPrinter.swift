import Glibc
import JamPasirPosix
import JamPasirQueue

/// The kiosk's thermal printer on its character device (`/dev/usb/lp0`: the kernel's usblp
/// driver, bidirectional). Opened for each question and each ticket, so that a printer unplugged
/// and plugged back in needs nothing done. It never waits long: a status answer within
/// `answerTimeout`, a whole ticket within `writeTimeout`.
public struct USBTicketPrinter: TicketPrinter, Sendable {
    public let path: String
    public var answerTimeout: Duration
    public var writeTimeout: Duration

    public init(
        path: String = "/dev/usb/lp0", answerTimeout: Duration = .milliseconds(500),
        writeTimeout: Duration = .seconds(10)
    ) {
        self.path = path
        self.answerTimeout = answerTimeout
        self.writeTimeout = writeTimeout
    }

    public func state() -> PrinterState {
        let fd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return .silent }
        defer { close(fd) }
        // A late answer to an earlier question must not be read as this one's.
        var stale = [UInt8](repeating: 0, count: 64)
        while read(fd, &stale, stale.count) > 0 {}
        return PrinterState(offlineCause: ask(fd, .offlineCause), paper: ask(fd, .paper))
    }

    /// One real-time status request and its one-byte answer, or nil if none came in time.
    private func ask(_ fd: Int32, _ request: EscPos.StatusRequest) -> UInt8? {
        guard (try? send(fd, request.bytes, within: answerTimeout)) != nil,
            wait(fd, for: Int16(POLLIN), within: answerTimeout)
        else { return nil }
        var answer: UInt8 = 0
        return read(fd, &answer, 1) == 1 ? answer : nil
    }

    public func write(_ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open the ticket printer \(path)") }
        defer { close(fd) }
        let deadline = ContinuousClock.now + writeTimeout
        try send(fd, bytes, within: writeTimeout)
        // usblp takes a non-blocking write once the transfer is queued, and closing the device
        // kills a transfer still under way: wait until it reports the last write done.
        guard wait(fd, for: Int16(POLLOUT), within: deadline - .now) else {
            throw SystemError("the ticket printer \(path) did not finish the ticket", code: ETIMEDOUT)
        }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8], within timeout: Duration) throws(SystemError) {
        let deadline = ContinuousClock.now + timeout
        var offset = 0
        while offset < bytes.count {
            guard wait(fd, for: Int16(POLLOUT), within: deadline - .now) else {
                throw SystemError("the ticket printer \(path) took no more after \(offset) bytes", code: ETIMEDOUT)
            }
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw SystemError("write to the ticket printer \(path) failed after \(offset) bytes")
            }
            offset += count
        }
    }

    /// Whether `fd` became ready for `events` within `timeout` (not on an error or hang-up alone).
    private func wait(_ fd: Int32, for events: Int16, within timeout: Duration) -> Bool {
        guard timeout > .zero else { return false }
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        while true {
            let ready = poll(&entry, 1, max(1, milliseconds))
            if ready < 0 && errno == EINTR { continue }
            return ready == 1 && entry.revents & events != 0
        }
    }
}
