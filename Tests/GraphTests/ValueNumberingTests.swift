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
        changedInputs.nodeInputs[1][1] = 0
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
