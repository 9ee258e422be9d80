import Foundation
import Graph
import Runtime
import Testing

/// Runs single tensor-family nodes through a Session. Inputs are runtime feeds, so kernels (not
/// session-time constant folding) see them; `constants` become initializers. (Shape errors that
/// inference sees are reported when the session plans, before any kernel runs.)
enum TensorOpHarness {
    static func run(
        _ op: String, _ inputs: [(String, NDArray?)], constants: [Tensor] = [], attributes: [Attribute] = [],
        outputs: Int = 1, opset: Int64 = 19, threads: Int = 1, name: String = "node"
    ) throws -> [NDArray] {
        let constantNames = Set(constants.map(\.name))
        let fed = inputs.compactMap { pair in pair.1.map { (pair.0, $0) } }.filter { !constantNames.contains($0.0) }
        let outputNames = (0..<outputs).map { "y\($0)" }
        let node = Node(name: name, opType: op, inputs: inputs.map { $0.1 == nil && !constantNames.contains($0.0) ? "" : $0.0 },
                        outputs: outputNames, attributes: attributes)
        let graph = Graph(
            name: "test", nodes: [node],
            inputs: fed.map { Value(name: $0.0, $0.1.elementType, $0.1.shape.map { Dim.known($0) }) }
                + constants.map { Value(name: $0.name, $0.elementType, $0.shape.map { Dim.known($0) }) },
            outputs: outputNames.map { Value(name: $0, type: nil) }, initializers: constants)
        let model = Model(opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph)
        let session = try Session(model: model, options: SessionOptions(threads: threads))
        let results = try session.run(Dictionary(uniqueKeysWithValues: fed))
        return outputNames.map { results[$0]! }
    }

    static func floats(_ shape: [Int], _ values: [Float]) -> NDArray { NDArray(shape: shape, floats: values) }

    /// 0, 1, 2, … as float32.
    static func iota(_ shape: [Int]) -> NDArray {
        NDArray(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float($0) })
    }

    static func int64s(_ values: [Int64], shape: [Int]? = nil) -> NDArray {
        try! NDArray(Tensor(name: "", shape: shape ?? [values.count], int64s: values))
    }

    static func array<T>(_ type: ElementType, _ shape: [Int], _ values: [T]) -> NDArray {
        let out = NDArray(type, shape: shape)
        values.withUnsafeBytes { out.buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return out
    }

    static func values<T>(_ array: NDArray, as _: T.Type) -> [T] {
        Array(UnsafeBufferPointer(start: array.pointer(as: T.self), count: array.count))
    }

    /// The message of the node failure `body` throws, after checking it names `node`.
    static func failure(naming node: String, _ body: () throws -> Void) -> String? {
        do {
            try body()
            Issue.record("expected an error naming \(node)")
        } catch let RuntimeError.nodeFailed(name, message) {
            #expect(name.contains(node))
            return message
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }
}

@Suite struct TensorKernelTests {
    typealias H = TensorOpHarness

    @Test func sliceAttributesBeforeOpset10() throws {
        let y = try H.run("Slice", [("x", H.iota([3, 4]))],
                          attributes: [Attribute("starts", .ints([1, -3])), Attribute("ends", .ints([100, -1])), Attribute("axes", .ints([0, 1]))],
                          opset: 9)[0]
        #expect(y.shape == [2, 2])
        #expect(Array(y.floats) == [5, 6, 9, 10])
    }

    @Test func sliceNegativeStepsAndExtremeBounds() throws {
        let x = H.iota([10, 6])
        let y = try H.run("Slice", [("x", x), ("s", H.int64s([.max, 4])), ("e", H.int64s([.min, -100])), ("a", H.int64s([0, 1])),
                                    ("p", H.int64s([-4, -3]))])[0]
        // Rows 9, 5, 1; columns 4, 1.
        #expect(y.shape == [3, 2])
        #expect(Array(y.floats) == [58, 55, 34, 31, 10, 7])
        let message = H.failure(naming: "node") {
            _ = try H.run("Slice", [("x", x), ("s", H.int64s([0])), ("e", H.int64s([2])), ("a", H.int64s([0])), ("p", H.int64s([0]))])
        }
        #expect(message?.contains("step") == true)
    }

    @Test func splitEveryForm() throws {
        let x = H.iota([2, 5])
        let attribute = try H.run("Split", [("x", x)], attributes: [Attribute("axis", .int(1)), Attribute("split", .ints([2, 3]))], outputs: 2, opset: 11)
        #expect(attribute.map(\.shape) == [[2, 2], [2, 3]])
        #expect(Array(attribute[1].floats) == [2, 3, 4, 7, 8, 9])
        let chunks = try H.run("Split", [("x", x)], attributes: [Attribute("axis", .int(1)), Attribute("num_outputs", .int(3))], outputs: 3, opset: 18)
        #expect(chunks.map(\.shape) == [[2, 2], [2, 2], [2, 1]])
        #expect(Array(chunks[2].floats) == [4, 9])
        let input = try H.run("Split", [("x", x), ("s", H.int64s([1, 0, 4]))], attributes: [Attribute("axis", .int(-1))], outputs: 3, opset: 13)
        #expect(input.map(\.shape) == [[2, 1], [2, 0], [2, 4]])
    }

    @Test func concatMixedSizesAndTypes() throws {
        let a = H.array(.int16, [2, 1], [Int16(1), 2])
        let b = H.array(.int16, [2, 2], [Int16(3), 4, 5, 6])
        let y = try H.run("Concat", [("a", a), ("b", b)], attributes: [Attribute("axis", .int(1))])[0]
        #expect(y.shape == [2, 3])
        #expect(H.values(y, as: Int16.self) == [1, 3, 4, 2, 5, 6])
        let error = #expect(throws: RuntimeError.self) {
            _ = try H.run("Concat", [("a", a), ("b", H.array(.int16, [3, 1], [Int16(0), 0, 0]))], attributes: [Attribute("axis", .int(1))])
        }
        #expect(error?.description.contains("Concat") == true)
    }

    @Test func gatherChecksEveryIndex() throws {
        let data = H.iota([3, 4])
        let y = try H.run("Gather", [("d", data), ("i", H.int64s([-1, 0], shape: [1, 2]))], attributes: [Attribute("axis", .int(1))])[0]
        #expect(y.shape == [3, 1, 2])
        #expect(Array(y.floats) == [3, 0, 7, 4, 11, 8])
        let message = H.failure(naming: "gather7") {
            _ = try H.run("Gather", [("d", data), ("i", H.int64s([0, 3]))], name: "gather7")
        }
        #expect(message?.contains("index 3 is out of range") == true)
        let elements = H.failure(naming: "node") {
            _ = try H.run("GatherElements", [("d", data), ("i", H.int64s([0, -5], shape: [1, 2]))], attributes: [Attribute("axis", .int(1))])
        }
        #expect(elements?.contains("-5") == true)
    }

    @Test func gatherElementsPicksAlongTheAxis() throws {
        let data = H.iota([2, 3])
        let y = try H.run("GatherElements", [("d", data), ("i", H.int64s([2, 0, -1, 1], shape: [2, 2]))], attributes: [Attribute("axis", .int(1))])[0]
        #expect(Array(y.floats) == [2, 0, 5, 4])
    }

    @Test func reshapeCopiesAndResolvesZerosAndMinusOne() throws {
        let x = H.iota([2, 3, 4])
        let y = try H.run("Reshape", [("x", x), ("s", H.int64s([0, -1]))])[0]
        #expect(y.shape == [2, 12])
        #expect(y.buffer.pointer != x.buffer.pointer)
        #expect(Array(y.floats) == Array(x.floats))
        let empty = try H.run("Reshape", [("x", NDArray(.float32, shape: [0, 3])), ("s", H.int64s([3, 0]))],
                              attributes: [Attribute("allowzero", .int(1))])[0]
        #expect(empty.shape == [3, 0])
        let attribute = try H.run("Reshape", [("x", x)], attributes: [Attribute("shape", .ints([4, 0, -1]))], opset: 4)[0]
        #expect(attribute.shape == [4, 3, 2])
        let message = H.failure(naming: "node") { _ = try H.run("Reshape", [("x", x), ("s", H.int64s([5, -1]))]) }
        #expect(message?.contains("cannot reshape") == true)
    }

    @Test func squeezeAndUnsqueezeByAttributeAndInput() throws {
        let x = H.iota([1, 3, 1])
        #expect(try H.run("Squeeze", [("x", x)], attributes: [Attribute("axes", .ints([-1]))], opset: 11)[0].shape == [1, 3])
        #expect(try H.run("Squeeze", [("x", x)], opset: 13)[0].shape == [3])
        #expect(try H.run("Unsqueeze", [("x", x)], attributes: [Attribute("axes", .ints([0, 4]))], opset: 11)[0].shape == [1, 1, 3, 1, 1])
        #expect(try H.run("Unsqueeze", [("x", x), ("a", H.int64s([-1, 1]))], opset: 13)[0].shape == [1, 1, 3, 1, 1])
        let message = H.failure(naming: "node") { _ = try H.run("Squeeze", [("x", x), ("a", H.int64s([1]))], opset: 13) }
        #expect(message?.contains("not 1") == true)
    }

    @Test func transposeMatchesNaiveLoopsOnLargeTensors() throws {
        let shape = [2, 37, 19, 23]
        let x = H.iota(shape)
        for perm in [[0, 2, 3, 1], [0, 3, 1, 2], [3, 2, 1, 0], [1, 0, 3, 2]] {
            let y = try H.run("Transpose", [("x", x)], attributes: [Attribute("perm", .ints(perm.map(Int64.init)))], threads: 2)[0]
            #expect(y.shape == perm.map { shape[$0] })
            let inStrides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1]
            var expected: [Float] = []
            for a in 0..<y.shape[0] { for b in 0..<y.shape[1] { for c in 0..<y.shape[2] { for d in 0..<y.shape[3] {
                let index = [a, b, c, d]
                var offset = 0
                for k in 0..<4 { offset += index[k] * inStrides[perm[k]] }
                expected.append(Float(offset))
            } } } }
            #expect(Array(y.floats) == expected, "perm \(perm)")
        }
    }

    @Test func expandAndTileOnNonFloatTypes() throws {
        let x = H.array(.bool, [2, 1], [UInt8(1), 0])
        let expanded = try H.run("Expand", [("x", x), ("s", H.int64s([2, 1, 3]))])[0]
        #expect(expanded.shape == [2, 2, 3])
        #expect(H.values(expanded, as: UInt8.self) == [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0])
        let ints = H.array(.int64, [2, 2], [Int64(1), 2, 3, 4])
        let tiled = try H.run("Tile", [("x", ints), ("r", H.int64s([2, 3]))])[0]
        #expect(tiled.shape == [4, 6])
        #expect(H.values(tiled, as: Int64.self).prefix(12) == [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4])
        let message = H.failure(naming: "node") { _ = try H.run("Expand", [("x", H.iota([3])), ("s", H.int64s([2]))]) }
        #expect(message?.contains("cannot expand") == true)
    }

    @Test func padAttributeFormsAndNegativePads() throws {
        let x = H.iota([2, 3])
        // Opset 2: pads and value as attributes.
        let constant = try H.run("Pad", [("x", x)], attributes: [Attribute("pads", .ints([0, 1, 1, 0])), Attribute("value", .float(-1))], opset: 2)[0]
        #expect(constant.shape == [3, 4])
        #expect(Array(constant.floats) == [-1, 0, 1, 2, -1, 3, 4, 5, -1, -1, -1, -1])
        // Negative pads crop; reflect then reads the cropped [1, 2] and [4, 5].
        let reflect = try H.run("Pad", [("x", x), ("p", H.int64s([0, -1, 0, 2]))], attributes: [Attribute("mode", .string(Data("reflect".utf8)))], opset: 13)[0]
        #expect(reflect.shape == [2, 4])
        #expect(Array(reflect.floats) == [1, 2, 1, 2, 4, 5, 4, 5])
        // Opset 18 axes, wrap mode (opset 19), int32 data.
        let ints = H.array(.int32, [2, 3], [Int32(1), 2, 3, 4, 5, 6])
        let wrapped = try H.run("Pad", [("x", ints), ("p", H.int64s([2, 1])), ("c", nil), ("a", H.int64s([-1]))],
                                attributes: [Attribute("mode", .string(Data("wrap".utf8)))], opset: 19)[0]
        #expect(H.values(wrapped, as: Int32.self) == [2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4])
        let edge = try H.run("Pad", [("x", ints), ("p", H.int64s([1, 0, 0, 0]))], attributes: [Attribute("mode", .string(Data("edge".utf8)))], opset: 13)[0]
        #expect(H.values(edge, as: Int32.self) == [1, 2, 3, 1, 2, 3, 4, 5, 6])
        let message = H.failure(naming: "node") { _ = try H.run("Pad", [("x", x), ("p", H.int64s([0, -4, 0, 0]))], opset: 13) }
        #expect(message?.contains("crop") == true)
    }

    @Test func depthAndSpaceRoundTrip() throws {
        let x = H.iota([1, 8, 2, 3])
        for mode in ["DCR", "CRD"] {
            let space = try H.run("DepthToSpace", [("x", x)], attributes: [Attribute("blocksize", .int(2)), Attribute("mode", .string(Data(mode.utf8)))])[0]
            #expect(space.shape == [1, 2, 4, 6])
            if mode == "DCR" {
                let back = try H.run("SpaceToDepth", [("x", space)], attributes: [Attribute("blocksize", .int(2))])[0]
                #expect(Array(back.floats) == Array(x.floats))
            }
        }
        // CRD: output (c, h·2 + i, w·2 + j) reads channel c·4 + i·2 + j.
        let crd = try H.run("DepthToSpace", [("x", x)], attributes: [Attribute("blocksize", .int(2)), Attribute("mode", .string(Data("CRD".utf8)))])[0]
        #expect(crd.floats[1] == x.floats[6])
        #expect(crd.floats[6] == x.floats[2 * 6])
    }

    @Test func shapeSizeAndConstantOfShape() throws {
        let x = NDArray(.float32, shape: [2, 3, 4])
        #expect(H.values(try H.run("Shape", [("x", x)], attributes: [Attribute("start", .int(-2))])[0], as: Int64.self) == [3, 4])
        #expect(H.values(try H.run("Size", [("x", x)])[0], as: Int64.self) == [24])
        let filled = try H.run("ConstantOfShape", [("s", H.int64s([2, 2]))],
                               attributes: [Attribute("value", .tensor(Tensor(name: "v", shape: [1], int64s: [7])))])[0]
        #expect(filled.elementType == .int64)
        #expect(H.values(filled, as: Int64.self) == [7, 7, 7, 7])
    }

    @Test func dropoutInInferenceAndTraining() throws {
        let x = H.iota([4, 5])
        let outputs = try H.run("Dropout", [("x", x)], outputs: 2, opset: 13)
        #expect(Array(outputs[0].floats) == Array(x.floats))
        #expect(H.values(outputs[1], as: UInt8.self).allSatisfy { $0 == 1 })
        let training = H.array(.bool, [], [UInt8(1)])
        let seeded = try H.run("Dropout", [("x", x), ("r", H.floats([], [0.5])), ("t", training)], attributes: [Attribute("seed", .int(3))], outputs: 2, opset: 13)
        let again = try H.run("Dropout", [("x", x), ("r", H.floats([], [0.5])), ("t", training)], attributes: [Attribute("seed", .int(3))], outputs: 2, opset: 13)
        #expect(Array(seeded[0].floats) == Array(again[0].floats))
        let mask = H.values(seeded[1], as: UInt8.self)
        for i in 0..<x.count { #expect(seeded[0].floats[i] == (mask[i] != 0 ? 2 * x.floats[i] : 0)) }
        let message = H.failure(naming: "node") {
            _ = try H.run("Dropout", [("x", x), ("r", H.floats([], [1])), ("t", training)], opset: 13)
        }
        // Before opset 10 the mask has the data's type.
        let old = try H.run("Dropout", [("x", x)], attributes: [Attribute("ratio", .float(0.3))], outputs: 2, opset: 7)
        #expect(old[1].elementType == .float32)
        #expect(old[1].floats.allSatisfy { $0 == 1 })
        #expect(message?.contains("ratio") == true)
    }

    @Test func hostileOperandsFailWithoutTrapping() throws {
        let x = H.iota([2, 3])
        #expect(throws: RuntimeError.self) { _ = try H.run("Tile", [("x", x), ("r", H.int64s([1 << 39, 1 << 39]))]) }
        #expect(throws: RuntimeError.self) { _ = try H.run("Reshape", [("x", x), ("s", H.int64s([1 << 47, 1 << 47, -1]))]) }
        #expect(throws: RuntimeError.self) { _ = try H.run("Expand", [("x", x), ("s", H.int64s([1 << 47, 1 << 47, 3]))]) }
        #expect(throws: RuntimeError.self) { _ = try H.run("ConstantOfShape", [("s", H.int64s([1 << 47, 1 << 47]))]) }
        #expect(throws: RuntimeError.self) {
            _ = try H.run("Split", [("x", x), ("s", H.int64s([.max, 2]))], attributes: [Attribute("axis", .int(1))], outputs: 2, opset: 13)
        }
        #expect(throws: RuntimeError.self) { _ = try H.run("Pad", [("x", x), ("p", H.int64s([0, 1 << 45, 0, 1 << 45]))], opset: 13) }
        #expect(throws: RuntimeError.self) {
            _ = try H.run("Resize", [("x", x), ("roi", nil), ("s", nil), ("z", H.int64s([1 << 39, 1 << 39]))])
        }
        // Extreme steps pick one element without overflowing.
        let picked = try H.run("Slice", [("x", x), ("s", H.int64s([0, -1])), ("e", H.int64s([.max, .min])), ("a", H.int64s([0, 1])),
                                         ("p", H.int64s([.max, .min]))])[0]
        #expect(picked.shape == [1, 1])
        #expect(picked.floats[0] == 2)
    }

    @Test func triluAndRange() throws {
        let x = H.iota([3, 3])
        let upper = try H.run("Trilu", [("x", x), ("k", H.int64s([1], shape: []))])[0]
        #expect(Array(upper.floats) == [0, 1, 2, 0, 0, 5, 0, 0, 0])
        let lower = try H.run("Trilu", [("x", x)], attributes: [Attribute("upper", .int(0))])[0]
        #expect(Array(lower.floats) == [0, 0, 0, 3, 4, 0, 6, 7, 8])
        let range = try H.run("Range", [("s", H.int64s([10], shape: [])), ("l", H.int64s([1], shape: [])), ("d", H.int64s([-4], shape: []))])[0]
        #expect(H.values(range, as: Int64.self) == [10, 6, 2])
    }
}
