import ArgumentParser
import JamPasirConfig
import JamPasirCore
import JamPasirQueue
import JamPasirStore

/// `jampasir simulate-day`: the head of office's question — with N counters open, does anyone
/// wait two hours? — answered from the counter's own sessions.
public struct SimulateDayCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate-day",
        abstract: "Simulate office days: how long applicants wait with 2 to 6 counters open.",
        discussion: """
            Applicants arrive at random (a Poisson process) from 08:00 to 14:00 with a morning \
            peak; the counters call until 16:00. At a counter each applicant takes a documents \
            check, then one of the store's own timed sessions. The queue is the one the hall \
            display runs, with queue.* from the configuration: its warnings, its promise and \
            the room's capacity. The same seed gives the same days.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("Counters open: a range or a list, e.g. 2-6 or 3,4.", valueName: "counters"))
    var counters = CounterCounts(2...6)

    @Option(help: ArgumentHelp("Applicants expected per day.", valueName: "count"))
    var applicants = 200

    @Option(help: ArgumentHelp("Average minutes of the documents check before the timed handover.", valueName: "minutes"))
    var documentsMinutes = 4.0

    @Option(help: ArgumentHelp("Days simulated for each number of counters.", valueName: "count"))
    var days = 20

    @Option(help: ArgumentHelp("Seed of the random arrivals and service times.", valueName: "number"))
    var seed: UInt64 = 1

    public init() {}

    public func validate() throws {
        guard (1...10_000).contains(applicants) else { throw ValidationError("--applicants must be from 1 to 10000") }
        guard (0...240).contains(documentsMinutes) else {
            throw ValidationError("--documents-minutes must be from 0 to 240")
        }
        guard (1...1000).contains(days) else { throw ValidationError("--days must be from 1 to 1000") }
    }

    public func run() throws {
        print(try render(), terminator: "")
    }

    public func render() throws -> String {
        let configuration = try storeOptions.configuration()
        let store = try storeOptions.openStore(configuration)
        let sessions = try store.sessions(from: nil, to: nil).compactMap { session -> Duration? in
            guard let outcome = session.outcome, outcome != .cancelled, let ms = session.durationMs else { return nil }
            return .milliseconds(ms)
        }
        guard !sessions.isEmpty else {
            throw CLIFailure(
                message: "\(configuration.storePath) holds no finished sessions to draw service times from: "
                    + "use --store with a counter's store (make simulate-day makes a demo one)",
                exitStatus: 65)
        }
        let plan = OfficeDay.Plan(applicants: Double(applicants), documentsCheck: .seconds(documentsMinutes * 60))
        let day = OfficeDay(plan: plan, rules: configuration.queue, sessionDurations: sessions)
        let results = counters.values.map { count in
            (0..<days).map { day.run(counters: count, seed: seed &+ UInt64($0)) }.reduce(into: OfficeDay.Result(counters: count)) {
                $0.add($1)
            }
        }
        let promise = Self.clock(configuration.queue.promise)
        let header = [
            "counters", "arrived/day", "turned away", "median wait", "P90", "longest", "within \(promise)",
            "warned", "breaches", "warned first", "left at close", "peak in room", "estimate held", "range width",
        ]
        let rows = results.map { r -> [String] in
            [
                "\(r.counters)", Self.perDay(r.arrived, days), "\(r.turnedAway)", Self.clock(r.percentile(0.5)),
                Self.clock(r.percentile(0.9)), Self.clock(r.longest), Self.percent(r.withinPromise, r.called),
                "\(r.warned)", "\(r.breaches)", "\(r.breachesWarnedFirst)/\(r.breaches)", "\(r.leftAtClose)",
                "\(r.peakWaiting)/\(configuration.queue.roomCapacity)", Self.percent(r.estimateHeld, r.called),
                Self.clock(r.estimateWidths.isEmpty ? .zero : r.estimateWidths[r.estimateWidths.count / 2]),
            ]
        }
        return """
            \(days) simulated days for each row, \(applicants) applicants expected a day, \
            \(sessions.count) sessions drawn from \(configuration.storePath), seed \(seed)
            \(TextTable.render(header, rows, rightAligned: Set(0..<header.count)))
            """
    }

    /// `1:05` (hours:minutes).
    static func clock(_ duration: Duration) -> String {
        let minutes = Int(duration.components.seconds / 60)
        return "\(minutes / 60):" + (minutes % 60 < 10 ? "0" : "") + "\(minutes % 60)"
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        guard whole > 0 else { return "–" }
        let tenths = Int((Double(part) * 1000 / Double(whole)).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }

    static func perDay(_ count: Int, _ days: Int) -> String { "\(Int((Double(count) / Double(days)).rounded()))" }
}

/// `--counters 2-6` or `--counters 3,4`.
struct CounterCounts: ExpressibleByArgument {
    var values: [Int]

    init(_ range: ClosedRange<Int>) { values = Array(range) }

    init?(argument: String) {
        let bounds = argument.split(separator: "-", omittingEmptySubsequences: false)
        if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), 1 <= low, low <= high, high <= 50 {
            values = Array(low...high)
        } else {
            let list = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 50 }) else { return nil }
            values = list.map { $0! }
        }
    }

    var defaultValueDescription: String { "\(values.first!)-\(values.last!)" }
}
