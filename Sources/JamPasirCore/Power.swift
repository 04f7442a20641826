/// The kit's battery as Network UPS Tools reports it: `ups.status`, `battery.charge` and
/// `battery.runtime` of the UPS that `upsd` serves.
public struct PowerReading: Equatable, Sendable {
    /// `OB`: the mains is gone, the cells carry the Pi.
    public var onBattery: Bool
    /// `LB` on battery, or `FSD`: `upsmon` is about to shut the Pi down.
    public var low: Bool
    /// `battery.charge`, 0 to 100, where the board has a fuel gauge.
    public var chargePercent: Int?
    /// `battery.runtime`: what the UPS expects the cells to last at the present draw.
    public var runtime: Duration?

    public init(onBattery: Bool, low: Bool = false, chargePercent: Int? = nil, runtime: Duration? = nil) {
        self.onBattery = onBattery
        self.low = low
        self.chargePercent = chargePercent
        self.runtime = runtime
    }

    /// From NUT's values as `upsc` prints them. A status that says neither `OL` nor `OB` nor
    /// `FSD` (a driver still starting says `WAIT`; an empty one, a stale driver) is no reading;
    /// one that says both `OL` and `OB` is taken as on battery, as upsmon takes it. A charge or
    /// runtime that is not a number in range is left out, not guessed; a charge is rounded down.
    public init?(status: String, charge: String? = nil, runtime: String? = nil) {
        let flags = Set(status.split(separator: " ").map(String.init))
        let forcedShutdown = flags.contains("FSD")
        guard flags.contains("OL") || flags.contains("OB") || forcedShutdown else { return nil }
        onBattery = forcedShutdown || flags.contains("OB")
        low = forcedShutdown || (onBattery && flags.contains("LB"))
        chargePercent = charge.flatMap { Double($0) }.flatMap { $0.isFinite && (0...100).contains($0) ? Int($0.rounded(.down)) : nil }
        self.runtime = runtime.flatMap { Double($0) }.flatMap {
            $0.isFinite && (0...1_000_000).contains($0) ? Duration.milliseconds(Int64(($0 * 1000).rounded())) : nil
        }
    }
}

/// What the counter may do on the power it has.
public enum PowerState: Equatable, Sendable, CustomStringConvertible {
    /// On mains (or no UPS configured): as ever.
    case mains
    /// On the cells, with enough left for a session: the idle display shows `b`.
    case battery(PowerReading)
    /// Not enough left for a session and its overtime: none starts (`bAtt`); a running one runs
    /// to its end. `reason` says why, for the journal.
    case tooLow(PowerReading, reason: String)
    /// The UPS cannot be read (upsd or its driver down): sessions start as on mains, and the
    /// journal, the metrics and `jampasir doctor` say so.
    case unknown(reason: String)

    /// The reading behind the state, if there is one.
    public var reading: PowerReading? {
        switch self {
        case .battery(let reading), .tooLow(let reading, _): reading
        case .mains, .unknown: nil
        }
    }

    public var refusesSessions: Bool {
        if case .tooLow = self { return true }
        return false
    }

    public var isUnknown: Bool {
        if case .unknown = self { return true }
        return false
    }

    /// How bad it is for the officer: mains and unknown 0, battery 1, too low 2.
    public var severity: Int {
        switch self {
        case .mains, .unknown: 0
        case .battery: 1
        case .tooLow: 2
        }
    }

    public var description: String {
        switch self {
        case .mains: return "on mains"
        case .battery(let reading): return "on battery (\(reading.summary))"
        case .tooLow(let reading, let reason): return "battery too low for a session (\(reading.summary)): \(reason)"
        case .unknown(let reason): return "power unknown: \(reason)"
        }
    }
}

extension PowerReading {
    /// `charge 87 %, runtime 41 min`, as much as the board reports.
    public var summary: String {
        var parts: [String] = []
        if let chargePercent { parts.append("charge \(chargePercent) %") }
        if let runtime { parts.append("runtime \(PowerRules.minutes(runtime))") }
        if low { parts.append("low battery") }
        return parts.isEmpty ? "no charge or runtime reported" : parts.joined(separator: ", ")
    }
}

/// When the battery is too low for a new session. Pure: the daemon's power watch applies it to
/// each reading.
public struct PowerRules: Equatable, Sendable {
    /// No new session below this remaining runtime: by default a full session and its overtime,
    /// and the time to shut down cleanly after.
    public var minRuntime: Duration = .seconds(600)
    /// Boards that report no runtime (many 18650 HATs): no new session below this charge.
    public var minCharge: Int = 20
    /// Once too low, sessions start again only this far above the line (or on mains): a
    /// runtime estimate that wavers with the load does not make the counter flap.
    public var runtimeMargin: Duration = .seconds(120)
    public var chargeMargin: Int = 5

    public init() {}

    /// The state after `reading` (nil: the UPS could not be read, `failure` says why), given the
    /// state before it. A battery too low stays too low while the UPS cannot be read: a board
    /// whose driver fails as its cells sag must not let sessions start again.
    public func state(after reading: PowerReading?, failure: String = "no reading", was previous: PowerState)
        -> PowerState
    {
        guard let reading else {
            if case .tooLow(let last, _) = previous {
                return .tooLow(last, reason: "the UPS cannot be read (\(failure)); its last reading was too low")
            }
            return .unknown(reason: failure)
        }
        guard reading.onBattery else { return .mains }
        if reading.low { return .tooLow(reading, reason: "the UPS reports a low battery; upsmon shuts the Pi down") }
        let wasTooLow = previous.refusesSessions
        if let runtime = reading.runtime {
            let line = minRuntime + (wasTooLow ? runtimeMargin : .zero)
            if runtime < line {
                return .tooLow(
                    reading,
                    reason: "\(Self.minutes(runtime)) left, a session needs \(Self.minutes(line)) (power.min_runtime_seconds)")
            }
        } else if let charge = reading.chargePercent {
            let line = minCharge + (wasTooLow ? chargeMargin : 0)
            if charge < line {
                return .tooLow(reading, reason: "charge \(charge) %, a session needs \(line) % (power.min_charge_percent)")
            }
        }
        return .battery(reading)
    }

    /// Whole minutes, rounded down, or seconds under one: what is surely left.
    static func minutes(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds < 60 ? "\(max(seconds, 0)) s" : "\(seconds / 60) min"
    }
}
