import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirHardware

/// The kit's UPS read through NUT's own client, `upsc` (package nut-client): the counter speaks
/// no NUT protocol of its own. `upsc` prints one `name: value` line per variable; a run that
/// hangs is killed after `timeout`, and its output is read to a bound.
public struct NUTClient: PowerSource {
    public let ups: UPSAddress
    public let upsc: String
    public let timeout: Duration

    public init(ups: UPSAddress, upsc: String = "/usr/bin/upsc", timeout: Duration = .seconds(5)) {
        self.ups = ups
        self.upsc = upsc
        self.timeout = timeout
    }

    public func read() throws(PowerSourceError) -> PowerReading {
        let (status, output, errors) = try run()
        guard status == 0 else {
            let said = errors.split(separator: "\n").first.map { String($0.prefix(200)).terminalSafe } ?? "nothing"
            throw PowerSourceError(
                "upsc \(ups) failed (\(said)): check that nut-server runs and knows the UPS (sudo upsc \(ups)), or set power.ups")
        }
        return try Self.reading(fromUpscOutput: output, ups: ups)
    }

    /// What `upsc` printed, read as a power reading.
    public static func reading(fromUpscOutput output: String, ups: UPSAddress) throws(PowerSourceError) -> PowerReading {
        var values: [Substring: Substring] = [:]
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon]
            guard ["ups.status", "battery.charge", "battery.runtime"].contains(name) else { continue }
            values[name] = line[line.index(after: colon)...].drop { $0 == " " }
        }
        guard let status = values["ups.status"] else {
            throw PowerSourceError("upsc \(ups) printed no ups.status: the UPS's driver is not running (sudo upsdrvctl start)")
        }
        guard
            let reading = PowerReading(
                status: String(status), charge: values["battery.charge"].map(String.init),
                runtime: values["battery.runtime"].map(String.init))
        else {
            throw PowerSourceError(
                "the UPS \(ups) reports status '\(String(status.prefix(40)).terminalSafe)', neither on line nor on battery: its driver is starting or stale")
        }
        return reading
    }

    private func run() throws(PowerSourceError) -> (status: Int32, output: String, errors: String) {
        guard FileManager.default.isExecutableFile(atPath: upsc) else {
            throw PowerSourceError("\(upsc) not found: install NUT's client (sudo apt install nut-client), or set power.ups = \"\"")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: upsc)
        process.arguments = [ups.description]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw PowerSourceError("cannot run \(upsc): \(error)")
        }
        // Read while it runs (a full pipe would stop it), each to a bound.
        let printed = Self.readBounded(output.fileHandleForReading)
        let said = Self.readBounded(errors.fileHandleForReading)
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if exited.wait(timeout: .now() + seconds) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            throw PowerSourceError(
                "upsc \(ups) did not answer within \(timeout): upsd or the UPS's driver hangs")
        }
        return (process.terminationStatus, printed.value, said.value)
    }

    /// Up to 64 KiB of what a pipe carries, read on a thread of its own until it closes (the rest
    /// is drained and dropped, so the writer never blocks on it).
    private static func readBounded(_ handle: FileHandle) -> BoundedRead {
        let read = BoundedRead()
        Thread.detachNewThread {
            var kept = Data()
            while let chunk = try? handle.read(upToCount: 4096), !chunk.isEmpty {
                if kept.count < 65_536 { kept.append(chunk.prefix(65_536 - kept.count)) }
            }
            read.finish(String(decoding: kept, as: UTF8.self))
        }
        return read
    }
}

/// A pipe's text once it has closed.
private final class BoundedRead: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var text = ""

    func finish(_ text: String) {
        self.text = text
        done.signal()
    }

    var value: String {
        done.wait()
        done.signal()
        return text
    }
}
