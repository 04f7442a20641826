import Foundation
import JamPasirDaemon
import JamPasirHardware
import JamPasirReports
import JamPasirTesting
import Testing

@Suite("Daemon status file")
struct DaemonStatusTests {
    @Test func failingDisplayIsReportedWithItsReason() throws {
        let directory = try TemporaryDirectory("status")
        let path = directory.file("status.json")
        DaemonStatus(displayKind: "tm1637", display: "failing", problem: "TM1637 did not acknowledge byte 0x40").write(to: path)
        let status = try #require(DaemonStatus.read(from: path))
        #expect(status.display == "failing")
        #expect(status.displayProblem == "TM1637 did not acknowledge byte 0x40")
        #expect(status.isCurrent)  // written by this process
    }

    @Test func noRuntimeDirectoryMeansNoFileAndNoError() {
        DaemonStatus(displayKind: "tm1637", display: "ok").write(to: "/nonexistent-jampasir-dir/status.json")
        #expect(DaemonStatus.read(from: "/nonexistent-jampasir-dir/status.json") == nil)
    }
}
