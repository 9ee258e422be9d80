import Testing
@testable import Graph

@Suite struct ShapeInferenceTests {
    /// x [N, 3, 4, 4] → Shape → Gather(0) → Unsqueeze → Concat with [-1] → Reshape: [N, 48].
    @Test func symbolicBatchShapeChainResolves() throws {
        for opset: Int64 in [11, 13] {
            let unsqueeze = opset >= 13
                ? Node(opType: "Unsqueeze", inputs: ["n", "axis0"], outputs: ["n1"])
                : Node(opType: "Unsqueeze", inputs: ["n"], outputs: ["n1"], attributes: [.ints("axes", [0])])
            let result = try inferGraph(
                [Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
                 Node(opType: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: [.int("axis", 0)]),
                 unsqueeze,
                 Node(opType: "Concat", inputs: ["n1", "minus1"], outputs: ["target"], attributes: [.int("axis", 0)]),
                 Node(opType: "Reshape", inputs: ["x", "target"], outputs: ["y"])],
                inputs: [("x", [N, 3, 4, 4])],
                initializers: [ints("zero", [0], shape: []), ints("axis0", [0]), ints("minus1", [-1])], opset: opset)
            #expect(result.type(of: "n") == TensorType(.int64, []))
            #expect(result.symbolicValues["target"] == [N, -1])
            #expect(result.type(of: "y") == TensorType(.float32, [N, 48]))
        }
    }

    /// H·W computed with Mul from gathered dims folds to a constant next to the symbolic batch.
    @Test func arithmeticOnShapeElements() throws {
        let result = try inferGraph(
            [Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
             Node(opType: "Slice", inputs: ["s", "start", "end"], outputs: ["hw"]),
             Node(opType: "ReduceProd", inputs: ["hw"], outputs: ["area"], attributes: [.int("keepdims", 1)]),
             Node(opType: "Slice", inputs: ["s", "zero", "two"], outputs: ["nc"]),
             Node(opType: "Concat", inputs: ["nc", "area"], outputs: ["target"], attributes: [.int("axis", 0)]),
             Node(opType: "Reshape", inputs: ["x", "target"], outputs: ["y"]),
             Node(opType: "Mul", inputs: ["s", "two"], outputs: ["doubled"])],
            inputs: [("x", [N, 8, 5, 6])],
            initializers: [ints("start", [2]), ints("end", [.max]), ints("zero", [0]), ints("two", [2])], opset: 13)
        #expect(result.values["area"]?.int64Values() == [30])
        #expect(result.type(of: "y") == TensorType(.float32, [N, 8, 30]))
        #expect(result.symbolicValues["doubled"] == [.unknown, 16, 10, 12])
    }

    @Test func unknownOpOutputsStayUnknownUnlessDeclared() throws {
        let custom = Node(name: "mystery", opType: "FancyOp", domain: "com.example", inputs: ["x"], outputs: ["a", "b"])
        let loop = Node(opType: "If", inputs: ["c"], outputs: ["z"])
        let after = Node(opType: "Relu", inputs: ["b"], outputs: ["r"])
        let result = try inferGraph(
            [custom, loop, after], inputs: [("x", [2, 3]), ("c", [])],
            valueInfo: [Value(name: "b", .float32, [7, N])])
        #expect(result.type(of: "a") == nil)
        #expect(result.type(of: "b") == TensorType(.float32, [7, N]))
        #expect(result.type(of: "r") == TensorType(.float32, [7, N]))
        #expect(result.type(of: "z") == nil)
        #expect(result.unknownOps == ["If", "com.example.FancyOp"])
    }

    @Test func inferredTypeWinsAndDeclaredFillsGaps() throws {
        let result = try inferGraph(
            [Node(opType: "Relu", inputs: ["x"], outputs: ["r"]),
             Node(opType: "NonZero", inputs: ["x"], outputs: ["nz"])],
            inputs: [("x", [2, 3])],
            valueInfo: [Value(name: "r", .float32, [9, 9]), Value(name: "nz", .int64, [2, 5])])
        #expect(result.type(of: "r") == TensorType(.float32, [2, 3]))
        #expect(result.type(of: "nz") == TensorType(.int64, [2, 5]))
    }

    @Test func inputShapeOverrides() throws {
        let conv = Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: [.ints("pads", [1, 1, 1, 1])])
        let result = try inferGraph([conv], inputs: [("x", [N, 3, .symbol("H"), .symbol("W")])],
                                    initializers: [weight("w", [8, 3, 3, 3])], inputShapes: ["x": [2, 3, 32, 48]])
        #expect(result.type(of: "x") == TensorType(.float32, [2, 3, 32, 48]))
        #expect(result.type(of: "y") == TensorType(.float32, [2, 8, 32, 48]))
        #expect(result.cost(of: conv) == OpCost(macs: 27 * 8 * 2 * 32 * 48, flops: 2 * 27 * 8 * 2 * 32 * 48))
    }

    @Test func overrideOfUnknownInputNamesTheModelsInputs() {
        let error = #expect(throws: GraphError.self) {
            _ = try inferGraph([], inputs: [("image", [N, 3, 224, 224])], initializers: [weight("w", [1])],
                               inputShapes: ["w": [1]])
        }
        guard case .invalidInputShape(let message)? = error else { return }
        #expect(message.contains("'w' is not an input"))
        #expect(message.contains("'image' [N×3×224×224]"))
    }

    @Test func overrideWithWrongRank() {
        let error = #expect(throws: GraphError.self) {
            _ = try inferGraph([], inputs: [("image", [N, 3, 224, 224])], inputShapes: ["image": [3, 224, 224]])
        }
        guard case .invalidInputShape(let message)? = error else { return }
        #expect(message.contains("rank 4"))
        #expect(message.contains("rank 3"))
    }

    @Test func initializersAndSparseInitializersSeedTypes() throws {
        let sparse = SparseTensor(values: floats("sp", [1, 2]), indices: ints("idx", [0, 3]), shape: [2, 2])
        let graph = Graph(
            nodes: [Node(opType: "Add", inputs: ["sp", "w"], outputs: ["y"])],
            inputs: [Value(name: "w", .float32, [2, 2])], initializers: [weight("w", [2, 2])], sparseInitializers: [sparse])
        let result = try ShapeInference.infer(graph, opsetVersion: 17)
        #expect(result.type(of: "sp") == TensorType(.float32, [2, 2]))
        #expect(result.values["sp"]?.floatValues() == [1, 0, 0, 2])
        #expect(result.type(of: "y") == TensorType(.float32, [2, 2]))
        #expect(result.values["y"]?.floatValues() == [1, 0, 0, 2])
    }

    @Test func outerScopeTypes() throws {
        let graph = Graph(nodes: [Node(opType: "Relu", inputs: ["outer"], outputs: ["y"])])
        let result = try ShapeInference.infer(graph, opsetVersion: 17, outerScope: ["outer": TensorType(.float32, [4])])
        #expect(result.type(of: "y") == TensorType(.float32, [4]))
    }

    @Test func cycleIsReported() {
        let error = #expect(throws: GraphError.self) {
            _ = try inferGraph([Node(opType: "Relu", inputs: ["b"], outputs: ["a"]), Node(opType: "Relu", inputs: ["a"], outputs: ["b"])])
        }
        guard case .cycle(let nodes)? = error else { return }
        #expect(nodes.count == 2)
    }

    @Test func registry() {
        #expect(OpSchemas.lookup("Conv", domain: "")?.opType == "Conv")
        #expect(OpSchemas.lookup("Conv", domain: "ai.onnx")?.opType == "Conv")
        #expect(OpSchemas.lookup("Conv", domain: "com.microsoft") == nil)
        #expect(OpSchemas.lookup("NoSuchOp", domain: "") == nil)
        let names = OpSchemas.all.map(\.opType)
        #expect(names == names.sorted())
        for op in ["ConvTranspose", "Resize", "Upsample", "ReduceSumSquare", "TopK", "DequantizeLinear"] { #expect(names.contains(op)) }
        #expect(Set(names).count == names.count)
    }
}
