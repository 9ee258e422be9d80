// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Pare",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "convert", targets: ["convert"]),
        .library(name: "Graph", targets: ["Graph"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "Passes", targets: ["Passes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
        ),
        .systemLibrary(
            name: "CDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"]), .brew(["libdeflate"])]
        ),
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // CRC-32 with 512-bit carry-less multiplication where the CPU has it (C: Swift has no
        // per-function target features to reach those instructions).
        .target(name: "CChecksum", dependencies: ["CDeflate"]),
        .target(name: "Graph"),
        .target(name: "Runtime", dependencies: ["Graph", "CBLAS"]),
        .target(
            name: "Formats",
            dependencies: [
                "Graph",
                "CZstd",
                "CChecksum",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(name: "Passes", dependencies: ["Graph", "Runtime"]),
        .executableTarget(
            name: "convert",
            dependencies: [
                "Graph", "Formats", "Runtime", "Passes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Full RELRO: symbols are bound when the process starts, not at their first call,
            // which otherwise lands in the first model load (docs/mobile.md, "Size, load and conversion time").
            linkerSettings: [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "relro", "-Xlinker", "-z", "-Xlinker", "now"],
                                          .when(platforms: [.linux]))]
        ),
        .testTarget(name: "GraphTests", dependencies: ["Graph"]),
        .testTarget(name: "FormatsTests", dependencies: ["Graph", "Formats"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Graph", "Formats", "Runtime"]),
        .testTarget(name: "PassesTests", dependencies: ["Graph", "Formats", "Runtime", "Passes"]),
        .testTarget(name: "CLITests", dependencies: ["convert", "Graph", "Formats"]),
    ]
)
