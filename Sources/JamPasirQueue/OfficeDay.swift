import Glibc

/// A simulated office day, to answer the head of office's question: with N counters open, does
/// anyone wait two hours? Arrivals are a Poisson process whose rate follows the day's hours
/// (the morning peak); each applicant takes, at a counter, a documents check and then one of the
/// timed sessions given (the counter's own history). The queue is the real `WaitingRoom`, so
/// the warnings and breaches counted are the ones the hall display would show.
public struct OfficeDay: Sendable {
    public struct Plan: Sendable, Equatable {
        /// Applicants expected over the day (the Poisson process's mean).
        public var applicants: Double
        /// When the kiosk opens (seconds after midnight, local) and the share of the day's
        /// applicants arriving in each hour after it: the morning peak.
        public var opensAt: Duration
        public var hourlyShares: [Double]
        /// When the counters stop calling: whoever still waits has left.
        public var closesAt: Duration
        /// What the documents check before the timed handover takes, on average (each applicant
        /// draws between half and one and a half times it).
        public var documentsCheck: Duration

        public init(
            applicants: Double = 200, opensAt: Duration = .seconds(8 * 3600),
            hourlyShares: [Double] = [0.24, 0.22, 0.17, 0.13, 0.12, 0.12],
            closesAt: Duration = .seconds(16 * 3600), documentsCheck: Duration = .seconds(4 * 60)
        ) {
            self.applicants = applicants
            self.opensAt = opensAt
            self.hourlyShares = hourlyShares
            self.closesAt = closesAt
            self.documentsCheck = documentsCheck
        }
    }

    /// One simulated day's figures.
    public struct Result: Sendable, Equatable {
        public var counters: Int
        public var arrived = 0
        /// Came when the room was full: no ticket.
        public var turnedAway = 0
        public var called = 0
        public var leftAtClose = 0
        /// Waits of the applicants called, sorted.
        public var waits: [Duration] = []
        public var breaches = 0
        /// Breaches whose every warning mark was reported before the breach.
        public var breachesWarnedFirst = 0
        /// Tickets that reached the first warning mark.
        public var warned = 0
        public var peakWaiting = 0
        /// Called applicants whose wait fell inside the range printed on their ticket.
        public var estimateHeld = 0
        /// How wide the printed ranges were (high − low), sorted: a range always held is worth
        /// little if it is hours wide.
        public var estimateWidths: [Duration] = []

        /// Called applicants who waited less than the promise.
        public var withinPromise = 0

        /// The wait `p` (0…1) of the called applicants waited at most (nearest rank).
        public func percentile(_ p: Double) -> Duration {
            guard !waits.isEmpty else { return .zero }
            let rank = Int((p * Double(waits.count)).rounded(.up))
            return waits[min(max(rank, 1), waits.count) - 1]
        }

        public init(counters: Int) { self.counters = counters }

        public var longest: Duration { waits.last ?? .zero }

        /// Two runs as one: the days of both, their waits merged.
        public mutating func add(_ other: Result) {
            arrived += other.arrived
            turnedAway += other.turnedAway
            called += other.called
            leftAtClose += other.leftAtClose
            waits = (waits + other.waits).sorted()
            breaches += other.breaches
            breachesWarnedFirst += other.breachesWarnedFirst
            warned += other.warned
            peakWaiting = max(peakWaiting, other.peakWaiting)
            estimateHeld += other.estimateHeld
            estimateWidths = (estimateWidths + other.estimateWidths).sorted()
            withinPromise += other.withinPromise
        }
    }

    public let plan: Plan
    public let rules: QueueRules
    /// Timed sessions to draw from (how long the two-minute handover took).
    public let sessionDurations: [Duration]

    public init(plan: Plan = Plan(), rules: QueueRules = .standard, sessionDurations: [Duration]) {
        precondition(!sessionDurations.isEmpty, "OfficeDay needs sessions to draw from")
        self.plan = plan
        self.rules = rules
        self.sessionDurations = sessionDurations
    }

    /// The day with `counters` counters calling, from `seed` (the same seed, the same day).
    public func run(counters: Int, seed: UInt64) -> Result {
        var random = SplitMix64(seed: seed)
        let arrivals = arrivalTimes(using: &random)
        var room = WaitingRoom(rules: rules)
        var result = Result(counters: counters)
        var freeAt = [Duration](repeating: plan.opensAt, count: counters)
        var estimates: [Int: WaitEstimate] = [:]
        var warnedAt: [Int: Int] = [:]  // ticket number → marks reported
        var next = 0

        func record(_ events: [QueueEvent]) {
            for event in events {
                switch event {
                case .warning(let ticket, _):
                    warnedAt[ticket.number, default: 0] += 1
                    if warnedAt[ticket.number] == 1 { result.warned += 1 }
                case .breach(let ticket):
                    result.breaches += 1
                    let marks = rules.warningMarks.count { $0 < rules.promise }
                    if warnedAt[ticket.number, default: 0] == marks { result.breachesWarnedFirst += 1 }
                case .called(let ticket, _):
                    result.called += 1
                    let wait = ticket.wait(at: plan.closesAt)
                    result.waits.append(wait)
                    if wait < rules.promise { result.withinPromise += 1 }
                    if let estimate = estimates[ticket.number] {
                        if estimate.contains(wait) { result.estimateHeld += 1 }
                        result.estimateWidths.append(estimate.high - estimate.low)
                    }
                case .left: result.leftAtClose += 1
                case .issued, .roomFull: break
                }
            }
        }

        while true {
            // The next thing to happen: an arrival, or a free counter calling someone waiting.
            let counter = freeAt.indices.min { freeAt[$0] < freeAt[$1] }!
            let arrival = next < arrivals.count ? arrivals[next] : nil
            let callTime = room.waitingCount > 0 ? max(freeAt[counter], room.tickets.first(where: \.isWaiting)!.issuedAt) : nil
            if let callTime, callTime < plan.closesAt, arrival.map({ callTime <= $0 }) ?? true {
                record(room.callNext(counter: String(counter + 1), at: callTime))
                let service = plan.documentsCheck * random.uniform(0.5, 1.5)
                    + sessionDurations[Int(random.next() % UInt64(sessionDurations.count))]
                freeAt[counter] = callTime + service
            } else if let arrival {
                next += 1
                result.arrived += 1
                record(room.advance(to: arrival))
                // The range the kiosk would print: from the room's own calls, as on the day.
                let estimate = room.estimate(at: arrival)
                switch room.issue(at: arrival) {
                case .issued(let ticket):
                    estimates[ticket.number] = estimate
                    result.peakWaiting = max(result.peakWaiting, room.waitingCount)
                default:
                    result.turnedAway += 1
                }
            } else {
                record(room.close(at: plan.closesAt))
                break
            }
        }
        result.waits.sort()
        result.estimateWidths.sort()
        return result
    }

    /// The day's arrival instants: exponential gaps at each hour's rate.
    func arrivalTimes(using random: inout SplitMix64) -> [Duration] {
        var times: [Duration] = []
        for (hour, share) in plan.hourlyShares.enumerated() where share > 0 {
            let start = plan.opensAt + .seconds(hour * 3600)
            let end = start + .seconds(3600)
            let meanGap = 3600 / (plan.applicants * share)
            var t = start + .seconds(random.exponential(mean: meanGap))
            while t < end {
                times.append(t)
                t += .seconds(random.exponential(mean: meanGap))
            }
        }
        return times
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64): the same seed gives the
/// same day on every machine, so the README's table can be rerun.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    mutating func exponential(mean: Double) -> Double { -mean * log(1 - unit()) }
}
