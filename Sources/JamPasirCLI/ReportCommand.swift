import ArgumentParser
import Foundation
import JamPasirReports
import JamPasirStore
import JamPasirConfig
import JamPasirCore

/// `jampasir report`: the supervisor's report for any period — the same report the USB export
/// carries, per day and per hour of the day, as HTML, CSV or JSON.
public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The supervisor's report for a period: per day and per hour of day, as html, csv or json.",
        discussion: """
            Figures: sessions, in time, overtime (free passports), cancelled (and how many after \
            the limit), interrupted, % in time, median, P90 and longest service time, and (html) a \
            histogram of service times with the limit marked. Days and hours are local to \
            report.time_zone; the language of the html follows report.language. Without \
            --from/--to/--date: the whole store.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case html, csv, json
    }

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var days: DayRangeOptions
    @Option(name: .long, help: "html, csv or json.") var format: Format = .html

    public init() {}

    public func run() throws {
        print(try render(), terminator: "")
    }

    public func render() throws -> String {
        let (configuration, sessions) = try days.sessions(storeOptions)
        var statistics = PeriodStatistics.Accumulator(timeZone: configuration.timeZone)
        for session in sessions { statistics.add(session) }
        let (daily, hourly) = (statistics.result(), statistics.hourly())
        let label = [days.date ?? days.from ?? daily.first?.period, days.date ?? days.to ?? daily.last?.period]
            .compactMap { $0 }
        switch format {
        case .html:
            return HTMLReport(
                counterID: configuration.counterID, generatedAt: Date(), timeZone: configuration.timeZone,
                limitMs: sessions.last?.limitMs ?? configuration.rules.limit.millisecondsRoundedUp, days: daily,
                hours: hourly, periodLabel: label.count == 2 ? "\(label[0]) – \(label[1])" : nil,
                serviceTimesMs: statistics.allServiceTimes,
                language: HTMLReport.Language(rawValue: configuration.reportLanguage) ?? .indonesian
            ).render()
        case .json:
            struct Report: Encodable {
                var counterID: String
                var timeZone: String
                var days: [PeriodStatistics]
                var hours: [PeriodStatistics]
                enum CodingKeys: String, CodingKey {
                    case days, hours
                    case counterID = "counter_id"
                    case timeZone = "time_zone"
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let report = Report(
                counterID: configuration.counterID, timeZone: configuration.timeZone.identifier, days: daily,
                hours: hourly)
            return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        case .csv:
            return PeriodStatistics.csv(daily, kind: "day") + PeriodStatistics.csv(hourly, kind: "hour", header: false)
        }
    }
}
