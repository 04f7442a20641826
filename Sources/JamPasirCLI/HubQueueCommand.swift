import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirHub
import JamPasirQueue

/// `jampasir hub queue`: the second promise's figures, from the tickets the hub kept.
public struct HubQueueCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "The queue's figures per day (or per hour): tickets, waits, breaches of the two hours, no-shows.",
        discussion: """
            From the tickets `jampasir hub serve` issued and called. Waits are those of the \
            applicants called (nearest-rank median and P90); a ticket never called is a no-show; a \
            breach is a ticket that waited the whole promise (queue.promise_minutes); served counts \
            the called tickets whose session came in from the counter's exports (the call button \
            links them). With --hours, \
            each day is also split by the hour its tickets were issued (local time, report.time_zone).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @OptionGroup var hub: HubOptions
    @OptionGroup var days: DayRangeOptions
    @Flag(name: .long, help: "Add a row for each hour of each day.") var hours = false
    @Option(name: .long, help: "table or json.") var format: Format = .table

    public init() {}

    public func run() throws {
        print(try render(), terminator: "")
    }

    public func render() throws -> String {
        let (configuration, store) = try hub.open()
        _ = try days.interval(in: configuration.timeZone)  // checks the dates
        let rules = configuration.queue
        let recorded: [(day: String, tickets: [Ticket])]
        let served: [String: Set<String>]
        do {
            let (from, to) = (days.date ?? days.from ?? "0000-01-01", days.date ?? days.to ?? "9999-12-31")
            recorded = try HubQueue.days(in: store, from: from, to: to, rules: rules)
            served = try HubQueue.served(in: store, from: from, to: to)
        } catch {
            throw CLIFailure(message: "\(error)", exitStatus: 74)
        }
        var figures: [QueueFigures] = []
        for (day, tickets) in recorded {
            figures.append(QueueFigures(period: day, tickets: tickets, promise: rules.promise, served: served[day] ?? []))
            guard hours else { continue }
            let byHour = Dictionary(grouping: tickets) { Self.localHour($0.issuedAt, configuration.timeZone) }
            for hour in byHour.keys.sorted() {
                figures.append(
                    QueueFigures(
                        period: "\(day) \(hour < 10 ? "0" : "")\(hour)", tickets: byHour[hour]!, promise: rules.promise,
                        served: served[day] ?? []))
            }
        }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(figures), as: UTF8.self) + "\n"
        case .table:
            if figures.isEmpty { return "no tickets\n" }
            let promise = rules.promise.components.seconds
            let within = "within " + (promise % 3600 == 0 ? "\(promise / 3600) h" : "\(promise / 60) min")
            let header = [
                "period", "tickets", "called", "served", "no-shows", "median wait", "P90", "longest", within, "breaches", "peak waiting",
            ]
            let rows = figures.map { f -> [String] in
                [
                    f.period, "\(f.tickets)", "\(f.called)", "\(f.served)", "\(f.noShows)", Self.minutes(f.medianWaitSeconds),
                    Self.minutes(f.p90WaitSeconds), Self.minutes(f.longestWaitSeconds),
                    f.called == 0 ? "–" : "\(f.withinPromise * 100 / f.called) %", "\(f.breaches)", "\(f.peakWaiting)",
                ]
            }
            return TextTable.render(header, rows, rightAligned: Set(1..<header.count))
        }
    }

    static func minutes(_ seconds: Int?) -> String { seconds.map { "\($0 / 60) min" } ?? "–" }

    static func localHour(_ time: WallTime, _ timeZone: TimeZone) -> Int {
        let date = Date(timeIntervalSince1970: Double(time.components.seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.component(.hour, from: date)
    }
}
