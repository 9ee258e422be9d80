import Testing
@testable import Graph

@Suite struct ElementwiseTests {
    @Test func broadcastingBinaryOps() throws {
        let out = try inferNode("Add", ["a", "b"], shapes: [("a", [N, 3, 1, 5]), ("b", [4, 1])])
        #expect(out[0] == [N, 3, 4, 5])
        let symbols = try inferNode("Mul", ["a", "b"], shapes: [("a", [N, 1]), ("b", [N, 7])])
        #expect(symbols[0] == [N, 7])
    }

    @Test func comparisonsAndLogicAreBool() throws {
        let result = try inferGraph(
            [Node(opType: "Less", inputs: ["a", "b"], outputs: ["lt"]), Node(opType: "Not", inputs: ["lt"], outputs: ["not"]),
             Node(opType: "IsNaN", inputs: ["a"], outputs: ["nan"])],
            inputs: [("a", [2, 3]), ("b", [3])])
        #expect(result.type(of: "lt") == TensorType(.bool, [2, 3]))
        #expect(result.type(of: "not") == TensorType(.bool, [2, 3]))
        #expect(result.type(of: "nan") == TensorType(.bool, [2, 3]))
    }

    @Test func whereBroadcastsThreeWays() throws {
        let out = try inferNode("Where", ["c", "x", "y"], shapes: [("c", [2, 1, 1]), ("x", [1, 3, 1]), ("y", [4])])
        #expect(out[0] == [2, 3, 4])
    }

    @Test func variadicAndUnary() throws {
        #expect(try inferNode("Max", ["a", "b", "c"], shapes: [("a", [3, 1]), ("b", [1, 4]), ("c", [4])])[0] == [3, 4])
        #expect(try inferNode("Gelu", ["a"], shapes: [("a", [N, 8])], opset: 20)[0] == [N, 8])
        #expect(try inferNode("Softmax", ["a"], [.int("axis", -1)], shapes: [("a", [2, 8])])[0] == [2, 8])
        #expect(try inferNode("PRelu", ["a", "s"], shapes: [("a", [1, 8, 4, 4])], initializers: [weight("s", [8, 1, 1])])[0] == [1, 8, 4, 4])
    }

    @Test func nonBroadcastableAddNamesNode() {
        let problem = failure(naming: "residual") {
            _ = try inferNode("Add", ["a", "b"], shapes: [("a", [1, 64, 8, 8]), ("b", [1, 32, 8, 8])], name: "residual")
        }
        #expect(problem?.contains("64 vs 32") == true)
    }

    @Test func castAndCastLike() throws {
        let result = try inferGraph(
            [Node(opType: "Cast", inputs: ["a"], outputs: ["c"], attributes: [.int("to", Int64(ElementType.float16.rawValue))]),
             Node(opType: "CastLike", inputs: ["a", "i"], outputs: ["d"])],
            inputs: [("a", [2, 3])], initializers: [ints("i", [1])])
        #expect(result.type(of: "c") == TensorType(.float16, [2, 3]))
        #expect(result.type(of: "d") == TensorType(.int64, [2, 3]))
    }

    @Test func quantizeTypes() throws {
        let result = try inferGraph(
            [Node(opType: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["q"]),
             Node(opType: "DequantizeLinear", inputs: ["q", "s", "z"], outputs: ["d"])],
            inputs: [("x", [1, 4])],
            initializers: [floats("s", [0.1], shape: []),
                           Tensor(name: "z", elementType: .int8, shape: [], storage: .bytes(.init([0])))])
        #expect(result.type(of: "q") == TensorType(.int8, [1, 4]))
        #expect(result.type(of: "d") == TensorType(.float32, [1, 4]))
    }

    @Test func constantFolding() throws {
        let result = try inferGraph(
            [Node(opType: "Mul", inputs: ["a", "b"], outputs: ["m"]),
             Node(opType: "Div", inputs: ["m", "two"], outputs: ["d"]),
             Node(opType: "Equal", inputs: ["d", "a"], outputs: ["e"]),
             Node(opType: "Where", inputs: ["e", "a", "b"], outputs: ["w"]),
             Node(opType: "Min", inputs: ["a", "b"], outputs: ["lo"]),
             Node(opType: "Cast", inputs: ["half"], outputs: ["hi"], attributes: [.int("to", 7)])],
            initializers: [ints("a", [2, 3]), ints("b", [4, 6]), ints("two", [2], shape: []), floats("half", [2.5, -1.5])])
        #expect(result.values["m"]?.int64Values() == [8, 18])
        #expect(result.values["d"]?.int64Values() == [4, 9])
        #expect(result.values["e"]?.int64Values() == [0, 0])
        #expect(result.values["e"]?.elementType == .bool)
        #expect(result.values["w"]?.int64Values() == [4, 6])
        #expect(result.values["lo"]?.int64Values() == [2, 3])
        #expect(result.values["hi"]?.int64Values() == [2, -1])
    }

    @Test func elementwiseCosts() throws {
        #expect(try costOf("Relu", ["x"], shapes: [("x", [2, 3, 4])]) == OpCost(flops: 24))
        #expect(try costOf("Add", ["x", "y"], shapes: [("x", [2, 3, 4]), ("y", [4])]) == OpCost(flops: 24))
        #expect(try costOf("Sum", ["x", "y", "z"], shapes: [("x", [10]), ("y", [10]), ("z", [10])]) == OpCost(flops: 20))
        #expect(try costOf("Softmax", ["x"], shapes: [("x", [2, 5])]) == OpCost(flops: 30))
        #expect(try costOf("Where", ["c", "x", "y"], shapes: [("c", [3]), ("x", [3]), ("y", [3])]) == OpCost(flops: 3))
        #expect(try costOf("Cast", ["x"], [.int("to", 7)], shapes: [("x", [3])]) == .zero)
        #expect(try costOf("Sigmoid", ["x"], shapes: [("x", [N, 3])]) == nil)
    }
}

@Suite struct LinearAlgebraTests {
    @Test func matMulBatchBroadcastAndPromotion() throws {
        #expect(try inferNode("MatMul", ["a", "b"], shapes: [("a", [2, 1, 3, 4]), ("b", [5, 4, 6])])[0] == [2, 5, 3, 6])
        #expect(try inferNode("MatMul", ["a", "b"], shapes: [("a", [4]), ("b", [5, 4, 6])])[0] == [5, 6])
        #expect(try inferNode("MatMul", ["a", "b"], shapes: [("a", [2, 3, 4]), ("b", [4])])[0] == [2, 3])
        #expect(try inferNode("MatMul", ["a", "b"], shapes: [("a", [4]), ("b", [4])])[0] == [])
        #expect(try inferNode("MatMul", ["a", "b"], shapes: [("a", [N, 7, 4]), ("b", [4, 6])])[0] == [N, 7, 6])
    }

    @Test func matMulInnerDimMismatch() {
        let problem = failure(naming: "proj") {
            _ = try inferNode("MatMul", ["a", "b"], shapes: [("a", [2, 3, 4]), ("b", [5, 6])], name: "proj")
        }
        #expect(problem?.contains("K = 4") == true)
        #expect(problem?.contains("K = 5") == true)
    }

    @Test func gemmTransposes() throws {
        let out = try inferNode("Gemm", ["a", "b", "c"], [.int("transA", 1), .int("transB", 1)],
                                shapes: [("a", [4, 3])], initializers: [weight("b", [5, 4]), weight("c", [5])])
        #expect(out[0] == [3, 5])
        let problem = failure(naming: "fc") {
            _ = try inferNode("Gemm", ["a", "b"], [.int("transB", 1)], shapes: [("a", [2, 3])],
                              initializers: [weight("b", [5, 4])], name: "fc")
        }
        #expect(problem?.contains("inner dims") == true)
    }

    @Test func costs() throws {
        let gemm = try costOf("Gemm", ["a", "b", "c"], [.int("transB", 1)], shapes: [("a", [2, 3])],
                              initializers: [weight("b", [5, 3]), weight("c", [5])])
        #expect(gemm == OpCost(macs: 2 * 3 * 5, flops: 2 * 30 + 10))
        let gemmT = try costOf("Gemm", ["a", "b"], [.int("transA", 1)], shapes: [("a", [3, 2])], initializers: [weight("b", [3, 5])])
        #expect(gemmT == OpCost(macs: 30, flops: 60))
        // Batch dims [2, 1] and [5] broadcast to [2, 5]: 10 · 3 · 4 · 6.
        let matmul = try costOf("MatMul", ["a", "b"], shapes: [("a", [2, 1, 3, 4]), ("b", [5, 4, 6])])
        #expect(matmul == OpCost(macs: 720, flops: 1440))
        let vector = try costOf("MatMul", ["a", "b"], shapes: [("a", [4]), ("b", [4, 6])])
        #expect(vector == OpCost(macs: 24, flops: 48))
    }
}
