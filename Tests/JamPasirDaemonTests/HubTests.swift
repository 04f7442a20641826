import Foundation
import Synchronization
import JamPasirCore
import JamPasirExport
import JamPasirHub
import JamPasirHubHTTP
import JamPasirQueue
import JamPasirStore
import JamPasirTesting
import Testing

/// `jampasir hub` through the front door: counters' stores, their exports made by the real
/// `jampasir export`, carried to the hub and imported by the real `jampasir hub import`.
@Suite("Office hub: imports, witness, report")
struct HubTests {
    let directory: TemporaryDirectory
    let hubConfig: String

    /// A counter: its store, device key and configuration, and `n` sessions recorded so far.
    final class Counter {
        let id: String
        let config: String
        let store: SessionStore
        let storePath: String
        let key: DeviceKey
        var recorded = 0

        init(_ id: String, in directory: TemporaryDirectory) throws {
            self.id = id
            storePath = directory.file("\(id)/jampasir.sqlite")
            store = try SessionStore(path: storePath, access: .readWrite)
            key = try DeviceKey.loadOrCreate(at: directory.file("\(id)/device.key"))
            config = directory.file("\(id).toml")
            try "[counter]\nid = \"\(id)\"\n[store]\npath = \"\(storePath)\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
        }

        /// Sessions of these durations (seconds; over 120 is overtime), an hour apart from
        /// 2026-12-01 09:00 in Pontianak (02:00 UTC).
        func record(_ durations: [Double]) throws {
            for duration in durations {
                let start = Date(timeIntervalSince1970: 1_796_090_400 + Double(recorded) * 3600)
                let id = try store.begin(
                    SessionRecord(
                        counterID: self.id, bootID: "boot", startedAt: start, startedMonotonicNs: 0,
                        clockSynchronized: true, limitMs: 120_000))
                let ms = Int64(duration * 1000)
                try store.finish(
                    id: id, endedAt: start.addingTimeInterval(duration), durationMs: ms,
                    outcome: ms > 120_000 ? .overtime : .inTime, freeService: ms > 120_000)
                recorded += 1
            }
        }

        /// `jampasir export --to root`, as the supervisor's stick receives it.
        func export(to root: String) throws {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let run = try runBuilt("jampasir", ["export", "--config", config, "--to", root])
            #expect(run.status == 0, "\(run.error)")
        }
    }

    init() throws {
        directory = try TemporaryDirectory("hub")
        hubConfig = directory.file("hub.toml")
    }

    func trust(_ counters: [Counter]) throws {
        try """
        [export]
        trusted_keys = [\(counters.map { "\"\($0.key.publicKeyBase64)\"" }.joined(separator: ", "))]
        [hub]
        store = "\(directory.file("hub/hub.sqlite"))"
        [report]
        time_zone = "Asia/Pontianak"
        """.write(toFile: hubConfig, atomically: true, encoding: .utf8)
    }

    /// loket-1, trusted by the hub, with these sessions exported onto a stick: the counter, the
    /// stick and its one export folder.
    func trustedExport(_ durations: [Double]) throws -> (Counter, stick: String, folder: String) {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record(durations)
        let stick = directory.file("stick")
        try one.export(to: stick)
        return (one, stick, try #require(HubImportFolders.only(under: stick)))
    }

    func hub(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try runBuilt("jampasir", ["hub"] + arguments + ["--config", hubConfig])
    }

    /// Two counters' exports on one stick: imported once each, the second import adds nothing,
    /// a late stick with an older export adds nothing and is no finding; the office report
    /// counts every session once.
    @Test func exportsAreImportedOnceAndTheOfficeReportCountsEachSessionOnce() throws {
        let one = try Counter("loket-1", in: directory)
        let two = try Counter("loket-2", in: directory)
        try trust([one, two])
        try one.record([60, 125])
        try one.export(to: directory.file("old-stick"))
        try one.record([90])
        try two.record([30, 119, 200])
        let stick = directory.file("stick")
        try one.export(to: stick)
        try two.export(to: stick)

        let first = try hub(["import", stick])
        #expect(first.status == 0, "\(first.error)")
        let lines = first.output.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("IMPORTED ") && $0.hasSuffix(": 3 new sessions, 0 known") })

        let again = try hub(["import", stick])
        #expect(again.status == 0)
        #expect(again.output.split(separator: "\n").allSatisfy { $0.hasPrefix("KNOWN ") })
        let late = try hub(["import", directory.file("old-stick")])
        #expect(late.status == 0, "\(late.output)")
        #expect(late.output.hasSuffix("(loket-1): 0 new sessions, 2 known\n"))

        let csv = try hub(["report", "--format", "csv"]).output
        #expect(csv.contains("\r\ncounter loket-1,2026-12-01,3,2,1,1,0,0,0,66.7,"))
        #expect(csv.contains("\r\ncounter loket-2,2026-12-01,3,2,1,1,0,0,0,66.7,"))
        #expect(csv.contains("\r\noffice,2026-12-01,6,4,2,2,0,0,0,66.7,"))
        let html = try hub(["report", "--format", "html"]).output
        #expect(html.contains("<html lang=\"id\">") && html.contains("Per loket") && html.contains("semua loket (2)"))
        let counters = try hub(["counters"]).output
        #expect(counters.contains("loket-1") && counters.contains("loket-2") && !counters.contains("FINDING "))
        // Each counter's version, from its newest export: which one an update stick missed.
        let rows = counters.split(separator: "\n").filter { $0.hasPrefix("loket-") }
        #expect(counters.hasPrefix("COUNTER") && counters.contains(" VERSION "))
        #expect(rows.count == 2 && rows.allSatisfy { $0.contains(" \(JamPasirVersion.string) ") }, "\(counters)")
    }

    /// A stick from the waiting room: an export edited after signing, and one signed by a key
    /// the office does not trust, are refused with the reason; nothing of them is kept.
    @Test func tamperedAndUnknownExportsAreRefused() throws {
        let one = try Counter("loket-1", in: directory)
        let stranger = try Counter("loket-9", in: directory)
        try trust([one])
        try one.record([60, 70])
        try stranger.record([80])
        let stick = directory.file("stick")
        try one.export(to: stick)
        try stranger.export(to: stick)
        let exportFolder = try #require(
            try FileManager.default.subpathsOfDirectory(atPath: stick).first { $0.hasSuffix("sessions.csv") && $0.contains("loket-1") })
        let csvPath = stick + "/" + exportFolder
        let csv = try String(contentsOfFile: csvPath, encoding: .utf8)
        let edited = csv.replacingOccurrences(of: "in_time", with: "overtime")
        #expect(edited != csv)
        try edited.write(toFile: csvPath, atomically: false, encoding: .utf8)

        let result = try hub(["import", stick])
        #expect(result.status == 1)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.contains { $0.hasPrefix("REFUSED ") && $0.contains("/loket-1/") && $0.contains("sessions.csv: ")
                && ($0.contains("SHA-256 does not match") || $0.contains("manifest says"))
        }, "\(lines)")
        let fingerprint = try #require(TrustedSigners.fingerprint(of: stranger.key.publicKeyBase64))
        #expect(lines.contains { $0.hasPrefix("REFUSED ") && $0.contains("(loket-9)") && $0.contains(fingerprint) && $0.contains("export.trusted_keys") })
        #expect(try hub(["counters"]).output == "no export imported yet: jampasir hub import DIR\n")
    }

    /// The hub as witness: a counter whose store was edited after an export the hub received
    /// (an overtime made in time, a session deleted, the chain truncated) is named at the next
    /// import, and the hub keeps what it received first.
    @Test func aRewrittenHistoryIsNamedAndTheFirstCopyKept() throws {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record([60, 150, 90, 100])
        try one.export(to: directory.file("monday"))
        #expect(try hub(["import", directory.file("monday")]).status == 0)

        try tamperWithStore(
            at: one.storePath,
            """
            PRAGMA ignore_check_constraints = ON;
            UPDATE session SET outcome = 'in_time', free_service = 0, duration_ms = 110000 WHERE id = 2;
            DELETE FROM session WHERE id = 4;
            DELETE FROM audit WHERE seq > 3;
            """)
        try one.export(to: directory.file("tuesday"))
        let result = try hub(["import", directory.file("tuesday")])
        #expect(result.status == 1)
        #expect(result.output.hasPrefix("HISTORY CHANGED "))
        #expect(result.output.contains("session 4 received before is missing from this export"))
        #expect(result.output.contains("session 2 differs from the copy received before"))
        #expect(result.output.contains("the counter's chain was truncated"))
        let counters = try hub(["counters"]).output
        #expect(counters.components(separatedBy: "FINDING ").count - 1 == 3)
        // The first copy stands: still one overtime, one free passport.
        let csv = try hub(["report", "--format", "csv"]).output
        #expect(csv.contains("\r\noffice,2026-12-01,4,3,1,1,0,0,0,75.0,"))
    }

    /// A chain rewritten under sessions that look the same (the entry an export sealed, changed
    /// in the counter's store; later entries chained on): the next export's chain no longer
    /// passes through the head the hub saw, and the hub says so though no session differs.
    @Test func aChainRewrittenUnderUnchangedSessionsIsNamed() throws {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record([60, 90])
        try one.export(to: directory.file("monday"))
        #expect(try hub(["import", directory.file("monday")]).status == 0)
        let folder = try #require(HubImportFolders.only(under: directory.file("monday")))
        let manifest = try JSONDecoder().decode(
            ExportManifest.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json")))
        let sealed = try #require(manifest.body.chain)
        let chain = try String(contentsOfFile: folder + "/chain.txt", encoding: .utf8)
        #expect(chain.hasSuffix("\(sealed.seq) \(sealed.hash)\n"))

        try tamperWithStore(
            at: one.storePath, "UPDATE audit SET hash = '\(String(repeating: "0", count: 64))' WHERE seq = \(sealed.seq);")
        try one.record([100])
        try one.export(to: directory.file("tuesday"))
        let result = try hub(["import", directory.file("tuesday")])
        #expect(result.status == 1)
        #expect(result.output.contains("HISTORY CHANGED "))
        #expect(result.output.contains("audit entry \(sealed.seq), sealed as \(sealed.hash.prefix(16))… by the export of"))
        #expect(result.output.contains("is 0000000000000000… here: the counter's chain was rewritten"))
        #expect(!result.output.contains("differs") && !result.output.contains("missing"), "\(result.output)")
    }

    /// An export signed by the counter's own key (a forger with the key, or a bug) whose chain
    /// list holds numbers at the edge of Int64: refused with the line named, the hub unharmed.
    @Test func chainNumbersAtTheEdgeAreRefusedNotATrap() throws {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record([60])
        let hash = String(repeating: "a", count: 64)
        let max = Int64.max
        for (lines, head) in [
            ("\(max) \(hash)\n\(max) \(hash)\n", AuditChain.Head(seq: max, hash: hash)),
            ("\(max) \(hash)\n", AuditChain.Head(seq: .min, hash: hash)),
            ("-1 \(hash)\n", AuditChain.Head(seq: -1, hash: hash)),
        ] {
            let stick = directory.file("stick-\(UUID().uuidString)")
            try one.export(to: stick)
            let folder = try #require(HubImportFolders.only(under: stick))
            try lines.write(toFile: folder + "/chain.txt", atomically: true, encoding: .utf8)
            let path = folder + "/manifest.json"
            var manifest = try JSONDecoder().decode(ExportManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            manifest.body.chain = head
            let sum = String(decoding: try runTool("/usr/bin/sha256sum", [folder + "/chain.txt"]).output, as: UTF8.self)
            manifest.body.files = manifest.body.files.map { file in
                guard file.name == "chain.txt" else { return file }
                var forged = file
                forged.sha256 = String(sum.prefix(64))
                forged.size = lines.utf8.count
                return forged
            }
            manifest.signature = try one.key.sign(manifest.body.canonicalData()).base64EncodedString()
            try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: path))
            let result = try hub(["import", stick])
            #expect(result.status == 1, "\(result.output)\(result.error)")
            #expect(result.output.hasPrefix("REFUSED ") && result.output.contains("chain.txt"), "\(result.output)")
        }
    }

    /// A stick from the waiting room with a FIFO or a link to /dev/zero in an export folder is
    /// refused at once (the hub neither blocks nor reads without end); the same export with its
    /// manifest re-spelt (whitespace) is the same export, KNOWN; the hub keeps what it took.
    @Test func aHostileStickNeitherHangsTheHubNorPassesAsNew() throws {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record([60])
        let stick = directory.file("stick")
        try one.export(to: stick)
        let folder = try #require(HubImportFolders.only(under: stick))
        #expect(try hub(["import", stick]).status == 0)
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory.file("hub/bundles"))
        #expect(kept.count == 1 && kept[0].count == 64, "the export kept as evidence: \(kept)")

        let manifest = folder + "/manifest.json"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: ",", with: ",\n  ").write(toFile: manifest, atomically: true, encoding: .utf8)
        let respelt = try hub(["import", stick])
        #expect(respelt.status == 0 && respelt.output.hasPrefix("KNOWN "), "\(respelt.output)")

        #expect(mkfifo(folder + "/extra", 0o644) == 0)
        let fifo = try hub(["import", stick])
        #expect(fifo.status == 1 && fifo.output.contains("extra is not a plain file"), "\(fifo.output)")
        try FileManager.default.removeItem(atPath: folder + "/extra")
        try FileManager.default.removeItem(atPath: folder + "/sessions.csv")
        try FileManager.default.createSymbolicLink(atPath: folder + "/sessions.csv", withDestinationPath: "/dev/zero")
        let link = try hub(["import", stick])
        #expect(link.status == 1 && link.output.contains("sessions.csv is a symbolic link"), "\(link.output)")
    }

    /// Trust before reading: an export signed by a key the office does not trust is refused on
    /// its manifest alone, whatever its files are (here a FIFO and a sparse gigabyte, which a
    /// reader would block on or fill memory with); nothing of it reaches the hub's folder.
    @Test func anUntrustedExportIsRefusedBeforeItsFilesAreOpened() throws {
        let one = try Counter("loket-1", in: directory)
        let stranger = try Counter("loket-9", in: directory)
        try trust([one])
        try stranger.record([80])
        let stick = directory.file("stick")
        try stranger.export(to: stick)
        let folder = try #require(HubImportFolders.only(under: stick))
        try FileManager.default.removeItem(atPath: folder + "/sessions.csv")
        #expect(mkfifo(folder + "/sessions.csv", 0o644) == 0)
        #expect(truncate(folder + "/sessions.jsonl", 1 << 30) == 0)

        let result = try hub(["import", stick])
        #expect(result.status == 1)
        let fingerprint = try #require(TrustedSigners.fingerprint(of: stranger.key.publicKeyBase64))
        #expect(result.output.contains("REFUSED ") && result.output.contains(fingerprint), "\(result.output)")
        #expect(!result.output.contains("sessions."), "nothing but the manifest was looked at: \(result.output)")
        let bundles = (try? FileManager.default.contentsOfDirectory(atPath: directory.file("hub/bundles"))) ?? []
        #expect(bundles.isEmpty, "\(bundles)")
    }

    /// A counter's own key signing rows that are not sessions (a compromised counter): a
    /// megabyte of newlines, a record longer than any export's. `jampasir verify` and the hub
    /// read them as a stream and name what is wrong; the hub keeps nothing. (What the stream
    /// costs in memory at eight megabytes: `make bench-hostile`.)
    @Test func rowsThatAreNotSessionsAreNamedAsTheyStreamBy() throws {
        let (one, stick, folder) = try trustedExport([60, 70])
        let csv = try String(contentsOfFile: folder + "/sessions.csv", encoding: .utf8)

        try ExportForgery.replace("sessions.csv", in: folder, with: Data(repeating: 0x0A, count: 1 << 20), signedBy: one.key)
        let bomb = try runBuilt("jampasir", ["verify", folder, "--config", hubConfig])
        #expect(bomb.status == 1)
        #expect(bomb.output.contains("sessions.csv has 1048575 sessions, manifest says 2"), "\(bomb.output)")
        let refused = try hub(["import", stick])
        #expect(refused.status == 1 && refused.output.contains("sessions.csv has 1048575 sessions"), "\(refused.output)")

        let long = csv + String(repeating: "x", count: 70_000) + "\r\n"
        try ExportForgery.replace("sessions.csv", in: folder, with: Data(long.utf8), signedBy: one.key)
        let tooLong = try runBuilt("jampasir", ["verify", folder, "--config", hubConfig])
        #expect(tooLong.output.contains("record 4 is longer than 65536 bytes"), "\(tooLong.output)")

        try ExportForgery.replace("sessions.csv", in: folder, with: Data(csv.utf8), signedBy: one.key)
        let again = try runBuilt("jampasir", ["verify", folder, "--config", hubConfig])
        #expect(again.status == 0, "the same rows, signed again, verify: \(again.output)")
        #expect(try hub(["counters"]).output == "no export imported yet: jampasir hub import DIR\n")
        #expect(try hub(["import", stick]).status == 0)
    }

    /// What a crash can leave in the hub's bundles folder is never taken for evidence: a copy
    /// of a bundle that the store never took (here half removed) is replaced by the next
    /// import's own verified copy. A known bundle's files are still checked against its
    /// manifest: an edited copy of an export the hub has is refused, not `KNOWN`.
    @Test func leftoversAreNeverTakenForEvidenceAndKnownBundlesAreStillChecked() throws {
        let (_, stick, folder) = try trustedExport([60, 70])
        #expect(try hub(["import", stick]).status == 0)
        let bundles = directory.file("hub/bundles")
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: bundles).first)

        // The same bundle into a new hub store whose folder holds a half-removed copy of it.
        try FileManager.default.removeItem(atPath: directory.file("hub"))
        try FileManager.default.createDirectory(atPath: bundles + "/" + id, withIntermediateDirectories: true)
        try "half".write(toFile: bundles + "/" + id + "/sessions.csv", atomically: false, encoding: .utf8)
        #expect(try hub(["import", stick]).output.hasPrefix("IMPORTED "))
        for name in ["sessions.csv", "manifest.json"] {
            #expect(FileManager.default.contentsEqual(atPath: bundles + "/" + id + "/" + name, andPath: folder + "/" + name), "\(name)")
        }

        var csv = try Data(contentsOf: URL(fileURLWithPath: folder + "/sessions.csv"))
        csv[csv.count - 3] ^= 1  // one bit of the last row, its size unchanged
        try csv.write(to: URL(fileURLWithPath: folder + "/sessions.csv"))
        let edited = try hub(["import", stick])
        #expect(edited.status == 1 && edited.output.contains("sessions.csv: SHA-256 does not match"), "\(edited.output)")
    }

    /// A session finished at the hub that a later export shows running again, and a counter
    /// whose exports change its name, are findings; the hub keeps the name it first had.
    @Test func aReopenedSessionAndARenamedCounterAreFindings() throws {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record([60, 70, 80])
        try one.export(to: directory.file("monday"))
        #expect(try hub(["import", directory.file("monday")]).status == 0)
        try tamperWithStore(
            at: one.storePath,
            """
            PRAGMA ignore_check_constraints = ON;
            UPDATE session SET outcome = NULL, ended_at = NULL, duration_ms = NULL, free_service = NULL WHERE id = 3;
            """)
        try "[counter]\nid = \"loket-7\"\n[store]\npath = \"\(one.storePath)\"\n".write(
            toFile: one.config, atomically: true, encoding: .utf8)
        try one.export(to: directory.file("tuesday"))
        let result = try hub(["import", directory.file("tuesday")])
        #expect(result.status == 1)
        #expect(result.output.contains("session 3 differs from the copy received before"), "\(result.output)")
        #expect(result.output.contains("this export names the counter loket-7, its earlier exports loket-1"))
        #expect(try hub(["report", "--format", "csv"]).output.contains("\r\ncounter loket-1,2026-12-01,3,"))
    }

    /// The hub's server on a loopback port in this process, with the hub store `jampasir hub`
    /// uses; what it logs is kept. (`jampasir hub serve` as typed, under its unit, is tested by
    /// `make test-prometheus` and the package's checks: a server child of the test runner would
    /// inherit its blocked signals and outlive a failed test.)
    final class Server: @unchecked Sendable {
        let address: String
        private final class Lines: Sendable { let all = Mutex<[String]>([]) }
        private let lines = Lines()
        private let http: HubHTTPServer
        private let done = DispatchSemaphore(value: 0)

        init(
            store: String, trusting keys: [String], timeout: Int64 = 10, on requested: String = "127.0.0.1:0",
            queue: ((HubStore) throws -> HubQueue)? = nil, printer: (any TicketPrinter & Sendable)? = nil
        ) throws {
            let hubStore = try HubStore(path: store)
            let lines = lines
            var server = HubServer(store: hubStore, trusted: try TrustedSigners(keys)) { line in
                lines.all.withLock { $0.append(line) }
            }
            server.queue = try queue?(hubStore)
            server.printer = printer
            var limits = HubHTTPServer.Limits()
            (limits.headSeconds, limits.answerSeconds) = (timeout, timeout)
            let http = HubHTTPServer(hub: server, limits: limits)
            self.http = http
            let bound = Mutex<Result<String, any Error>?>(nil)
            let (listening, done) = (DispatchSemaphore(value: 0), done)
            Task(executorPreference: HubHTTPServer.executor) {
                do {
                    try await http.run(on: requested) { address in
                        bound.withLock { $0 = .success(address) }
                        listening.signal()
                    }
                } catch {
                    bound.withLock { $0 = $0 ?? .failure(error) }
                    listening.signal()
                }
                done.signal()
            }
            listening.wait()
            address = try bound.withLock { $0! }.get()
        }

        var log: [String] { lines.all.withLock { $0 } }

        /// Raw bytes to the hub, as any program on the LAN could send them, and its answer.
        /// `thenWait`: seconds to stay silent before reading (a client that stops mid-request).
        func raw(_ request: String, thenWait seconds: Double = 0) throws -> String {
            let script = """
                import socket, sys, time
                host, port = sys.argv[1].rsplit(":", 1)
                s = socket.create_connection((host, int(port)), timeout=30)
                s.sendall(sys.argv[2].encode()); time.sleep(float(sys.argv[3]))
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk: break
                    data += chunk
                print(data.decode(errors="replace"))
                """
            let run = try runTool("/usr/bin/python3", ["-c", script, address, request, "\(seconds)"])
            return String(decoding: run.output, as: UTF8.self)
        }

        /// Two clients trickling a head and two a bundle's body, a byte every 0.2 s; while they
        /// are held, five requests of others. What the slow ones got (their status, or "cut"
        /// for a bare close) and when the last of them ended; the others' answers and the time
        /// they took together.
        func slowClients() throws -> (cut: [String], cutAfter: Double, others: [String], othersTook: Double) {
            let script = """
                import socket, sys, time, threading
                host, port = sys.argv[1].rsplit(":", 1)
                def connect(): return socket.create_connection((host, int(port)), timeout=30)
                def answer(s):
                    data = b""
                    try:
                        while True:
                            chunk = s.recv(65536)
                            if not chunk: break
                            data += chunk
                    except OSError: pass
                    return data.decode(errors="replace")
                started = time.time(); cut = []; ended = []
                def slow(opening, trickle):
                    s = connect(); s.sendall(opening)
                    try:
                        for _ in range(100):
                            s.sendall(trickle); time.sleep(0.2)
                    except OSError: pass
                    got = answer(s)
                    cut.append(got[9:12] if got.startswith("HTTP/1.1 ") else "cut"); ended.append(time.time() - started)
                threads = [threading.Thread(target=slow, args=a) for a in [(b"GET /v1/report HTTP/1.1\\r\\nX-", b"a")] * 2
                    + [(b"POST /v1/bundles HTTP/1.1\\r\\nContent-Length: 100\\r\\n\\r\\n", b"b")] * 2]
                for t in threads: t.start()
                time.sleep(0.3); before = time.time(); others = []
                for _ in range(5):
                    s = connect(); s.sendall(b"GET /nothing HTTP/1.1\\r\\n\\r\\n"); others.append(answer(s).split("\\r\\n")[0])
                took = time.time() - before
                for t in threads: t.join()
                print(" ".join(sorted(cut)), max(ended), took, "|".join(others))
                """
            let run = try runTool("/usr/bin/python3", ["-c", script, address])
            let fields = String(decoding: run.output, as: UTF8.self).split(separator: " ", maxSplits: 6)
            guard fields.count == 7, let after = Double(fields[4]), let took = Double(fields[5]) else {
                throw Unexpected(description: "the slow clients said \(String(decoding: run.output, as: UTF8.self))")
            }
            return (fields[0..<4].map(String.init), after, fields[6].split(separator: "|").map(String.init), took)
        }

        struct Unexpected: Error, CustomStringConvertible { var description: String }

        deinit {
            let http = http
            Task(executorPreference: HubHTTPServer.executor) { await http.stop() }
            done.wait()
        }
    }

    /// A loopback address where nothing listens.
    static func closedAddress() throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        return "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
    }

    func push(_ counter: Counter, to address: String, _ extra: [String] = []) throws -> (
        status: Int32, output: String, error: String
    ) {
        try runBuilt("jampasir", ["push", "--config", counter.config, "--hub", address] + extra)
    }

    /// Over the LAN: a counter's push is imported; nothing is sent again until something new is
    /// recorded; then only the new session is new; a hub that is down is a clear error.
    @Test func pushesOverTheLANAreImportedAndRepeatedOnlyWhenSomethingIsNew() throws {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record([60, 130])
        let server = try Server(store: directory.file("hub/hub.sqlite"), trusting: [one.key.publicKeyBase64])
        let first = try push(one, to: server.address)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output == "pushed to \(server.address): imported: loket-1: 2 new sessions, 0 known\n")
        let again = try push(one, to: server.address)
        #expect(again.status == 0 && again.output == "nothing new since the last push to \(server.address)\n")
        try one.record([90])
        let third = try push(one, to: server.address)
        #expect(third.output.hasSuffix("imported: loket-1: 1 new sessions, 2 known\n"), "\(third.output)")
        #expect(try hub(["report", "--format", "csv"]).output.contains("\r\noffice,2026-12-01,3,2,1,1,"))
        #expect(server.log.first?.hasPrefix("127.0.0.1: 200 imported: loket-1: 2 new sessions") == true, "\(server.log)")

        let down = try push(one, to: try Self.closedAddress(), ["--attempts", "1", "--force"])
        #expect(down.status == 69)
        #expect(down.error.contains("cannot reach the hub 127.0.0.1:") && down.error.contains("sticks still work"))
        let nowhere = try runBuilt("jampasir", ["push", "--config", one.config])
        #expect(nowhere.status == 78 && nowhere.error.contains("push.hub"))
    }

    /// Anything else on the LAN gets a clear no and the hub carries on: another path, another
    /// method, no length, a length too large, a body that is no bundle, a client gone silent.
    @Test func theHubForwardsEachExportToTheHubAboveOnce() throws {
        let one = try Counter("loket-1", in: directory)
        let two = try Counter("loket-2", in: directory)
        try trust([one, two])
        try one.record([60, 130])
        try two.record([90])
        try one.export(to: directory.file("stick"))
        try two.export(to: directory.file("stick"))
        #expect(try hub(["import", directory.file("stick")]).status == 0)
        // The hub above trusts only loket-1 at first.
        let region = directory.file("region/hub.sqlite")
        var above = try Server(store: region, trusting: [one.key.publicKeyBase64])
        let address = above.address
        let first = try hub(["forward", "--to", address, "--attempts", "1"])
        #expect(first.status == 65, "\(first.output)\(first.error)")
        #expect(first.output.contains("(loket-1): imported: loket-1: 2 new sessions, 0 known"))
        #expect(first.output.contains("REFUSED ") && first.output.contains("(loket-2): refused: loket-2: signed by a key"))
        #expect(first.error.contains("1 of 2 exports not taken by \(address)"))

        // Once the hub above trusts loket-2, only its export goes: loket-1's is not sent twice.
        above = try Server(store: directory.file("elsewhere/hub.sqlite"), trusting: [])  // the first one closes
        above = try Server(store: region, trusting: [one.key.publicKeyBase64, two.key.publicKeyBase64], on: address)
        let trusted = above
        let second = try hub(["forward", "--to", trusted.address])
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.split(separator: "\n").count == 1)
        #expect(second.output.contains("FORWARDED ") && second.output.contains("(loket-2): imported: loket-2: 1 new sessions"))
        #expect(try hub(["forward", "--to", trusted.address]).output == "nothing to forward to \(trusted.address)\n")

        // The hub above's office figures are this hub's.
        let office = try hub(["report", "--format", "csv"]).output
        let aboveReport = try runBuilt("jampasir", ["hub", "report", "--hub-store", region, "--format", "csv", "--config", hubConfig])
        #expect(aboveReport.output == office)
        #expect(office.contains("\r\noffice,2026-12-01,3,2,1,1,"))

        let nowhere = try hub(["forward", "--to", try Self.closedAddress(), "--attempts", "1"])
        #expect(nowhere.status == 69 && nowhere.error.contains("0 of 2 forwarded, the rest go next time"))
        let unset = try hub(["forward"])
        #expect(unset.status == 78 && unset.error.contains("push.hub"))
    }

    @Test func hostileRequestsGetAClearNoAndTheHubCarriesOn() throws {
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        try one.record([60])
        let server = try Server(store: directory.file("hub/hub.sqlite"), trusting: [one.key.publicKeyBase64], timeout: 1)
        #expect(try server.raw("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        #expect(try server.raw("GET /v1/bundles HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        #expect(try server.raw("POST /v1/bundles HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 411 "))
        #expect(try server.raw("POST /v1/bundles HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n").hasPrefix("HTTP/1.1 413 "))
        let garbage = try server.raw("POST /v1/bundles HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        #expect(garbage.hasPrefix("HTTP/1.1 400 ") && garbage.contains("JAMPASIR-BUNDLE 1"))
        // A name that reaches out, a name no export has, one twice, a length past the body.
        for body in [
            "JAMPASIR-BUNDLE 1\n../x 2\nhi\n", "JAMPASIR-BUNDLE 1\n.hidden 2\nhi\n",
            "JAMPASIR-BUNDLE 1\nchain.txt 2\nhi\nchain.txt 2\nhi\n", "JAMPASIR-BUNDLE 1\nchain.txt 99\nhi\n",
            "JAMPASIR-BUNDLE 1\nchain.txt 9223372036854775807\nhi\n",
        ] {
            let answer = try server.raw("POST /v1/bundles HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(body): \(answer)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("hub/x")))
        #expect(!FileManager.default.fileExists(atPath: directory.file("hub/bundles/x")))
        // A head or a body that trickles is cut at its time (1 s here), whatever its pace, and
        // nobody else waits for it meanwhile. Bundles come one at a time: the second is told at
        // once to come back (503; jampasir push does).
        let slow = try server.slowClients()
        #expect(slow.cut == ["408", "408", "408", "503"], "\(slow)")
        #expect(slow.cutAfter >= 0.9 && slow.cutAfter < 3, "\(slow)")
        #expect(slow.others.allSatisfy { $0.hasPrefix("HTTP/1.1 404 ") } && slow.othersTook < 0.5, "\(slow)")
        // One request per connection: what is sent behind it is neither read nor answered.
        let pipelined = try server.raw("GET /nothing HTTP/1.1\r\n\r\nGET /v1/report HTTP/1.1\r\n\r\n")
        #expect(pipelined.hasPrefix("HTTP/1.1 404 ") && pipelined.components(separatedBy: "HTTP/1.1 ").count == 2, "\(pipelined)")
        let after = try push(one, to: server.address)
        #expect(after.status == 0, "the hub still takes bundles: \(after.error)")
        // Its history, for the wallboard (another origin): the office's days and the findings.
        let history = try server.raw("GET /v1/report?days=366 HTTP/1.1\r\nHost: hub.local:8790\r\nOrigin: http://hub.local:9090\r\n\r\n")
        #expect(history.hasPrefix("HTTP/1.1 421 "), "not this machine's name: \(history)")
        let local = try server.raw("GET /v1/report?days=366 HTTP/1.1\r\nHost: localhost:8790\r\nOrigin: http://localhost:9090\r\n\r\n")
        #expect(local.hasPrefix("HTTP/1.1 200 ") && local.contains("\r\nAccess-Control-Allow-Origin: http://localhost:9090\r\n"))
        let json = try #require(local.components(separatedBy: "\r\n\r\n").last)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let days = try #require(report["office"] as? [[String: Any]])
        #expect(days.count == 1 && days[0]["period"] as? String == "2026-12-01" && days[0]["sessions"] as? Int == 1)
        #expect(report["findings"] as? Int == 0)
        // The last day alone reads none of the older sessions; a kept answer follows the next import.
        #expect(try server.raw("GET /v1/report?days=1 HTTP/1.1\r\n\r\n").contains("\"office\":[]"))
        try one.record([90])
        #expect(try push(one, to: server.address).status == 0)
        let again = try server.raw("GET /v1/report?days=366 HTTP/1.1\r\n\r\n")
        #expect(again.contains("\"sessions\":2"), "\(again)")
        #expect(try server.raw("GET /v1/report?days=0 HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        #expect(try server.raw("POST /v1/report HTTP/1.1\r\nContent-Length: 0\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        #expect(try server.raw("GET /v1/nothing HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
    }

    /// Clear errors for an empty hub configuration and a folder without exports.
    @Test func missingTrustAndMissingExportsAreClearErrors() throws {
        try "[hub]\nstore = \"\(directory.file("hub/hub.sqlite"))\"\n".write(
            toFile: hubConfig, atomically: true, encoding: .utf8)
        let untrusting = try hub(["import", directory.path])
        #expect(untrusting.status == 78)
        #expect(untrusting.error.contains("export.trusted_keys"))
        let one = try Counter("loket-1", in: directory)
        try trust([one])
        let empty = directory.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let nothing = try hub(["import", empty])
        #expect(nothing.status == 66)
        #expect(nothing.error.contains("no export found in \(empty)"))
    }
}

/// An export made to say something else and signed again, as only the holder of its key can:
/// `name` replaced by `contents`, the manifest's entry made to fit, `change` applied to the rest.
enum ExportForgery {
    static func replace(
        _ name: String, in folder: String, with contents: Data, signedBy key: DeviceKey,
        change: (inout ExportManifest.Body) -> Void = { _ in }
    ) throws {
        try contents.write(to: URL(fileURLWithPath: folder + "/" + name))
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
        var body = try JSONDecoder().decode(ExportManifest.self, from: data).body
        let index = try #require(body.files.firstIndex { $0.name == name })
        body.files[index].sha256 = String(
            decoding: try runTool("/usr/bin/sha256sum", [folder + "/" + name]).output.prefix(64), as: UTF8.self)
        body.files[index].size = contents.count
        change(&body)
        let manifest = ExportManifest(body: body, signature: try key.sign(try body.canonicalData()).base64EncodedString())
        try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: folder + "/manifest.json"))
    }
}

/// The one export folder under a root (a stick with one export on it).
enum HubImportFolders {
    static func only(under root: String) -> String? {
        let found = (FileManager.default.subpaths(atPath: root) ?? []).filter { $0.hasSuffix("/manifest.json") }
        return found.count == 1 ? root + "/" + (found[0] as NSString).deletingLastPathComponent : nil
    }
}
