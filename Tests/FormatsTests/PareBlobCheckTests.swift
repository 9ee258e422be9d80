import Foundation
import Graph
import Testing
@testable import Formats

/// Blob checks in pieces across threads, and loads that overlap them with other work.
struct PareBlobCheckTests {
    static func checks(_ sizes: [Int]) -> [PareFile.DeferredCheck] {
        var random = SplitMix64(seed: 7)
        return sizes.enumerated().map { index, size in
            let bytes = Data((0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            return PareFile.DeferredCheck(name: "t\(index)", bytes: bytes, crc: CRC32.checksum(bytes), tensor: index)
        }
    }

    static func withCRC(_ check: PareFile.DeferredCheck, _ crc: UInt32) -> PareFile.DeferredCheck {
        PareFile.DeferredCheck(name: check.name, bytes: check.bytes, crc: crc, tensor: check.tensor)
    }

    @Test("CRCs of pieces combine into the whole's: any split, and pieces of exactly 128 KiB")
    func combine() {
        let bytes = Self.checks([3 * CRC32.combinedPieceCount + 1000])[0].bytes
        let whole = CRC32.checksum(bytes)
        for split in [0, 1, 255, 1000, CRC32.combinedPieceCount, bytes.count - 1, bytes.count] {
            let first = CRC32.checksum(bytes.prefix(split)), second = CRC32.checksum(bytes.suffix(from: split))
            #expect(CRC32.combine(first, second, secondCount: bytes.count - split) == whole, "split at \(split)")
        }
        var crc = CRC32.checksum(bytes.prefix(1000))
        for start in stride(from: 1000, to: bytes.count, by: CRC32.combinedPieceCount) {
            crc = CRC32.combine(crc, piece: CRC32.checksum(bytes[start..<(start + CRC32.combinedPieceCount)]))
        }
        #expect(crc == whole)
    }

    @Test("blobs of every size class are checked in pieces, on worker threads from 1 MiB, and the first bad one in table order is named",
          arguments: [false, true])
    func pieces(large: Bool) {
        let piece = CRC32.combinedPieceCount
        var sizes = [0, 1, 63, piece - 1, piece, piece + 1, 3 * piece + 17, 64]
        if large { sizes += [2 << 20, 5] }
        let total = sizes.reduce(0, +)
        #expect((total >= BlobVerifier.helperThresholdBytes) == large)
        let intact = Self.checks(sizes)
        let verifier = BlobVerifier(intact)
        verifier.startHelpers()
        #expect(verifier.firstMismatch() == nil)
        #expect(verifier.firstMismatch() == nil, "a second call gives the same answer")
        for bad in [[4], [6, 2], [sizes.count - 1], [0]] {
            var damaged = intact
            for index in bad { damaged[index] = Self.withCRC(intact[index], intact[index].crc ^ 1) }
            let verifier = BlobVerifier(damaged)
            verifier.startHelpers()
            #expect(verifier.firstMismatch()?.name == "t\(bad.min()!)")
        }
        #expect(BlobVerifier([]).firstMismatch() == nil)
    }

    /// A model with two weights of 1.2 MB each: large enough for worker threads.
    static func largeModel() throws -> Data {
        let count = 300_000
        let graph = Graph(name: "g", nodes: [Node(name: "sum", opType: "Add", inputs: ["a", "b"], outputs: ["y"])],
                          outputs: [Value(name: "y", .float32, [.known(count)])],
                          initializers: [Tensor(name: "a", shape: [count], floats: (0..<count).map { Float($0) }),
                                         Tensor(name: "b", shape: [count], floats: (0..<count).map { Float(-$0) })])
        return try PareFormat.encode(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
    }

    struct Refused: Error {}

    @Test("readIfPare(preparing:) hands the file over while its blobs are checked, and returns only once they pass")
    func preparing() throws {
        let folder = try Fixtures.temporaryFolder()
        let file = try Self.largeModel()
        let data = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "DATA" })
        let intactPath = folder.appendingPathComponent("intact.pare").path
        try file.write(to: URL(fileURLWithPath: intactPath))
        var corrupt = [UInt8](file)
        corrupt[data.offset + 1_300_000] ^= 0x10  // inside b, the second blob
        let corruptPath = folder.appendingPathComponent("corrupt.pare").path
        try Data(corrupt).write(to: URL(fileURLWithPath: corruptPath))

        var calls = 0
        let loaded = try #require(try PareFormat.readIfPare(atPath: intactPath) { file in
            calls += 1
            return file.model.graph.initializers.map(\.name)
        })
        #expect(calls == 1 && loaded.prepared == ["a", "b"] && loaded.file.checksInFlight == nil)

        let message = "\(corruptPath): tensor 'b': data checksum mismatch (the file is corrupt)"
        let dropped = #expect(throws: FormatError.self) { _ = try PareFormat.readIfPare(atPath: corruptPath) { _ in 1 } }
        #expect(dropped?.description == message)
        // The checksum error wins over the one `prepare` threw; an intact file gives prepare's.
        let both = #expect(throws: FormatError.self) { _ = try PareFormat.readIfPare(atPath: corruptPath) { _ -> Int in throw Refused() } }
        #expect(both?.description == message)
        #expect(throws: Refused.self) { _ = try PareFormat.readIfPare(atPath: intactPath) { _ -> Int in throw Refused() } }
        #expect(throws: FormatError.self) { _ = try PareFormat.read(atPath: corruptPath) }
        // Deferred: nothing is checked while preparing; verifyTensorData() still finds it.
        let lazy = try #require(try PareFormat.readIfPare(atPath: corruptPath, options: PareReadOptions(verifiesTensorData: false)) { _ in 1 })
        #expect(throws: FormatError.self) { try lazy.file.verifyTensorData() }
    }

    @Test("a bad blob is reported before a decode error found later, while its check ran meanwhile")
    func blobErrorsComeFirst() throws {
        let file = try Self.largeModel()
        let meta = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "META" })
        let data = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "DATA" })
        // The output's one dimension, the last byte of META, stored as 300,000 + 2 in a varint:
        // changing its first byte makes the signatures differ from the graph's.
        var damaged = try PareFixtures.patched(file, section: "META", offset: meta.length - 3, to: file[meta.offset + meta.length - 3] ^ 1)
        let metaError = #expect(throws: FormatError.self) { try PareFormat.decode(Data(damaged), source: "d.pare") }
        #expect(metaError?.message.hasPrefix("section META") == true, "\(String(describing: metaError))")
        damaged[data.offset + 10] ^= 1
        let error = #expect(throws: FormatError.self) { try PareFormat.decode(Data(damaged), source: "d.pare") }
        #expect(error?.message == "tensor 'a': data checksum mismatch (the file is corrupt)")
    }
}

/// The file writer gathers small writes into large ones.
struct AtomicFileTests {
    @Test("a written .pare equals the encoded bytes, with blobs below, at and above the write buffer's size")
    func bufferedWrites() throws {
        let folder = try Fixtures.temporaryFolder()
        let buffer = AtomicFile.bufferCapacity / 4
        // Float counts: a few bytes, a buffer less one float, a whole buffer, more than a buffer.
        let counts = [3, buffer - 1, 17, buffer, 5, buffer + 100]
        let weights = counts.enumerated().map { index, count in
            Tensor(name: "w\(index)", shape: [count], floats: (0..<count).map { Float($0 % 1000) + Float(index) })
        }
        let graph = Graph(name: "g", nodes: [Node(name: "act", opType: "Relu", inputs: ["x"], outputs: ["y"])],
                          inputs: [Value(name: "x", .float32, [2])], outputs: [Value(name: "y", .float32, [2])], initializers: weights)
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let url = folder.appendingPathComponent("big.pare")
        try PareFormat.write(model, to: url)
        #expect(try Data(contentsOf: url) == (try PareFormat.encode(model)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["big.pare"], "no temporary file is left")
    }
}
