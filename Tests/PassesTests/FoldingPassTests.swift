import Foundation
import Graph
import Runtime
import Testing
@testable import Passes

@Suite("Freeze, constant folding and shape folding")
struct FoldingPassTests {
    @Test("freeze: initializers listed as inputs stop being inputs; Constant nodes become initializers, shared ones once")
    func freeze() throws {
        var s = Sketch(inputs: [("x", [1, 4])])
        s.constant("w", [4, 4])
        s.graph.inputs.append(Value(name: "w", .float32, [4, 4]))
        s.node("Constant", [], ["k"], [Attribute("value", .tensor(Tensor(name: "", shape: [4], floats: [1, 2, 3, 4])))])
        s.node("MatMul", ["x", "w"], ["m"])
        s.node("Add", ["m", "k"], ["a"])
        s.node("Mul", ["a", "k"], ["y"])
        s.outputs(["y"])
        let (result, report) = try optimized(s.model, [FreezePass()])
        #expect(result.graph.inputs.map(\.name) == ["x"])
        #expect(opCount(result, "Constant") == 0)
        #expect(result.graph.initializer(named: "k")?.floatValues() == [1, 2, 3, 4])
        #expect(result.graph.nodes.filter { $0.inputs.contains("k") }.count == 2)
        #expect(report.passes[0].nodesRemoved == 1)
        try expectEquivalent(s.model, result)

        // --keep-inputs: the weight stays an input a caller may override.
        let kept = try optimized(s.model, [FreezePass()], context: PassContext(opsetVersion: 17, keepsInitializerInputs: true)).model
        #expect(kept.graph.inputs.map(\.name) == ["x", "w"])
    }

    @Test("freeze leaves a Constant that is itself a graph output")
    func constantOutput() throws {
        var s = Sketch(inputs: [])
        s.node("Constant", [], ["y"], [Attribute("value_floats", .floats([1, 2]))])
        s.outputs(["y"])
        let result = try optimized(s.model, [FreezePass()]).model
        #expect(opCount(result, "Constant") == 1)
    }

    @Test("constant folding computes chains of constant nodes with the runtime")
    func foldsChains() throws {
        var s = Sketch(inputs: [("x", [2, 3])])
        s.constant("w", [3, 2])
        s.ints("perm_shape", [2, 3])
        s.node("Transpose", ["w"], ["wt"], [Attribute("perm", .ints([1, 0]))])
        s.node("Reshape", ["wt", "perm_shape"], ["wr"])
        s.node("Neg", ["wr"], ["wn"])
        s.node("Add", ["x", "wn"], ["y"])
        s.outputs(["y"])
        let (result, report) = try optimized(s.model, [ConstantFoldingPass(), DeadCodeEliminationPass()])
        #expect(result.graph.nodes.map(\.opType) == ["Add"])
        #expect(report.passes[0].constantsFolded == 3)
        #expect(result.graph.initializers.map(\.name) == ["wn"])
        try expectEquivalent(s.model, result)
    }

    @Test("constant folding leaves results larger than their inputs, random ops, and overridable inputs")
    func foldingLimits() throws {
        var s = Sketch(inputs: [("x", [64, 64])])
        s.constant("one", [1], [1])
        s.ints("big", [64, 64])
        s.node("Expand", ["one", "big"], ["ones"])
        s.node("RandomNormalLike", ["one"], ["noise"])
        s.node("Mul", ["noise", "one"], ["n2"])
        s.node("Add", ["x", "ones"], ["y"])
        s.outputs(["y", "n2"])
        let result = try optimized(s.model, [ConstantFoldingPass()]).model
        #expect(opCount(result, "Expand") == 1)
        #expect(opCount(result, "RandomNormalLike") == 1 && opCount(result, "Mul") == 1)

        var t = Sketch(inputs: [("x", [2])])
        t.constant("k", [2], [1, 2])
        t.graph.inputs.append(Value(name: "k", .float32, [2]))
        t.node("Neg", ["k"], ["nk"])
        t.node("Add", ["x", "nk"], ["y"])
        t.outputs(["y"])
        let kept = try optimized(t.model, [ConstantFoldingPass()], context: PassContext(opsetVersion: 17, keepsInitializerInputs: true)).model
        #expect(opCount(kept, "Neg") == 1)
        let frozen = try optimized(t.model, [FreezePass(), ConstantFoldingPass()]).model
        #expect(opCount(frozen, "Neg") == 0)
    }

    /// x[N, C, H, W] → Reshape(x, Concat(Shape(x)[dim], -1)).
    func shapeChain(batch: Dim, gather dim: Int64) -> Sketch {
        var s = Sketch(inputs: [("x", [batch, 4, 3, 5])])
        s.graph.initializers.append(Tensor(name: "index", elementType: .int64, shape: [], storage: .bytes(withUnsafeBytes(of: dim) { Data($0) })))
        s.ints("axes", [0])
        s.ints("rest", [-1])
        s.node("Shape", ["x"], ["shape"])
        s.node("Gather", ["shape", "index"], ["dim"], [Attribute("axis", .int(0))])
        s.node("Unsqueeze", ["dim", "axes"], ["dim1"])
        s.node("Concat", ["dim1", "rest"], ["target"], [Attribute("axis", .int(0))])
        s.node("Reshape", ["x", "target"], ["y"])
        s.outputs(["y"])
        return s
    }

    @Test("shape folding collapses Shape → Gather → Unsqueeze → Concat into the Reshape's constant target")
    func shapeChains() throws {
        let s = shapeChain(batch: 2, gather: 0)
        let result = try optimized(s.model).model
        #expect(result.graph.nodes.map(\.opType) == ["Reshape"])
        #expect(result.graph.initializer(named: result.graph.nodes[0].inputs[1])?.int64Values() == [2, -1])
        try expectEquivalent(s.model, result)
    }

    @Test("shape folding keeps chains that read a dynamic dim, folds those that read static ones, and bakes --input-shape in")
    func dynamicDims() throws {
        let dynamic = shapeChain(batch: .symbol("N"), gather: 0)
        let kept = try optimized(dynamic.model).model
        #expect(opCount(kept, "Shape") == 1 && opCount(kept, "Reshape") == 1)

        let channels = shapeChain(batch: .symbol("N"), gather: 1)
        let folded = try optimized(channels.model).model
        #expect(folded.graph.nodes.map(\.opType) == ["Reshape"])
        #expect(folded.graph.initializer(named: folded.graph.nodes[0].inputs[1])?.int64Values() == [4, -1])

        let fixed = try optimized(dynamic.model, context: PassContext(opsetVersion: 17, inputShapes: ["x": [3, 4, 3, 5]])).model
        #expect(fixed.graph.nodes.map(\.opType) == ["Reshape"])
        #expect(fixed.graph.inputs[0].tensorType?.dims == [3, 4, 3, 5])
        let x = NDArray(shape: [3, 4, 3, 5], floats: (0..<180).map(Float.init))
        try expectEquivalent(dynamic.model, fixed, inputs: ["x": x])
    }
}
