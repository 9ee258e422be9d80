import Graph
import Testing

@Suite struct FunctionInliningTests {
    /// Scale(x) = Mul(x, x) then LeakyRelu with alpha referring to the caller's `slope`.
    static let scale = Function(
        name: "Scale", domain: "test", inputs: ["x"], outputs: ["y"], attributeNames: ["slope"],
        nodes: [
            Node(name: "square", opType: "Mul", inputs: ["x", "x"], outputs: ["sq"]),
            Node(opType: "LeakyRelu", inputs: ["sq"], outputs: ["y"],
                 attributes: [Attribute("alpha", .reference("slope", kind: .float))]),
        ])

    static func model(_ nodes: [Node], functions: [Function]) -> Model {
        Model(
            opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: "test", version: 1)],
            graph: Graph(nodes: nodes, inputs: [Value(name: "in", .float32, [2, 3])], outputs: [Value(name: "out", type: nil)]),
            functions: functions)
    }

    @Test func callsBecomeBodiesWithRenamedValuesAndResolvedAttributes() throws {
        let call = Node(name: "call", opType: "Scale", domain: "test", inputs: ["in"], outputs: ["out"],
                        attributes: [Attribute("slope", .float(0.25))])
        let inlined = try Self.model([call], functions: [Self.scale]).inliningLocalFunctions()
        let nodes = inlined.graph.nodes
        #expect(nodes.map(\.opType) == ["Mul", "LeakyRelu"])
        #expect(nodes[0].inputs == ["in", "in"])
        #expect(nodes[0].outputs == ["out::Scale::sq"])
        #expect(nodes[1].inputs == ["out::Scale::sq"] && nodes[1].outputs == ["out"])
        #expect(nodes[1].float("alpha") == 0.25)
        try inlined.graph.validate()
        let types = try ShapeInference.infer(inlined.graph, opsetVersion: 17)
        #expect(types.type(of: "out")?.staticShape == [2, 3])
    }

    @Test func nestedCallsAndDefaultsAreInlined() throws {
        var outer = Function(
            name: "Twice", domain: "test", inputs: ["a"], outputs: ["b"],
            nodes: [
                Node(opType: "Scale", domain: "test", inputs: ["a"], outputs: ["mid"]),
                Node(opType: "Scale", domain: "test", inputs: ["mid"], outputs: ["b"]),
            ])
        var scale = Self.scale
        scale.attributeDefaults = [Attribute("slope", .float(0.5))]
        outer.attributeDefaults = []
        let call = Node(opType: "Twice", domain: "test", inputs: ["in"], outputs: ["out"])
        let nodes = try Self.model([call], functions: [outer, scale]).inliningLocalFunctions().graph.nodes
        #expect(nodes.map(\.opType) == ["Mul", "LeakyRelu", "Mul", "LeakyRelu"])
        #expect(nodes.allSatisfy { $0.opType != "LeakyRelu" || $0.float("alpha") == 0.5 })
        #expect(Set(nodes.flatMap(\.outputs)).count == 4, "inner values of the two calls must not clash")
    }

    @Test func recursionIsAnErrorNamingTheNode() {
        let loop = Function(name: "Loop", domain: "test", inputs: ["a"], outputs: ["b"],
                            nodes: [Node(opType: "Loop", domain: "test", inputs: ["a"], outputs: ["b"])])
        let call = Node(name: "forever", opType: "Loop", domain: "test", inputs: ["in"], outputs: ["out"])
        #expect(throws: GraphError.self) { try Self.model([call], functions: [loop]).inliningLocalFunctions() }
    }

    @Test func modelsWithoutFunctionsAreUnchanged() throws {
        let model = Self.model([Node(opType: "Relu", inputs: ["in"], outputs: ["out"])], functions: [])
        #expect(try model.inliningLocalFunctions() == model)
    }
}
