import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import Logging
import Synchronization

/// Something that is on or off: a GPIO output line, a PWM channel.
public protocol Switch: AnyObject {
    func set(_ on: Bool) throws
}

extension GPIOLine: Switch {}

/// An LED or buzzer output that is opened on first use and again after a failure (with
/// backoff), logging a problem once. Writes never throw to the caller: a missing LED must not
/// stop the countdown.
public final class SwitchedOutput: Sendable {
    private struct State {
        var device: (any Switch)?
        /// What the open device was last set to: unchanged values are not written again (the
        /// lights are set once per displayed second, from the countdown's loop).
        var written: Bool?
        var retryAt: MonotonicInstant?
        var backoff = Backoff()
        var lastProblem: String?
    }

    /// The configuration key, for log lines.
    let key: String
    private let open: @Sendable (Bool) throws -> any Switch
    private let logger: Logger
    private let state = Mutex(State())

    /// `open(initialValue)` makes the device; it is called again after a failure.
    public init(key: String, logger: Logger, open: @escaping @Sendable (Bool) throws -> any Switch) {
        self.key = key
        self.logger = logger
        self.open = open
    }

    /// A GPIO output line.
    public convenience init(_ spec: GPIOLineSpec, logger: Logger) {
        self.init(key: spec.key, logger: logger) { initial in
            try GPIOLine.output(spec, consumer: "jampasird", initial: initial)
        }
    }

    public func set(_ on: Bool, now: MonotonicInstant) {
        state.withLock { state in
            do {
                if let device = state.device {
                    if state.written == on { return }
                    try device.set(on)
                    state.written = on
                    return
                }
                if let retryAt = state.retryAt, now < retryAt { return }
                state.device = try open(on)
                try state.device?.set(on)
                state.written = on
                if state.lastProblem != nil { logger.notice("\(key): available again") }
                state.lastProblem = nil
                state.retryAt = nil
                state.backoff.reset()
            } catch {
                state.device = nil
                state.written = nil
                let problem = "\(error)"
                if problem != state.lastProblem {
                    logger.error("\(key): \(problem); retrying in the background")
                    state.lastProblem = problem
                }
                state.retryAt = now + state.backoff.delay()
            }
        }
    }
}

/// A buzzer that sounds the core's patterns on a switched output: an active buzzer on a GPIO
/// line, or a passive one on a PWM channel. Patterns play on a thread of the buzzer's own, each
/// tone ending at its instant on the counter's one clock (so a test moves it by hand); a new
/// pattern, or silence, replaces one still sounding.
public final class PatternBuzzer: Buzzer {
    private final class Shared: Sendable {
        /// The latest request not yet taken by the buzzer's thread (`.some(nil)`: silence).
        let request = Mutex<SoundPattern??>(nil)
        /// Signalled by the buzzer's thread once a silence request has switched the output off.
        let silenced = Mutex<DispatchSemaphore?>(nil)
        let doorbell = Doorbell()
    }

    private let output: SwitchedOutput
    private let clock: any MonotonicClock
    private let shared = Shared()

    public init(_ output: SwitchedOutput, clock: any MonotonicClock) {
        self.output = output
        self.clock = clock
        startThread(named: "jp-buzzer") { [shared] in Self.serve(shared, output: output, clock: clock) }
    }

    public func play(_ pattern: SoundPattern) {
        shared.request.withLock { $0 = .some(pattern) }
        shared.doorbell.ring()
    }

    /// Silent now (shutdown): the pattern playing is dropped, and the caller waits (at most
    /// 100 ms) until the buzzer's thread has switched the output off.
    public func silence() {
        let done = DispatchSemaphore(value: 0)
        shared.silenced.withLock { $0 = done }
        shared.request.withLock { $0 = .some(nil) }
        shared.doorbell.ring()
        _ = done.wait(timeout: .now() + .milliseconds(100))
    }

    private static func serve(_ shared: Shared, output: SwitchedOutput, clock: any MonotonicClock) {
        /// Sleeps until `deadline`; false if a new request came first.
        func sound(until deadline: MonotonicInstant) -> Bool {
            while shared.request.withLock({ $0 == nil }) {
                if clock.now() >= deadline { return true }
                clock.wait(until: deadline, doorbell: shared.doorbell)
            }
            return false
        }
        while true {
            guard let request = shared.request.withLock({ $0.take() }) else {
                shared.doorbell.wait(until: nil)
                continue
            }
            guard let pattern = request else {
                output.set(false, now: clock.now())
                shared.silenced.withLock { $0.take() }?.signal()
                continue
            }
            var at = clock.now()
            playing: for tone in pattern.tones {
                output.set(true, now: clock.now())
                at = at + tone.on
                let heard = sound(until: at)
                output.set(false, now: clock.now())
                at = at + tone.off
                guard heard, tone.off == .zero || sound(until: at) else { break playing }
            }
        }
    }
}

/// Green, amber and red LEDs and the optional sand bar, each on its own GPIO line.
public final class GPIOLights: IndicatorLights {
    private let green: SwitchedOutput?
    private let amber: SwitchedOutput?
    private let red: SwitchedOutput?
    private let sand: [SwitchedOutput]
    private let clock: @Sendable () -> MonotonicInstant

    public init(
        green: GPIOLineSpec?, amber: GPIOLineSpec?, red: GPIOLineSpec?, sand: [GPIOLineSpec],
        clock: @escaping @Sendable () -> MonotonicInstant, logger: Logger
    ) {
        self.green = green.map { SwitchedOutput($0, logger: logger) }
        self.amber = amber.map { SwitchedOutput($0, logger: logger) }
        self.red = red.map { SwitchedOutput($0, logger: logger) }
        self.sand = sand.map { SwitchedOutput($0, logger: logger) }
        self.clock = clock
    }

    public func set(_ state: LightState) {
        let now = clock()
        green?.set(state.green, now: now)
        amber?.set(state.amber, now: now)
        red?.set(state.red, now: now)
        for (index, led) in sand.enumerated() {
            led.set(index < Self.litSandLEDs(state.sand, of: sand.count), now: now)
        }
    }

    /// LEDs lit for a remaining fraction: rounded up, so the last LED goes out only at zero.
    public static func litSandLEDs(_ fraction: Double, of count: Int) -> Int {
        Int((fraction * Double(count)).rounded(.up))
    }
}
