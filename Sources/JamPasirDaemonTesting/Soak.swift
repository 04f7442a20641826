import Foundation

/// The soak run: many sessions through the daemon's wiring (controller, recorder, real SQLite
/// store, edge journals, audit chain) on fake hardware in virtual time, sampling the process's
/// resident memory and open file descriptors as it goes.
public enum Soak {
    public struct Sample: Sendable, CustomStringConvertible {
        public var sessions: Int
        public var residentKiB: Int
        public var openFiles: Int
        /// Descriptors open on the store's files (the database, WAL, shared memory).
        public var storeFiles: Int
        public var description: String {
            "\(sessions) sessions: RSS \(residentKiB / 1024) MiB, \(openFiles) fds (\(storeFiles) on the store)"
        }
    }

    public struct Report: Sendable {
        public var samples: [Sample]
        public var storeBytes: Int64
        public var elapsed: Duration
    }

    public static func run(sessions: Int, storePath: String, sampleEvery: Int = 1_000) async throws -> Report {
        let started = ContinuousClock.now
        let rig = try CounterRig(storePath: storePath, historyLimit: 16)
        await rig.start()
        var samples: [Sample] = []
        var t = 10.0
        for index in 1...sessions {
            var service = 30 + Double((index * 7919) % 120)  // 30–149 s: in time and overtime
            await rig.tap(at: t)
            if index % 25 == 0 {
                await rig.tap(at: t + 40, hold: 2.5)  // a cancel
                service = 43
            } else {
                await rig.tap(at: t + service)
            }
            t += service + 12
            if index % sampleEvery == 0 || index == sessions {
                await rig.settle()
                samples.append(
                    Sample(
                        sessions: index, residentKiB: residentKiB(), openFiles: openFiles(),
                        storeFiles: openFiles(under: storePath)))
            }
        }
        await rig.settle()
        let size = ["", "-wal"].reduce(Int64(0)) { total, suffix in
            let attributes = try? FileManager.default.attributesOfItem(atPath: storePath + suffix)
            return total + ((attributes?[.size] as? NSNumber)?.int64Value ?? 0)
        }
        return Report(samples: samples, storeBytes: size, elapsed: ContinuousClock.now - started)
    }

    /// VmRSS of this process, from /proc/self/status.
    public static func residentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    public static func openFiles() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    /// Open descriptors whose target starts with `prefix`.
    public static func openFiles(under prefix: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd))?.hasPrefix(prefix)
                ?? false
        }.count
    }
}
