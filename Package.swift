// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "redis-cluster-manager",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "redis-cluster-manager", targets: ["redis-cluster-manager"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libsqlite3 from the system (Debian libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // A thin, typed wrapper over libsqlite3: connections, statements, transactions, migrations.
        .target(name: "SQLite", dependencies: ["CSQLite"], swiftSettings: strict),
        // libssl and libcrypto from the system (Debian libssl-dev): TLS to Redis, secrets at rest.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        // HTTP/1.1 over POSIX sockets; knows nothing of Redis.
        .target(name: "HTTPServer", swiftSettings: strict),
        // RESP protocol and a blocking Redis connection; knows nothing of clusters.
        .target(name: "RESP", dependencies: ["COpenSSL"], swiftSettings: strict),
        // Pure cluster model: slot sets, CLUSTER NODES parsing, topology checks, planners. No I/O.
        .target(name: "ClusterModel", swiftSettings: strict),
        // I/O against live clusters, driven by the model's plans.
        .target(name: "ClusterOps", dependencies: ["RESP", "ClusterModel"], swiftSettings: strict),
        // The service's records in SQLite: clusters, jobs, events, snapshots.
        .target(name: "Store", dependencies: ["SQLite", "ClusterModel", "EmbeddedResources", "COpenSSL"], swiftSettings: strict),
        // Durable job worker: runs queued jobs through ClusterOps and records progress in Store.
        .target(name: "Jobs", dependencies: ["Store", "ClusterOps", "ClusterModel", "RESP"], swiftSettings: strict),
        // openapi.yaml and migrations/*.sql compiled into the binary.
        .executableTarget(name: "embed-resources"),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["embed-resources"]),
        .target(name: "EmbeddedResources", exclude: ["page.html"], plugins: ["EmbedResources"]),
        // The use cases (register, submit a job, cancel, watch) with typed inputs and typed errors.
        .target(name: "Service", dependencies: ["Store", "ClusterOps", "ClusterModel", "Jobs", "RESP"], swiftSettings: strict),
        // Maps HTTP to the service and does nothing else.
        .target(name: "API", dependencies: ["HTTPServer", "Service", "Store", "Jobs", "EmbeddedResources", "COpenSSL"],
                swiftSettings: strict),
        // Wiring only.
        .executableTarget(name: "redis-cluster-manager", dependencies: [
            "API", "HTTPServer", "Store", "Jobs", "ClusterOps", "Service",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),

        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "SQLite"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"], swiftSettings: strict),
        .testTarget(name: "RESPTests", dependencies: ["RESP"], swiftSettings: strict),
        .testTarget(name: "ClusterModelTests", dependencies: ["ClusterModel"], swiftSettings: strict),
        .testTarget(name: "ClusterOpsTests", dependencies: ["ClusterOps", "ClusterModel", "RESP"], swiftSettings: strict),
        .testTarget(name: "APITests", dependencies: ["API", "HTTPServer", "Store", "Jobs", "EmbeddedResources"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: [
            "API", "HTTPServer", "Store", "SQLite", "RESP", "ClusterModel", "ClusterOps", "Jobs", "Service",
        ], exclude: ["Scripts"], swiftSettings: strict),
    ]
)
