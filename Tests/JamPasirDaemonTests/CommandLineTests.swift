import ArgumentParser
import Foundation
@testable import JamPasirCLI
import JamPasirConfig
import JamPasirExport
import JamPasirMedia
import JamPasirTesting
import Testing

/// The command line as a person types it: the real `jampasir` executable, and the root command's
/// own parser. (Step 1 of the stick workflow was once unreachable while every test of its code passed.)
@Suite("jampasir through the front door")
struct CommandLineTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Every command reachable from the root, as the words a person types before the options.
    static func commandPaths(
        _ command: any ParsableCommand.Type = JampasirCommand.self, prefix: [String] = []
    ) -> [(words: [String], type: any ParsableCommand.Type)] {
        command.configuration.subcommands.flatMap { sub -> [(words: [String], type: any ParsableCommand.Type)] in
            let words = prefix + [sub._commandName]
            return [(words, sub)] + commandPaths(sub, prefix: words)
        }
    }

    @Test func everyCommandDeclaredInTheCLIIsReachableFromTheRoot() throws {
        let folder = Self.repository.appendingPathComponent("Sources/JamPasirCLI")
        var declared: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: /struct (\w+): ParsableCommand/) { declared.insert(String(match.1)) }
        }
        declared.remove("JampasirCommand")
        #expect(declared.count >= 9, "the scan found the commands: \(declared.sorted())")
        let reachable = Set(Self.commandPaths().map { String(describing: $0.type) })
        #expect(declared.subtracting(reachable).isEmpty, "not reachable from `jampasir`: \(declared.subtracting(reachable).sorted())")
    }

    @Test func everyCommandTheDocumentationNamesExists() throws {
        let known = Set(Self.commandPaths().map { $0.words.joined(separator: " ") })
        var named: [String] = []
        let docs = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        for document in ["README.md", "Hardware/README.md"] + docs.sorted() {
            let text = try String(contentsOf: Self.repository.appendingPathComponent(document), encoding: .utf8)
            for match in text.matches(of: /(?m)(?:`|^)jampasir ([a-z][a-z-]*(?: [a-z][a-z-]*)?)/) {
                named.append(String(match.1))
            }
        }
        #expect(named.count >= 5)
        for words in named {
            let parts = words.split(separator: " ").map(String.init)
            // Either both words name a command, or the first does and it has no subcommands (so the
            // second word is prose or an argument).
            let hasSubcommands = known.contains { $0.hasPrefix(parts[0] + " ") }
            let resolved = known.contains(words) || (known.contains(parts[0]) && !hasSubcommands)
            #expect(resolved, "the documentation names `jampasir \(words)`, which is not a command")
        }
    }

    @Test func theStickWorkflowsFirstStepRunsAsTyped() throws {
        let stick = try TemporaryDirectory("stick")
        let first = try runBuilt("jampasir", ["export-key", "new", "--to", stick.path])
        #expect(first.status == 0, "\(first.error)")
        let line = try #require(first.output.split(separator: "\n").last.map(String.init))
        let configuration = try Configuration(parsing: "[export]\n" + line, file: "test.toml")
        let contents = try ExportAuthorization.readKeyFile(mountPoint: stick.path)
        #expect(ExportAuthorization.isAuthorized(contents, allowed: configuration.authorizedExportKeys))
        // A second key is refused with the reason and the stick keeps the one the counters know.
        let second = try runBuilt("jampasir", ["export-key", "new", "--to", stick.path])
        #expect(second.status == 73)
        #expect(second.error.contains("already has a key"))
        #expect(try ExportAuthorization.readKeyFile(mountPoint: stick.path) == contents)
        // An option it does not have is named, with the exit status for usage errors.
        let unknown = try runBuilt("jampasir", ["export-key", "new", "--to", stick.path, "--force"])
        #expect(unknown.status == 64)
        #expect(unknown.error.contains("Unknown option '--force'"))
    }

    /// `--help` of every command, through the binary, is pinned in Help/: a change to the command
    /// `jampasir doctor`'s clock line: a counter with neither NTP nor an RTC that agrees with
    /// its clock is to fix; one with a right RTC and no network (the village kit) is fine, and
    /// says its sessions are marked; an RTC that is off or unreadable (a Pi 5's without its
    /// battery) is to fix even with NTP, since the next cut away from the network needs it.
    @Test func doctorSaysWhereTheTimeComesFrom() {
        typealias RTC = DoctorCommand.RTCReading
        let right = RTC(name: "rtc-ds1307 1-0068", secondsOff: 1)
        let off = RTC(name: "rpi-rtc", secondsOff: -1_764_000_000)
        let unread = RTC(name: "rpi-rtc", secondsOff: nil)
        let both = DoctorCommand.clockFinding(synchronized: true, rtc: right)
        #expect(both.ok && both.text.contains("NTP") && both.text.contains("rtc-ds1307 1-0068") && both.text.contains("agrees"))
        let ntpOnly = DoctorCommand.clockFinding(synchronized: true, rtc: nil)
        #expect(ntpOnly.ok && ntpOnly.text.contains("no RTC"))
        let ntpWrongRTC = DoctorCommand.clockFinding(synchronized: true, rtc: off)
        #expect(!ntpWrongRTC.ok && ntpWrongRTC.text.contains("-1764000000 s off") && ntpWrongRTC.text.contains("hwclock --systohc"))
        let rtcOnly = DoctorCommand.clockFinding(synchronized: false, rtc: right)
        #expect(rtcOnly.ok && rtcOnly.text.contains("from the RTC") && rtcOnly.text.contains("(?)"))
        let unreadable = DoctorCommand.clockFinding(synchronized: false, rtc: unread)
        #expect(!unreadable.ok && unreadable.text.contains("cannot be read"))
        let neither = DoctorCommand.clockFinding(synchronized: false, rtc: nil)
        #expect(!neither.ok && neither.text.contains("timedatectl set-ntp true") && neither.text.contains("DS3231"))
    }

    /// line shows in review. Regenerate with JAMPASIR_UPDATE_HELP=1.
    @Test func helpOfEveryCommandIsPinned() throws {
        let folder = Self.repository.appendingPathComponent("Tests/JamPasirDaemonTests/Help")
        let update = ProcessInfo.processInfo.environment["JAMPASIR_UPDATE_HELP"] == "1"
        var pinned = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        for words in [[]] + Self.commandPaths().map(\.words) {
            let help = try runBuilt("jampasir", words + ["--help"], environment: ["COLUMNS": "100"])
            #expect(help.status == 0)
            let name = (["jampasir"] + words).joined(separator: "-") + ".txt"
            let file = folder.appendingPathComponent(name)
            pinned.remove(name)
            if update { try help.output.write(to: file, atomically: true, encoding: .utf8) }
            let expected = try String(contentsOf: file, encoding: .utf8)
            #expect(help.output == expected, "`jampasir \(words.joined(separator: " ")) --help` changed: see \(name)")
        }
        #expect(pinned.isEmpty, "help pinned for commands that no longer exist: \(pinned.sorted())")
    }
}
