import Foundation
import Graph
import Passes
import Testing

/// Counts checked against figures computed independently by Samples/make_samples.py.
@Suite struct CountingTests {
    struct Expected: Decodable {
        struct OpType: Decodable {
            let count: Int
            let macs: Int
            let flops: Int
            let parameters: Int
        }
        let input_shapes: [String: [Int]]
        let parameters: Int
        let weight_parameters: Int
        let weight_bytes: Int
        let macs: Int
        let flops: Int
        let peak_activation_bytes: Int
        let per_op_type: [String: OpType]
    }

    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: Samples.url("counts.json"))
        return try! JSONDecoder().decode([String: Expected].self, from: data)
    }()

    static let sampleNames = expected.keys.filter { $0.hasSuffix(".onnx") }.sorted()

    @Test(arguments: sampleNames)
    func sampleCountsMatchTheFixtureScript(name: String) throws {
        let want = try #require(Self.expected[name])
        let model = try Samples.load(name)
        let shapes = want.input_shapes.mapValues { $0.map { Dim.known($0) } }
        let got = try Counting.count(model, inputShapes: shapes)
        #expect(got.complete, "\(name): \(got.notes)")
        #expect(got.parameters == want.parameters, "\(name) parameters")
        #expect(got.weightParameters == want.weight_parameters, "\(name) weight parameters")
        #expect(got.weightBytes == want.weight_bytes, "\(name) weight bytes")
        #expect(got.macs == want.macs, "\(name) MACs")
        #expect(got.flops == want.flops, "\(name) FLOPs")
        #expect(got.peakActivationBytes == want.peak_activation_bytes, "\(name) peak activation bytes")
        for (op, w) in want.per_op_type {
            let g = got.perOpType.first { $0.opType == op }
            #expect(g?.count == w.count, "\(name) \(op) count")
            #expect(g?.macs == w.macs, "\(name) \(op) MACs")
            #expect(g?.flops == w.flops, "\(name) \(op) FLOPs")
            #expect(g?.parameters == w.parameters, "\(name) \(op) parameters")
        }
        #expect(Set(got.perOpType.map(\.opType)) == Set(want.per_op_type.keys), "\(name) op types")
    }

    /// The published figure: U-Net, 4 poolings, 64 base channels, 1×3×320×480.
    @Test func unet4x64MatchesThePublishedCounts() throws {
        let model = NetBuilder.unet(depth: 4, base: 64, height: 320, width: 480)
        let got = try Counting.count(model)
        #expect(got.weightParameters == 31_024_896)
        #expect(got.macs == 112_892_313_600)
        let want = try #require(Self.expected["unet4_64 (formula)"])
        #expect(got.parameters == want.parameters)
        #expect(got.flops == want.flops)
        #expect(got.peakActivationBytes == want.peak_activation_bytes)
        #expect(got.weightBytes == want.weight_bytes)
    }

    @Test func dynamicBatchCountsAsOneAndSaysSo() throws {
        let model = try Samples.load("torch_opset17.onnx")
        let got = try Counting.count(model)
        #expect(got.notes.contains { $0.contains("batch") })
        #expect(got.macs == Self.expected["torch_opset17.onnx"]?.macs)
    }

    @Test func unknownOpIsReportedNotCounted() throws {
        var b = NetBuilder(input: "x", shape: [1, 3, 8, 8])
        let y = b.conv("x", 3, 4, kernel: 3, pad: 1)
        b.graph.nodes.append(Node(name: "mystery", opType: "FancyOp", domain: "com.example", inputs: [y], outputs: ["z"]))
        b.output("z")
        let got = try Counting.count(Model(graph: b.graph))
        #expect(got.unknownOps == ["FancyOp"])
        #expect(!got.complete)
        #expect(got.macs == 3 * 3 * 3 * 4 * 8 * 8)
        #expect(got.notes.contains { $0.contains("FancyOp") })
    }
}
