import Foundation
import JamPasirStore
import JamPasirDaemonTesting
import JamPasirTesting
import Testing

/// Short form in `make test` (2,000 sessions); the long form is `make soak` (100,000).
@Suite("Soak: sessions through the full wiring leave memory and descriptors flat")
struct SoakTests {
    @Test func memoryAndFileDescriptorsStayFlat() async throws {
        let sessions = Int(ProcessInfo.processInfo.environment["SOAK_SESSIONS"] ?? "") ?? 2_000
        let directory = try TemporaryDirectory("soak")
        let storePath = directory.file("jampasir.sqlite")
        let report = try await Soak.run(sessions: sessions, storePath: storePath, sampleEvery: max(500, sessions / 20))
        let first = try #require(report.samples.first)
        let last = try #require(report.samples.last)
        print("soak: \(sessions) sessions in \(report.elapsed); first sample \(first), last \(last)")
        print("soak: store \(report.storeBytes / 1024) KiB, \(report.storeBytes / Int64(sessions)) bytes per session")
        #expect(last.storeFiles == first.storeFiles)
        if ProcessInfo.processInfo.environment["SOAK_SESSIONS"] != nil {
            // `make soak` runs this test alone: the whole process must stay flat. In `make test`
            // other suites run alongside and open and allocate as they please.
            #expect(last.openFiles == first.openFiles)
            #expect(last.residentKiB - first.residentKiB < 16 * 1024, "RSS grew from \(first) to \(last)")
        }
        let store = try SessionStore(path: storePath, access: .readOnly)
        #expect(try store.count() == sessions)
        #expect(try store.verifyChain().sessions == sessions)
    }
}
