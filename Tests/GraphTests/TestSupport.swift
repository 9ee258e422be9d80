import Foundation
import Testing
@testable import Graph

// Small builders so each test reads as the graph it builds.

extension Attribute {
    static func int(_ name: String, _ v: Int64) -> Attribute { Attribute(name, .int(v)) }
    static func ints(_ name: String, _ v: [Int64]) -> Attribute { Attribute(name, .ints(v)) }
    static func float(_ name: String, _ v: Float) -> Attribute { Attribute(name, .float(v)) }
    static func floats(_ name: String, _ v: [Float]) -> Attribute { Attribute(name, .floats(v)) }
    static func string(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(Data(v.utf8))) }
    static func tensor(_ name: String, _ v: Tensor) -> Attribute { Attribute(name, .tensor(v)) }
}

/// An int64 initializer (1-D unless `shape` says otherwise).
func ints(_ name: String, _ values: [Int64], shape: [Int]? = nil) -> Tensor {
    Tensor(name: name, shape: shape ?? [values.count], int64s: values)
}

/// A float32 initializer (1-D unless `shape` says otherwise).
func floats(_ name: String, _ values: [Float], shape: [Int]? = nil) -> Tensor {
    Tensor(name: name, shape: shape ?? [values.count], floats: values)
}

/// A zero-filled float32 initializer of `shape`.
func weight(_ name: String, _ shape: [Int]) -> Tensor {
    Tensor(name: name, shape: shape, floats: Array(repeating: 0, count: shape.reduce(1, *)))
}

/// Runs inference on a graph made of `nodes`, with float32 runtime inputs of the given dims.
func inferGraph(
    _ nodes: [Node], inputs: [(String, [Dim])] = [], initializers: [Tensor] = [], valueInfo: [Value] = [],
    outputs: [Value] = [], opset: Int64 = 17, inputShapes: [String: [Dim]] = [:], elementType: ElementType = .float32
) throws(GraphError) -> InferredTypes {
    let graph = Graph(
        name: "test", nodes: nodes, inputs: inputs.map { Value(name: $0.0, elementType, $0.1) },
        outputs: outputs, valueInfo: valueInfo, initializers: initializers)
    return try ShapeInference.infer(graph, opsetVersion: opset, inputShapes: inputShapes)
}

/// Infers one node and returns the dims of its outputs (nil where the rank is unknown).
func inferNode(
    _ op: String, _ inputs: [String], _ attributes: [Attribute] = [], outputs: Int = 1, shapes: [(String, [Dim])],
    initializers: [Tensor] = [], opset: Int64 = 17, name: String = "n"
) throws(GraphError) -> [[Dim]?] {
    let names = (0..<outputs).map { "y\($0)" }
    let node = Node(name: name, opType: op, inputs: inputs, outputs: names, attributes: attributes)
    let result = try inferGraph([node], inputs: shapes, initializers: initializers, opset: opset)
    return names.map { result.type(of: $0)?.dims }
}

/// The problem message of a `.shapeMismatch` (or `.invalidAttribute`) thrown by `body`, after
/// checking that it names `node`.
func failure(naming node: String, _ body: () throws -> Void) -> String? {
    do {
        try body()
        Issue.record("expected an error naming \(node)")
        return nil
    } catch let error as GraphError {
        switch error {
        case .shapeMismatch(let n, let problem), .invalidAttribute(let n, _, let problem):
            #expect(n.contains(node), "error names \(n), expected \(node)")
            #expect(error.description.contains(node))
            return problem
        default:
            Issue.record("unexpected error \(error)")
            return nil
        }
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// The cost of a single node after inferring a graph holding only it.
func costOf(
    _ op: String, _ inputs: [String], _ attributes: [Attribute] = [], shapes: [(String, [Dim])],
    initializers: [Tensor] = [], opset: Int64 = 17
) throws(GraphError) -> OpCost? {
    let node = Node(name: "n", opType: op, inputs: inputs, outputs: ["out"], attributes: attributes)
    let result = try inferGraph([node], inputs: shapes, initializers: initializers, opset: opset)
    return result.cost(of: node)
}

let N = Dim.symbol("N")
