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
        FileManager.default.contents(atPath: directory + "/manifest.json").flatMap {
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
        let shape = ManifestShape.problems(data)
        guard shape.isEmpty else { return shape }
        let manifest: ExportManifest
        do {
            manifest = try JSONDecoder().decode(ExportManifest.self, from: data)
        } catch {
            return ["manifest.json cannot be read: \(error)"]
        }
        var problems: [String] = []
        let body = manifest.body
        let isQueue = body.format == ExportManifest.queueFormatName
        if isQueue && !queueExports {
            return ["a hub's queue export, not a counter's sessions: check it with jampasir verify"]
        }
        if body.format != ExportManifest.formatName && !isQueue { problems.append("unknown format \(body.format)") }
        if !isQueue && body.records != nil { problems.append("a counter's export that claims queue records") }
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
        problems += folderProblems(directory, listed: body.files.map(\.name))
        var csv: Data?
        let rowsFile = isQueue ? "queue.csv" : "sessions.csv"
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
            let contents: Data
            do {
                contents = try PlainFile.read(path, limit: size)
            } catch {
                problems.append("\(error)")
                continue
            }
            let digest = SHA256.hash(data: contents).hexString
            if digest != file.sha256 {
                problems.append("\(file.name): SHA-256 does not match the manifest: the file was changed")
            }
            if file.name == rowsFile { csv = contents }
        }
        switch (csv, isQueue) {
        case (let csv?, false): problems += checkRows(String(decoding: csv, as: UTF8.self), against: body.sessions)
        case (let csv?, true): problems += QueueExport.problems(csv, manifest: body)
        case (nil, true) where !body.files.contains(where: { $0.name == rowsFile }):
            problems.append("a queue export without queue.csv in its manifest")
        case (nil, _): break
        }
        return problems
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
    static func folderProblems(_ directory: String, listed: [String]) -> [String] {
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

    /// The CSV's rows against the manifest's session count and id range.
    static func checkRows(_ csv: String, against range: ExportManifest.SessionRange) -> [String] {
        let records = CSVRecords.parse(csv)
        let ids = records.dropFirst().compactMap { $0.first.flatMap { Int64($0) } }
        var problems: [String] = []
        if records.count - 1 != range.count {
            problems.append("sessions.csv has \(records.count - 1) sessions, manifest says \(range.count)")
        }
        if Set(ids).count != ids.count { problems.append("sessions.csv repeats a session id") }
        if ids.min() != range.firstID || ids.max() != range.lastID {
            problems.append(
                "sessions.csv ids run \(ids.min().map(String.init) ?? "-")…\(ids.max().map(String.init) ?? "-"), manifest says \(range.firstID.map(String.init) ?? "-")…\(range.lastID.map(String.init) ?? "-")"
            )
        }
        return problems
    }
}

/// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF, a leading BOM.
enum CSVRecords {
    static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.drop { $0 == "\u{FEFF}" }.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case ",":
                record.append(field)
                field = ""
            case "\r\n", "\n", "\r":
                record.append(field)
                records.append(record)
                record = []
                field = ""
            default: field.append(character)
            }
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
