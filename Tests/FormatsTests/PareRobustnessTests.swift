import Foundation
import Graph
import Testing
@testable import Formats

/// Damaged `.pare` files: each must be refused with a FormatError — never a crash, never an
/// out-of-bounds read (Scripts/fuzz-pare runs this suite under the address sanitizer).
@Suite("Mobile format (.pare): damaged files")
struct PareRobustnessTests {
    /// A sample with every feature the encoder has: subgraphs, strings, sparse tensors, zstd blobs.
    static let sampleFile: Data = {
        var model = try! PareFixtures.sample("ir_features.onnx")
        model.metadata = [MetadataEntry("k", "v")]
        return try! PareFormat.encode(model, options: PareWriteOptions(compression: .zstd(level: 1), sourceSHA256: "00"))
    }()

    static let convFile: Data = try! PareFormat.encode(try! PareFixtures.sample("resnet_mini.onnx"),
                                                       options: PareWriteOptions(compression: .zstd(level: 1)))

    private func expectRefused(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try PareFormat.decode(Data(bytes), source: "damaged.pare")
            Issue.record("\(what): the damaged file was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.source == "damaged.pare" && !error.message.isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test("truncated at every section boundary, and at each byte of the header and table", arguments: [0, 1])
    func truncation(fileIndex: Int) {
        let file = [UInt8](fileIndex == 0 ? Self.sampleFile : Self.convFile)
        var cuts = Set(0..<(32 + 32 * PareFixtures.sections(Data(file)).count))
        for s in PareFixtures.sections(Data(file)) {
            cuts.formUnion([s.offset, s.offset + 1, s.offset + s.length / 2, max(0, s.offset + s.length - 1), s.offset + s.length])
        }
        cuts.remove(file.count)
        for cut in cuts.sorted() where cut < file.count {
            expectRefused(Array(file[..<cut]), "truncated to \(cut) bytes")
        }
    }

    @Test("every single-byte change in the header and section table is refused", arguments: [0, 1])
    func headerFlips(fileIndex: Int) {
        let file = [UInt8](fileIndex == 0 ? Self.sampleFile : Self.convFile)
        let tableEnd = 32 + 32 * PareFixtures.sections(Data(file)).count
        for position in 0..<tableEnd {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = file
                damaged[position] ^= mask
                expectRefused(damaged, "byte \(position) ^ \(mask)")
            }
        }
    }

    @Test("thousands of random mutations anywhere in the file are each refused", arguments: [0, 1])
    func randomMutations(fileIndex: Int) {
        let file = [UInt8](fileIndex == 0 ? Self.sampleFile : Self.convFile)
        var random = SplitMix64(seed: 0x5EED_0000 + UInt64(fileIndex))
        for trial in 0..<2000 {
            var damaged = file
            let position = random.below(file.count)
            // One byte, or a burst of up to 4 (CRC-32 detects every burst of 32 bits or fewer).
            let burst = trial % 4 == 0 ? 1 + random.below(min(4, file.count - position)) : 1
            for k in 0..<burst {
                var replacement = UInt8(truncatingIfNeeded: random.next())
                if replacement == damaged[position + k] { replacement ^= 0x5A }
                damaged[position + k] = replacement
            }
            expectRefused(damaged, "trial \(trial): \(burst) byte(s) at \(position)")
        }
    }

    @Test("wrong magic, other files, empty and tiny inputs")
    func notPare() throws {
        expectRefused([], "empty")
        expectRefused(Array("PARE".utf8), "short")
        var wrong = [UInt8](Self.convFile)
        wrong[1] = UInt8(ascii: "X")
        do {
            _ = try PareFormat.decode(Data(wrong), source: "x.pare")
            Issue.record("wrong magic accepted")
        } catch {
            #expect(error.message.contains("not a .pare file"))
        }
        let onnx = try Data(contentsOf: Fixtures.url("resnet_mini.onnx"))
        #expect(!PareFormat.hasMagic(onnx))
        expectRefused([UInt8](onnx), "an ONNX file")
    }

    @Test("a file with bytes after its declared end is refused")
    func trailingBytes() {
        expectRefused([UInt8](Self.convFile) + [0], "one extra byte")
    }

    /// `file` with the byte at `offset` of section `kind` replaced, and the section's and the
    /// header's checksums re-issued: damage only the structural checks can catch.
    @Test("a structural error names the node or tensor it was read in")
    func errorsNameTheirEntry() throws {
        let weight = Tensor(name: "w", shape: [2], floats: [1, 2])
        let graph = Graph(name: "g", nodes: [Node(name: "act", opType: "Relu", inputs: ["x"], outputs: ["y"])],
                          inputs: [Value(name: "x", .float32, [2])], outputs: [Value(name: "y", .float32, [2])],
                          initializers: [weight])
        let file = try PareFormat.encode(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
        func message(_ bytes: [UInt8]) -> String {
            do {
                _ = try PareFormat.decode(Data(bytes), source: "damaged.pare")
                return "accepted"
            } catch { return error.message }
        }
        // The graph record ends with the one node's attribute count (0); 1 asks for bytes past the end.
        let grph = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "GRPH" })
        let node = message(try PareFixtures.patched(file, section: "GRPH", offset: grph.length - 1, to: 1))
        #expect(node.hasPrefix("section GRPH, node 0 (act (Relu)): attribute count 1"), "\(node)")
        // The tensor record: count, name, type, rank, the one dimension, then the encoding.
        let tensor = message(try PareFixtures.patched(file, section: "TENS", offset: 5, to: 7))
        #expect(tensor == "section TENS, tensor 'w': unknown encoding 7", "\(tensor)")
    }

    @Test("a string stored twice is one name: a value defined under both entries is defined twice")
    func repeatedStringIsOneName() throws {
        let graph = Graph(name: "g", nodes: [Node(name: "first", opType: "Relu", inputs: ["x0"], outputs: ["h0"]),
                                             Node(name: "second", opType: "Relu", inputs: ["h0"], outputs: ["h1"])],
                          inputs: [Value(name: "x0", .float32, [2])], outputs: [Value(name: "h1", .float32, [2])])
        let file = try PareFormat.encode(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
        _ = try PareFormat.decode(file, source: "intact.pare")
        // Entry "h1" (length 2, then its bytes) rewritten as a second "h0".
        let strs = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "STRS" })
        let bytes = [UInt8](file[strs.offset..<(strs.offset + strs.length)])
        let at = try #require((0..<(bytes.count - 2)).first { bytes[$0...].starts(with: [2] + Array("h1".utf8)) })
        let damaged = try PareFixtures.patched(file, section: "STRS", offset: at + 2, to: UInt8(ascii: "0"))
        let error = #expect(throws: FormatError.self) { try PareFormat.decode(Data(damaged), source: "damaged.pare") }
        #expect(error?.message == "value 'h0' is defined twice: by node first (Relu) and by node second (Relu)", "\(String(describing: error))")
    }

    @Test("metadata signatures must be the graph's: a changed dimension is refused; an input that is an initializer is left out")
    func signatures() throws {
        let graph = Graph(name: "g", nodes: [Node(name: "act", opType: "Add", inputs: ["x", "w"], outputs: ["y"])],
                          inputs: [Value(name: "x", .float32, [2])], outputs: [Value(name: "y", .float32, [2])],
                          initializers: [Tensor(name: "w", shape: [2], floats: [1, 2])])
        let file = try PareFormat.encode(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
        _ = try PareFormat.decode(file, source: "intact.pare")
        // The last byte of META is the output's one dimension, stored as 2 + 2.
        let meta = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "META" })
        #expect(file[meta.offset + meta.length - 1] == 4)
        let damaged = try PareFixtures.patched(file, section: "META", offset: meta.length - 1, to: 5)
        let error = #expect(throws: FormatError.self) { try PareFormat.decode(Data(damaged), source: "damaged.pare") }
        #expect(error?.message == "section META: the input/output signatures differ from the graph's inputs and outputs", "\(String(describing: error))")

        // A graph input with an initializer (its default value) is not a runtime input, so the
        // signature lists only x: the signatures are compared as values, not as bytes.
        var withDefault = graph
        withDefault.inputs.append(Value(name: "w", .float32, [2]))
        let decoded = try PareFormat.decode(try PareFormat.encode(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: withDefault)),
                                            source: "default.pare")
        #expect(decoded.model.graph.inputs.map(\.name) == ["x", "w"] && decoded.model.graph.runtimeInputs.map(\.name) == ["x"])
    }

    @Test("a blob placed over an earlier one is refused, naming both")
    func overlappingBlobs() throws {
        let weights = (1...3).map { Tensor(name: "w\($0)", shape: [16], floats: (0..<16).map { Float($0) }) }
        let graph = Graph(name: "g", nodes: [Node(name: "act", opType: "Relu", inputs: ["x"], outputs: ["y"])],
                          inputs: [Value(name: "x", .float32, [16])], outputs: [Value(name: "y", .float32, [16])],
                          initializers: weights)
        let file = try PareFormat.encode(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
        let tens = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "TENS" })
        let data = try #require(PareFixtures.sections(file).first { PareLayout.Section.tag($0.kind) == "DATA" })
        // Each 64-byte blob is recorded as offset, then length 64: w3's offset is 128.
        let bytes = [UInt8](file[tens.offset..<(tens.offset + tens.length)])
        let at = try #require((0..<(bytes.count - 1)).first { bytes[$0] == 128 && bytes[$0 + 1] == 1 && bytes[$0 + 2] == 64 })
        for (offset, overlapped) in [(64, 1), (0, 0)] {
            // The offset rewritten in two varint bytes, as 128 took: offset | 0x80, then 0.
            let first = try PareFixtures.patched(file, section: "TENS", offset: at, to: UInt8(offset) | 0x80)
            let damaged = try PareFixtures.patched(Data(first), section: "TENS", offset: at + 1, to: 0)
            let error = #expect(throws: FormatError.self) { try PareFormat.decode(Data(damaged), source: "damaged.pare") }
            let blob = data.offset + offset, earlier = data.offset + 64 * overlapped
            #expect(error?.message.hasPrefix("section TENS, tensor 'w3': blob \(blob)..<\(blob + 64) overlaps blob \(earlier)..<\(earlier + 64)") == true,
                    "\(String(describing: error))")
        }
    }

    @Test("a nonzero byte anywhere in the padding before the data section is refused, naming its offset")
    func nonzeroPadding() throws {
        for file in [Self.sampleFile, Self.convFile] {
            let sections = PareFixtures.sections(file)
            let data = try #require(sections.first { PareLayout.Section.tag($0.kind) == "DATA" })
            let gapStart = sections.filter { $0.offset < data.offset }.map { $0.offset + $0.length }.max() ?? 0
            #expect(gapStart < data.offset, "the sample has no padding before DATA")
            for offset in gapStart..<data.offset {
                var bytes = [UInt8](file)
                bytes[offset] = 7
                let error = #expect(throws: FormatError.self) { try PareFormat.decode(Data(bytes), source: "padded.pare") }
                #expect(error?.message == "padding byte at offset \(offset) is 7, not zero (the file is corrupt)")
            }
        }
    }

    @Test("reading a damaged file from disk names the file")
    func namesFile() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("cut.pare")
        try Self.convFile.prefix(Self.convFile.count / 2).write(to: url)
        let error = #expect(throws: FormatError.self) { try PareFormat.read(contentsOf: url) }
        #expect(error?.description.hasPrefix(url.path) == true)
        #expect(error?.message.contains("truncated") == true)
    }
}
