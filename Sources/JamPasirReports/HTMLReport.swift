import Foundation

/// The supervisor's report: a self-contained HTML page (no scripts, no external files) with the
/// per-day figures and an SVG histogram of service times with the limit marked.
/// Bahasa Indonesia by default, English on request.
public struct HTMLReport {
    public enum Language: String, CaseIterable, Sendable {
        case indonesian = "id"
        case english = "en"
    }

    public var counterID: String
    public var generatedAt: Date
    public var timeZone: TimeZone
    public var limitMs: Int64
    public var days: [PeriodStatistics]
    /// Per hour of the day over the whole period; no table when empty.
    public var hours: [PeriodStatistics]
    /// The period the report covers, as the reader should see it (e.g. `2026-11-01 – 2026-11-30`).
    public var periodLabel: String?
    /// What is new since the previous stick export: its time and the sessions after it.
    public var sinceLastExport: (exportedAt: Date, newSessions: Int)?
    /// Service times (in time and overtime sessions), for the histogram.
    public var serviceTimesMs: [Int64]
    public var language: Language
    /// The office report: each counter's days after the office's own (none for one counter).
    public var counters: [(name: String, days: [PeriodStatistics])] = []

    public init(
        counterID: String, generatedAt: Date, timeZone: TimeZone, limitMs: Int64, days: [PeriodStatistics],
        hours: [PeriodStatistics] = [], periodLabel: String? = nil, serviceTimesMs: [Int64], language: Language
    ) {
        self.hours = hours
        self.periodLabel = periodLabel
        self.counterID = counterID
        self.generatedAt = generatedAt
        self.timeZone = timeZone
        self.limitMs = limitMs
        self.days = days
        self.serviceTimesMs = serviceTimesMs
        self.language = language
    }

    private var words: Words { language == .indonesian ? .indonesian : .english }

    public func render() -> String {
        let w = words
        let totalSessions = days.reduce(0) { $0 + $1.sessions }
        let totalFree = days.reduce(0) { $0 + $1.freeServices }
        var html = """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8">
            <title>\(escape(w.title)) — \(escape(counterID))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:60em}
            h1{font-size:1.5em;margin-bottom:.2em} .sub{color:#555;margin-top:0}
            .big{display:flex;gap:2em;margin:1em 0} .big div{background:#f3f3f3;padding:.6em 1em;border-radius:6px}
            .big b{display:block;font-size:1.8em}
            table{border-collapse:collapse;margin:1em 0;font-size:.88em} th,td{border:1px solid #ccc;padding:.3em .5em;text-align:right} td{white-space:nowrap}
            th{background:#eee} td:first-child,th:first-child{text-align:left} .free{color:#b00;font-weight:bold}
            .note{color:#555;font-size:.9em}
            </style></head><body>
            <h1>\(escape(w.title))</h1>
            <p class="sub">\(escape(w.counter)) <b>\(escape(counterID))</b> · \(escape(w.generated)) \(escape(localTime(generatedAt))) (\(escape(timeZone.identifier))) · \(escape(w.limit)) \(clock(limitMs))</p>
            <div class="big"><div>\(escape(w.sessions))<b>\(totalSessions)</b></div><div>\(escape(w.freePassports))<b class="free">\(totalFree)</b></div></div>
            """
        if let periodLabel { html += "<p class=\"sub\">\(escape(w.period)) \(escape(periodLabel))</p>\n" }
        if let since = sinceLastExport {
            html +=
                "<p class=\"sub\">\(escape(w.sinceLast)) \(escape(localTime(since.exportedAt))): <b>\(since.newSessions)</b> \(escape(w.newSessions))</p>\n"
        }
        html += table(days, firstColumn: w.day)
        if !counters.isEmpty {
            html += "<h2>\(escape(w.perCounter))</h2>\n"
            for counter in counters {
                html += "<h3>\(escape(w.counter)) \(escape(counter.name))</h3>\n" + table(counter.days, firstColumn: w.day)
            }
        }
        if !hours.isEmpty { html += "<h2>\(escape(w.byHour))</h2>\n" + table(hours, firstColumn: w.hour) }
        html +=
            "<h2>\(escape(w.histogram))</h2>\n" + histogram()
            + "\n<p class=\"note\">\(escape(w.note))</p>\n</body></html>\n"
        return html
    }

    /// One row per period: sessions, outcomes, free passports, cancels (late ones flagged),
    /// % in time, median, P90 and longest service time.
    private func table(_ rows: [PeriodStatistics], firstColumn: String) -> String {
        let w = words
        var html = "<table><tr>" + ([firstColumn] + w.columns).map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for d in rows {
            let late = d.cancelledAfterLimit > 0 ? " (<b>\(d.cancelledAfterLimit) \(escape(w.afterLimit))</b>)" : ""
            let percent: String = d.percentInTime.map { String(format: "%.1f%%", $0) } ?? "—"
            let times: [String] = [d.medianServiceMs, d.p90ServiceMs, d.maxServiceMs].map { $0.map(clock) ?? "—" }
            let counts: [String] = [
                escape(d.period), String(d.sessions), String(d.inTime), String(d.overtime),
                "<span class=\"free\">\(d.freeServices)</span>", String(d.cancelled) + late, String(d.interrupted),
                percent,
            ]
            let cells = counts + times
            html += "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        if rows.isEmpty { html += "<tr><td colspan=\"11\">\(escape(w.none))</td></tr>\n" }
        return html + "</table>\n"
    }

    /// Bars of 10 s bins, green up to the limit and red beyond, with the limit as a dashed line.
    func histogram() -> String {
        let binMs: Int64 = 10_000
        let maxMs = max(limitMs + limitMs / 2, (serviceTimesMs.max() ?? 0) + binMs)
        let binCount = Int((maxMs + binMs - 1) / binMs)
        var bins = [Int](repeating: 0, count: binCount)
        for ms in serviceTimesMs { bins[min(binCount - 1, Int(ms / binMs))] += 1 }
        let (width, height, left, bottom) = (640.0, 220.0, 40.0, 30.0)
        let plotWidth = width - left - 10
        let plotHeight = height - bottom - 10
        let tallest = Double(max(1, bins.max() ?? 1))
        let barWidth = plotWidth / Double(binCount)
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(words.histogram))\">"
        svg +=
            "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>"
        for (index, count) in bins.enumerated() where count > 0 {
            let h = Double(count) / tallest * plotHeight
            let x = left + Double(index) * barWidth
            let over = Int64(index + 1) * binMs > limitMs
            svg +=
                "<rect x=\"\(fmt(x + 1))\" y=\"\(fmt(height - bottom - h))\" width=\"\(fmt(barWidth - 2))\" height=\"\(fmt(h))\" fill=\"\(over ? "#c33" : "#393")\"><title>\(count)</title></rect>"
        }
        for tick in stride(from: Int64(0), through: Int64(binCount) * binMs, by: 30_000) {
            let x = left + Double(tick) / Double(binMs) * barWidth
            if x > width - 20 { break }
            svg +=
                "<text x=\"\(fmt(x))\" y=\"\(fmt(height - 10))\" font-size=\"11\" text-anchor=\"middle\">\(clock(tick))</text>"
        }
        svg += "<text x=\"4\" y=\"14\" font-size=\"11\">\(Int(tallest)) \(escape(words.sessions.lowercased()))</text>"
        let limitX = left + Double(limitMs) / Double(binMs) * barWidth
        svg +=
            "<line x1=\"\(fmt(limitX))\" y1=\"4\" x2=\"\(fmt(limitX))\" y2=\"\(fmt(height - bottom))\" stroke=\"#000\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>"
        svg +=
            "<text x=\"\(fmt(limitX + 4))\" y=\"16\" font-size=\"12\" font-weight=\"bold\">\(clock(limitMs)) \(escape(words.limitMark))</text>"
        return svg + "</svg>"
    }

    private func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    func clock(_ ms: Int64) -> String {
        let seconds = ms / 1000
        return "\(seconds / 60):" + String(format: "%02d", seconds % 60)
    }

    private func localTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    struct Words {
        var title, counter, generated, limit, sessions, freePassports, afterLimit, none, histogram, limitMark,
            note, period, day, hour, byHour, sinceLast, newSessions, perCounter: String
        var columns: [String]

        static let indonesian = Words(
            title: "Laporan Layanan Paspor Dua Menit", counter: "Loket", generated: "dibuat", limit: "batas waktu",
            sessions: "Sesi", freePassports: "Paspor gratis", afterLimit: "setelah batas", none: "Belum ada sesi.",
            histogram: "Sebaran waktu layanan", limitMark: "(batas)",
            note:
                "Tepat waktu: paspor diserahkan dalam batas waktu (tepat 2:00 masih tepat waktu). Lewat waktu: paspor gratis pada hari yang sama. Terputus: sesi terhenti karena listrik padam atau gangguan; dihitung gratis. Dibatalkan: dokumen ternyata belum lengkap; bukan layanan. % tepat waktu dihitung dari layanan (tepat waktu + lewat waktu + terputus). Median dan P90 dari sesi tepat waktu dan lewat waktu.",
            period: "Periode", day: "Tanggal", hour: "Jam", byHour: "Per jam (semua hari)",
            sinceLast: "Sejak ekspor sebelumnya", newSessions: "sesi baru", perCounter: "Per loket",
            columns: [
                "Sesi", "Tepat waktu", "Lewat waktu", "Paspor gratis", "Dibatalkan", "Terputus", "% tepat waktu",
                "Median", "P90", "Terlama",
            ])

        static let english = Words(
            title: "Two-Minute Passport Service Report", counter: "Counter", generated: "generated", limit: "limit",
            sessions: "Sessions", freePassports: "Free passports", afterLimit: "after the limit",
            none: "No sessions yet.",
            histogram: "Service times", limitMark: "(limit)",
            note:
                "In time: handed over within the limit (exactly 2:00 is in time). Overtime: the passport is free the same day. Interrupted: cut short by a power cut or fault; counted as free. Cancelled: documents turned out incomplete; not a service. % in time is over services (in time + overtime + interrupted). Median and P90 are over in-time and overtime sessions.",
            period: "Period", day: "Day", hour: "Hour", byHour: "By hour of day (all days)",
            sinceLast: "Since the previous export", newSessions: "new sessions", perCounter: "Per counter",
            columns: [
                "Sessions", "In time", "Overtime", "Free passports", "Cancelled", "Interrupted", "% in time", "Median",
                "P90", "Longest",
            ])
    }
}
