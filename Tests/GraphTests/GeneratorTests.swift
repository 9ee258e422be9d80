import Foundation
import Testing
@testable import Graph

@Suite struct GeneratorTests {
    @Test func shapeWithStartEnd() throws {
        let result = try inferGraph(
            [Node(opType: "Shape", inputs: ["x"], outputs: ["all"]),
             Node(opType: "Shape", inputs: ["x"], outputs: ["tail"], attributes: [.int("start", -2)]),
             Node(opType: "Shape", inputs: ["x"], outputs: ["mid"], attributes: [.int("start", 1), .int("end", -1)])],
            inputs: [("x", [N, 3, 4, 5])], opset: 15)
        #expect(result.type(of: "all") == TensorType(.int64, [4]))
        #expect(result.symbolicValues["all"] == [N, 3, 4, 5])
        #expect(result.values["all"] == nil)
        #expect(result.values["tail"]?.int64Values() == [4, 5])
        #expect(result.values["mid"]?.int64Values() == [3, 4])
    }

    @Test func sizeIsAScalar() throws {
        let result = try inferGraph([Node(opType: "Size", inputs: ["x"], outputs: ["n"])], inputs: [("x", [2, 3, 4])])
        #expect(result.type(of: "n") == TensorType(.int64, []))
        #expect(result.values["n"]?.int64Values() == [24])
        #expect(result.values["n"]?.shape == [])
    }

    @Test func constantAttributes() throws {
        let nodes = [
            Node(opType: "Constant", inputs: [], outputs: ["t"], attributes: [.tensor("value", floats("w", [1, 2, 3, 4], shape: [2, 2]))]),
            Node(opType: "Constant", inputs: [], outputs: ["f"], attributes: [.float("value_float", 0.5)]),
            Node(opType: "Constant", inputs: [], outputs: ["fs"], attributes: [.floats("value_floats", [1, 2])]),
            Node(opType: "Constant", inputs: [], outputs: ["i"], attributes: [.int("value_int", 7)]),
            Node(opType: "Constant", inputs: [], outputs: ["is"], attributes: [.ints("value_ints", [1, 2, 3])]),
            Node(opType: "Constant", inputs: [], outputs: ["s"], attributes: [Attribute("value_string", .string(Data("a".utf8)))]),
            Node(opType: "Constant", inputs: [], outputs: ["ss"], attributes: [Attribute("value_strings", .strings([Data("a".utf8), Data("b".utf8)]))]),
            Node(opType: "Constant", inputs: [], outputs: ["sp"], attributes: [Attribute("sparse_value", .sparseTensor(
                SparseTensor(values: floats("v", [5]), indices: ints("k", [3]), shape: [2, 2])))]),
        ]
        let result = try inferGraph(nodes)
        #expect(result.type(of: "t") == TensorType(.float32, [2, 2]))
        #expect(result.values["t"]?.name == "t")
        #expect(result.type(of: "f") == TensorType(.float32, []))
        #expect(result.values["f"]?.floatValues() == [0.5])
        #expect(result.type(of: "fs") == TensorType(.float32, [2]))
        #expect(result.values["i"]?.int64Values() == [7])
        #expect(result.type(of: "is") == TensorType(.int64, [3]))
        #expect(result.type(of: "s") == TensorType(.string, []))
        #expect(result.type(of: "ss") == TensorType(.string, [2]))
        #expect(result.values["sp"]?.floatValues() == [0, 0, 0, 5])
        _ = failure(naming: "Constant") { _ = try inferGraph([Node(opType: "Constant", inputs: [], outputs: ["z"])]) }
    }

    @Test func constantOfShape() throws {
        let fill = Tensor(name: "v", shape: [1], int64s: [3])
        let result = try inferGraph(
            [Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
             Node(opType: "ConstantOfShape", inputs: ["s"], outputs: ["dyn"]),
             Node(opType: "ConstantOfShape", inputs: ["k"], outputs: ["ones"], attributes: [.tensor("value", fill)])],
            inputs: [("x", [N, 4])], initializers: [ints("k", [2, 2])])
        #expect(result.type(of: "dyn") == TensorType(.float32, [N, 4]))
        #expect(result.type(of: "ones") == TensorType(.int64, [2, 2]))
        #expect(result.values["ones"]?.int64Values() == [3, 3, 3, 3])
    }

    @Test func range() throws {
        let result = try inferGraph(
            [Node(opType: "Range", inputs: ["a", "b", "c"], outputs: ["r"]),
             Node(opType: "Range", inputs: ["fa", "fb", "fc"], outputs: ["fr"]),
             Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
             Node(opType: "Gather", inputs: ["s", "zero"], outputs: ["n"]),
             Node(opType: "Range", inputs: ["zero", "n", "one"], outputs: ["dyn"])],
            inputs: [("x", [N, 2])],
            initializers: [ints("a", [10], shape: []), ints("b", [1], shape: []), ints("c", [-3], shape: []),
                           floats("fa", [0], shape: []), floats("fb", [1], shape: []), floats("fc", [0.3], shape: []),
                           ints("zero", [0], shape: []), ints("one", [1], shape: [])])
        #expect(result.type(of: "r") == TensorType(.int64, [3]))
        #expect(result.values["r"]?.int64Values() == [10, 7, 4])
        #expect(result.type(of: "fr") == TensorType(.float32, [4]))
        #expect(result.type(of: "dyn") == TensorType(.int64, [N]))
    }

    @Test func nonZeroHasUnknownCount() throws {
        let out = try inferNode("NonZero", ["x"], shapes: [("x", [3, 4])])
        #expect(out[0] == [2, .unknown])
    }
}

@Suite struct ResizeTests {
    @Test func resizeWithScales() throws {
        // Opset 13: X, roi, scales; floor(5 · 0.6) = 3, floor(7 · 1.5) = 10.
        let out = try inferNode("Resize", ["x", "roi", "s"], [.string("mode", "linear")], shapes: [("x", [N, 3, 5, 7])],
                                initializers: [floats("roi", []), floats("s", [1, 1, 0.6, 1.5])], opset: 13)
        #expect(out[0] == [N, 3, 3, 10])
        let opset10 = try inferNode("Resize", ["x", "s"], shapes: [("x", [1, 3, 5, 7])], initializers: [floats("s", [1, 1, 2, 2])], opset: 10)
        #expect(opset10[0] == [1, 3, 10, 14])
    }

    @Test func resizeWithSizes() throws {
        let out = try inferNode("Resize", ["x", "", "", "sz"], shapes: [("x", [1, 3, 5, 7])], initializers: [ints("sz", [1, 3, 20, 30])], opset: 13)
        #expect(out[0] == [1, 3, 20, 30])
        let empty = try inferNode("Resize", ["x", "roi", "s", "sz"], shapes: [("x", [1, 3, 5, 7])],
                                  initializers: [floats("roi", []), floats("s", []), ints("sz", [1, 3, 8, 8])], opset: 11)
        #expect(empty[0] == [1, 3, 8, 8])
    }

    @Test func resizeAxesAndAspectPolicy() throws {
        let sizes = [floats("roi", []), floats("s", []), ints("sz", [9, 9])]
        let notLarger = try inferNode("Resize", ["x", "roi", "s", "sz"],
                                      [.ints("axes", [2, 3]), .string("keep_aspect_ratio_policy", "not_larger")],
                                      shapes: [("x", [1, 3, 5, 7])], initializers: sizes, opset: 18)
        #expect(notLarger[0] == [1, 3, 6, 9])
        let notSmaller = try inferNode("Resize", ["x", "roi", "s", "sz"],
                                       [.ints("axes", [2, 3]), .string("keep_aspect_ratio_policy", "not_smaller")],
                                       shapes: [("x", [1, 3, 5, 7])], initializers: sizes, opset: 18)
        #expect(notSmaller[0] == [1, 3, 9, 13])
        let scaleAxes = try inferNode("Resize", ["x", "", "s"], [.ints("axes", [-1])], shapes: [("x", [1, 3, 5, 7])],
                                      initializers: [floats("s", [2])], opset: 18)
        #expect(scaleAxes[0] == [1, 3, 5, 14])
        _ = failure(naming: "n") {
            _ = try inferNode("Resize", ["x", "", "s"], shapes: [("x", [1, 3, 5, 7])], initializers: [floats("s", [2, 2])], opset: 13)
        }
    }

    @Test func upsample() throws {
        let attribute = try inferNode("Upsample", ["x"], [.floats("scales", [1, 1, 2, 2.5])], shapes: [("x", [1, 3, 5, 7])], opset: 7)
        #expect(attribute[0] == [1, 3, 10, 17])
        let input = try inferNode("Upsample", ["x", "s"], shapes: [("x", [1, 3, 5, 7])], initializers: [floats("s", [1, 1, 2, 2])], opset: 9)
        #expect(input[0] == [1, 3, 10, 14])
    }

    @Test func costs() throws {
        let scales = [floats("roi", []), floats("s", [1, 1, 2, 2])]
        let nearest = try costOf("Resize", ["x", "roi", "s"], shapes: [("x", [1, 2, 4, 4])], initializers: scales, opset: 13)
        #expect(nearest == .zero)
        // Two resized axes: 2 · 2² FLOPs per output element.
        let linear = try costOf("Resize", ["x", "roi", "s"], [.string("mode", "linear")], shapes: [("x", [1, 2, 4, 4])], initializers: scales, opset: 13)
        #expect(linear == OpCost(flops: 8 * 128))
        let cubic = try costOf("Resize", ["x", "roi", "s"], [.string("mode", "cubic")], shapes: [("x", [1, 2, 4, 4])], initializers: scales, opset: 13)
        #expect(cubic == OpCost(flops: 32 * 128))
    }
}

@Suite struct ReductionTests {
    @Test func axesAttributeAndInput() throws {
        #expect(try inferNode("ReduceMean", ["x"], [.ints("axes", [1, -1]), .int("keepdims", 0)], shapes: [("x", [2, 3, 4, 5])], opset: 13)[0] == [2, 4])
        #expect(try inferNode("ReduceMean", ["x", "a"], shapes: [("x", [2, 3, 4, 5])], initializers: [ints("a", [2, 3])], opset: 18)[0] == [2, 3, 1, 1])
        #expect(try inferNode("ReduceSum", ["x", "a"], [.int("keepdims", 0)], shapes: [("x", [2, 3, 4])], initializers: [ints("a", [1])], opset: 13)[0] == [2, 4])
        #expect(try inferNode("ReduceSum", ["x"], shapes: [("x", [2, 3, 4, 5])], opset: 13)[0] == [1, 1, 1, 1])
        #expect(try inferNode("ReduceMax", ["x"], [.int("keepdims", 0)], shapes: [("x", [2, 3])], opset: 13)[0] == [])
        #expect(try inferNode("ReduceL2", ["x"], [.int("noop_with_empty_axes", 1)], shapes: [("x", [2, 3])], opset: 18)[0] == [2, 3])
        #expect(try inferNode("ReduceSumSquare", ["x", "a"], shapes: [("x", [2, 3]), ("a", [1])], opset: 18)[0] == [.unknown, .unknown])
    }

    @Test func reduceProdFoldsShapes() throws {
        let result = try inferGraph(
            [Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
             Node(opType: "ReduceProd", inputs: ["s"], outputs: ["n"], attributes: [.int("keepdims", 0)])],
            inputs: [("x", [2, 3, 4])], opset: 13)
        #expect(result.values["n"]?.int64Values() == [24])
        #expect(result.type(of: "n") == TensorType(.int64, []))
    }

    @Test func argAndTopK() throws {
        let arg = try inferNode("ArgMax", ["x"], [.int("axis", 1), .int("keepdims", 0)], shapes: [("x", [2, 3, 4])])
        #expect(arg[0] == [2, 4])
        let result = try inferGraph([Node(opType: "TopK", inputs: ["x", "k"], outputs: ["v", "i"])],
                                    inputs: [("x", [N, 10])], initializers: [ints("k", [3])])
        #expect(result.type(of: "v") == TensorType(.float32, [N, 3]))
        #expect(result.type(of: "i") == TensorType(.int64, [N, 3]))
        let old = try inferNode("TopK", ["x"], [.int("k", 2), .int("axis", 0)], outputs: 2, shapes: [("x", [5, 4])], opset: 9)
        #expect(old == [[2, 4], [2, 4]])
    }

    @Test func costIsPerInputElement() throws {
        #expect(try costOf("ReduceMean", ["x"], [.ints("axes", [1])], shapes: [("x", [2, 3, 4])], opset: 13) == OpCost(flops: 24))
    }
}
