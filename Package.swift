// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tollgate", targets: ["tollgate"]),
        .library(name: "TollgateCore", targets: ["TollgateCore"]),
        .library(name: "TollgateServer", targets: ["TollgateServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Traces over OTLP/HTTP only: the gRPC trait would add grpc-swift and minutes of build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // MARK: C libraries
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),

        .target(name: "CTollgateThreads"),
        // Links against the system SQLite that GRDBSQLite brings (libsqlite3-dev).
        .target(name: "CTollgateSQLite"),

        // MARK: Libraries
        .target(name: "TollgateThreads", dependencies: ["CTollgateThreads"], swiftSettings: swiftSettings),
        .target(
            name: "TollgateUpstream",
            dependencies: [
                "CCurl",
                "TollgateThreads",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateRedis",
            dependencies: [
                "CHiredis",
                "TollgateThreads",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateEmbedding",
            dependencies: ["COpenBLAS"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateCore",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CTollgateSQLite",
                "TollgateEmbedding",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateServer",
            dependencies: [
                "TollgateCore",
                "TollgateUpstream",
                "TollgateEmbedding",
                "TollgateRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tollgate",
            dependencies: [
                "TollgateServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateTestSupport",
            dependencies: [
                "TollgateUpstream",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TollgateTestSupport",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "fake-provider",
            dependencies: ["TollgateTestSupport"],
            path: "Tests/FakeProviderServer",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "ledger-crash-writer",
            dependencies: ["TollgateCore"],
            path: "Tests/LedgerCrashWriter",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "semantic-bench",
            dependencies: ["TollgateEmbedding", "COpenBLAS"],
            path: "bench/semantic/SemanticBench",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "embedding-bench",
            dependencies: ["TollgateEmbedding", "COpenBLAS"],
            path: "bench/embedding/EmbeddingBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "scrub-bench",
            dependencies: ["TollgateCore", .product(name: "NIOCore", package: "swift-nio")],
            path: "bench/scrub",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "redis-bench",
            dependencies: [
                "TollgateRedis",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/redis",
            exclude: ["run.sh"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "routing-bench",
            dependencies: ["TollgateCore"],
            path: "bench/routing",
            exclude: ["run.sh"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tokenizer-bench",
            dependencies: ["TollgateCore"],
            path: "bench/tokenizer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ledger-bench",
            dependencies: [
                "TollgateCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "bench/ledger",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "TollgateCoreTests",
            dependencies: [
                "TollgateCore",
                "TollgateEmbedding",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateUpstreamTests",
            dependencies: [
                "TollgateUpstream",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateRedisTests",
            dependencies: [
                "TollgateRedis",
                "TollgateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateEmbeddingTests",
            dependencies: ["TollgateEmbedding"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateServerTests",
            dependencies: [
                "TollgateServer",
                "TollgateTestSupport",
                "TollgateUpstream",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
