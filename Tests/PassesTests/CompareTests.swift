import Foundation
import Graph
import Runtime
import Testing
@testable import Passes

@Suite("Compare metrics")
struct CompareTests {
    func array(_ values: [Float], _ shape: [Int]? = nil) -> NDArray {
        NDArray(shape: shape ?? [values.count], floats: values)
    }

    func compare(_ reference: [Float], _ candidate: [Float], shape: [Int]? = nil,
                 tolerance: Tolerance = Tolerance()) throws -> OutputComparison {
        try Compare.arrays(reference: array(reference, shape), candidate: array(candidate, shape), name: "y", tolerance: tolerance)
    }

    @Test("identical arrays: no error, cosine 1, SNR infinite")
    func identical() throws {
        let values: [Float] = [1, -2, 3.5, 0, 1e-3, 7]
        let result = try compare(values, values)
        #expect(result.passed && result.mismatches == 0)
        #expect(result.maxAbsoluteError == 0 && result.maxRelativeError == 0)
        #expect(result.cosineSimilarity == 1)
        #expect(result.snrDB == .infinity)
        #expect(result.mask == nil)
        #expect(result.elementCount == 6)
    }

    @Test("known errors: max abs, max rel, SNR, cosine and where the worst element is")
    func knownErrors() throws {
        // reference [1, 2, 3, 4] against [1, 2, 3.5, 4]: error 0.5 at index 2.
        let result = try compare([1, 2, 3, 4], [1, 2, 3.5, 4], shape: [2, 2])
        #expect(result.maxAbsoluteError == 0.5)
        #expect(abs(result.maxRelativeError - 0.5 / 3) < 1e-12)
        #expect(abs(result.snrDB - 10 * log10(30 / 0.25)) < 1e-12)
        let dot: Double = 1 + 4 + 10.5 + 16
        let norms: Double = (30.0).squareRoot() * (33.25).squareRoot()
        let cosine = dot / norms
        #expect(abs(result.cosineSimilarity - cosine) < 1e-12)
        #expect(result.worst == .init(index: [1, 0], reference: 3, candidate: 3.5))
        #expect(!result.passed && result.mismatches == 1)
        // Opposite signs: cosine −1, SNR = 10·log10(1/4).
        let flipped = try compare([1, -1], [-1, 1])
        #expect(abs(flipped.cosineSimilarity + 1) < 1e-15)
        #expect(abs(flipped.snrDB - 10 * log10(2.0 / 8)) < 1e-12)
    }

    @Test("tolerance follows numpy.allclose: |c − r| ≤ atol + rtol·|r|")
    func allclose() throws {
        let tolerance = Tolerance(relative: 1e-2, absolute: 1e-3)
        // Allowed error at r = 10 is 0.101; at r = 0 it is 0.001.
        #expect(try compare([10], [10.1], tolerance: tolerance).passed)
        #expect(try !compare([10], [10.11], tolerance: tolerance).passed)
        #expect(try compare([0], [0.0009], tolerance: tolerance).passed)
        #expect(try !compare([0], [0.002], tolerance: tolerance).passed)
        // Relative to the reference (the first argument), not symmetric: r = 0.1, c = 10.
        #expect(try !compare([0.1], [10], tolerance: Tolerance(relative: 0.99, absolute: 0)).passed)
        #expect(try compare([10], [0.1], tolerance: Tolerance(relative: 0.99, absolute: 0)).passed)
        #expect(tolerance.accepts(.infinity, .infinity))
        #expect(!tolerance.accepts(-.infinity, .infinity))
        #expect(!tolerance.accepts(.nan, .nan))
        #expect(!tolerance.accepts(1, .nan))
    }

    @Test("zeros: relative error skips zero references; cosine and SNR edge cases")
    func zeros() throws {
        let result = try compare([0, 2], [1, 2])
        #expect(result.maxAbsoluteError == 1 && result.maxRelativeError == 0)
        let allZero = try compare([0, 0], [0, 0])
        #expect(allZero.cosineSimilarity == 1 && allZero.snrDB == .infinity)
        let zeroReference = try compare([0, 0], [1, 0])
        #expect(zeroReference.cosineSimilarity == 0 && zeroReference.snrDB == -.infinity)
    }

    @Test("NaN is a mismatch and makes the error maxima NaN")
    func notANumber() throws {
        let result = try compare([1, 2, 3], [1, .nan, 30])
        #expect(result.maxAbsoluteError.isNaN && result.maxRelativeError.isNaN)
        #expect(result.mismatches == 2)
        #expect(result.worst?.index == [1])
        let both = try compare([.nan], [.nan])
        #expect(!both.passed)
    }

    @Test("probability maps: pixel F1 and IoU at threshold 0.5")
    func masks() throws {
        // Reference mask 1100 1100 (4 pixels), candidate 1000 1110: TP 3, FP 1, FN 1.
        let reference: [Float] = [0.9, 0.8, 0.1, 0.0, 0.7, 0.6, 0.2, 0.3]
        let candidate: [Float] = [0.9, 0.4, 0.1, 0.0, 0.7, 0.6, 0.8, 0.3]
        let map = try #require(try compare(reference, candidate, shape: [1, 1, 2, 4]).mask)
        #expect(map.truePositives == 3 && map.falsePositives == 1 && map.falseNegatives == 1)
        #expect(abs(map.f1 - 6.0 / 8) < 1e-12)
        #expect(abs(map.iou - 3.0 / 5) < 1e-12)
        // [N, H, W] counts too.
        #expect(try compare(reference, candidate, shape: [2, 2, 2]).mask?.iou == map.iou)
        // Both masks empty: F1 = IoU = 1. Exactly 0.5 is background (the threshold is strict).
        let empty = try #require(try compare([0.1, 0.5, 0.2, 0], [0.3, 0.2, 0.5, 0.4], shape: [1, 1, 2, 2]).mask)
        #expect(empty.f1 == 1 && empty.iou == 1 && empty.truePositives == 0)
        // Disjoint masks: F1 = IoU = 0.
        let disjoint = try #require(try compare([1, 0], [0, 1], shape: [1, 1, 1, 2]).mask)
        #expect(disjoint.f1 == 0 && disjoint.iou == 0)
    }

    @Test("mask metrics only for single-channel maps with reference values in [0, 1]")
    func notMasks() throws {
        #expect(try compare([0.1, 0.9, 0.2, 0.3], [0.1, 0.9, 0.2, 0.3], shape: [1, 2, 1, 2]).mask == nil)  // 2 channels
        #expect(try compare([0.1, 1.5, 0.2, 0.3], [0.1, 0.9, 0.2, 0.3], shape: [1, 1, 2, 2]).mask == nil)  // 1.5 > 1
        #expect(try compare([0.1, -0.5, 0.2, 0.3], [0.1, 0.9, 0.2, 0.3], shape: [1, 1, 2, 2]).mask == nil)
        #expect(try compare([0.1, 0.9, 0.2, 0.3], [0.1, 0.9, 0.2, 0.3], shape: [4]).mask == nil)  // rank 1
        let ints = NDArray(.int32, shape: [1, 1, 1, 2])
        #expect(try Compare.arrays(reference: ints, candidate: ints, name: "i").mask == nil)
    }

    @Test("mixed element types compare as numbers; shapes and names must match")
    func mismatchedArrays() throws {
        let half = NDArray(.float16, shape: [2])
        half.pointer(as: UInt16.self)[0] = 0x3C00  // 1
        half.pointer(as: UInt16.self)[1] = 0xC000  // −2
        #expect(try Compare.arrays(reference: array([1, -2]), candidate: half, name: "h").maxAbsoluteError == 0)
        let error = #expect(throws: CompareError.self) {
            try Compare.arrays(reference: array([1, 2]), candidate: array([1, 2], [1, 2]), name: "y")
        }
        #expect(error?.description == "output 'y' has shape 2 in the reference and 1×2 in the candidate")
        let names = #expect(throws: CompareError.self) {
            try Compare.outputs(reference: ["a": array([1])], candidate: ["b": array([1])], names: ["a"])
        }
        #expect(names?.description.contains("the candidate has no output 'a'; the reference has no output 'b'") == true)
    }

    @Test("report: passes only when every output passes; JSON spells infinities as strings")
    func report() throws {
        let report = try Compare.outputs(
            reference: ["a": array([1, 2]), "b": array([1, 2])], candidate: ["a": array([1, 2]), "b": array([1, 3])],
            names: ["a", "b"])
        #expect(!report.passed)
        #expect(report.failing.map(\.name) == ["b"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        #expect(json.contains(#""snrDB":"inf""#))
        #expect(json.contains(#""passed":false"#))
    }

    @Test("statistics of an array")
    func statistics() {
        let stats = Compare.statistics(array([1, -3, .infinity, 6]), name: "s")
        #expect(stats.min == -3 && stats.max == 6 && stats.mean == 4.0 / 3 && stats.nonFinite == 1)
        #expect(Compare.statistics(array([]), name: "e").min == nil)
    }
}

@Suite("Verification inputs")
struct VerificationInputTests {
    let input = Value(name: "x", .float32, [.symbol("batch"), .known(3), .known(4)])

    @Test("random inputs are standard normal and the same for the same seed")
    func random() throws {
        let shapes = ["x": [2, 3, 4]]
        let a = try Verification.randomInputs([input], shapes: shapes, seed: 7)["x"]!
        let b = try Verification.randomInputs([input], shapes: shapes, seed: 7)["x"]!
        let c = try Verification.randomInputs([input], shapes: shapes, seed: 8)["x"]!
        #expect(a.shape == [2, 3, 4] && a.elementType == .float32)
        #expect(Array(a.floats) == Array(b.floats))
        #expect(Array(a.floats) != Array(c.floats))
        let many = try Verification.randomInputs([Value(name: "x", .float32, [.known(100_000)])], shapes: ["x": [100_000]], seed: 1)["x"]!
        let values = many.floats.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        #expect(abs(mean) < 0.02 && abs(variance - 1) < 0.02)
        let ids = Value(name: "ids", .int64, [.known(2)])
        #expect(throws: CompareError.self) { try Verification.randomInputs([ids], shapes: ["ids": [2]], seed: 1) }
        let half = Value(name: "h", .float16, [.known(3)])
        #expect(try Verification.randomInputs([half], shapes: ["h": [3]], seed: 1)["h"]?.elementType == .float16)
    }

    @Test("shapes: a symbolic batch dim becomes 1 with a note; other symbols need --input-shape")
    func shapes() throws {
        let resolved = try Verification.resolveShapes([input])
        #expect(resolved.shapes == ["x": [1, 3, 4]])
        #expect(resolved.notes == ["input 'x' has a dynamic batch dim (batch); using batch 1"])
        #expect(try Verification.resolveShapes([input], overrides: ["x": [5, 3, 4]]).shapes == ["x": [5, 3, 4]])
        #expect(throws: CompareError.self) { try Verification.resolveShapes([input], overrides: ["x": [5, 3, 5]]) }
        let image = Value(name: "image", .float32, [.known(1), .known(3), .symbol("h"), .symbol("w")])
        let error = #expect(throws: CompareError.self) { try Verification.resolveShapes([image]) }
        #expect(error?.description.contains("has a dynamic dim h (axis 2) in 1×3×h×w; its shape must be given") == true)
        #expect(throws: CompareError.self) { try Verification.resolveShapes([image], overrides: ["img": [1, 3, 8, 8]]) }
        #expect(try Verification.resolveShapes([image], overrides: ["image": [1, 3, 8, 8]]).shapes["image"] == [1, 3, 8, 8])
    }

    @Test("half-precision rounding")
    func half() {
        #expect(floatToHalf(1) == 0x3C00 && floatToHalf(-2) == 0xC000 && floatToHalf(65504) == 0x7BFF)
        #expect(floatToHalf(1e6) == 0x7C00 && floatToHalf(0x1p-24) == 1)
        #expect(halfToFloat(floatToHalf(0.1)) == 0.099975586)
    }
}
