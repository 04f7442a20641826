import Foundation

/// Runs a real tool (sqlite3, python3) from a test and returns its exit status and output.
@discardableResult
public func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

/// The path of an executable this package builds (`jampasir`, `jampasird`), beside the test bundle
/// in the same build folder: tests run what a person types, not the code behind it.
public func builtExecutable(_ name: String) -> String {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var folder = bundle.deletingLastPathComponent()
    // On Linux the test runner is `<build>/debug/JamPasirPackageTests.xctest`; elsewhere it may sit deeper.
    while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent(name).path),
        folder.path != "/"
    {
        folder = folder.deletingLastPathComponent()
    }
    return folder.appendingPathComponent(name).path
}

/// Runs a built executable with arguments and returns its exit status, standard output and standard error.
public func runBuilt(_ name: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (
    status: Int32, output: String, error: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: builtExecutable(name))
    process.arguments = arguments
    // Added to the test's own environment (which may carry QEMU_LD_PREFIX on a foreign architecture).
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes before waiting: a full pipe would block the child.
    nonisolated(unsafe) var errorData = Data()
    let reading = DispatchGroup()
    DispatchQueue.global().async(group: reading) { errorData = error.fileHandleForReading.readDataToEndOfFile() }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    reading.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass: for waiting on a real
/// process (a file it writes, a line it logs), never for the logic under test.
public func waitUntil(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// The real `jampasird --simulate` with its keyboard on a pipe, as a person at the terminal
/// drives it: space presses the button, `q` quits. Its log (standard error) goes to a file.
public final class SimulatedDaemon {
    private let process = Process()
    private let keys = Pipe()
    public let logPath: String

    public init(_ arguments: [String], log: String) throws {
        logPath = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: builtExecutable("jampasird"))
        process.arguments = ["--simulate"] + arguments
        process.standardInput = keys
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the log holds `text` as often as `count`.
    public func waitForLog(_ text: String, count: Int = 1) -> Bool {
        waitUntil { log.components(separatedBy: text).count - 1 >= count }
    }

    public func press() { type(" ") }

    /// Keys as typed: `p` calls the next ticket, `c` holds the button long.
    public func type(_ text: String) { keys.fileHandleForWriting.write(Data(text.utf8)) }

    /// Quits as a person would (`q`) and returns the exit status.
    @discardableResult
    public func quit() -> Int32 {
        keys.fileHandleForWriting.write(Data("q".utf8))
        if !waitUntil({ !process.isRunning }) { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// True when the suite runs under qemu-user (`make test-arm64` sets `JAMPASIR_TESTS_EMULATED`).
/// Suites that only drive Debian's own tools (gpg, apt, dpkg) skip there: emulated, those tools
/// cost minutes and prove nothing about arm64 that the booted counter's apt does not
/// (`make test-counter` installs, updates and rolls back on a real arm64 kernel).
public let runsUnderEmulation = ProcessInfo.processInfo.environment["JAMPASIR_TESTS_EMULATED"] != nil

/// How many cases a property check tries: `native` on this machine, a quarter under qemu-user.
/// The properties hold the same on every architecture; what the arm64 run adds is the code
/// generated for it, which a quarter of the cases exercises as well, at a quarter of the cost.
public func propertyCases(_ native: Int) -> Int {
    runsUnderEmulation ? max(1, native / 4) : native
}
