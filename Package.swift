// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6), .enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "JamPasir",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jampasird", targets: ["jampasird"]),
        .executable(name: "jampasir", targets: ["jampasir"]),
        .executable(name: "jampasir-mountd", targets: ["jampasir-mountd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        // The hub's HTTP server: HummingbirdCore (no router, no swift-configuration) on SwiftNIO.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C stays at the edge: the few system calls Swift's Glibc overlay does not expose.
        .target(name: "CJamPasirSystem"),
        // The two-minute rules: pure, no clocks, no I/O.
        .target(name: "JamPasirCore", swiftSettings: strict),
        // The few POSIX pieces every process needs, without Foundation (the root helper links no
        // Foundation): threads, the doorbell, system errors, the log under systemd.
        .target(
            name: "JamPasirPosix",
            dependencies: ["JamPasirCore", "CJamPasirSystem", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // Domain-named hardware protocols and the seven-segment font.
        .target(
            name: "JamPasirHardware",
            dependencies: [
                "JamPasirCore", "JamPasirPosix", "CJamPasirSystem", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // libgpiod v1/v2 behind one interface: the only C that knows libgpiod.
        .target(name: "CGPIOD", linkerSettings: [.linkedLibrary("gpiod")]),
        // libudev: block devices from udev's netlink source.
        .target(name: "CUdev", linkerSettings: [.linkedLibrary("udev")]),
        // Real backends on Linux: GPIO button and outputs, TM1637/HT16K33/MAX7219 over GPIO, I2C, SPI.
        .target(
            name: "JamPasirLinux",
            dependencies: [
                "JamPasirCore", "JamPasirConfig", "JamPasirHardware", "JamPasirPosix", "JamPasirQueue", "CGPIOD",
                "CJamPasirSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Terminal backends for the simulator.
        .target(
            name: "JamPasirTerminal",
            dependencies: ["JamPasirCore", "JamPasirHardware", "JamPasirPosix", "CJamPasirSystem"],
            swiftSettings: strict),
        // SQLite store of session outcomes.
        .target(
            name: "JamPasirStore",
            dependencies: [
                "JamPasirCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Statistics and CSV/JSON writers shared by the CLI and (later) the USB export.
        .target(
            name: "JamPasirReports", dependencies: ["JamPasirCore", "JamPasirPosix", "JamPasirStore"],
            swiftSettings: strict),
        // Signed exports: the files a USB stick (or `jampasir export`) receives, their verification,
        // and which sticks are authorised to receive them.
        .target(
            name: "JamPasirExport",
            dependencies: [
                "JamPasirConfig", "JamPasirPosix", "JamPasirQueue", "JamPasirReports", "JamPasirStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // USB sticks: block devices from libudev and which of them may carry an export. No
        // Foundation: the root helper uses it.
        .target(
            name: "JamPasirMedia",
            dependencies: ["JamPasirPosix", "CUdev", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // Mounting sticks: the privileged helper's decisions, its socket, and the daemon's client.
        // Neither libgpiod nor SQLite nor Foundation: `make test-deb` checks the helper's libraries.
        .target(
            name: "JamPasirMount",
            dependencies: [
                "JamPasirMedia", "JamPasirPosix", "CJamPasirSystem", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The office hub: every counter's signed exports in one witnessed history.
        .target(
            name: "JamPasirHub",
            dependencies: [
                "JamPasirConfig", "JamPasirCore", "JamPasirExport", "JamPasirHardware", "JamPasirPosix", "JamPasirReports",
                "JamPasirStore", "JamPasirQueue",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // The hub's HTTP front: HummingbirdCore on SwiftNIO, many connections at once, each bounded
        // in time and size; the hub's blocking work (SQLite, the printer, espeak-ng) on workers of
        // its own, so the queue's calls never wait behind an import.
        .target(
            name: "JamPasirHubHTTP",
            dependencies: [
                "JamPasirHub", "JamPasirExport", "JamPasirPosix",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The second promise: the waiting room's tickets, warnings and breaches, the wait printed
        // on a ticket, and the simulated office day. Pure, like the core.
        .target(name: "JamPasirQueue", swiftSettings: strict),
        // The TOML configuration file.
        .target(name: "JamPasirConfig", dependencies: ["JamPasirCore", "JamPasirQueue"], swiftSettings: strict),
        // Daemon wiring: controller, run loop, clocks, recorder.
        .target(
            name: "JamPasirDaemon",
            dependencies: [
                "JamPasirCore", "JamPasirHardware", "JamPasirTerminal", "JamPasirStore", "JamPasirConfig",
                "JamPasirLinux", "JamPasirReports", "JamPasirExport", "JamPasirHub", "JamPasirMedia", "JamPasirMount",
                "JamPasirPosix", "CJamPasirSystem",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        // The supervisor's and technician's command line.
        .target(
            name: "JamPasirCLI",
            dependencies: [
                "JamPasirCore", "JamPasirStore", "JamPasirReports", "JamPasirConfig", "JamPasirHardware",
                "JamPasirLinux", "JamPasirExport", "JamPasirHub", "JamPasirHubHTTP", "JamPasirMedia", "JamPasirMount",
                "JamPasirPosix", "JamPasirQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Fakes for tests, shipped with the library as gpiozero ships MockFactory: the manual
        // clock, fake parts, temporary folders, processes. Store, export and config tests use it
        // without compiling the daemon.
        .target(
            name: "JamPasirTesting",
            dependencies: ["JamPasirCore", "JamPasirHardware", "JamPasirPosix"],
            swiftSettings: strict),
        // The daemon's wiring on fake parts in virtual time (`CounterRig`) and the soak.
        .target(
            name: "JamPasirDaemonTesting",
            dependencies: [
                "JamPasirTesting", "JamPasirDaemon", "JamPasirCore", "JamPasirHardware", "JamPasirStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "jampasird", dependencies: ["JamPasirDaemon"], swiftSettings: strict),
        // Also `jampasird` when started by that name: the package ships this one executable for both.
        .executableTarget(name: "jampasir", dependencies: ["JamPasirCLI", "JamPasirDaemon"], swiftSettings: strict),
        .executableTarget(
            name: "jampasir-mountd",
            dependencies: ["JamPasirMount", "JamPasirMedia", "JamPasirPosix", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // `make bench`'s in-process benchmarks (not shipped).
        .executableTarget(
            name: "jampasir-bench",
            dependencies: [
                "JamPasirDaemon", "JamPasirTesting", "JamPasirDaemonTesting", "JamPasirStore", "JamPasirCore",
                "JamPasirHardware", "CJamPasirSystem", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        .testTarget(
            name: "JamPasirCoreTests",
            dependencies: ["JamPasirCore", "JamPasirTesting", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirQueueTests",
            dependencies: [
                "JamPasirQueue", "JamPasirTesting", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Golden"],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirHardwareTests",
            dependencies: [
                "JamPasirHardware", "JamPasirPosix", "JamPasirTesting", "JamPasirCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirLinuxTests",
            dependencies: [
                "JamPasirLinux", "JamPasirConfig", "JamPasirHardware", "JamPasirTesting", "JamPasirCore", "JamPasirQueue",
                "JamPasirPosix",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirTerminalTests", dependencies: ["JamPasirTerminal", "JamPasirHardware", "JamPasirCore"],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirStoreTests",
            dependencies: [
                "JamPasirStore", "JamPasirTesting", "JamPasirCore", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirExportTests",
            dependencies: ["JamPasirExport", "JamPasirReports", "JamPasirStore", "JamPasirTesting", "JamPasirCore"],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirMediaTests",
            dependencies: [
                "JamPasirMedia", "JamPasirLinux", "JamPasirTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirMountTests", dependencies: ["JamPasirMount", "JamPasirMedia", "JamPasirTesting"],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirReportsTests",
            dependencies: [
                "JamPasirReports", "JamPasirStore", "JamPasirTesting", "JamPasirCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirConfigTests",
            dependencies: [
                "JamPasirConfig", "JamPasirTesting", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "JamPasirDaemonTests",
            dependencies: [
                "JamPasirDaemon", "JamPasirTesting", "JamPasirDaemonTesting", "JamPasirCLI", "JamPasirStore",
                "JamPasirReports", "JamPasirCore",
                "JamPasirHardware", "JamPasirHub", "JamPasirHubHTTP", "JamPasirExport", "JamPasirPosix", "JamPasirQueue",
                "JamPasirLinux", "JamPasirMount",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["Help"],
            swiftSettings: strict),
    ]
)
