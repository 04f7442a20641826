import CJamPasirSystem
import Foundation
import JamPasirCore
import JamPasirPosix

/// The one time base: CLOCK_MONOTONIC, the clock of kernel GPIO edge timestamps.
/// Injected so that tests move time by hand instead of sleeping.
public protocol MonotonicClock: Sendable {
    func now() -> MonotonicInstant
    /// Blocks the calling thread until `deadline` (nil: none) or until `doorbell` rings. May return
    /// early; the event loop looks at its inbox and the time after every return.
    func wait(until deadline: MonotonicInstant?, doorbell: Doorbell)
}

/// The real CLOCK_MONOTONIC.
public struct SystemMonotonicClock: MonotonicClock {
    public init() {}

    public func now() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: jp_monotonic_ns())
    }

    public func wait(until deadline: MonotonicInstant?, doorbell: Doorbell) {
        doorbell.wait(until: deadline)
    }
}

/// Wall-clock time, for people: start and end times in the log.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Whether the wall clock is NTP-synchronised (a Raspberry Pi has no RTC).
    var isSynchronized: Bool { get }
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
    public var isSynchronized: Bool { jp_wall_clock_synchronized() == 1 }
}

/// The kernel's random id of this boot: monotonic instants only compare within one boot.
public enum BootID {
    public static func current() -> String {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "unknown"
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Steps of the wall clock (`date -s`, NTP's or the RTC's first step), said the moment they
/// happen: a thread asleep on a timer that the kernel cancels whenever the clock is set, so
/// watching costs no wake-up while the clock runs.
public enum WallClockSteps {
    /// Calls `onStep` on a thread of its own at every step, for the life of the process, and
    /// `onEnd` if the kernel ever stops answering (nothing more is seen then).
    public static func watch(
        _ onStep: @escaping @Sendable (ClockStep) -> Void, onEnd: @escaping @Sendable (SystemError) -> Void
    ) throws(SystemError) {
        // The kernel watches from the timer's arming on: the offset is read before and after it,
        // so that a step in between is said (at once) rather than missed.
        let beforeArming = jp_wall_clock_offset_ns()
        let fd = jp_clock_change_fd()
        guard fd >= 0 else { throw SystemError("cannot watch the wall clock for steps (timerfd)") }
        let armed = jp_wall_clock_offset_ns()
        startThread(named: "jp-clock") {
            var before = beforeArming
            var after = armed
            repeat {
                let step = ClockStep(offsetBefore: before, offsetAfter: after, monotonicNs: jp_monotonic_ns())
                // Two readings of the two clocks differ by nanoseconds: only a step is said.
                if step.nanoseconds.magnitude >= 1_000_000 { onStep(step) }
                before = after
                guard jp_clock_change_wait(fd) == 1 else {
                    onEnd(SystemError("the wall clock's watch ended (timerfd read)"))
                    close(fd)
                    return
                }
                after = jp_wall_clock_offset_ns()
            } while true
        }
    }
}
