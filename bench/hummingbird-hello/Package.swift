// swift-tools-version:6.0
// A Hummingbird 2 hello-world, the yardstick `make bench-http` holds our HTTP server's throughput against.
import PackageDescription

let package = Package(
    name: "hummingbird-hello",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(name: "HummingbirdHello", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
    ]
)
