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
