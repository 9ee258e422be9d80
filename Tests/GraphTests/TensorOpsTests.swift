import Testing
@testable import Graph

// Expected shapes checked against onnx.shape_inference (onnx 1.23).
@Suite struct TensorOpsTests {
    @Test func concat() throws {
        #expect(try inferNode("Concat", ["a", "b"], [.int("axis", 1)], shapes: [("a", [N, 3, 4]), ("b", [N, 5, 4])])[0] == [N, 8, 4])
        #expect(try inferNode("Concat", ["a", "b"], [.int("axis", -1)], shapes: [("a", [2, .unknown]), ("b", [2, 3])])[0] == [2, .unknown])
        let problem = failure(naming: "cat") {
            _ = try inferNode("Concat", ["a", "b"], [.int("axis", 1)], shapes: [("a", [1, 3, 4]), ("b", [1, 5, 6])], name: "cat")
        }
        #expect(problem?.contains("dim 2") == true)
    }

    @Test func splitAllForms() throws {
        // Opset 18 `num_outputs`: chunks of ceil(10 / 4) = 3, the last one smaller.
        let chunks = try inferNode("Split", ["x"], [.int("axis", 1), .int("num_outputs", 4)], outputs: 4, shapes: [("x", [2, 10])], opset: 18)
        #expect(chunks == [[2, 3], [2, 3], [2, 3], [2, 1]])
        let attribute = try inferNode("Split", ["x"], [.int("axis", 1), .ints("split", [3, 7])], outputs: 2, shapes: [("x", [2, 10])], opset: 11)
        #expect(attribute == [[2, 3], [2, 7]])
        let input = try inferNode("Split", ["x", "s"], [.int("axis", -1)], outputs: 2, shapes: [("x", [2, 10])],
                                  initializers: [ints("s", [4, 6])], opset: 13)
        #expect(input == [[2, 4], [2, 6]])
        let equal = try inferNode("Split", ["x"], outputs: 3, shapes: [("x", [6, N])])
        #expect(equal == [[2, N], [2, N], [2, N]])
        _ = failure(naming: "n") { _ = try inferNode("Split", ["x"], outputs: 4, shapes: [("x", [6, 2])]) }
        _ = failure(naming: "n") {
            _ = try inferNode("Split", ["x", "s"], outputs: 2, shapes: [("x", [6])], initializers: [ints("s", [2, 3])], opset: 13)
        }
    }

    @Test func sliceNegativeStepsAndClamping() throws {
        let steps = try inferNode(
            "Slice", ["x", "st", "en", "ax", "sp"], shapes: [("x", [10, 8, 6])],
            initializers: [ints("st", [-1, 100, 2]), ints("en", [-100, 0, -1]), ints("ax", [0, 1, 2]), ints("sp", [-3, -2, 1])])
        #expect(steps[0] == [4, 4, 3])
        let extremes = try inferNode(
            "Slice", ["x", "st", "en", "ax", "sp"], shapes: [("x", [10, 8, 6])],
            initializers: [ints("st", [2, -3]), ints("en", [.max, .min]), ints("ax", [0, -1]), ints("sp", [3, -1])])
        #expect(extremes[0] == [3, 8, 4])
        let opset1 = try inferNode("Slice", ["x"], [.ints("starts", [1]), .ints("ends", [-1]), .ints("axes", [1])],
                                   shapes: [("x", [N, 8])], opset: 9)
        #expect(opset1[0] == [N, 6])
        let wholeSymbolic = try inferNode("Slice", ["x", "st", "en"], shapes: [("x", [N, 8])],
                                          initializers: [ints("st", [0, 0]), ints("en", [.max, 4])])
        #expect(wholeSymbolic[0] == [N, 4])
        #expect(sliceIndices(size: 5, start: -1, end: .min, step: -1) == [4, 3, 2, 1, 0])
        #expect(sliceIndices(size: 5, start: 7, end: 2, step: -2) == [4])
    }

    @Test func gather() throws {
        let out = try inferNode("Gather", ["x", "i"], [.int("axis", 1)], shapes: [("x", [N, 5, 4])], initializers: [ints("i", [0, 4, -1, 2, 1, 3], shape: [2, 3])])
        #expect(out[0] == [N, 2, 3, 4])
        let scalar = try inferNode("Gather", ["x", "i"], shapes: [("x", [5, 4])], initializers: [ints("i", [2], shape: [])])
        #expect(scalar[0] == [4])
        _ = failure(naming: "n") { _ = try inferNode("Gather", ["x", "i"], shapes: [("x", [5, 4])], initializers: [ints("i", [5])]) }
        #expect(try inferNode("GatherElements", ["x", "i"], shapes: [("x", [5, 4]), ("i", [2, 4])])[0] == [2, 4])
    }

    @Test func reshapeZeroAndMinusOne() throws {
        #expect(try inferNode("Reshape", ["x", "s"], shapes: [("x", [2, 3, 4])], initializers: [ints("s", [0, -1])])[0] == [2, 12])
        #expect(try inferNode("Reshape", ["x", "s"], shapes: [("x", [N, 3, 4])], initializers: [ints("s", [0, 2, -1])])[0] == [N, 2, 6])
        #expect(try inferNode("Reshape", ["x", "s"], [.int("allowzero", 1)], shapes: [("x", [0, 3])], initializers: [ints("s", [3, 0])], opset: 14)[0] == [3, 0])
        #expect(try inferNode("Reshape", ["x"], [.ints("shape", [-1, 6])], shapes: [("x", [2, 3, 4])], opset: 4)[0] == [4, 6])
        let impossible = failure(naming: "r") {
            _ = try inferNode("Reshape", ["x", "s"], shapes: [("x", [2, 3, 4])], initializers: [ints("s", [5, 5])], name: "r")
        }
        #expect(impossible?.contains("24 elements") == true)
        _ = failure(naming: "r") {
            _ = try inferNode("Reshape", ["x", "s"], shapes: [("x", [2, 3, 4])], initializers: [ints("s", [5, -1])], name: "r")
        }
        _ = failure(naming: "r") {
            _ = try inferNode("Reshape", ["x", "s"], shapes: [("x", [2, 3, 4])], initializers: [ints("s", [-1, -1])], name: "r")
        }
    }

    @Test func flattenAndTranspose() throws {
        #expect(try inferNode("Flatten", ["x"], shapes: [("x", [N, 3, 4, 5])])[0] == [N, 60])
        #expect(try inferNode("Flatten", ["x"], [.int("axis", -2)], shapes: [("x", [2, 3, 4, 5])])[0] == [6, 20])
        #expect(try inferNode("Flatten", ["x"], [.int("axis", 0)], shapes: [("x", [2, 3])])[0] == [1, 6])
        #expect(try inferNode("Transpose", ["x"], shapes: [("x", [N, 3, 4])])[0] == [4, 3, N])
        #expect(try inferNode("Transpose", ["x"], [.ints("perm", [0, 2, 3, 1])], shapes: [("x", [N, 3, 4, 5])])[0] == [N, 4, 5, 3])
        _ = failure(naming: "n") { _ = try inferNode("Transpose", ["x"], [.ints("perm", [0, 0])], shapes: [("x", [2, 3])]) }
    }

    @Test func squeezeUnsqueezeByOpset() throws {
        // Opset 11: axes attribute; opset 13: axes input.
        #expect(try inferNode("Squeeze", ["x"], [.ints("axes", [1, -1])], shapes: [("x", [N, 1, 4, 1])], opset: 11)[0] == [N, 4])
        #expect(try inferNode("Squeeze", ["x", "a"], shapes: [("x", [N, 1, 4, 1])], initializers: [ints("a", [1, -1])], opset: 13)[0] == [N, 4])
        #expect(try inferNode("Squeeze", ["x"], shapes: [("x", [1, 3, 1])], opset: 13)[0] == [3])
        #expect(try inferNode("Unsqueeze", ["x"], [.ints("axes", [0, 3])], shapes: [("x", [3, 4])], opset: 11)[0] == [1, 3, 4, 1])
        #expect(try inferNode("Unsqueeze", ["x", "a"], shapes: [("x", [3, 4])], initializers: [ints("a", [-1, 1])], opset: 13)[0] == [3, 1, 4, 1])
        let problem = failure(naming: "sq") {
            _ = try inferNode("Squeeze", ["x"], [.ints("axes", [1])], shapes: [("x", [2, 3])], opset: 11, name: "sq")
        }
        #expect(problem?.contains("size is 3") == true)
    }

    @Test func expandTilePad() throws {
        #expect(try inferNode("Expand", ["x", "s"], shapes: [("x", [3, 1])], initializers: [ints("s", [2, 1, 6])])[0] == [2, 3, 6])
        #expect(try inferNode("Tile", ["x", "r"], shapes: [("x", [N, 3])], initializers: [ints("r", [1, 4])])[0] == [N, 12])
        #expect(try inferNode("Pad", ["x", "p"], shapes: [("x", [1, 3, 4, 4])], initializers: [ints("p", [0, 0, 1, 2, 0, 0, 1, 2])], opset: 13)[0] == [1, 3, 6, 8])
        #expect(try inferNode("Pad", ["x"], [.ints("pads", [0, 1, 0, 1])], shapes: [("x", [2, 3])], opset: 10)[0] == [2, 5])
        // Opset 18 axes input: pads [begin(0), begin(-1), end(0), end(-1)].
        let axes = try inferNode("Pad", ["x", "p", "", "a"], shapes: [("x", [2, 10, 4])],
                                 initializers: [ints("p", [1, 2, 3, -1]), ints("a", [0, -1])], opset: 18)
        #expect(axes[0] == [6, 10, 5])
        _ = failure(naming: "n") { _ = try inferNode("Pad", ["x", "p"], shapes: [("x", [2])], initializers: [ints("p", [-2, -1])], opset: 13) }
    }

    @Test func depthAndSpace() throws {
        #expect(try inferNode("DepthToSpace", ["x"], [.int("blocksize", 2)], shapes: [("x", [1, 8, 3, 4])])[0] == [1, 2, 6, 8])
        #expect(try inferNode("SpaceToDepth", ["x"], [.int("blocksize", 2)], shapes: [("x", [1, 8, 4, 6])])[0] == [1, 32, 2, 3])
        _ = failure(naming: "n") { _ = try inferNode("DepthToSpace", ["x"], [.int("blocksize", 2)], shapes: [("x", [1, 6, 3, 4])]) }
    }

    @Test func identityAndDropout() throws {
        #expect(try inferNode("Identity", ["x"], shapes: [("x", [N, 2])])[0] == [N, 2])
        let result = try inferGraph([Node(opType: "Dropout", inputs: ["x"], outputs: ["y", "mask"])], inputs: [("x", [2, 3])], opset: 13)
        #expect(result.type(of: "y") == TensorType(.float32, [2, 3]))
        #expect(result.type(of: "mask") == TensorType(.bool, [2, 3]))
    }

    @Test func dataMovementIsFree() throws {
        #expect(try costOf("Transpose", ["x"], shapes: [("x", [2, 3])]) == .zero)
        #expect(try costOf("Concat", ["x", "x"], [.int("axis", 0)], shapes: [("x", [2, 3])]) == .zero)
    }
}
