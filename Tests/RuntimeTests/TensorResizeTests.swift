import Foundation
import Graph
import Runtime
import Testing

/// Resize and Upsample paths the backend tests do not reach: many planes across threads, 3-D
/// linear, non-float types, the opset 7/9/10 forms, nearest with extrapolation.
@Suite struct TensorResizeTests {
    typealias H = TensorOpHarness

    static func mode(_ name: String, _ value: String) -> Attribute { Attribute(name, .string(Data(value.utf8))) }

    /// Deterministic, non-trivial data.
    static func data(_ shape: [Int]) -> NDArray {
        NDArray(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float(($0 * 7919) % 101) / 10 - 3 })
    }

    /// Half-pixel linear taps of one axis, clamped, as plain loops.
    static func taps(_ o: Int, input: Int, scale: Double) -> [(Int, Float)] {
        let x = (Double(o) + 0.5) / scale - 0.5
        let f = x.rounded(.down), r = Float(x - f)
        let clamp = { (i: Int) in min(max(i, 0), input - 1) }
        return [(clamp(Int(f)), 1 - r), (clamp(Int(f) + 1), r)]
    }

    @Test func bilinearHalfPixelMatchesNaiveLoopsAcrossThreads() throws {
        let shape = [2, 5, 7, 9]
        let x = Self.data(shape)
        let y = try H.run("Resize", [("x", x), ("roi", nil), ("s", H.floats([4], [1, 1, 2, 1.5]))],
                          attributes: [Self.mode("mode", "linear")], threads: 2)[0]
        #expect(y.shape == [2, 5, 14, 13])
        for plane in 0..<10 {
            for oy in 0..<14 {
                for ox in 0..<13 {
                    var expected: Float = 0
                    for (iy, wy) in Self.taps(oy, input: 7, scale: 2) {
                        for (ix, wx) in Self.taps(ox, input: 9, scale: 1.5) { expected += wy * wx * x.floats[(plane * 7 + iy) * 9 + ix] }
                    }
                    let actual = y.floats[(plane * 14 + oy) * 13 + ox]
                    #expect(abs(actual - expected) < 1e-4, "plane \(plane) at \(oy), \(ox)")
                }
            }
        }
    }

    @Test func trilinearMatchesNaiveLoops() throws {
        let x = Self.data([1, 1, 3, 4, 5])
        let y = try H.run("Resize", [("x", x), ("roi", nil), ("s", H.floats([3], [2, 1.5, 0.8]))],
                          attributes: [Self.mode("mode", "linear"), Attribute("axes", .ints([2, 3, 4]))], threads: 2)[0]
        #expect(y.shape == [1, 1, 6, 6, 4])
        for oz in 0..<6 { for oy in 0..<6 { for ox in 0..<4 {
            var expected: Float = 0
            for (iz, wz) in Self.taps(oz, input: 3, scale: 2) {
                for (iy, wy) in Self.taps(oy, input: 4, scale: 1.5) {
                    for (ix, wx) in Self.taps(ox, input: 5, scale: Double(Float(0.8))) {
                        expected += wz * wy * wx * x.floats[(iz * 4 + iy) * 5 + ix]
                    }
                }
            }
            #expect(abs(y.floats[(oz * 6 + oy) * 4 + ox] - expected) < 1e-4)
        } } }
    }

    @Test func nearestTwiceRepeatsEveryPixel() throws {
        let x = Self.data([3, 4, 5, 6])
        let y = try H.run("Resize", [("x", x), ("roi", nil), ("s", H.floats([4], [1, 1, 2, 2]))], threads: 2)[0]
        #expect(y.shape == [3, 4, 10, 12])
        for plane in 0..<12 { for oy in 0..<10 { for ox in 0..<12 {
            #expect(y.floats[(plane * 10 + oy) * 12 + ox] == x.floats[(plane * 5 + oy / 2) * 6 + ox / 2])
        } } }
    }

    @Test func linearOnUint8RoundsAndSaturates() throws {
        let x = H.array(.uint8, [1, 1, 1, 2], [UInt8(0), 255])
        let y = try H.run("Resize", [("x", x), ("roi", nil), ("s", nil), ("z", H.int64s([1, 1, 1, 5]))],
                          attributes: [Self.mode("mode", "linear"), Self.mode("coordinate_transformation_mode", "align_corners")])[0]
        // Positions 0, 0.25, 0.5, 0.75, 1 of [0, 255]: 63.75 → 64, 127.5 → 128 (half to even), 191.25 → 191.
        #expect(H.values(y, as: UInt8.self) == [0, 64, 128, 191, 255])
    }

    @Test func nearestCropAndResizeExtrapolates() throws {
        let x = H.iota([1, 1, 2, 2])
        let y = try H.run("Resize", [("x", x), ("roi", H.floats([4], [0, 0, 0.5, 2])), ("s", nil), ("z", H.int64s([2, 3]))],
                          attributes: [Self.mode("coordinate_transformation_mode", "tf_crop_and_resize"), Attribute("axes", .ints([2, 3])),
                                       Attribute("extrapolation_value", .float(-9))])[0]
        // Columns map to x = 0, 1, 2 (the last outside [0, 1]); rows to 0 and 0.5 → 0 (round_prefer_floor).
        #expect(Array(y.floats) == [0, 1, -9, 0, 1, -9])
    }

    @Test func upsampleAttributeAndInputForms() throws {
        let x = H.iota([1, 1, 2, 2])
        let nearest = try H.run("Upsample", [("x", x)], attributes: [Attribute("scales", .floats([1, 1, 2, 3]))], opset: 7)[0]
        #expect(nearest.shape == [1, 1, 4, 6])
        #expect(Array(nearest.floats.prefix(6)) == [0, 0, 0, 1, 1, 1])
        let linear = try H.run("Upsample", [("x", x), ("s", H.floats([4], [1, 1, 1, 2]))], attributes: [Self.mode("mode", "linear")], opset: 9)[0]
        // Asymmetric: x = o / 2, clamped at the right edge.
        #expect(Array(linear.floats) == [0, 0.5, 1, 1, 2, 2.5, 3, 3])
    }

    @Test func resize10NearestCeilsWhenDownsampling() throws {
        let x = H.iota([1, 5])
        let y = try H.run("Resize", [("x", x), ("s", H.floats([2], [1, 0.6]))], opset: 10)[0]
        #expect(Array(y.floats) == [0, 2, 4])
    }

    @Test func cubicFloat64AndHalf() throws {
        let values: [Double] = [1, 2, 4, 8, 16]
        let x = H.array(.float64, [5], values)
        let y = try H.run("Resize", [("x", x), ("roi", nil), ("s", H.floats([1], [2]))], attributes: [Self.mode("mode", "cubic")])[0]
        #expect(y.elementType == .float64)
        #expect(y.shape == [10])
        let float32 = try H.run("Resize", [("x", H.floats([5], values.map(Float.init))), ("roi", nil), ("s", H.floats([1], [2]))],
                                attributes: [Self.mode("mode", "cubic")])[0]
        for i in 0..<10 { #expect(abs(H.values(y, as: Double.self)[i] - Double(float32.floats[i])) < 1e-4) }
    }

    @Test func badOperandsFailTheNode() throws {
        let x = H.iota([1, 1, 2, 2])
        let both = H.failure(naming: "node") {
            _ = try H.run("Resize", [("x", x), ("roi", nil), ("s", H.floats([4], [1, 1, 2, 2])), ("z", H.int64s([1, 1, 4, 4]))])
        }
        #expect(both?.contains("not both") == true)
        let count = H.failure(naming: "node") {
            _ = try H.run("Resize", [("x", x), ("roi", nil), ("s", H.floats([2], [2, 2]))])
        }
        #expect(count?.contains("per resized axis") == true)
    }
}
