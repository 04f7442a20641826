import Foundation
import JamPasirReports
import JamPasirStore

/// The hub's queue export (`jampasir hub export`): every queue record from the first, in
/// `JAMPASIR-QUEUE/<UTC time>/` under a root (beside, not among, the counters' `JAMPASIR/<id>/`),
/// as `queue.csv` and `manifest.json` signed with the hub's key. Written like a counter's export (staged, then renamed into place); checked by
/// `jampasir verify` like one, and more: the records carry their chain, so a row edited,
/// removed or moved shows even without the signature.
public enum QueueExport {
    public static let folder = "JAMPASIR-QUEUE"
    public static let fileNames = ["queue.csv", "manifest.json"]

    /// `records` hands every record, in order, to the closure it is given.
    public static func write(
        into root: String, office: String, key: DeviceKey, at now: Date,
        records: (_ each: (QueueRecord) throws -> Void) throws -> Void
    ) throws(ExportWriter.Failure) -> ExportWriter.Result {
        try ExportWriter.publish(under: root, folders: [folder], at: now, fileNames: fileNames) { staging in
            let csv = try HashedFile(staging, "queue.csv")
            try csv.write(CSVFormat.byteOrderMark + CSVFormat.row(QueueRecord.columns))
            var chain = QueueRecord.Chain()
            try records { record in
                chain.add(record)
                try csv.write(CSVFormat.row(record.fields))
            }
            // The hub signs only a history that holds together: a store edited by hand is named
            // by `jampasir hub verify`, not carried on under a signature.
            guard chain.problems.isEmpty else {
                throw ExportWriter.Failure(
                    kind: .store,
                    description: "the hub's queue records are broken (\(chain.allProblems.joined(separator: "; "))): run jampasir hub verify")
            }
            // An intact chain runs from record 1 to its head.
            let range = ExportManifest.SessionRange(
                count: chain.count, firstID: chain.head.map { _ in 1 }, lastID: chain.head?.seq)
            let body = ExportManifest.Body(
                format: ExportManifest.queueFormatName, counterID: office, exportedAt: Timestamp.iso8601(now),
                sessions: ExportManifest.SessionRange(count: 0), files: [try csv.commit()],
                devicePublicKey: key.publicKeyBase64, chain: chain.head, records: range)
            return try ExportWriter.sign(body, with: key, into: staging)
        }
    }

    /// A queue export's `queue.csv` checked as it streams by (its hash is checked beside):
    /// rows that are not records, a broken chain, or a count, range or head other than the
    /// manifest's.
    struct Rows: RowsCheck {
        let body: ExportManifest.Body
        private var line = 0
        private var headerFound = false
        private var chain = QueueRecord.Chain()

        init(manifest body: ExportManifest.Body) { self.body = body }

        mutating func take(_ row: [String]) {
            line += 1
            if line == 1 {
                headerFound = row == QueueRecord.columns
                return
            }
            guard headerFound else { return }
            switch QueueRecord.parse(row) {
            case .success(let record): chain.add(record)
            case .failure(let malformed): chain.note("queue.csv line \(line): \(malformed)")
            }
        }

        func problems() -> [String] {
            guard let range = body.records else { return ["a queue export's manifest without its records range"] }
            var problems: [String] = []
            if body.sessions.count != 0 { problems.append("a queue export that claims \(body.sessions.count) sessions") }
            guard headerFound else { return problems + ["queue.csv does not start with its header"] }
            problems += chain.allProblems
            let seqs = (chain.count, chain.head?.seq)
            if seqs.0 != range.count || (range.count > 0 && (range.firstID != 1 || range.lastID != seqs.1)) {
                problems.append(
                    "queue.csv has \(seqs.0) records through \(seqs.1.map(String.init) ?? "-"), manifest says \(range.count) (\(range.firstID.map(String.init) ?? "-")…\(range.lastID.map(String.init) ?? "-"))"
                )
            }
            if chain.head != body.chain {
                problems.append("queue.csv ends at another record than the manifest's chain head")
            }
            return problems
        }
    }
}
