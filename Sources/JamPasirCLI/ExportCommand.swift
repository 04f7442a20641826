import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirExport
import JamPasirReports
import JamPasirStore

/// `jampasir export --to DIR`: the same signed set of files a USB stick receives.
public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the session log, the report and a signed manifest into a directory.",
        discussion: """
            Writes DIR/JAMPASIR/<counter-id>/<UTC time>/ with sessions.csv (RFC 4180, UTF-8, UTC \
            times), sessions.jsonl, report.html and manifest.json (SHA-256 of each file, signed with \
            the counter's device key). Check it later with `jampasir verify`.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("to"), help: ArgumentHelp("Directory to write into.", valueName: "dir"))
    var directory: String

    public init() {}

    public func run() throws {
        let progress: ((Int, Int) -> Void)? =
            isatty(STDERR_FILENO) == 1 ? { done, total in Self.printProgress(done: done, total: total) } : nil
        print(try export(progress: progress))
    }

    /// Writes the export; returns a line saying where and how much.
    public func export(progress: ((Int, Int) -> Void)? = nil) throws -> String {
        let configuration = try storeOptions.configuration()
        let store = try storeOptions.openStore(configuration)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIFailure(
                message: "export directory \(directory) does not exist or is not a directory", exitStatus: 73)
        }
        let writer = ExportWriter(configuration: configuration, store: store, key: try counterKey(configuration))
        do {
            let result = try writer.write(into: directory, at: Date(), progress: progress)
            return "exported \(result.manifest.body.sessions.count) sessions to \(result.directory)"
        } catch {
            throw CLIFailure(message: "export failed: \(error)", exitStatus: 73)
        }
    }

    static func printProgress(done: Int, total: Int) {
        let percent = total == 0 ? 100 : done * 100 / total
        FileHandle.standardError.write(Data("\rexporting: \(done) / \(total) sessions (\(percent)%)\u{1B}[K".utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// `jampasir verify DIR`: is this export intact, and signed by one of the office's counters?
public struct VerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check an export folder (file hashes, manifest signature and signer, session count and id range), or with --store the store's audit chain.",
        discussion: """
            jampasir verify DIR             checks one export folder (a counter's, or a hub's queue export)
            jampasir verify --store PATH    walks the store's audit chain and names the first broken link
            jampasir verify --store PATH DIR  both, and that the export's chain head is still in the store's chain
            jampasir verify --store PATH --checkpoint FILE  the chain, and that a signed checkpoint's head is still in it

            The signer is trusted when its key is given with --public-key or --trusted-keys, or else is \
            in export.trusted_keys of the configuration. Exit status 0: OK; 1: broken, or signed by a \
            key that is not trusted; 2: intact, but nothing says whose key signed it.
            """)

    @Argument(help: ArgumentHelp("The export folder (the one holding manifest.json).", valueName: "dir"))
    var directory: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The counter's public key (base64) the export must be signed with.", valueName: "key"))
    var publicKey: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file of the office's counter keys: one base64 public key per line, # for comments.",
            valueName: "file"))
    var trustedKeys: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file whose export.trusted_keys to use (default: \(Configuration.defaultPath) if present).",
            valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("A session store whose audit chain to walk.", valueName: "path"))
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A chain checkpoint signed by the counter (the line jampasird logs, or its JSON alone): names a rewrite or truncation of the store's chain since.",
            valueName: "file"))
    var checkpoint: String?

    public init() {}

    public func validate() throws {
        guard directory != nil || store != nil else {
            throw ValidationError("give an export folder, --store PATH, or both")
        }
        if checkpoint != nil && store == nil { throw ValidationError("--checkpoint needs --store PATH") }
    }

    public func run() throws {
        let verdict = try verify()
        for line in verdict.lines { print(line) }
        if verdict.exitStatus != 0 { throw ExitCode(verdict.exitStatus) }
    }

    /// What `verify` prints, line by line, and the exit status it leaves with. Every line is
    /// terminal-safe: file names, keys and store values in it come from the export or the store.
    public struct Verdict: Equatable, Sendable {
        public var lines: [String]
        public var exitStatus: Int32

        init(lines: [String], exitStatus: Int32) {
            self.lines = lines.map(\.terminalSafe)
            self.exitStatus = exitStatus
        }
    }

    public func verify() throws -> Verdict {
        var lines: [String] = []
        var problems: [String] = []
        var unknownSigner: (what: String, fingerprint: String)?
        var sealed: [SealedHead] = []
        if let directory {
            problems += ExportVerifier.verify(directory: directory)
            if let head = ExportVerifier.chainHead(directory: directory) {
                sealed.append(SealedHead(head: head, source: "the export"))
            }
            if let signer = ExportVerifier.signer(directory: directory) {
                try judge(signer, of: directory, problems: &problems, unknownSigner: &unknownSigner)
            }
        }
        if let checkpoint {
            let text = FileManager.default.contents(atPath: checkpoint).map { String(decoding: $0, as: UTF8.self) }
            if let found = text.flatMap(ChainCheckpoint.parse) {
                if !found.signatureIsValid {
                    problems.append("the checkpoint's signature does not verify: \(checkpoint) was edited")
                }
                try judge(
                    found.body.devicePublicKey, of: checkpoint, problems: &problems, unknownSigner: &unknownSigner)
                sealed.append(SealedHead(head: found.body.chain, source: "the checkpoint of \(found.body.madeAt)"))
            } else {
                problems.append(
                    "\(checkpoint) holds no chain checkpoint (the JSON jampasird logs after \"chain checkpoint\")")
            }
        }
        if let store {
            let chain = Self.verifyChain(store: store, mustContain: sealed)
            lines += chain.summary.map { [$0] } ?? []
            problems += chain.problems
        }
        if !problems.isEmpty {
            return Verdict(lines: lines + problems.map { "FAIL \($0)" }, exitStatus: 1)
        }
        if let unknownSigner {
            return Verdict(
                lines: lines + [
                    "UNKNOWN SIGNER \(unknownSigner.what): intact, but nothing says whose key signed it (fingerprint \(unknownSigner.fingerprint)); compare it with the counter's (jampasird logs it at start), then give --trusted-keys FILE or add the key to export.trusted_keys"
                ], exitStatus: 2)
        }
        return Verdict(
            lines: lines + ["OK \([directory, store, checkpoint].compactMap { $0 }.joined(separator: " "))"],
            exitStatus: 0)
    }

    /// Whether `signer` (base64) is one of the office's counters: a problem when it is not, the
    /// unknown signer when nothing says which keys are.
    func judge(
        _ signer: String, of what: String, problems: inout [String],
        unknownSigner: inout (what: String, fingerprint: String)?
    ) throws {
        let fingerprint = TrustedSigners.fingerprint(of: signer) ?? "unreadable"
        guard let trusted = try trustedSigners() else {
            unknownSigner = unknownSigner ?? (what, fingerprint)
            return
        }
        if !trusted.trusts(signer) {
            problems.append(
                "\(what) is signed by a key that is not trusted (fingerprint \(fingerprint)): not one of the office's counters, or one missing from the trusted keys"
            )
        }
    }

    /// A chain head that something which left the box (an export, a checkpoint) sealed.
    public struct SealedHead: Sendable {
        public var head: AuditChain.Head
        /// "the export", "the checkpoint of 2026-12-01T04:40:00.000Z".
        public var source: String

        public init(head: AuditChain.Head, source: String) {
            self.head = head
            self.source = source
        }
    }

    /// The keys to trust: those of --public-key and --trusted-keys when given, else the
    /// configuration's export.trusted_keys; nil when there are none at all.
    func trustedSigners() throws -> TrustedSigners? {
        try officeKeys(publicKey: publicKey, trustedKeys: trustedKeys, config: config)
    }

    /// A line describing the chain (when it could be walked), and the problems found.
    public static func verifyChain(store path: String, mustContain sealed: [SealedHead]) -> (
        summary: String?, problems: [String]
    ) {
        do {
            let store = try SessionStore(path: path, access: .readOnly)
            let started = ContinuousClock.now
            let report = try store.verifyChain()
            let elapsed = ContinuousClock.now - started
            let summary =
                "chain of \(path): \(report.entries) entries, \(report.sessions) sessions, head \(report.head.map { "\($0.seq):\($0.hash.prefix(16))…" } ?? "none"), checked in \(elapsed.formatted(.units(allowed: [.milliseconds])))"
            let problems = try sealed.compactMap { try missingHeadProblem($0, in: store, last: report.head) }
            return (summary, problems)
        } catch let broken as AuditChain.Break {
            return (nil, ["\(path): \(broken.description)"])
        } catch {
            return (nil, ["\(path): \(error)"])
        }
    }

    /// Why `sealed` is no longer in the store's chain (nil while it is): the entry is gone
    /// (truncated) or holds another hash (rewritten).
    static func missingHeadProblem(_ sealed: SealedHead, in store: SessionStore, last: AuditChain.Head?) throws
        -> String?
    {
        let head = sealed.head
        guard let hash = try store.chainEntryHash(seq: head.seq) else {
            return
                "\(sealed.source) sealed audit entry \(head.seq), but the store's chain ends at entry \(last?.seq ?? 0): the chain was truncated after \(sealed.source) (its newest entries deleted, with the rows they named)"
        }
        guard hash == head.hash else {
            return
                "\(sealed.source) sealed audit entry \(head.seq) as \(head.hash.prefix(16))…, the store's entry \(head.seq) is \(hash.prefix(16))…: the chain up to entry \(head.seq) was rewritten after \(sealed.source)"
        }
        return nil
    }
}

/// The office's counter keys: `publicKey` and the file `trustedKeys` when given, else the
/// configuration's export.trusted_keys; nil when there are none at all.
func officeKeys(publicKey: String? = nil, trustedKeys: String?, config: String?) throws -> TrustedSigners? {
    do {
        if publicKey != nil || trustedKeys != nil {
            var keys = publicKey.map { [$0] } ?? []
            if let trustedKeys {
                guard let data = FileManager.default.contents(atPath: trustedKeys) else {
                    throw CLIFailure(
                        message: "cannot read the trusted keys file \(trustedKeys): check the path and its permissions",
                        exitStatus: 66)
                }
                keys += try TrustedSigners.keys(inFile: String(decoding: data, as: UTF8.self), path: trustedKeys)
            }
            return try TrustedSigners(keys)
        }
        let configured = try loadConfiguration(config).trustedExportSigners
        return configured.isEmpty ? nil : try TrustedSigners(configured)
    } catch let failure as TrustedSigners.Failure {
        throw CLIFailure(message: failure.description, exitStatus: 65)
    }
}
