import Graph
import Testing

/// A numbering applies to the graph it was made from, and stops applying the moment either changes.
@Suite struct ValueNumberingTests {
    static let graph = Graph(
        name: "g",
        nodes: [Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["h"]),
                Node(name: "b", opType: "Add", inputs: ["h", "w"], outputs: ["y"])],
        inputs: [Value(name: "x", .float32, [.known(2)])], outputs: [Value(name: "y", type: nil)],
        initializers: [Tensor(name: "w", shape: [2], floats: [1, 2])])

    @Test func numbersValuesOnceInDeclarationOrder() throws {
        let numbering = try Self.graph.validatedNumbering()
        #expect(numbering.count == 4)
        #expect(["x", "w", "h", "y"].map { numbering[$0] } == [0, 1, 2, 3])
        #expect(numbering.nodeInputs == [[0], [2, 1]] && numbering.nodeOutputs == [[2], [3]] && numbering.initializerIDs == [1])
    }

    @Test func appliesOnlyWhileGraphAndNumberingAreUnchanged() throws {
        let numbering = try Self.graph.validatedNumbering()
        let copy = Self.graph  // the same arrays
        #expect(numbering.numbers(Self.graph) && numbering.numbers(copy))

        var rewired = Self.graph
        rewired.nodes[1].inputs[1] = "x"
        #expect(!numbering.numbers(rewired))
        var rebuilt = Self.graph  // equal, but new arrays
        rebuilt.nodes = Self.graph.nodes.map { $0 }
        #expect(rebuilt == Self.graph && !numbering.numbers(rebuilt))

        var changedInputs = numbering
        changedInputs.nodeInputs.replace(1, with: [2, 0])
        var named = numbering
        _ = named.id(for: "z")
        var unnamed = numbering
        _ = unnamed.newID()
        #expect(!changedInputs.numbers(Self.graph) && !named.numbers(Self.graph) && !unnamed.numbers(Self.graph))
        #expect(unnamed.count == 5 && unnamed[""] == nil)
        // A name numbered after an unnamed value takes the next id, not the unnamed one's.
        #expect(unnamed.id(for: "z") == 5 && unnamed.count == 6)
        // Looking a name up changes nothing.
        var looked = numbering
        _ = looked.id(for: "h")
        #expect(looked.numbers(Self.graph))
    }

    @Test func numberingFromKeysMatchesNamesAndBuildsTheNameTableWhenAsked() throws {
        // Keys as a reader would give them: one per distinct name, absent node values negative.
        var keyOf: [String: Int] = [:]
        func key(_ name: String) -> Int {
            if let k = keyOf[name] { return k }
            keyOf[name] = 100 - keyOf.count  // not in the order ids are given
            return keyOf[name]!
        }
        let g = Self.graph
        let keys = ValueNameKeys(
            inputs: g.inputs.map { key($0.name) }, initializers: g.initializers.map { key($0.name) },
            nodeInputs: NodeValueIDs(g.nodes.map { $0.inputs.map { $0.isEmpty ? -1 : key($0) } }),
            nodeOutputs: NodeValueIDs(g.nodes.map { $0.outputs.map { $0.isEmpty ? -1 : key($0) } }),
            outputs: g.outputs.map { key($0.name) }, sparseInitializers: [])
        var numbering = try g.validated(ValueNumbering(g, keys: keys, keyCount: 101))
        let byName = try g.validatedNumbering()
        #expect(numbering.count == 4 && numbering.nodeInputs == byName.nodeInputs && numbering.nodeOutputs == byName.nodeOutputs)
        #expect(numbering.inputIDs == [0] && numbering.initializerIDs == [1] && numbering.outputIDs == [3])
        #expect(numbering.ids == byName.ids && numbering["h"] == 2 && numbering.numbers(g))
        #expect(numbering.id(for: "w") == 1 && numbering.numbers(g))
        #expect(numbering.id(for: "new") == 4 && numbering["new"] == 4 && !numbering.numbers(g))
    }

    @Test func validationErrorsNameTheValue() {
        var dangling = Self.graph
        dangling.nodes[1].inputs[1] = "missing"
        #expect(throws: GraphError.danglingInput(node: "b (Add)", input: "missing")) { try dangling.validatedNumbering() }
        var twice = Self.graph
        twice.nodes[1].outputs = ["h"]
        #expect(throws: GraphError.duplicateDefinition("h", first: "node a (Relu)", second: "node b (Add)")) {
            try twice.validatedNumbering()
        }
    }
}
