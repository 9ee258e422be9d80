import Foundation
import Testing
@testable import Graph

@Suite struct TopologicalOrderTests {
    func relu(_ name: String, _ input: String, _ output: String) -> Node {
        Node(name: name, opType: "Relu", inputs: [input], outputs: [output])
    }

    @Test func orderedGraphKeepsItsOrder() throws {
        let graph = Graph(nodes: [relu("a", "x", "a"), relu("b", "x", "b"), relu("c", "a", "c"), relu("d", "b", "d")])
        #expect(try graph.topologicalOrder() == [0, 1, 2, 3])
    }

    @Test func producersMoveBeforeConsumersStably() throws {
        // c reads b's output; independent nodes keep their relative order.
        var graph = Graph(nodes: [relu("c", "b", "c"), relu("z", "x", "z"), relu("b", "x", "b"), relu("y", "x", "y")])
        #expect(try graph.topologicalOrder() == [1, 2, 0, 3])
        try graph.sortTopologically()
        #expect(graph.nodes.map(\.name) == ["z", "b", "c", "y"])
    }

    @Test func subgraphReadsCountAsDependencies() throws {
        let body = Graph(nodes: [relu("inner", "late", "i")], outputs: [Value(name: "i", .float32, nil)])
        let ifNode = Node(name: "if", opType: "If", inputs: ["cond"], outputs: ["o"], attributes: [Attribute("then_branch", .graph(body))])
        let graph = Graph(nodes: [ifNode, relu("producer", "x", "late")])
        #expect(try graph.topologicalOrder() == [1, 0])
    }

    @Test func cycleNamesItsNodes() {
        let graph = Graph(nodes: [relu("ok", "x", "o"), relu("p", "q", "p"), relu("q", "p", "q")])
        let error = #expect(throws: GraphError.self) { _ = try graph.topologicalOrder() }
        #expect(error == .cycle(["p (Relu)", "q (Relu)"]))
    }
}

@Suite struct ValidationTests {
    let input = Value(name: "x", .float32, [1])

    @Test func validGraphPasses() throws {
        let graph = Graph(nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["y"])], inputs: [input], outputs: [Value(name: "y", .float32, [1])])
        try graph.validate()
    }

    @Test func dependencyOrderIsOptionalButCyclesAreNot() throws {
        func relu(_ name: String, _ input: String, _ output: String) -> Node {
            Node(name: name, opType: "Relu", inputs: [input], outputs: [output])
        }
        let y = [Value(name: "y", .float32, [1])]
        // Valid though stored consumer first: validation falls back to the full sort.
        try Graph(nodes: [relu("late", "h", "y"), relu("early", "x", "h")], inputs: [input], outputs: y).validate()
        let cycle = Graph(nodes: [relu("p", "q", "p"), relu("q", "p", "q"), relu("out", "p", "y")], inputs: [input], outputs: y)
        #expect(throws: GraphError.cycle(["p (Relu)", "q (Relu)", "out (Relu)"])) { try cycle.validate() }
        let selfLoop = Graph(nodes: [relu("loop", "y", "y")], inputs: [input], outputs: y)
        #expect(throws: GraphError.cycle(["loop (Relu)"])) { try selfLoop.validate() }
    }

    @Test func danglingInputNamesNodeAndValue() {
        let graph = Graph(nodes: [Node(name: "act", opType: "Relu", inputs: ["missing"], outputs: ["y"])], inputs: [input])
        let error = #expect(throws: GraphError.self) { try graph.validate() }
        #expect(error == .danglingInput(node: "act (Relu)", input: "missing"))
        #expect(error?.description.contains("'missing'") == true)
    }

    @Test func duplicateDefinitionNamesBoth() {
        let graph = Graph(
            nodes: [Node(name: "one", opType: "Relu", inputs: ["x"], outputs: ["y"]), Node(name: "two", opType: "Relu", inputs: ["x"], outputs: ["y"])],
            inputs: [input])
        let error = #expect(throws: GraphError.self) { try graph.validate() }
        #expect(error == .duplicateDefinition("y", first: "node one (Relu)", second: "node two (Relu)"))
        let twice = Graph(inputs: [input, input])
        #expect(throws: GraphError.duplicateDefinition("x", first: "a graph input", second: "a graph input")) { try twice.validate() }
        let initializerAndInput = Graph(inputs: [Value(name: "w", .float32, [1])], initializers: [weight("w", [1])])
        #expect(throws: Never.self) { try initializerAndInput.validate() }
    }

    @Test func undefinedOutputNamed() {
        let graph = Graph(inputs: [input], outputs: [Value(name: "ghost", .float32, nil)])
        let error = #expect(throws: GraphError.self) { try graph.validate() }
        #expect(error == .undefinedOutput("ghost"))
    }

    @Test func subgraphSeesOuterScope() throws {
        let body = Graph(nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["i"])], outputs: [Value(name: "i", .float32, nil)])
        let graph = Graph(nodes: [Node(opType: "If", inputs: ["x"], outputs: ["o"], attributes: [Attribute("then_branch", .graph(body))])],
                          inputs: [input], outputs: [Value(name: "o", .float32, nil)])
        try graph.validate()
    }
}

@Suite struct GraphIndexTests {
    @Test func producersAndConsumers() {
        let graph = Graph(
            nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["a"]),
                    Node(opType: "Add", inputs: ["a", "a"], outputs: ["b"]),
                    Node(opType: "Mul", inputs: ["a", "w"], outputs: ["c"])],
            inputs: [Value(name: "x", .float32, [1])], outputs: [Value(name: "c", .float32, [1])], initializers: [weight("w", [1])])
        let index = GraphIndex(graph)
        #expect(index.producer["a"] == 0)
        #expect(index.consumers(of: "a") == [1, 2])
        #expect(index.consumers(of: "c") == [])
        #expect(index.isInitializer("w"))
        #expect(!index.isInitializer("x"))
        #expect(index.graphInputs == ["x"])
        #expect(index.graphOutputs == ["c"])
    }
}

@Suite struct TensorTests {
    @Test func sparseLinearAndCoordinateIndices() throws {
        let linear = SparseTensor(values: floats("s", [1, 2]), indices: ints("i", [1, 5]), shape: [2, 3])
        #expect(try linear.densified().floatValues() == [0, 1, 0, 0, 0, 2])
        let coordinates = SparseTensor(values: floats("s", [1, 2]), indices: ints("i", [0, 1, 1, 2], shape: [2, 2]), shape: [2, 3])
        let dense = try coordinates.densified()
        #expect(dense.floatValues() == [0, 1, 0, 0, 0, 2])
        #expect(dense.shape == [2, 3])
        #expect(dense.name == "s")
    }

    @Test func sparseRejectsOutOfRangeIndices() {
        let linear = SparseTensor(values: floats("s", [1]), indices: ints("i", [6]), shape: [2, 3])
        #expect(throws: GraphError.self) { try linear.densified() }
        // (0, 5) has an in-range linear offset but is outside axis 1.
        let coordinate = SparseTensor(values: floats("s", [1]), indices: ints("i", [0, 5], shape: [1, 2]), shape: [2, 3])
        #expect(throws: GraphError.self) { try coordinate.densified() }
        let negative = SparseTensor(values: floats("s", [1]), indices: ints("i", [1, -1], shape: [1, 2]), shape: [2, 3])
        #expect(throws: GraphError.self) { try negative.densified() }
        let mismatched = SparseTensor(values: floats("s", [1, 2]), indices: ints("i", [0]), shape: [2, 3])
        #expect(throws: GraphError.self) { try mismatched.densified() }
    }

    @Test func halfToFloatEdgeCases() {
        #expect(halfToFloat(0x0000) == 0)
        #expect(halfToFloat(0x8000).sign == .minus)
        #expect(halfToFloat(0x3C00) == 1)
        #expect(halfToFloat(0xC000) == -2)
        #expect(halfToFloat(0x7BFF) == 65504)
        #expect(halfToFloat(0x0001) == 0x1p-24)
        #expect(halfToFloat(0x03FF) == Float(1023) * 0x1p-24)
        #expect(halfToFloat(0x8001) == -0x1p-24)
        #expect(halfToFloat(0x0400) == 0x1p-14)
        #expect(halfToFloat(0x7C00) == .infinity)
        #expect(halfToFloat(0xFC00) == -.infinity)
        #expect(halfToFloat(0x7E00).isNaN)
        #expect(halfToFloat(0x7C01).isNaN)
    }

    @Test func valuesFromUnalignedBytes() {
        // A tensor whose bytes start at an odd offset, like a slice of a memory-mapped file.
        let whole = Data([0xFF]) + [Float(1.5), -2].withUnsafeBytes { Data($0) }
        let tensor = Tensor(name: "t", elementType: .float32, shape: [2], storage: .bytes(whole.dropFirst()))
        #expect(tensor.floatValues() == [1.5, -2])
        let int32s = Data([0xFF]) + [Int32(7), -9].withUnsafeBytes { Data($0) }
        #expect(Tensor(name: "i", elementType: .int32, shape: [2], storage: .bytes(int32s.dropFirst())).int64Values() == [7, -9])
        let halves = Tensor(name: "h", elementType: .float16, shape: [2], storage: .bytes(Data([0x00, 0x3C, 0x00, 0xC0])))
        #expect(halves.floatValues() == [1, -2])
    }

    @Test func validateCatchesSizeMismatch() {
        let bad = Tensor(name: "bad", elementType: .float32, shape: [3], storage: .bytes(Data(count: 8)))
        let error = #expect(throws: GraphError.self) { try bad.validate() }
        #expect(error?.description.contains("'bad'") == true)
    }
}
