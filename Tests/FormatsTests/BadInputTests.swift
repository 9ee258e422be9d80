import Foundation
import Graph
import Testing
@testable import Formats

/// A small deterministic generator (SplitMix64), so mutation runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("ONNX bad inputs")
struct BadInputTests {
    /// The error decoding `data` gives, the same whether decoded whole or piecewise.
    func decodeError(_ data: Data, source: String) -> String? {
        let whole = formatError { () throws(FormatError) in _ = try ONNXFormat.decode(data, baseDirectory: Fixtures.samples, source: source) }
        let piecewise = formatError { () throws(FormatError) in
            _ = try ONNXFormat.decode(data, baseDirectory: Fixtures.samples, source: source, piecewise: true, releasePages: false)
        }
        #expect(whole == piecewise)
        return whole
    }

    func sample(_ name: String) throws -> Data {
        try Data(contentsOf: try #require(Fixtures.existing(name)))
    }

    @Test("an empty file")
    func empty() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("empty.onnx")
        try Data().write(to: url)
        let message = formatError { () throws(FormatError) in _ = try ONNXFormat.read(contentsOf: url) }
        #expect(message == "\(url.path): is empty (0 bytes)")
    }

    @Test("a missing file and a folder")
    func missingFile() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("absent.onnx")
        #expect(formatError { () throws(FormatError) in _ = try ONNXFormat.read(contentsOf: url) } == "\(url.path): no such file")
        #expect(formatError { () throws(FormatError) in _ = try ONNXFormat.read(contentsOf: folder) }?.contains("is a folder") == true)
    }

    @Test("a file truncated at several points", arguments: [1, 2, 10, 100, 1000, 50_000, -2, -1])
    func truncated(_ cut: Int) throws {
        let data = try sample("unet_thesis.onnx")
        let prefix = data.prefix(cut > 0 ? cut : data.count + cut)
        let message = try #require(decodeError(prefix, source: "unet_thesis.onnx"), "a truncated file decoded")
        #expect(message.hasPrefix("unet_thesis.onnx: not an ONNX model: "), "\(message)")
    }

    @Test("random bytes")
    func randomBytes() {
        var rng = SplitMix64(seed: 42)
        for size in [1, 7, 100, 4096] {
            let bytes = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let message = decodeError(bytes, source: "noise.onnx")
            #expect(message?.hasPrefix("noise.onnx: not an ONNX model") == true, "\(message ?? "decoded")")
        }
    }

    @Test("flipped bytes in the header and in the graph")
    func flippedBytes() throws {
        var data = try sample("unet_thesis.onnx")
        data[0] ^= 0xFF  // the first tag becomes an invalid wire type
        #expect(decodeError(data, source: "unet_thesis.onnx")?.hasPrefix("unet_thesis.onnx: not an ONNX model: protobuf decoding failed") == true)
    }

    @Test("the bad sample files give the expected message", arguments: [
        ("escape_parent.onnx", "tensor 'w': external data location '../outside.bin' escapes the model's folder"),
        ("escape_absolute.onnx", "tensor 'w': external data location '/etc/passwd' escapes the model's folder"),
        ("missing_external_file.onnx", "tensor 'w': external data file 'does_not_exist.bin' not found"),
        ("raw_data_length_mismatch.onnx", "tensor 'w': raw_data has 60 bytes, shape [4, 4] of float32 needs 64"),
    ])
    func badSamples(_ name: String, _ detail: String) throws {
        let url = try #require(Fixtures.existing("bad/" + name))
        let message = try #require(formatError { () throws(FormatError) in _ = try ONNXFormat.read(contentsOf: url) })
        #expect(message.hasPrefix(url.path + ": "), "\(message)")
        #expect(message.contains(detail), "\(message)")
    }

    @Test("a write to a folder that does not exist names the path and leaves nothing")
    func writeFailure() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("missing/sub/m.onnx")
        let message = formatError { () throws(FormatError) in try ONNXFormat.write(Fixtures.tinyModel(), to: url) }
        #expect(message?.hasPrefix(url.path + ": ") == true, "\(message ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("a failed write keeps the previous file intact")
    func atomicReplace() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("m.onnx")
        try ONNXFormat.write(Fixtures.tinyModel(), to: url)
        let before = try Data(contentsOf: url)
        var broken = Fixtures.tinyModel(seed: 2)
        broken.graph.nodes[0].carried = CarriedFields(Data([0xFF, 0xFF, 0xFF]))  // not protobuf
        let message = formatError { () throws(FormatError) in try ONNXFormat.write(broken, to: url) }
        #expect(message?.contains("carried fields are not valid ONNX protobuf") == true, "\(message ?? "")")
        #expect(try Data(contentsOf: url) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.onnx"])
    }

    @Test("300+ random mutations of a sample decode or fail with a FormatError, never crash")
    func mutations() throws {
        let original = try sample("unet_thesis.onnx")
        var rng = SplitMix64(seed: 0x5EED)
        var decoded = 0, failed = 0
        for round in 0..<400 {
            var data = original
            let edits = Int.random(in: 1...4, using: &rng)
            for _ in 0..<edits {
                guard !data.isEmpty else { break }
                let at = Int.random(in: 0..<data.count, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: data[data.startIndex + at] ^= UInt8.random(in: 1...255, using: &rng)
                case 1: data = data.prefix(at)
                case 2:
                    let junk = (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    data.insert(contentsOf: junk, at: data.startIndex + at)
                case 3: data.insert(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], at: data.startIndex + at)
                default: data.removeSubrange(data.startIndex + at ..< data.startIndex + min(data.count, at + 8))
                }
            }
            data = Data(data)
            do {
                let model = try ONNXFormat.decode(
                    data, baseDirectory: Fixtures.samples, source: "unet_thesis.onnx", piecewise: round % 2 == 0, releasePages: false)
                _ = try ONNXFormat.encode(model)
                decoded += 1
            } catch {
                #expect(error.description.hasPrefix("unet_thesis.onnx: "), "round \(round): \(error)")
                failed += 1
            }
        }
        #expect(decoded + failed == 400)
        #expect(failed > 0 && decoded > 0, "\(decoded) decoded, \(failed) failed")
    }
}
