import Foundation
import JamPasirExport
import JamPasirTesting
import Testing
import JamPasirStore

/// Faults on real filesystems: a tiny tmpfs that fills up, and one mounted read-only. Mounting
/// needs root, so these run where the tests run as root (CI does) and are skipped elsewhere.
@Suite("Export onto a full or read-only filesystem", .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
struct FilesystemFaultTests {
    /// Mounts a tmpfs of `size` at a fresh directory for the duration of `body`.
    func withTmpfs(size: String, readOnly: Bool = false, _ body: (String) throws -> Void) throws {
        let directory = try TemporaryDirectory("tmpfs")
        let mountPoint = directory.file("stick")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try run("/bin/mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint)
        defer { try? run("/bin/umount", mountPoint) }
        if readOnly { try run("/bin/mount", "-o", "remount,ro", mountPoint) }
        try body(mountPoint)
    }

    func run(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(arguments.joined(separator: " "))")
    }

    /// Everything on the stick, so a test can say no half file was left.
    func files(under root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func fullStickFailsAsNoSpaceAndLeavesNoFile() throws {
        let f = try ExportFixture(sessions: 5_000)  // ~0.5 MB of CSV: does not fit in 64 KiB
        let before = try f.store.count()
        try withTmpfs(size: "64k") { stick in
            do {
                _ = try f.writer.write(into: stick, at: Date())
                Issue.record("an export that cannot fit claimed success")
            } catch let error as ExportWriter.Failure {
                #expect(error.kind == .noSpace)
            }
            // Only the (empty) directories remain: no file that could pass for an export.
            #expect(
                files(under: stick).allSatisfy {
                    !$0.hasSuffix(".csv") && !$0.hasSuffix(".json") && !$0.contains(".tmp-")
                })
        }
        #expect(try f.store.count() == before)
    }

    @Test func readOnlyStickFailsAsReadOnly() throws {
        let f = try ExportFixture()
        try withTmpfs(size: "1m", readOnly: true) { stick in
            do {
                _ = try f.writer.write(into: stick, at: Date())
                Issue.record("wrote to a read-only filesystem")
            } catch let error as ExportWriter.Failure {
                #expect(error.kind == .readOnly)
            }
            #expect(files(under: stick).isEmpty)
        }
    }

    @Test func theSameStickWorksOnceThereIsRoom() throws {
        let f = try ExportFixture(sessions: 200)
        try withTmpfs(size: "1m") { stick in
            let result = try f.writer.write(into: stick, at: Date())
            #expect(ExportVerifier.verify(directory: result.directory).isEmpty)
        }
    }
}
