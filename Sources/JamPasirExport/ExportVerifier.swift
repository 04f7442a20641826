import Crypto
import Foundation
import JamPasirStore

/// Checks an export folder: every file's size and SHA-256 against the manifest, the manifest's
/// signature, the expected public key if one is given, and that the CSV holds exactly the
/// sessions the manifest claims (a hub's queue export: exactly its chained records).
public enum ExportVerifier {
    /// The audit chain head an export's manifest carries, if it is readable and has one.
    public static func chainHead(directory: String) -> AuditChain.Head? {
        // A queue export's head is in the hub's queue chain, never in a counter's store.
        manifest(directory: directory).flatMap { $0.body.format == ExportManifest.formatName ? $0.body.chain : nil }
    }

    /// The base64 public key an export's manifest says it was signed with, if it is readable.
    public static func signer(directory: String) -> String? {
        manifest(directory: directory)?.body.devicePublicKey
    }

    private static func manifest(directory: String) -> ExportManifest? {
        (try? PlainFile.read(directory + "/manifest.json", limit: manifestLimit)).flatMap {
            try? JSONDecoder().decode(ExportManifest.self, from: $0)
        }
    }

    /// Bounds on what is read from an export: the manifest, and each file (a 300,000-session
    /// export's largest file is about 60 MB).
    public static let manifestLimit = 1 << 20
    public static let fileLimit = 1 << 30

    /// The problems found; empty means the export is intact. `queueExports`: whether a hub's
    /// queue export is checked as one, or refused unread (the hub takes counters' exports only).
    public static func verify(directory: String, expectedPublicKey: String? = nil, queueExports: Bool = true) -> [String] {
        let manifestPath = directory + "/manifest.json"
        guard fileType(manifestPath) != nil else {
            return ["no manifest.json in \(directory): not an export, or an unfinished one"]
        }
        let data: Data
        do {
            data = try PlainFile.read(manifestPath, limit: manifestLimit)
        } catch {
            return ["\(error)"]
        }
        let manifest: ExportManifest
        var problems: [String]
        switch check(manifest: data, expectedPublicKey: expectedPublicKey, queueExports: queueExports) {
        case .unreadable(let reasons): return reasons
        case .read(let read, let found): (manifest, problems) = (read, found)
        }
        let body = manifest.body
        problems += folderProblems(directory, listed: body.files.map(\.name))
        let rowsFile = body.format == ExportManifest.queueFormatName ? "queue.csv" : "sessions.csv"
        var rows: (any RowsCheck)?
        for file in body.files where isPlainName(file.name) {
            let path = directory + "/" + file.name
            // Anything but a plain file is named by folderProblems and never read.
            guard let type = fileType(path) else {
                problems.append("\(file.name) is missing")
                continue
            }
            guard type == .typeRegular else { continue }
            // Never more than the manifest says: a file of another size (a sparse terabyte, say)
            // is named without being read.
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? -1
            guard size == file.size, size <= fileLimit else {
                problems.append("\(file.name): \(size) bytes, manifest says \(file.size)")
                continue
            }
            // Hashed and, for the rows file, parsed as it is read: one piece in memory at a time.
            var hash = SHA256()
            var check: (any RowsCheck)? = file.name == rowsFile ? rowsCheck(for: body) : nil
            var reader = CSVRecords()
            do {
                try PlainFile.stream(path, size: size) { piece in
                    hash.update(bufferPointer: piece)
                    if check != nil { try reader.feed(piece) { check!.take($0) } }
                }
                reader.finish { check?.take($0) }
            } catch let tooLong as CSVRecords.TooLong {
                problems.append("\(file.name): \(tooLong)")
                continue
            } catch {
                problems.append("\(error)")
                continue
            }
            if hash.finalize().hexString != file.sha256 {
                problems.append("\(file.name): SHA-256 does not match the manifest: the file was changed")
            }
            if check != nil { rows = check }
        }
        if let rows {
            problems += rows.problems()
        } else if body.format == ExportManifest.queueFormatName && !body.files.contains(where: { $0.name == rowsFile }) {
            problems.append("a queue export without queue.csv in its manifest")
        }
        return problems
    }

    /// What a manifest alone says, before any other file of its export is opened.
    public enum ManifestCheck {
        /// Not a manifest (shape, JSON, or a queue export where one is not taken): nothing more to check.
        case unreadable([String])
        /// Read; `problems` (format, signature, signer) is empty when it is one to trust.
        case read(ExportManifest, problems: [String])
    }

    /// Checks a manifest's bytes: its shape, its format, its signature, and its signer if one is
    /// expected. The hub asks this first, and reads an export's files only for a manifest it trusts.
    public static func check(manifest data: Data, expectedPublicKey: String? = nil, queueExports: Bool = true)
        -> ManifestCheck
    {
        let shape = ManifestShape.problems(data)
        guard shape.isEmpty else { return .unreadable(shape) }
        let manifest: ExportManifest
        do {
            manifest = try JSONDecoder().decode(ExportManifest.self, from: data)
        } catch {
            return .unreadable(["manifest.json cannot be read: \(error)"])
        }
        var problems: [String] = []
        let body = manifest.body
        let isQueue = body.format == ExportManifest.queueFormatName
        if isQueue && !queueExports {
            return .unreadable(["a hub's queue export, not a counter's sessions: check it with jampasir verify"])
        }
        if body.format != ExportManifest.formatName && !isQueue { problems.append("unknown format \(body.format)") }
        if !isQueue && body.records != nil { problems.append("a counter's export that claims queue records") }
        if let version = body.softwareVersion, !ExportManifest.Body.isVersion(version) {
            problems.append("software_version is not a version (letters, digits and . + ~ -, at most 64)")
        }
        if let expectedPublicKey, expectedPublicKey != body.devicePublicKey {
            problems.append(
                "signed by a different device key (\(body.devicePublicKey)) than expected (\(expectedPublicKey))")
        }
        if let keyData = Data(base64Encoded: body.devicePublicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
            let signature = Data(base64Encoded: manifest.signature),
            let signed = try? body.canonicalData(), key.isValidSignature(signature, for: signed)
        {
        } else {
            problems.append("the manifest's signature does not verify: manifest.json was edited")
        }
        return .read(manifest, problems: problems)
    }

    static func rowsCheck(for body: ExportManifest.Body) -> any RowsCheck {
        body.format == ExportManifest.queueFormatName ? QueueExport.Rows(manifest: body) : SessionRows(range: body.sessions)
    }

    /// A name the manifest may list: one file in the export folder itself.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && !name.contains("..") && !name.contains("\0")
    }

    /// What `path` is, not following a symbolic link; nil when it does not exist.
    static func fileType(_ path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }

    /// The folder holds exactly manifest.json and the files it lists, each a plain file: no
    /// name reaching outside, nothing unlisted (the signature would not cover it), no links.
    public static func folderProblems(_ directory: String, listed: [String]) -> [String] {
        var problems: [String] = []
        var names = Set<String>()
        for name in listed {
            if !isPlainName(name) {
                problems.append("the manifest lists \"\(name)\": not the name of a file in the export folder")
            } else if !names.insert(name).inserted {
                problems.append("the manifest lists \(name) twice")
            }
        }
        let present = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for entry in present.sorted() {
            let type = fileType(directory + "/" + entry)
            if type == .typeSymbolicLink {
                problems.append("\(entry) is a symbolic link: an export holds plain files only")
            } else if type != .typeRegular {
                problems.append("\(entry) is not a plain file: an export holds plain files only")
            } else if entry != "manifest.json" && !names.contains(entry) {
                problems.append("\(entry) is in the export folder but not in the manifest")
            }
        }
        return problems
    }
}

/// A rows file checked as it streams by, one record at a time.
protocol RowsCheck {
    mutating func take(_ record: [String])
    func problems() -> [String]
}

/// `sessions.csv` against the manifest's session count and id range. Rows come in the order of
/// their start (a clock step can put a later id first), so repeats are found by the ids seen:
/// at most `idsKept` of them, about 80 MB at worst (a busy counter records 100,000 a year).
struct SessionRows: RowsCheck {
    static let idsKept = 2_000_000
    let range: ExportManifest.SessionRange
    private var headerSeen = false
    private var count = 0
    private var ids = Set<Int64>()
    private var repeated = false
    private var lowest: Int64?
    private var highest: Int64?

    init(range: ExportManifest.SessionRange) { self.range = range }

    mutating func take(_ record: [String]) {
        guard headerSeen else {
            headerSeen = true
            return
        }
        count += 1
        guard let id = record.first.flatMap({ Int64($0) }) else { return }
        lowest = min(lowest ?? id, id)
        highest = max(highest ?? id, id)
        if count <= min(range.count, Self.idsKept) && !ids.insert(id).inserted { repeated = true }
    }

    func problems() -> [String] {
        var problems: [String] = []
        if count != range.count {
            problems.append("sessions.csv has \(count) sessions, manifest says \(range.count)")
        }
        if repeated { problems.append("sessions.csv repeats a session id") }
        if range.count > Self.idsKept {
            problems.append("the manifest claims \(range.count) sessions: more than a counter records in years")
        }
        if lowest != range.firstID || highest != range.lastID {
            problems.append(
                "sessions.csv ids run \(lowest.map(String.init) ?? "-")…\(highest.map(String.init) ?? "-"), manifest says \(range.firstID.map(String.init) ?? "-")…\(range.lastID.map(String.init) ?? "-")"
            )
        }
        return problems
    }
}
