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
