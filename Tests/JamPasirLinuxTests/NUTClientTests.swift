import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirHardware
import JamPasirLinux
import JamPasirPosix
import JamPasirTesting
import Testing

@Suite("NUT: the UPS read through upsc")
struct NUTClientTests {
    let ups = UPSAddress("kit@localhost")!

    /// What `upsc` prints for a UPS HAT on battery (dummy-ups replaying one), other variables and all.
    @Test func readsStatusChargeAndRuntimeFromUpscOutput() throws {
        let output = """
            battery.charge: 64
            battery.runtime: 1830
            battery.voltage: 7.41
            device.mfr: Waveshare
            driver.name: dummy-ups
            ups.status: OB DISCHRG

            """
        let reading = try NUTClient.reading(fromUpscOutput: output, ups: ups)
        #expect(reading == PowerReading(onBattery: true, chargePercent: 64, runtime: .seconds(1830)))
    }

    @Test func outputWithoutAStatusOrWithAStaleOneSaysWhatToCheck() {
        #expect(throws: PowerSourceError("upsc kit@localhost:3493 printed no ups.status: the UPS's driver is not running (sudo upsdrvctl start)")) {
            try NUTClient.reading(fromUpscOutput: "battery.charge: 50\n", ups: ups)
        }
        do {
            _ = try NUTClient.reading(fromUpscOutput: "ups.status: \u{1B}[2JWAIT\n", ups: ups)
            Issue.record("a status of neither OL nor OB was taken")
        } catch {
            #expect(error.description.contains("\\u{1B}[2JWAIT"), "printed made safe: \(error)")
        }
    }

    /// The real process path: a stand-in `upsc` (a script) that answers, fails, or hangs.
    @Test func runsUpscAndKillsOneThatHangs() throws {
        let directory = try TemporaryDirectory("upsc")
        func script(_ name: String, _ body: String) throws -> String {
            let source = directory.file(name + ".sh")
            try "#!/bin/sh\n\(body)\n".write(toFile: source, atomically: true, encoding: .utf8)
            // Installed by another process: a file this threaded process wrote may still be open in
            // a child another test forked meanwhile, and running it would fail with ETXTBSY.
            let path = directory.file(name)
            _ = try ChildProcess.run("/usr/bin/install", arguments: ["-m", "0755", source, path], timeout: .seconds(10))
            return path
        }
        let answers = try script("answers", "[ \"$1\" = kit@localhost:3493 ] || exit 3\necho 'ups.status: OL CHRG'\necho 'battery.charge: 100'")
        #expect(try NUTClient(ups: ups, upsc: answers).read() == PowerReading(onBattery: false, chargePercent: 100))

        let fails = try script("fails", "echo 'Error: Connection failure: Connection refused' >&2\nexit 1")
        #expect(throws: PowerSourceError("upsc kit@localhost:3493 failed (Error: Connection failure: Connection refused): check that nut-server runs and knows the UPS (sudo upsc kit@localhost:3493), or set power.ups")) {
            try NUTClient(ups: ups, upsc: fails).read()
        }

        let hangs = try script("hangs", "exec sleep 30")
        let started = Date()
        #expect(throws: PowerSourceError("upsc kit@localhost:3493 did not answer within 0.3 seconds: upsd or the UPS's driver hangs, or localhost does not resolve (/etc/hosts)")) {
            try NUTClient(ups: ups, upsc: hangs, timeout: .milliseconds(300)).read()
        }
        #expect(Date().timeIntervalSince(started) < 10, "killed, not waited for")

        #expect(throws: PowerSourceError("\(directory.file("none")) not found: install NUT's client (sudo apt install nut-client), or set power.ups = \"\"")) {
            try NUTClient(ups: ups, upsc: directory.file("none")).read()
        }
    }
}

@Suite("A helper program run to its end")
struct ChildProcessTests {
    /// Every few seconds for months: not one descriptor more after 300 runs, and each run starts
    /// with nothing blocked, though the calling thread blocks SIGTERM (as the daemon's do).
    @Test func leaksNothingAndStartsWithNoSignalBlocked() throws {
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        var before = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &before)
        defer { pthread_sigmask(SIG_SETMASK, &before, nil) }
        // grep reads its own mask (a shell's, read by its child, is the one it forks with).
        let mask = try ChildProcess.run("/bin/grep", arguments: ["SigBlk", "/proc/self/status"], timeout: .seconds(10))
        // (Under qemu-user the mask a native child starts with is qemu's, not the guest's.)
        if !runsUnderEmulation { #expect(mask.output == "SigBlk:\t0000000000000000\n") }
        let first = try ChildProcess.run("/bin/sh", arguments: ["-c", "echo said >&2; exit 3"], timeout: .seconds(10))
        #expect(first.status == 3 && !first.timedOut && first.output.isEmpty)
        #expect(first.errors == "said\n")
        let open = descriptors()
        for _ in 0..<300 { _ = try ChildProcess.run("/bin/true", arguments: [], timeout: .seconds(10)) }
        // (Other suites open files meanwhile in this process: a leak of one per run would be 300.)
        #expect(descriptors() - open < 40, "\(open) descriptors before, \(descriptors()) after")
    }

    @Test func outputBeyondTheBoundIsDroppedAndAHangingProgramKilled() throws {
        let big = try ChildProcess.run("/bin/sh", arguments: ["-c", "head -c 1000000 /dev/zero"], timeout: .seconds(20), limit: 1000)
        #expect(big.output.utf8.count == 1000 && big.status == 0)
        let hangs = try ChildProcess.run("/bin/sleep", arguments: ["30"], timeout: .milliseconds(200))
        #expect(hangs.timedOut && hangs.status == 128 + SIGKILL)
        #expect(throws: SystemError.self) { try ChildProcess.run("/nonexistent/upsc", arguments: [], timeout: .seconds(1)) }
    }
}
