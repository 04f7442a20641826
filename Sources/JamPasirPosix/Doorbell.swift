import CJamPasirSystem
import Glibc
import JamPasirCore

/// Wakes a thread that waits on it from any other (an eventfd); its wait ends at an instant of
/// CLOCK_MONOTONIC (an absolute timerfd). The rings between two waits count as one.
public final class Doorbell: Sendable {
    /// The eventfd that rings it and the timerfd of a wait's deadline.
    private let fds: [Int32]

    public init() {
        var fds: [Int32] = [-1, -1]
        let made = jp_doorbell_create(&fds)
        if made != 0 { fatalError("\(SystemError("cannot create the doorbell's eventfd/timerfd"))") }
        self.fds = fds
    }

    deinit { fds.forEach { close($0) } }

    public func ring() { jp_doorbell_ring(fds) }

    /// Sleeps on CLOCK_MONOTONIC until `deadline` (nil: none) or a ring. One thread at a time.
    public func wait(until deadline: MonotonicInstant?) {
        // Its own descriptors and a valid instant: a failure is a bug, not something to spin on.
        let woke = jp_doorbell_wait(fds, -1, deadline.map { max(0, $0.nanoseconds) } ?? -1)
        if woke < 0 { fatalError("\(SystemError("doorbell: poll/timerfd failed"))") }
    }

    public enum Wake: Equatable, Sendable {
        case rung
        /// The descriptor is readable, or failed (a read says which).
        case readable
        case deadline
        /// `poll` itself failed, with this errno.
        case failed(Int32)
    }

    /// Sleeps until a ring, until `descriptor` is readable (or fails), or until `deadline`: the
    /// thread of a device (the button's line, udev's monitor) that `stop()` rings.
    public func wait(readable descriptor: Int32, until deadline: MonotonicInstant? = nil) -> Wake {
        switch jp_doorbell_wait(fds, descriptor, deadline.map { max(0, $0.nanoseconds) } ?? -1) {
        case 1: .rung
        case 2: .readable
        case 0: .deadline
        default: .failed(errno)
        }
    }
}
