import Foundation
import JamPasirTesting
import Testing

@testable import JamPasirExport

@Suite("Stick authorisation")
struct ExportAuthorizationTests {
    @Test func keyFileMatchesOnlyItsFingerprint() throws {
        let key = ExportAuthorization.newKey()
        #expect(key.count == 43)
        let fingerprint = ExportAuthorization.fingerprint(of: Data((key + "\n").utf8))
        #expect(ExportAuthorization.isValidFingerprint(fingerprint))
        #expect(ExportAuthorization.isAuthorized(Data(key.utf8), allowed: [fingerprint]))
        #expect(
            ExportAuthorization.isAuthorized(
                Data("  \(key)\r\n".utf8), allowed: ["sha256:" + String(repeating: "0", count: 64), fingerprint]))
        #expect(!ExportAuthorization.isAuthorized(Data((key + "x").utf8), allowed: [fingerprint]))
        #expect(!ExportAuthorization.isAuthorized(Data(key.utf8), allowed: []))
    }

    @Test func keyFileIsReadWithoutFollowingLinks() throws {
        let stick = try TemporaryDirectory("stick")
        #expect(throws: ExportAuthorization.Failure(description: "no JAMPASIR/export.key on the stick")) {
            try ExportAuthorization.readKeyFile(mountPoint: stick.path)
        }
        try FileManager.default.createDirectory(atPath: stick.file("JAMPASIR"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: stick.file("JAMPASIR/export.key"), withDestinationPath: "/etc/shadow")
        #expect(throws: ExportAuthorization.Failure(description: "JAMPASIR/export.key is a symbolic link")) {
            try ExportAuthorization.readKeyFile(mountPoint: stick.path)
        }
        try FileManager.default.removeItem(atPath: stick.file("JAMPASIR/export.key"))
        #expect(FileManager.default.createFile(atPath: stick.file("JAMPASIR/export.key"), contents: Data("abc\n".utf8)))
        #expect(try ExportAuthorization.readKeyFile(mountPoint: stick.path) == Data("abc\n".utf8))
        #expect(FileManager.default.createFile(atPath: stick.file("JAMPASIR/export.key"), contents: Data(count: 5000)))
        #expect(throws: ExportAuthorization.Failure(description: "JAMPASIR/export.key is too large to be a key")) {
            try ExportAuthorization.readKeyFile(mountPoint: stick.path)
        }
    }

    @Test func keyFileOfExactlyOneKiBIsReadAndOneByteMoreIsRefused() throws {
        let stick = try TemporaryDirectory("stick")
        try FileManager.default.createDirectory(atPath: stick.file("JAMPASIR"), withIntermediateDirectories: true)
        let key = Data(repeating: UInt8(ascii: "k"), count: 1024)
        #expect(FileManager.default.createFile(atPath: stick.file("JAMPASIR/export.key"), contents: key))
        #expect(try ExportAuthorization.readKeyFile(mountPoint: stick.path) == key)
        #expect(FileManager.default.createFile(atPath: stick.file("JAMPASIR/export.key"), contents: key + [0x0A]))
        #expect(throws: ExportAuthorization.Failure(description: "JAMPASIR/export.key is too large to be a key")) {
            try ExportAuthorization.readKeyFile(mountPoint: stick.path)
        }
    }

    @Test func keyFileSizeComesFromReadingItNeverFromStSize() throws {
        // Files in /proc say st_size 0 whatever they hold, as a crafted filesystem can say any size
        // (a negative one used to trap the daemon): only what read() returns counts.
        let proc = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(proc >= 0)
        defer { close(proc) }
        var info = stat()
        #expect(fstatat(proc, "comm", &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_size == 0)
        let name = try ExportAuthorization.readKeyFile(in: proc, named: "comm")
        #expect(!name.isEmpty && name.last == UInt8(ascii: "\n"))
        #expect(throws: ExportAuthorization.Failure(description: "JAMPASIR/maps is too large to be a key")) {
            try ExportAuthorization.readKeyFile(in: proc, named: "maps")
        }
    }

    @Test func symlinkedJAMPASIRDirectoryIsRefused() throws {
        let stick = try TemporaryDirectory("stick")
        try FileManager.default.createSymbolicLink(atPath: stick.file("JAMPASIR"), withDestinationPath: "/etc")
        #expect(throws: ExportAuthorization.Failure(description: "JAMPASIR on the stick is not a plain directory")) {
            try ExportAuthorization.readKeyFile(mountPoint: stick.path)
        }
    }
}
