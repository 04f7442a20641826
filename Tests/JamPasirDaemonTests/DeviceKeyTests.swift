import Foundation
import JamPasirExport
import JamPasirStore
import JamPasirTesting
import Testing
import JamPasirCore

/// Issue 13, finding 9: a device key missing beside a store with history is a lost identity.
/// Making a new one silently would let that history continue, signed by another key, without
/// anyone noticing: jampasird refuses, names the file and says how to recover.
@Suite("Device key: never silently re-created")
struct DeviceKeyTests {
    let directory: TemporaryDirectory
    let storePath: String
    let keyPath: String
    let configPath: String

    init() throws {
        directory = try TemporaryDirectory("device-key")
        storePath = directory.file("jampasir.sqlite")
        keyPath = directory.file("device.key")
        configPath = directory.file("jampasir.toml")
        try "[counter]\nid = \"loket-1\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let store = try SessionStore(path: storePath, access: .readWrite)
        try store.insertFinished(
            SessionRecord(
                counterID: "loket-1", bootID: "boot", startedAt: Date(timeIntervalSince1970: 1_796_000_000),
                startedMonotonicNs: 0, clockSynchronized: true, limitMs: 120_000,
                endedAt: Date(timeIntervalSince1970: 1_796_000_090), durationMs: 90_000, outcome: .inTime,
                freeService: false))
    }

    /// The real jampasird, simulated hardware, at most 20 s; standard error with the output.
    func startDaemon() throws -> (status: Int32, output: String) {
        let script = "timeout 20 \"$0\" --simulate --store \"$1\" --config \"$2\" </dev/null 2>&1"
        let result = try runTool("/bin/sh", ["-c", script, builtExecutable("jampasird"), storePath, configPath])
        return (result.status, String(decoding: result.output, as: UTF8.self))
    }

    @Test func jampasirdRefusesToStartWhenTheKeyOfAStoreWithHistoryIsMissing() throws {
        let result = try startDaemon()
        #expect(result.status == 74)
        #expect(
            result.output.contains(
                "device key \(keyPath) is missing, but the store already holds 1 session, 0 exports signed and chained under it: restore the key file from a backup"
            ))
        #expect(result.output.contains("start jampasird once with --new-device-key"))
        #expect(!FileManager.default.fileExists(atPath: keyPath))
    }

    @Test func aKeyIsCreatedForAStoreWithoutHistoryAndForANewIdentityOnlyWhenAskedFor() throws {
        let first = try DeviceKey.loadOrCreate(at: keyPath, history: nil, newIdentity: false)
        #expect(
            try DeviceKey.loadOrCreate(at: keyPath, history: "1 session, 0 exports", newIdentity: false).publicKeyBase64
                == first.publicKeyBase64)
        try FileManager.default.removeItem(atPath: keyPath)
        #expect(throws: DeviceKey.Failure.self) {
            try DeviceKey.loadOrCreate(at: keyPath, history: "1 session, 0 exports", newIdentity: false)
        }
        let second = try DeviceKey.loadOrCreate(at: keyPath, history: "1 session, 0 exports", newIdentity: true)
        #expect(second.publicKeyBase64 != first.publicKeyBase64)
    }
}
