import Testing
@testable import Graph

// Expected shapes checked against onnx.shape_inference (onnx 1.23).
@Suite struct ConvolutionTests {
    @Test func convSameLower() throws {
        let out = try inferNode("Conv", ["x", "w"], [.ints("strides", [2, 2]), .string("auto_pad", "SAME_LOWER")],
                                shapes: [("x", [1, 4, 5, 7])], initializers: [weight("w", [8, 4, 3, 3])])
        #expect(out[0] == [1, 8, 3, 4])
    }

    @Test func convGroupedDilatedAsymmetricPads() throws {
        let out = try inferNode(
            "Conv", ["x", "w"],
            [.ints("strides", [2, 3]), .ints("dilations", [2, 1]), .ints("pads", [1, 0, 2, 1]), .int("group", 2)],
            shapes: [("x", [1, 4, 10, 11])], initializers: [weight("w", [8, 2, 3, 3])])
        #expect(out[0] == [1, 8, 5, 4])
    }

    @Test func convKeepsSymbolicDimsWhenSizePreserving() throws {
        let out = try inferNode("Conv", ["x", "w"], [.ints("pads", [1, 1, 1, 1])],
                                shapes: [("x", [N, 3, .symbol("H"), 32])], initializers: [weight("w", [16, 3, 3, 3])])
        #expect(out[0] == [N, 16, .symbol("H"), 32])
    }

    @Test func convChannelMismatchNamesNode() {
        let problem = failure(naming: "stem") {
            _ = try inferNode("Conv", ["x", "w"], shapes: [("x", [1, 4, 8, 8])],
                              initializers: [weight("w", [8, 3, 3, 3])], name: "stem")
        }
        #expect(problem?.contains("4 channels") == true)
        #expect(problem?.contains("expects 3") == true)
    }

    @Test func convNonPositiveOutputThrows() {
        let problem = failure(naming: "tiny") {
            _ = try inferNode("Conv", ["x", "w"], shapes: [("x", [1, 3, 2, 2])],
                              initializers: [weight("w", [8, 3, 5, 5])], name: "tiny")
        }
        #expect(problem?.contains("would be") == true)
    }

    @Test func convTransposeSameUpper() throws {
        let out = try inferNode("ConvTranspose", ["x", "w"], [.ints("strides", [2, 2]), .string("auto_pad", "SAME_UPPER")],
                                shapes: [("x", [1, 4, 5, 7])], initializers: [weight("w", [4, 2, 3, 3])])
        #expect(out[0] == [1, 2, 10, 14])
    }

    @Test func convTransposeOutputPaddingAndGroup() throws {
        let out = try inferNode(
            "ConvTranspose", ["x", "w"],
            [.ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1]), .ints("output_padding", [1, 1]), .int("group", 2)],
            shapes: [("x", [1, 4, 5, 7])], initializers: [weight("w", [4, 2, 3, 3])])
        #expect(out[0] == [1, 4, 10, 14])
    }

    @Test func convTransposeOutputShapeAndValidDilated() throws {
        let given = try inferNode("ConvTranspose", ["x", "w"], [.ints("strides", [2, 2]), .ints("output_shape", [10, 14])],
                                  shapes: [("x", [1, 4, 5, 7])], initializers: [weight("w", [4, 2, 3, 3])])
        #expect(given[0] == [1, 2, 10, 14])
        let valid = try inferNode(
            "ConvTranspose", ["x", "w"], [.ints("strides", [3, 1]), .ints("dilations", [2, 2]), .string("auto_pad", "VALID")],
            shapes: [("x", [1, 4, 5, 7])], initializers: [weight("w", [4, 2, 3, 3])])
        #expect(valid[0] == [1, 2, 17, 11])
    }

    @Test func convTransposeChannelMismatch() {
        let problem = failure(naming: "up") {
            _ = try inferNode("ConvTranspose", ["x", "w"], shapes: [("x", [1, 5, 4, 4])],
                              initializers: [weight("w", [4, 2, 2, 2])], name: "up")
        }
        #expect(problem?.contains("5 channels") == true)
    }

    @Test func convCostWithBias() throws {
        let cost = try costOf("Conv", ["x", "w", "b"], [.ints("pads", [1, 1, 1, 1])], shapes: [("x", [1, 3, 8, 8])],
                              initializers: [weight("w", [16, 3, 3, 3]), weight("b", [16])])
        // 3·3 · 3 · 16 · 1 · 8·8 MACs; FLOPs 2·MACs + one bias add per output element.
        #expect(cost == OpCost(macs: 27_648, flops: 2 * 27_648 + 16 * 64))
    }

    @Test func groupedConvCost() throws {
        let cost = try costOf("Conv", ["x", "w"], [.ints("pads", [1, 1, 1, 1]), .int("group", 4)], shapes: [("x", [1, 8, 8, 8])],
                              initializers: [weight("w", [8, 2, 3, 3])])
        #expect(cost == OpCost(macs: 9 * 2 * 8 * 64, flops: 2 * 9 * 2 * 8 * 64))
    }

    @Test func convTransposeCostAtInputResolution() throws {
        let cost = try costOf("ConvTranspose", ["x", "w", "b"], [.ints("strides", [2, 2])], shapes: [("x", [1, 8, 10, 10])],
                              initializers: [weight("w", [8, 4, 2, 2]), weight("b", [4])])
        // 2·2 · 8 · 4 · 1 · 10·10 (input pixels), not 20·20; bias adds over the 4·20·20 outputs.
        #expect(cost == OpCost(macs: 12_800, flops: 2 * 12_800 + 4 * 400))
    }

    @Test func convCostUnknownWhenShapesAre() throws {
        let cost = try costOf("Conv", ["x", "w"], shapes: [("x", [N, 3, 8, 8])], initializers: [weight("w", [4, 3, 1, 1])])
        #expect(cost == nil)
    }
}

@Suite struct ConvTransposeOutputPaddingTests {
    /// Exporters write output_padding with zero entries, e.g. [1, 0]: zero is valid padding.
    @Test func zeroEntriesInOutputPaddingAreAccepted() throws {
        let graph = Graph(
            nodes: [Node(name: "up", opType: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attributes: [
                Attribute("strides", .ints([2, 2])), Attribute("output_padding", .ints([1, 0])),
            ])],
            inputs: [Value(name: "x", .float32, [1, 4, 5, 5])], outputs: [Value(name: "y", type: nil)],
            initializers: [Tensor(name: "w", shape: [4, 2, 3, 3], floats: Array(repeating: 0, count: 72))])
        let types = try ShapeInference.infer(graph, opsetVersion: 17)
        // (5 - 1)·2 + 3 + output_padding: 12 along H, 11 along W.
        #expect(types.type(of: "y")?.staticShape == [1, 2, 12, 11])
    }
}
