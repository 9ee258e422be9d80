import Foundation
import Formats
import Graph
import Runtime

/// Runs the ONNX project's backend node tests (shipped in the onnx pip package as
/// `onnx/backend/test/data/node/<test>/model.onnx` plus `test_data_set_N/{input,output}_K.pb`).
enum Conformance {
    /// The node test folder, from PARE_ONNX_NODE_TESTS (Scripts/test sets it).
    static let folder: URL? = ProcessInfo.processInfo.environment["PARE_ONNX_NODE_TESTS"].map { URL(fileURLWithPath: $0) }

    /// The ops the runtime must execute, each with every backend test of it passing.
    static let requiredOps: Set<String> = [
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "BatchNormalization", "LayerNormalization", "InstanceNormalization", "Relu", "LeakyRelu", "PRelu",
        "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu", "Erf", "Clip", "Softmax", "LogSoftmax",
        "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Max", "Min", "Sum", "Mean",
        "MatMul", "Gemm", "Concat", "Split", "Slice", "Gather", "Reshape", "Flatten", "Transpose", "Squeeze",
        "Unsqueeze", "Expand", "Tile", "Pad", "Shape", "Constant", "ConstantOfShape", "Cast", "Identity",
        "Dropout", "ReduceMean", "ReduceSum", "ReduceMax", "ArgMax", "Resize", "Upsample", "Where", "Equal",
        "Greater", "Less", "Not", "And", "DepthToSpace", "SpaceToDepth", "QuantizeLinear", "DequantizeLinear",
    ]

    /// Backend tests that use only ops the runtime has kernels for but are excluded, with the reason.
    /// Each kernel family keeps its own list (Exclusions*.swift); docs/conformance.md lists them all.
    static let exclusions: [String: String] = {
        var all: [String: String] = [:]
        for list in [convolutionExclusions, elementwiseExclusions, tensorExclusions, normalizationExclusions] {
            all.merge(list) { first, _ in first }
        }
        return all
    }()

    enum Outcome: Equatable {
        case passed
        case failed(String)
        /// Uses an op without a kernel: not a test of the runtime.
        case outOfScope
    }

    /// Every test folder, sorted by name.
    static func testNames() -> [String] {
        guard let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.filter { $0.hasPrefix("test_") }.sorted()
    }

    static func run(_ name: String, threads: Int = 1) -> Outcome {
        let directory = folder!.appendingPathComponent(name)
        let model: Model
        do {
            model = try ONNXFormat.read(contentsOf: directory.appendingPathComponent("model.onnx"))
        } catch {
            return .failed("cannot read model: \(error)")
        }
        if allNodes(model.graph).contains(where: { KernelRegistry.factory(for: $0) == nil }) { return .outOfScope }
        let session: Session
        do {
            session = try Session(model: model, options: SessionOptions(threads: threads))
        } catch {
            return .failed("cannot create session: \(error)")
        }
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("test_data_set_") }.sorted()
        for set in sets {
            let setURL = directory.appendingPathComponent(set)
            do {
                var feeds: [String: NDArray] = [:]
                for (k, input) in model.graph.runtimeInputs.enumerated() {
                    let url = setURL.appendingPathComponent("input_\(k).pb")
                    guard FileManager.default.fileExists(atPath: url.path) else { continue }
                    let tensor = try ONNXFormat.decodeTensor(Data(contentsOf: url), baseDirectory: setURL, source: url.path)
                    feeds[input.name] = try NDArray(tensor)
                }
                let results = try session.run(feeds)
                for (k, output) in model.graph.outputs.enumerated() {
                    let url = setURL.appendingPathComponent("output_\(k).pb")
                    let expected = try ONNXFormat.decodeTensor(Data(contentsOf: url), baseDirectory: setURL, source: url.path)
                    guard let actual = results[output.name] else { return .failed("\(set): output '\(output.name)' missing") }
                    if let problem = compare(actual, expected) { return .failed("\(set): output '\(output.name)': \(problem)") }
                }
            } catch {
                return .failed("\(set): \(error)")
            }
        }
        return .passed
    }

    /// The nodes of a graph and of all its subgraphs.
    static func allNodes(_ graph: Graph) -> [Node] {
        graph.nodes + graph.nodes.flatMap { $0.subgraphs.flatMap(allNodes) }
    }

    /// nil when `actual` matches `expected` as the ONNX backend tests require (rtol 1e-3, atol 1e-7
    /// for floats, loosened to 1e-5 absolute; integers and booleans exactly).
    static func compare(_ actual: NDArray, _ expected: Tensor) -> String? {
        guard actual.elementType == expected.elementType else {
            return "type \(actual.elementType), expected \(expected.elementType)"
        }
        guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
        // Exotic float types (float8, float4, …) have no Float view: they are compared bit for bit below.
        if expected.elementType.isFloatingPoint, let e = expected.floatValues() {
            let a = actual.floatArray()
            guard a.count == e.count else { return "cannot compare \(expected.elementType) values" }
            for i in a.indices {
                if a[i].isNaN && e[i].isNaN { continue }
                if a[i] == e[i] { continue }
                if abs(a[i] - e[i]) > 1e-5 + 1e-3 * abs(e[i]) {
                    return "element \(i) is \(a[i]), expected \(e[i])"
                }
            }
            return nil
        }
        guard case .bytes(let want) = expected.storage else { return "string outputs are not supported" }
        let got = Data(bytes: actual.buffer.pointer, count: actual.byteCount)
        if got != want {
            let a = actual.int64Array(), e = expected.int64Values() ?? []
            let first = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }
            return first.map { "element \($0.offset) is \($0.element.0), expected \($0.element.1)" } ?? "values differ"
        }
        return nil
    }
}
