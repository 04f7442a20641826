import Crypto
import Foundation
import JamPasirConfig
import JamPasirReports
import JamPasirStore
import JamPasirPosix

/// Writes one export: `JAMPASIR/<counter-id>/<UTC time>/` under a root (a USB stick's mount
/// point, or a directory given to `jampasir export`) with `sessions.csv`, `sessions.jsonl`,
/// `report.html` and, last, the signed `manifest.json`. Every file goes to a hidden temporary
/// name, is fsynced and renamed, so an export is complete exactly when its manifest exists and
/// verifies. Nothing under the root is followed if it is a symbolic link.
public struct ExportWriter: Sendable {
    /// Why an export failed, one code per kind (shown on the display as `E` + code).
    public enum FailureKind: Int, Sendable {
        case unsafePath = 1
        case noSpace = 2
        case readOnly = 3
        case ioError = 4
        case vanished = 5
        case store = 6
    }

    public struct Failure: Error, CustomStringConvertible {
        public var kind: FailureKind
        public var description: String

        /// Thrown from `progress` to stop an export whose stick was pulled out.
        public static let removed = Failure(kind: .vanished, description: "the stick was removed during the export")
    }

    public struct Result: Sendable {
        public var directory: String
        public var manifest: ExportManifest
    }

    public var store: SessionStore
    public var counterID: String
    public var key: DeviceKey
    public var timeZone: TimeZone
    public var language: HTMLReport.Language

    public init(
        store: SessionStore, counterID: String, key: DeviceKey, timeZone: TimeZone, language: HTMLReport.Language
    ) {
        self.store = store
        self.counterID = counterID
        self.key = key
        self.timeZone = timeZone
        self.language = language
    }

    /// `progress(done, total)` is called every `progressStep` sessions and at the end; throwing
    /// from it (e.g. `Failure.removed`) abandons the export like any other failure.
    public func write(into root: String, at now: Date, progress: ((Int, Int) throws -> Void)? = nil) throws(Failure)
        -> Result
    {
        try Self.publish(under: root, folders: ["JAMPASIR", counterID], at: now, fileNames: Self.fileNames) { staging in
            try writeFiles(into: staging, at: now, progress: progress)
        }
    }

    /// Makes `root/<folders…>/<UTC time>/`, filled by `files` in a hidden staging folder
    /// and renamed into place only when complete: a power cut or a pulled stick at any instant
    /// leaves at most a `.…partial` folder, never a folder that looks like an export.
    static func publish(
        under root: String, folders: [String], at now: Date, fileNames: [String],
        _ files: (_ staging: String) throws -> ExportManifest
    ) throws(Failure) -> Result {
        let stamp = Timestamp.iso8601(now).replacingOccurrences(of: ":", with: "").replacingOccurrences(
            of: ".", with: "")
        var parent = root
        for component in folders {
            parent += "/" + component
            try makeDirectory(parent, mustBeNew: false)
        }
        let final = parent + "/" + stamp
        let staging = parent + "/." + stamp + ".partial"
        var existing = stat()
        if lstat(final, &existing) == 0 { throw Failure(kind: .unsafePath, description: "\(final) already exists") }
        try makeDirectory(staging, mustBeNew: true)
        do {
            let manifest = try files(staging)
            guard rename(staging, final) == 0 else { throw failure(errno, path: final, doing: "rename into") }
            try syncDirectory(parent)
            return Result(directory: final, manifest: manifest)
        } catch let failure as Failure {
            abandon(staging, fileNames)
            throw failure
        } catch {
            abandon(staging, fileNames)
            throw Failure(kind: .store, description: "reading the store for the export: \(error)")
        }
    }

    /// The files an export consists of, the manifest last.
    public static let fileNames = ["sessions.csv", "sessions.jsonl", "report.html", "chain.txt", "manifest.json"]

    /// Best effort after a failure (the stick may be gone): the staging folder and whatever was
    /// already in it go. (Temporary files are removed as they are abandoned.)
    private static func abandon(_ directory: String, _ fileNames: [String]) {
        for name in fileNames { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    public static func syncDirectory(_ path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, path: path, doing: "open") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure(errno, path: path, doing: "sync") }
    }

    public static let progressStep = 2_000

    private func writeFiles(into directory: String, at now: Date, progress: ((Int, Int) throws -> Void)?) throws
        -> ExportManifest
    {
        let total = try store.count()
        let csv = try HashedFile(directory, "sessions.csv")
        let jsonl = try HashedFile(directory, "sessions.jsonl")
        var statistics = PeriodStatistics.Accumulator(timeZone: timeZone)
        var range = ExportManifest.SessionRange(count: 0)
        var limitMs: Int64 = 120_000
        try csv.write(CSVFormat.header)
        try store.forEachSession { session in
            try csv.write(CSVFormat.row(session))
            try jsonl.write(SessionJSON(session).jsonLine)
            statistics.add(session)
            range.count += 1
            if let id = session.id {
                range.firstID = min(range.firstID ?? id, id)
                range.lastID = max(range.lastID ?? id, id)
            }
            limitMs = session.limitMs
            if range.count % Self.progressStep == 0 { try progress?(range.count, total) }
        }
        let report = try HashedFile(directory, "report.html")
        var html = HTMLReport(
            counterID: counterID, generatedAt: now, timeZone: timeZone, limitMs: limitMs,
            days: statistics.result(), hours: statistics.hourly(), serviceTimesMs: statistics.allServiceTimes,
            language: language)
        if let last = try store.lastExport() {
            html.sinceLastExport = (last.exportedAt, try store.count(after: last.lastSessionID ?? 0))
        }
        try report.write(html.render())
        var files: [ExportManifest.File] = []
        for file in [csv, jsonl, report] {
            files.append(try file.commit())
        }
        // The chain's entries up to the head this export seals, one `SEQ HASH` line each.
        let head = try store.chainHead()
        if let head {
            let chain = try HashedFile(directory, "chain.txt")
            try store.forEachChainHash(through: head) { seq, hash in try chain.write("\(seq) \(hash)\n") }
            files.append(try chain.commit())
        }
        let body = ExportManifest.Body(
            counterID: counterID, exportedAt: Timestamp.iso8601(now), sessions: range, files: files,
            devicePublicKey: key.publicKeyBase64, chain: head)
        try progress?(range.count, total)
        return try Self.sign(body, with: key, into: directory)
    }

    /// Signs `body` with `key` and writes it as `manifest.json`, the export's last file.
    static func sign(_ body: ExportManifest.Body, with key: DeviceKey, into directory: String) throws -> ExportManifest {
        let manifest = ExportManifest(
            body: body, signature: try key.sign(try body.canonicalData()).base64EncodedString())
        let manifestFile = try HashedFile(directory, "manifest.json")
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try manifestFile.write(String(decoding: try pretty.encode(manifest), as: UTF8.self) + "\n")
        _ = try manifestFile.commit()
        return manifest
    }

    /// Creates a directory without following links; an existing one must be a real directory.
    static func makeDirectory(_ path: String, mustBeNew: Bool) throws(Failure) {
        var info = stat()
        if lstat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFLNK {
                throw Failure(
                    kind: .unsafePath, description: "\(path) is a symbolic link: refusing to write through it")
            }
            if info.st_mode & S_IFMT != S_IFDIR {
                throw Failure(kind: .unsafePath, description: "\(path) exists and is not a directory")
            }
            if mustBeNew { throw Failure(kind: .unsafePath, description: "\(path) already exists") }
            return
        }
        if mkdir(path, 0o755) != 0 { throw failure(errno, path: path, doing: "create") }
    }

    static func failure(_ error: Int32, path: String, doing: String) -> Failure {
        let reason = SystemError.reason(error)
        switch error {
        case ENOSPC, EDQUOT: return Failure(kind: .noSpace, description: "the stick is full while writing \(path)")
        case EROFS: return Failure(kind: .readOnly, description: "the stick is read-only (\(path))")
        case ENOENT, ENODEV, ENXIO, ESTALE:
            return Failure(kind: .vanished, description: "\(path) vanished: stick removed? (\(reason))")
        case EACCES, EPERM: return Failure(kind: .readOnly, description: "cannot \(doing) \(path): \(reason)")
        default: return Failure(kind: .ioError, description: "cannot \(doing) \(path): \(reason)")
        }
    }
}

/// An `AtomicFile` that also computes the SHA-256 and size of what is written.
final class HashedFile {
    private let file: AtomicFile
    private var hasher = SHA256()
    private var size = 0
    let name: String

    init(_ directory: String, _ name: String) throws(ExportWriter.Failure) {
        self.name = name
        do {
            file = try AtomicFile(path: directory + "/" + name)
        } catch {
            throw ExportWriter.failure(error.errno, path: error.path, doing: error.operation)
        }
    }

    func write(_ text: String) throws(ExportWriter.Failure) {
        let bytes = Data(text.utf8)
        hasher.update(data: bytes)
        size += bytes.count
        do { try file.write(text) } catch {
            throw ExportWriter.failure(error.errno, path: error.path, doing: error.operation)
        }
    }

    func commit() throws(ExportWriter.Failure) -> ExportManifest.File {
        do { try file.commit() } catch {
            throw ExportWriter.failure(error.errno, path: error.path, doing: error.operation)
        }
        let digest = hasher.finalize().hexString
        return ExportManifest.File(name: name, sha256: digest, size: size)
    }
}

extension ExportWriter {
    /// The export as this counter's configuration describes it (stick and `jampasir export`).
    public init(configuration: Configuration, store: SessionStore, key: DeviceKey) {
        self.init(
            store: store, counterID: configuration.counterID, key: key, timeZone: configuration.timeZone,
            language: HTMLReport.Language(rawValue: configuration.reportLanguage) ?? .indonesian)
    }
}
