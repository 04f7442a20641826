import Glibc
import JamPasirConfig
import JamPasirCore
import JamPasirHardware
import JamPasirPosix

/// The kit's UPS read through NUT's own client, `upsc` (package nut-client): the counter speaks
/// no NUT protocol of its own. `upsc` prints one `name: value` line per variable; a run that
/// hangs is killed after `timeout`, and its output is read to a bound (`ChildProcess`).
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
        guard access(upsc, X_OK) == 0 else {
            throw PowerSourceError("\(upsc) not found: install NUT's client (sudo apt install nut-client), or set power.ups = \"\"")
        }
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(upsc, arguments: [ups.description], timeout: timeout)
        } catch {
            throw PowerSourceError("cannot run \(upsc): \(error)")
        }
        if result.timedOut {
            throw PowerSourceError("upsc \(ups) did not answer within \(timeout): upsd or the UPS's driver hangs, or \(ups.host) does not resolve (/etc/hosts)")
        }
        guard result.status == 0 else {
            let said = result.errors.split(separator: "\n").first.map { String($0.prefix(200)).terminalSafe } ?? "nothing"
            throw PowerSourceError(
                "upsc \(ups) failed (\(said)): check that nut-server runs and knows the UPS (sudo upsc \(ups)), or set power.ups")
        }
        return try Self.reading(fromUpscOutput: result.output, ups: ups)
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
}
