import Testing
@testable import Graph

@Suite struct PoolingTests {
    func pool(_ x: [Dim], _ attributes: [Attribute], op: String = "MaxPool", outputs: Int = 1, opset: Int64 = 17) throws(GraphError) -> [[Dim]?] {
        try inferNode(op, ["x"], attributes, outputs: outputs, shapes: [("x", x)], opset: opset)
    }

    @Test func ceilMode() throws {
        #expect(try pool([1, 1, 5, 5], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .int("ceil_mode", 1)])[0] == [1, 1, 3, 3])
        #expect(try pool([1, 1, 5, 5], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])[0] == [1, 1, 2, 2])
        #expect(try pool([1, 1, 7, 7], [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .int("ceil_mode", 1)], op: "AveragePool")[0] == [1, 1, 3, 3])
        #expect(try pool([1, 1, 6, 6], [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1]), .int("ceil_mode", 1)])[0] == [1, 1, 4, 4])
    }

    @Test func ceilModeDropsWindowStartingInPadding() throws {
        // The last window would start in the right padding: onnxruntime, the onnx reference
        // evaluator and PyTorch give 3 (onnx's static shape inference says 4).
        let out = try pool([1, 1, 5, 5], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1]), .int("ceil_mode", 1)])
        #expect(out[0] == [1, 1, 3, 3])
    }

    @Test func dilationsPadsAndIndices() throws {
        let out = try pool([1, 4, 10, 11], [.ints("kernel_shape", [3, 2]), .ints("strides", [2, 3]), .ints("dilations", [2, 1]), .ints("pads", [1, 0, 2, 1])], outputs: 2)
        #expect(out[0] == [1, 4, 5, 4])
        #expect(out[1] == [1, 4, 5, 4])
    }

    @Test func autoPadSameAndLpPool() throws {
        #expect(try pool([N, 8, 15, 16], [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .string("auto_pad", "SAME_UPPER")])[0] == [N, 8, 8, 8])
        #expect(try pool([1, 2, 9, 9], [.ints("kernel_shape", [3, 3]), .ints("strides", [3, 3])], op: "LpPool")[0] == [1, 2, 3, 3])
    }

    @Test func globalPools() throws {
        #expect(try pool([N, 32, 7, 9], [], op: "GlobalAveragePool")[0] == [N, 32, 1, 1])
        #expect(try pool([2, 5, 4], [], op: "GlobalMaxPool")[0] == [2, 5, 1])
    }

    @Test func missingKernelAndBadRank() {
        _ = failure(naming: "n") { _ = try pool([1, 1, 4, 4], []) }
        let problem = failure(naming: "n") { _ = try pool([1, 4, 4], [.ints("kernel_shape", [2, 2])]) }
        #expect(problem?.contains("rank 4") == true)
    }

    @Test func costs() throws {
        let max = try costOf("MaxPool", ["x"], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])], shapes: [("x", [1, 4, 8, 8])])
        #expect(max == OpCost(flops: 4 * 4 * 16))
        let global = try costOf("GlobalAveragePool", ["x"], shapes: [("x", [1, 4, 8, 8])])
        #expect(global == OpCost(flops: 4 * 64))
    }
}

@Suite struct NormalizationTests {
    @Test func batchNormKeepsShapeAndChecksChannels() throws {
        let stats = (1...4).map { weight("s\($0)", [8]) }
        let out = try inferNode("BatchNormalization", ["x", "s1", "s2", "s3", "s4"], shapes: [("x", [N, 8, 4, 4])], initializers: stats)
        #expect(out[0] == [N, 8, 4, 4])
        let problem = failure(naming: "bn") {
            _ = try inferNode("BatchNormalization", ["x", "s1", "s2", "s3", "s4"], shapes: [("x", [1, 6, 4, 4])], initializers: stats, name: "bn")
        }
        #expect(problem?.contains("6 channels") == true)
        #expect(try costOf("BatchNormalization", ["x", "s1", "s2", "s3", "s4"], shapes: [("x", [1, 8, 4, 4])], initializers: stats) == OpCost(flops: 2 * 128))
    }

    @Test func layerNormStatistics() throws {
        let out = try inferNode("LayerNormalization", ["x", "s"], [.int("axis", -2)], outputs: 3, shapes: [("x", [2, 3, 4, 5])],
                                initializers: [weight("s", [4, 5])])
        #expect(out[0] == [2, 3, 4, 5])
        #expect(out[1] == [2, 3, 1, 1])
        #expect(out[2] == [2, 3, 1, 1])
        #expect(try costOf("LayerNormalization", ["x", "s"], shapes: [("x", [2, 3])], initializers: [weight("s", [3])]) == OpCost(flops: 7 * 6))
    }

    @Test func instanceAndGroupNorm() throws {
        let inst = try inferNode("InstanceNormalization", ["x", "s", "b"], shapes: [("x", [1, 3, 5, 5])],
                                 initializers: [weight("s", [3]), weight("b", [3])])
        #expect(inst[0] == [1, 3, 5, 5])
        let group = try inferNode("GroupNormalization", ["x", "s", "b"], [.int("num_groups", 2)], shapes: [("x", [1, 4, 5])],
                                  initializers: [weight("s", [4]), weight("b", [4])], opset: 21)
        #expect(group[0] == [1, 4, 5])
    }
}
