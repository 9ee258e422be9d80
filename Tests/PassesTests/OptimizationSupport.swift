import Foundation
import Graph
import Passes
import Runtime
import Testing

/// Builds small graphs for pass tests: named inputs, deterministic pseudo-random constants, nodes.
struct Sketch {
    var graph = Graph(name: "sketch")
    var opset: Int64 = 17
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    init(inputs: [(String, [Dim])]) {
        graph.inputs = inputs.map { Value(name: $0.0, .float32, $0.1) }
    }

    /// The next pseudo-random value in [-1, 1) (SplitMix64).
    mutating func random() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }

    /// A float initializer: `values`, or pseudo-random ones (shifted by `offset`).
    @discardableResult
    mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]? = nil, offset: Float = 0) -> String {
        var data: [Float] = values ?? []
        if values == nil { for _ in 0..<shape.reduce(1, *) { data.append(random() + offset) } }
        graph.initializers.append(Tensor(name: name, shape: shape, floats: data))
        return name
    }

    @discardableResult
    mutating func ints(_ name: String, _ values: [Int64]) -> String {
        graph.initializers.append(Tensor(name: name, shape: [values.count], int64s: values))
        return name
    }

    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Attribute] = [], domain: String = "") -> String {
        graph.nodes.append(Node(name: outputs.first ?? op, opType: op, domain: domain, inputs: inputs, outputs: outputs, attributes: attributes))
        return outputs.first ?? ""
    }

    /// Conv → BatchNormalization parameters for `channels` channels, named with `prefix`.
    mutating func batchNormParameters(_ prefix: String, _ channels: Int) -> [String] {
        [constant("\(prefix)_gamma", [channels]), constant("\(prefix)_beta", [channels]),
         constant("\(prefix)_mean", [channels]), constant("\(prefix)_var", [channels], offset: 1.5)]
    }

    mutating func outputs(_ names: [String]) {
        graph.outputs = names.map { Value(name: $0, type: nil) }
    }

    var model: Model { Model(opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph) }
}

/// Runs `passes` once each (or the standard pipeline) on a copy of `model`.
func optimized(_ model: Model, _ passes: [any Pass]? = nil, context: PassContext? = nil) throws -> (model: Model, report: PipelineReport) {
    var copy = model
    let pipeline = passes.map { Pipeline($0) } ?? .standard
    let report = try pipeline.run(on: &copy, context: context ?? PassContext(opsetVersion: model.defaultOpsetVersion))
    try copy.graph.validate()
    return (copy, report)
}

/// Feeds of pseudo-random normal values for every runtime input with a static shape.
func feeds(for model: Model, seed: UInt64 = 7) throws -> [String: NDArray] {
    let inputs = model.graph.runtimeInputs
    let shapes = try Verification.resolveShapes(inputs).shapes
    return try Verification.randomInputs(inputs, shapes: shapes, seed: seed)
}

/// Expects `candidate` to compute what `reference` computes on `inputs`, within 1e-5 relative.
func expectEquivalent(_ reference: Model, _ candidate: Model, inputs: [String: NDArray]? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
    let report = try Verification.run(reference: reference, candidate: candidate, inputs: inputs ?? feeds(for: reference),
                                 tolerance: Tolerance(relative: 1e-5, absolute: 1e-6), options: SessionOptions(threads: 1, fusesConvolutions: false))
    #expect(report.passed, "outputs differ: \(report.failing.map { "\($0.name) max abs \($0.maxAbsoluteError)" })", sourceLocation: sourceLocation)
}

func opCount(_ model: Model, _ op: String) -> Int { model.graph.nodes.filter { $0.opType == op }.count }
