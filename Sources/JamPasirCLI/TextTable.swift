import Foundation
import JamPasirReports
import JamPasirStore
import JamPasirCore

/// Aligned plain-text tables for the terminal.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]], rightAligned: Set<Int>) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            let joined = cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ")
            return String(joined.reversed().drop { $0 == " " }.reversed()) + "\n"
        }
        return line(header) + rows.map(line).joined()
    }

    static func sessions(_ sessions: [SessionRecord], timeZone: TimeZone) -> String {
        if sessions.isEmpty { return "no sessions\n" }
        let formatter = localTimeFormatter(timeZone)
        let rows = sessions.map { s in
            [
                s.id.map(String.init) ?? "", formatter.string(from: s.startedAt) + (s.clockSynchronized ? "" : " ?"),
                s.durationMs.map(duration) ?? "—", duration(s.limitMs), s.outcome?.rawValue ?? "running",
                s.freeService == true ? "FREE" : "",
            ]
        }
        let zone = timeZone.identifier
        return render(
            ["ID", "STARTED (\(zone))", "DURATION", "LIMIT", "OUTCOME", "FREE"], rows, rightAligned: [0, 2, 3])
            + (sessions.contains { !$0.clockSynchronized } ? "? = wall clock not synchronised at the start\n" : "")
    }

    static func statistics(_ days: [PeriodStatistics]) -> String {
        if days.isEmpty { return "no sessions\n" }
        let rows = days.map { d in
            [
                d.period, "\(d.sessions)", "\(d.inTime)", "\(d.overtime)", "\(d.freeServices)",
                "\(d.cancelled)" + (d.cancelledAfterLimit > 0 ? " (\(d.cancelledAfterLimit) late)" : ""),
                "\(d.interrupted)", d.percentInTime.map { String(format: "%.1f%%", $0) } ?? "—",
                d.medianServiceMs.map(duration) ?? "—", d.p90ServiceMs.map(duration) ?? "—",
            ]
        }
        return render(
            [
                "DAY", "SESSIONS", "IN TIME", "OVERTIME", "FREE", "CANCELLED", "INTERRUPTED", "% IN TIME", "MEDIAN",
                "P90",
            ],
            rows, rightAligned: Set(1...9))
    }

    /// `1:23.4` (minutes, seconds, tenths).
    static func duration(_ ms: Int64) -> String {
        let tenths = ms / 100
        return String(format: "%d:%02d.%d", tenths / 600, tenths / 10 % 60, tenths % 10)
    }

    /// One formatter for a whole table: making one per row dominated long listings.
    static func localTimeFormatter(_ timeZone: TimeZone) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }
}
