import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirTesting
import Testing

/// Issue 13, finding 9: `jampasir verify DIR` accepts exactly what the counter writes: a
/// manifest without duplicate or unknown keys, listing plain file names, in a folder holding
/// nothing else, and no symbolic links. Each crafted folder here is otherwise intact and signed
/// by the counter's own key, so only these rules can refuse it.
@Suite("verify DIR: the manifest and the folder are exactly what the counter writes")
struct ManifestStrictnessTests {
    let fixture: ExportFixture
    let folder: String

    init() throws {
        fixture = try ExportFixture(sessions: 3)
        folder = try fixture.export().directory
    }

    var manifestPath: String { folder + "/manifest.json" }

    func verify() throws -> (status: Int32, output: String) {
        let result = try runBuilt("jampasir", ["verify", folder, "--public-key", fixture.key.publicKeyBase64])
        return (result.status, result.output)
    }

    /// Edits the manifest's text (after its opening brace, or as `edit` says).
    func editManifest(_ edit: (String) -> String) throws {
        let text = try String(contentsOfFile: manifestPath, encoding: .utf8)
        try edit(text).write(toFile: manifestPath, atomically: true, encoding: .utf8)
    }

    /// Changes the manifest's body and signs it again with the counter's key, as a forger with
    /// the key, or a bug, could.
    func resign(_ change: (inout ExportManifest.Body) -> Void) throws {
        var manifest = try JSONDecoder().decode(
            ExportManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        change(&manifest.body)
        manifest.signature = try fixture.key.sign(manifest.body.canonicalData()).base64EncodedString()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath))
    }

    func move(_ name: String, to path: String) throws {
        try FileManager.default.moveItem(atPath: folder + "/" + name, toPath: path)
    }

    @Test func theIntactExportVerifies() throws {
        let result = try verify()
        #expect(result.status == 0)
        #expect(result.output == "OK \(folder)\n")
    }

    /// The version the export was made with is signed; one that is no version (a terminal
    /// escape, a page of text) is refused even when signed; an export from before the field
    /// (no software_version) still verifies.
    @Test func theSoftwareVersionIsAVersionOrAbsent() throws {
        let written = try JSONDecoder().decode(
            ExportManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        #expect(written.body.softwareVersion == JamPasirVersion.string)
        for hostile in ["\u{1B}[2J0.1.0", String(repeating: "9", count: 65), "", "0.1 0"] {
            try resign { $0.softwareVersion = hostile }
            let result = try verify()
            #expect(result.status != 0, "\(hostile)")
            #expect(result.output.contains("software_version is not a version"), "\(result.output)")
        }
        try resign { $0.softwareVersion = "1.2.3~rc1+deb13" }
        #expect(try verify().status == 0)
        try resign { $0.softwareVersion = nil }
        #expect(try verify().status == 0)
        #expect(try !String(contentsOfFile: manifestPath, encoding: .utf8).contains("software_version"))
    }

    @Test func aDuplicatedKeyIsRefused() throws {
        // JSONDecoder reads the first counter_id, which the signature covers; another reader may
        // take the last. The second spelling is the same key once its escape is read.
        try editManifest { text in
            let body = text.trimmingCharacters(in: .whitespacesAndNewlines).dropLast()
            return String(body) + ",\n  \"\\u0063ounter_id\" : \"loket-9\"\n}\n"
        }
        let result = try verify()
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL manifest.json has the key \"counter_id\" twice"))
    }

    @Test func anUnknownKeyIsRefused() throws {
        try editManifest {
            "{\n  \"note\" : \"checked by the director\","
                + $0.dropFirst().replacing("\"name\" :", with: "\"mode\" : 420, \"name\" :")
        }
        let result = try verify()
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL manifest.json has an unknown key \"note\""))
        #expect(result.output.contains("FAIL files[] in manifest.json has an unknown key \"mode\""))
    }

    @Test func aFileNameReachingOutsideTheFolderIsRefused() throws {
        try move("sessions.csv", to: folder + "/../sessions.csv")
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: false)
        try move("report.html", to: folder + "/sub/report.html")
        try resign { body in
            for index in body.files.indices {
                switch body.files[index].name {
                case "sessions.csv": body.files[index].name = "../sessions.csv"
                case "report.html": body.files[index].name = "sub/report.html"
                default: break
                }
            }
        }
        let result = try verify()
        #expect(result.status == 1)
        #expect(
            result.output.contains(
                "FAIL the manifest lists \"../sessions.csv\": not the name of a file in the export folder"))
        #expect(
            result.output.contains(
                "FAIL the manifest lists \"sub/report.html\": not the name of a file in the export folder"))
    }

    @Test func aFileNotInTheManifestIsRefused() throws {
        try "pay the bearer\n".write(toFile: folder + "/note.txt", atomically: true, encoding: .utf8)
        let result = try verify()
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL note.txt is in the export folder but not in the manifest"))
    }

    @Test func aSymbolicLinkIsRefusedAndNotFollowed() throws {
        let elsewhere = fixture.directory.file("report.html")
        try move("report.html", to: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: folder + "/report.html", withDestinationPath: elsewhere)
        let result = try verify()
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL report.html is a symbolic link: an export holds plain files only"))
    }
}
