import Crypto
import Foundation
import GRDB
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirPosix
import JamPasirQueue
import JamPasirReports
import JamPasirStore

/// Takes a counter's signed export (a bundle) into the hub: verified as `jampasir verify` does,
/// signed by one of the office's counters, then its sessions added once each. The hub is the
/// witness of every counter's history: a bundle that contradicts what the hub already received
/// (a session changed or gone, a chain head rewritten, a newer export with a shorter chain) is
/// recorded as a finding and named, and the hub keeps its first copy.
public enum HubImport {
    public enum Verdict: Equatable, Sendable {
        /// New sessions added; `known` were already at the hub.
        case accepted(new: Int, known: Int)
        /// This very bundle was imported before.
        case alreadyImported
        /// Not taken: why.
        case refused(String)
        /// Taken (its new sessions added), but it contradicts what the hub received before.
        case historyChanged(new: Int, findings: [String])
    }

    public struct Result: Equatable, Sendable {
        public var directory: String
        public var counterID: String?
        public var verdict: Verdict
    }

    /// The export folders at or under `root`: `root` itself when it holds a manifest.json, else
    /// the `JAMPASIR/<counter>/<time>/` folders of a stick (or of `jampasir export --to`), or
    /// `<counter>/<time>/` below `root`. Links are never followed; hidden (unfinished) folders
    /// are skipped.
    public static func exportFolders(under root: String) -> [String] {
        if isFile(root + "/manifest.json") { return [root] }
        for base in [root + "/JAMPASIR", root] where isDirectory(base) {
            let found = subdirectories(base).flatMap { counter in subdirectories(counter) }
                .filter { isFile($0 + "/manifest.json") }
            if !found.isEmpty { return found }
        }
        return []
    }

    /// Imports one export folder. Its manifest is read first, alone: an export that is not
    /// signed, or signed by a key the office does not trust, or whose files are not an export's,
    /// is refused before any other file of it is opened. Then its files are copied into the
    /// hub (plain files only, each hashed as it is copied, in bounded memory), and only that
    /// copy is verified and read: a stick cannot show the verifier one thing and the importer
    /// another. An export the hub takes is kept there, as received, under `bundles/<id>/`: the
    /// evidence behind every session and finding, on disk before the store names it.
    public static func importBundle(
        _ directory: String, into hub: HubStore, trusting trusted: TrustedSigners, at now: Date, source: String
    ) -> Result {
        var result = Result(directory: directory, counterID: nil, verdict: .refused(""))
        func refused(_ why: String) -> Result {
            result.verdict = .refused(why)
            return result
        }
        let manifestData: Data
        let manifest: ExportManifest
        do {
            manifestData = try PlainFile.read(directory + "/manifest.json", limit: ExportVerifier.manifestLimit)
        } catch {
            return refused("\(error)")
        }
        switch ExportVerifier.check(manifest: manifestData, queueExports: false) {
        case .unreadable(let problems): return refused(problems.joined(separator: "; "))
        case .read(_, let problems) where !problems.isEmpty: return refused(problems.joined(separator: "; "))
        case .read(let read, _): manifest = read
        }
        var body = manifest.body
        guard Configuration.isValidCounterID(body.counterID) else {
            return refused("the manifest's counter_id is not a counter's name (letters, digits, - _ .)")
        }
        result.counterID = body.counterID
        guard trusted.trusts(body.devicePublicKey), let key = TrustedSigners.canonical(body.devicePublicKey) else {
            let fingerprint = TrustedSigners.fingerprint(of: body.devicePublicKey) ?? "unreadable"
            return refused(
                "signed by a key the office does not trust (fingerprint \(fingerprint)): if it is one of the office's counters, add its public key to export.trusted_keys of the hub's configuration"
            )
        }
        let listed = body.files.map(\.name)
        guard body.files.allSatisfy({ $0.name != "manifest.json" && ExportWriter.fileNames.contains($0.name) }) else {
            return refused("the manifest lists \(listed.joined(separator: ", ")): not the files of a counter's export")
        }
        guard body.files.allSatisfy({ (0...BundleTransfer.maxBody).contains($0.size) }),
            body.files.reduce(0, { $0 + $1.size }) <= BundleTransfer.maxBody  // (at most five, each bounded: no overflow)
        else {
            return refused("the manifest lists more than \(BundleTransfer.maxBody) bytes: more than an export of a counter")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard entries.count <= 16 else {
            return refused("\(entries.count) entries in the export folder: an export holds \(ExportWriter.fileNames.count) files")
        }
        let folder = ExportVerifier.folderProblems(directory, listed: listed)
        guard folder.isEmpty else { return refused(folder.joined(separator: "; ")) }
        body.devicePublicKey = key
        // One export, however its manifest is spelled: the signed body identifies it.
        guard let canonicalBody = try? manifest.body.canonicalData() else { return refused("manifest.json cannot be read") }
        let bundle = SHA256.hash(data: canonicalBody).hexString
        do {
            if try hub.holds(bundle: bundle) {
                // Known: its files are still checked against the manifest, but not copied.
                try stage(directory, manifest: manifestData, files: body.files, into: nil)
                result.verdict = .alreadyImported
                return result
            }
        } catch {
            return refused("\(error)")
        }
        let staging = hub.bundlesDirectory + "/.incoming-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let sessions: [SessionJSON]
        let chain: ChainList?
        do {
            try stage(directory, manifest: manifestData, files: body.files, into: staging)
            let problems = ExportVerifier.verify(directory: staging, queueExports: false)
            guard problems.isEmpty else { return refused(problems.joined(separator: "; ")) }
            sessions = try readSessions(staging, body: body)
            chain = try ChainList(staging, body: body)
        } catch {
            return refused("\(error)")
        }
        do {
            result.verdict = try hub.write { db in
                if try HubStore.holds(bundle: bundle, db) { return .alreadyImported }
                if let foreign = try foreignSession(sessions, body: body, db) { return .refused(foreign) }
                try keep(staging, as: bundle, in: hub.bundlesDirectory)
                return try ingest(
                    bundle: bundle, body: body, sessions: sessions, chain: chain, db: db, now: Timestamp.iso8601(now),
                    source: source)
            }
        } catch {
            return refused("\(error)")
        }
        return result
    }

    /// Puts this import's verified copy in place as `bundles/<id>` and syncs it there, before
    /// the store names it (in the store's write transaction: one importer at a time). A copy
    /// already there is one a crash left before its store took it, maybe half removed: it is
    /// moved aside (removed with the staging folder's name), never trusted. If the store then
    /// does not commit, the copy stays: the same bundle's, replaced at its next import.
    static func keep(_ staging: String, as bundle: String, in bundles: String) throws {
        let kept = bundles + "/" + bundle
        if FileManager.default.fileExists(atPath: kept) {
            let aside = bundles + "/.incoming-" + UUID().uuidString
            guard rename(kept, aside) == 0 else { throw Unreadable(description: SystemError("cannot move \(kept) aside").description) }
            try? FileManager.default.removeItem(atPath: aside)
        }
        guard rename(staging, kept) == 0 else {
            throw Unreadable(description: SystemError("cannot keep the bundle as \(kept)").description)
        }
        try ExportWriter.syncDirectory(bundles)
    }

    /// The files the manifest lists, each exactly its listed size and hash (checked as it is
    /// read, a piece at a time), copied into a new private folder and synced, then the manifest
    /// as it was read; with no folder, only checked.
    static func stage(_ directory: String, manifest: Data, files: [ExportManifest.File], into staging: String?) throws {
        if let staging {
            try FileManager.default.createDirectory(
                atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        for file in files {
            let copy = try staging.map { staging throws(AtomicFile.Failure) in try AtomicFile(path: staging + "/" + file.name, mode: 0o600) }
            var hash = SHA256()
            try PlainFile.stream(directory + "/" + file.name, size: file.size) { piece in
                hash.update(bufferPointer: piece)
                try copy?.write(bytes: piece)
            }
            guard hash.finalize().hexString == file.sha256 else {
                throw Unreadable(description: "\(file.name): SHA-256 does not match the manifest: the file was changed")
            }
            try copy?.commit()
        }
        if let staging {
            let copy = try AtomicFile(path: staging + "/manifest.json", mode: 0o600)
            try copy.write(bytes: manifest)
            try copy.commit()
        }
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// The non-empty lines of a file the manifest covers, numbered from 1, one at a time.
    static func forEachLine(of data: Data, _ body: (Int, Data.SubSequence) throws -> Void) rethrows {
        var start = data.startIndex
        var number = 0
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            if end > start {
                number += 1
                try body(number, data[start..<end])
            }
            start = end < data.endIndex ? end + 1 : end
        }
    }

    /// The bundle's sessions.jsonl (covered by the verified manifest): every line a session with
    /// an id and times in the export's form, exactly the sessions the manifest names.
    static func readSessions(_ directory: String, body: ExportManifest.Body) throws -> [SessionJSON] {
        guard body.files.contains(where: { $0.name == "sessions.jsonl" }),
            let data = FileManager.default.contents(atPath: directory + "/sessions.jsonl")
        else { throw Unreadable(description: "the export holds no sessions.jsonl") }
        let decoder = JSONDecoder()
        var sessions: [SessionJSON] = []
        try forEachLine(of: data) { number, line in
            guard number <= body.sessions.count else {
                throw Unreadable(description: "sessions.jsonl holds more than the \(body.sessions.count) sessions the manifest names")
            }
            guard let session = try? decoder.decode(SessionJSON.self, from: Data(line)), session.id != nil,
                session.outcome == "open" || Outcome(rawValue: session.outcome) != nil,
                Timestamp.date(session.startedAt) != nil, session.endedAt.map({ Timestamp.date($0) != nil }) ?? true,
                session.outcome == "open" || session.freeService != nil,
                session.ticket.map(Ticket.isLabel) ?? true
            else { throw Unreadable(description: "sessions.jsonl line \(number) is not a session") }
            sessions.append(session)
        }
        let ids = sessions.compactMap(\.id)
        guard ids.count == body.sessions.count, Set(ids).count == ids.count, ids.min() == body.sessions.firstID,
            ids.max() == body.sessions.lastID
        else {
            throw Unreadable(
                description: "sessions.jsonl holds \(ids.count) sessions, not the \(body.sessions.count) the manifest names")
        }
        return sessions
    }

    /// A session that names a counter other than its signer's (the manifest's name, or a name
    /// the key's earlier exports carried, for a counter renamed since), said as a refusal; nil
    /// when none does. One counter's key never brings another counter's sessions.
    static func foreignSession(_ sessions: [SessionJSON], body: ExportManifest.Body, _ db: Database) throws -> String? {
        let own = try HubStore.names(ofKey: body.devicePublicKey, db).union([body.counterID])
        guard let foreign = sessions.first(where: { !own.contains($0.counterID) }) else { return nil }
        return "session \(foreign.id.map(String.init) ?? "?") names the counter \(foreign.counterID.terminalSafe), but the export is signed by \(own.sorted().joined(separator: " or ")): a counter's key brings its own sessions only"
    }

    private static func ingest(
        bundle: String, body: ExportManifest.Body, sessions: [SessionJSON], chain: ChainList?, db: Database, now: String,
        source: String
    ) throws -> Verdict {
        let key = body.devicePublicKey
        var findings = try chainFindings(body: body, chain: chain, db: db)
        // A counter keeps the name it first came with: a rename is a finding, not a new history.
        if let name = try String.fetchOne(db, sql: "SELECT counter_id FROM counter WHERE public_key = ?", arguments: [key]) {
            if name != body.counterID {
                findings.append("this export names the counter \(body.counterID), its earlier exports \(name)")
            }
            try db.execute(sql: "UPDATE counter SET last_import = ? WHERE public_key = ?", arguments: [now, key])
        } else {
            try db.execute(
                sql: "INSERT INTO counter (public_key, counter_id, first_import, last_import) VALUES (?, ?, ?, ?)",
                arguments: [key, body.counterID, now, now])
        }
        try db.execute(
            sql: """
                INSERT INTO bundle (manifest_sha256, public_key, counter_id, exported_at, chain_seq, chain_hash,
                  sessions, imported_at, source, software_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                bundle, key, body.counterID, body.exportedAt, body.chain?.seq, body.chain?.hash, sessions.count, now,
                source, body.softwareVersion,
            ])

        let inBundle = Set(sessions.compactMap(\.id))
        let lastID = body.sessions.lastID ?? 0
        // Everything up to its last session, and whatever an earlier export carried (earlier by
        // its chain, which every export lengthens, or by the counter's clock), must be here.
        let seq = body.chain?.seq
        let missing = try Int64.fetchAll(
            db,
            sql: """
                SELECT s.id FROM session s JOIN bundle b ON b.manifest_sha256 = s.bundle
                WHERE s.public_key = ? AND (s.id <= ? OR b.chain_seq < ? OR b.exported_at < ?) ORDER BY s.id
                """, arguments: [key, lastID, seq, body.exportedAt]
        ).filter { !inBundle.contains($0) }
        if !missing.isEmpty {
            findings.append(
                "session\(missing.count == 1 ? "" : "s") \(list(missing)) received before \(missing.count == 1 ? "is" : "are") missing from this export: deleted from the counter's store"
            )
        }
        var new = 0
        var known = 0
        var changed: [Int64] = []
        for session in sessions {
            guard let id = session.id else { continue }  // (readSessions let none through)
            if let stored = try Row.fetchOne(
                db,
                sql: """
                    SELECT \(SessionJSON.columns(of: "s")), b.chain_seq AS brought_by FROM session s
                    JOIN bundle b ON b.manifest_sha256 = s.bundle WHERE s.public_key = ? AND s.id = ?
                    """, arguments: [key, id])
            {
                known += 1
                if session.outcome == "open" {
                    // Running in an export made before the one that brought it finished (a
                    // shorter chain) is normal; open in one whose chain reaches as far is a rewrite.
                    let broughtBy: Int64? = stored["brought_by"]
                    if let seq, let broughtBy, seq >= broughtBy { changed.append(id) }
                } else if SessionJSON(row: stored) != session {
                    changed.append(id)
                }
                continue
            }
            if session.outcome == "open" { continue }  // not final yet: a later export brings it
            try db.execute(
                sql: """
                    INSERT INTO session (public_key, bundle, \(SessionJSON.columns))
                    VALUES (?, ?, \(SessionJSON.placeholders))
                    """, arguments: [key, bundle] + session.arguments)
            new += 1
        }
        if !changed.isEmpty {
            findings.append(
                "session\(changed.count == 1 ? "" : "s") \(list(changed)) differ\(changed.count == 1 ? "s" : "") from the copy received before: rewritten in the counter's store (the hub keeps its first copy)"
            )
        }
        for finding in findings {
            try db.execute(
                sql: "INSERT INTO finding (public_key, counter_id, found_at, bundle, description) VALUES (?, ?, ?, ?, ?)",
                arguments: [key, body.counterID, now, bundle, finding])
        }
        return findings.isEmpty ? .accepted(new: new, known: known) : .historyChanged(new: new, findings: findings)
    }

    /// The chain this bundle sealed against the heads the hub witnessed before: with the
    /// export's list of entries, every head sealed before at or below this one's must be in it
    /// unchanged (the first that is not is named); without it (an export from before the list),
    /// only a head of the same number can be compared.
    private static func chainFindings(body: ExportManifest.Body, chain: ChainList?, db: Database) throws -> [String] {
        guard let head = body.chain else { return [] }
        var findings: [String] = []
        if let chain {
            let sealed = try Row.fetchAll(
                db,
                sql: """
                    SELECT exported_at, chain_seq, chain_hash FROM bundle
                    WHERE public_key = ? AND chain_seq <= ? ORDER BY chain_seq
                    """, arguments: [body.devicePublicKey, head.seq])
            let broken = sealed.filter { chain.hash(at: $0["chain_seq"]) != $0["chain_hash"] as String }
            if let first = broken.first {
                let seq: Int64 = first["chain_seq"]
                let hash: String = first["chain_hash"]
                let exportedAt: String = first["exported_at"]
                let now = chain.hash(at: seq).map { "is \($0.prefix(16))… here" } ?? "is not in this export's chain"
                let more = broken.count > 1 ? " (and \(broken.count - 1) later heads)" : ""
                findings.append(
                    "audit entry \(seq), sealed as \(hash.prefix(16))… by the export of \(exportedAt)\(more), \(now): the counter's chain was rewritten"
                )
            }
        } else if let other = try Row.fetchOne(
            db,
            sql: "SELECT exported_at, chain_hash FROM bundle WHERE public_key = ? AND chain_seq = ? AND chain_hash != ?",
            arguments: [body.devicePublicKey, head.seq, head.hash])
        {
            let otherHash: String = other["chain_hash"]
            let exportedAt: String = other["exported_at"]
            findings.append(
                "audit entry \(head.seq) is \(head.hash.prefix(16))… here but was \(otherHash.prefix(16))… in the export of \(exportedAt): the counter's chain was rewritten"
            )
        }
        if let longer = try Row.fetchOne(
            db,
            sql: """
                SELECT exported_at, chain_seq FROM bundle WHERE public_key = ? AND chain_seq > ? AND exported_at < ?
                ORDER BY chain_seq DESC LIMIT 1
                """, arguments: [body.devicePublicKey, head.seq, body.exportedAt])
        {
            let seq: Int64 = longer["chain_seq"]
            let exportedAt: String = longer["exported_at"]
            findings.append(
                "this export (\(body.exportedAt)) ends its chain at entry \(head.seq), but the earlier export of \(exportedAt) sealed entry \(seq): the counter's chain was truncated"
            )
        }
        return findings
    }

    /// An export's chain.txt: the hash of every audit entry up to the head its manifest seals,
    /// one `SEQ HASH` line each, numbers consecutive. Nil for an export without one.
    struct ChainList {
        let first: Int64
        let hashes: [String]

        init?(_ directory: String, body: ExportManifest.Body) throws {
            guard body.files.contains(where: { $0.name == "chain.txt" }) else { return nil }
            guard let head = body.chain, let data = FileManager.default.contents(atPath: directory + "/chain.txt") else {
                throw Unreadable(description: "chain.txt is listed but the manifest seals no chain head")
            }
            var first: Int64?
            var hashes: [String] = []
            try forEachLine(of: data) { number, line in
                let fields = line.split(separator: UInt8(ascii: " "))
                // (numbers come from a store anyone with sqlite3 could edit: no arithmetic may trap)
                let next = first.map { $0.addingReportingOverflow(Int64(hashes.count)) }
                guard fields.count == 2, let seq = Int64(String(decoding: fields[0], as: UTF8.self)), seq >= 0,
                    next.map({ !$0.overflow && $0.partialValue == seq }) ?? true, fields[1].count == 64,
                    fields[1].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
                else { throw Unreadable(description: "chain.txt line \(number) is not the next `SEQ HASH` of the chain") }
                first = first ?? seq
                hashes.append(String(decoding: fields[1], as: UTF8.self))
            }
            guard let first, head.seq >= first, head.seq - first == Int64(hashes.count) - 1, hashes.last == head.hash
            else {
                throw Unreadable(description: "chain.txt does not end at the head the manifest seals (entry \(head.seq))")
            }
            self.first = first
            self.hashes = hashes
        }

        func hash(at seq: Int64) -> String? {
            seq >= first && seq - first < Int64(hashes.count) ? hashes[Int(seq - first)] : nil
        }
    }

    /// "3, 5–7, 9" for a list of ids, at most 10 runs.
    static func list(_ unsorted: [Int64]) -> String {
        let ids = unsorted.sorted()
        var runs: [String] = []
        var index = ids.startIndex
        while index < ids.endIndex {
            var end = index
            while end + 1 < ids.endIndex && ids[end] < .max && ids[end + 1] == ids[end] + 1 { end += 1 }
            runs.append(end == index ? "\(ids[index])" : "\(ids[index])–\(ids[end])")
            index = end + 1
        }
        return runs.count > 10 ? runs.prefix(10).joined(separator: ", ") + " and more" : runs.joined(separator: ", ")
    }

    /// The rule of `counter.id`: what a counter can be called, and so what a report may print.
    private static func isFile(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func subdirectories(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            .filter { !$0.hasPrefix(".") }.map { path + "/" + $0 }.filter(isDirectory)
    }
}
