import Foundation
import Graph
import Runtime
import Testing

/// Runs one convolution-family node through a Session. Inputs listed in `constants` become
/// initializers (so build-time weight preparation is exercised); the others are fed at run time.
enum ConvolutionHarness {
    static func run(
        _ op: String, _ inputs: [(String, NDArray?)], constants: Set<String> = [], attributes: [Attribute] = [],
        outputs: [String] = ["y"], opset: Int64 = 22, threads: Int = 1
    ) throws -> [NDArray] {
        let present = inputs.compactMap { name, value in value.map { (name, $0) } }
        let fed = present.filter { !constants.contains($0.0) }
        let initializers = present.filter { constants.contains($0.0) }.map { $0.1.tensor(name: $0.0) }
        let node = Node(name: "node", opType: op, inputs: inputs.map { $0.1 == nil ? "" : $0.0 }, outputs: outputs, attributes: attributes)
        let graph = Graph(
            name: "test", nodes: [node],
            inputs: present.map { Value(name: $0.0, $0.1.elementType, $0.1.shape.map { Dim.known($0) }) },
            outputs: outputs.filter { !$0.isEmpty }.map { Value(name: $0, type: nil) }, initializers: initializers)
        let model = Model(opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph)
        let session = try Session(model: model, options: SessionOptions(threads: threads))
        let results = try session.run(Dictionary(uniqueKeysWithValues: fed.map { ($0.0, $0.1) }))
        return outputs.filter { !$0.isEmpty }.map { results[$0]! }
    }

    /// Deterministic values in [-1, 1).
    static func random(_ shape: [Int], seed: UInt64) -> NDArray {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        return NDArray(shape: shape, floats: values)
    }

    static func array<T>(_ type: ElementType, _ shape: [Int], _ values: [T]) -> NDArray {
        let out = NDArray(type, shape: shape)
        values.withUnsafeBytes { out.buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return out
    }

    /// nil when `actual` matches `expected` within a relative tolerance, else the first difference.
    static func mismatch(_ actual: [Float], _ expected: [Double], tolerance: Double = 1e-4) -> String? {
        guard actual.count == expected.count else { return "\(actual.count) elements, expected \(expected.count)" }
        for i in actual.indices where abs(Double(actual[i]) - expected[i]) > tolerance * max(1, abs(expected[i])) {
            return "element \(i) is \(actual[i]), expected \(expected[i])"
        }
        return nil
    }

    static func ints(_ values: [Int]) -> AttributeValue { .ints(values.map(Int64.init)) }
}

/// A direct-loop convolution over three spatial axes (1-D and 2-D lifted), the reference the
/// BLAS-based kernels are checked against.
struct ReferenceConvolution {
    var batch: Int, inputChannels: Int, outputChannels: Int, group: Int
    var input: [Int], kernel: [Int], strides: [Int], dilations: [Int], padBegin: [Int], padEnd: [Int]
    /// ConvTranspose only: extra size at the end of each output axis.
    var outputPadding = [0, 0, 0]

    var convOutput: [Int] {
        (0..<3).map { i -> Int in
            let span: Int = input[i] + padBegin[i] + padEnd[i] - (kernel[i] - 1) * dilations[i] - 1
            return span / strides[i] + 1
        }
    }

    var transposeOutput: [Int] {
        (0..<3).map { i -> Int in
            let window: Int = (kernel[i] - 1) * dilations[i] + 1
            return strides[i] * (input[i] - 1) + outputPadding[i] + window - padBegin[i] - padEnd[i]
        }
    }

    /// y[n, m, o] = b[m] + Σ x[n, c, o·s + k·d − p] · w[m, c − group offset, k].
    func conv(_ x: [Float], _ w: [Float], _ b: [Float]?) -> [Double] {
        let out = convOutput
        let cinPerGroup = inputChannels / group, coutPerGroup = outputChannels / group
        var y = [Double](repeating: 0, count: batch * outputChannels * out.reduce(1, *))
        var index = 0
        for n in 0..<batch {
            for m in 0..<outputChannels {
                let g = m / coutPerGroup
                for od in 0..<out[0] { for oh in 0..<out[1] { for ow in 0..<out[2] {
                    var sum = Double(b?[m] ?? 0)
                    for c in 0..<cinPerGroup { for kd in 0..<kernel[0] { for kh in 0..<kernel[1] { for kw in 0..<kernel[2] {
                        let id = od * strides[0] + kd * dilations[0] - padBegin[0]
                        let ih = oh * strides[1] + kh * dilations[1] - padBegin[1]
                        let iw = ow * strides[2] + kw * dilations[2] - padBegin[2]
                        guard id >= 0, id < input[0], ih >= 0, ih < input[1], iw >= 0, iw < input[2] else { continue }
                        let xi = (((n * inputChannels + g * cinPerGroup + c) * input[0] + id) * input[1] + ih) * input[2] + iw
                        let wi = (((m * cinPerGroup + c) * kernel[0] + kd) * kernel[1] + kh) * kernel[2] + kw
                        sum += Double(x[xi]) * Double(w[wi])
                    } } } }
                    y[index] = sum
                    index += 1
                } } }
            }
        }
        return y
    }

    /// Scatters x[n, c, i] · w[c, m, k] into y[n, g·M/g + m, i·s + k·d − p], plus the bias.
    func convTranspose(_ x: [Float], _ w: [Float], _ b: [Float]?) -> [Double] {
        let out = transposeOutput
        let cinPerGroup = inputChannels / group, coutPerGroup = outputChannels / group
        let outSize = out.reduce(1, *)
        var y = [Double](repeating: 0, count: batch * outputChannels * outSize)
        for n in 0..<batch { for m in 0..<outputChannels { for i in 0..<outSize { y[(n * outputChannels + m) * outSize + i] = Double(b?[m] ?? 0) } } }
        for n in 0..<batch {
            for c in 0..<inputChannels {
                let g = c / cinPerGroup
                for id in 0..<input[0] { for ih in 0..<input[1] { for iw in 0..<input[2] {
                    let value = Double(x[(((n * inputChannels + c) * input[0] + id) * input[1] + ih) * input[2] + iw])
                    for m in 0..<coutPerGroup { for kd in 0..<kernel[0] { for kh in 0..<kernel[1] { for kw in 0..<kernel[2] {
                        let od = id * strides[0] + kd * dilations[0] - padBegin[0]
                        let oh = ih * strides[1] + kh * dilations[1] - padBegin[1]
                        let ow = iw * strides[2] + kw * dilations[2] - padBegin[2]
                        guard od >= 0, od < out[0], oh >= 0, oh < out[1], ow >= 0, ow < out[2] else { continue }
                        let wi = (((c * coutPerGroup + m) * kernel[0] + kd) * kernel[1] + kh) * kernel[2] + kw
                        let channel: Int = n * outputChannels + g * coutPerGroup + m
                        let yi: Int = ((channel * out[0] + od) * out[1] + oh) * out[2] + ow
                        y[yi] += value * Double(w[wi])
                    } } } }
                } } }
            }
        }
        return y
    }
}

@Suite struct ConvolutionKernelTests {
    typealias H = ConvolutionHarness

    struct ConvCase: CustomStringConvertible {
        var batch = 1, channels: Int, outputChannels: Int, group = 1
        var input: [Int], kernel: [Int]
        var strides: [Int]? = nil, dilations: [Int]? = nil, pads: [Int]? = nil
        var bias = true
        var description: String { "N\(batch) C\(channels)→\(outputChannels) g\(group) in \(input) k\(kernel) s\(strides ?? []) d\(dilations ?? []) p\(pads ?? [])" }
    }

    static let convCases: [ConvCase] = [
        // Several im2col tiles (288·40 columns per row > the tile's share).
        ConvCase(channels: 32, outputChannels: 8, input: [40, 40], kernel: [3, 3], pads: [1, 1, 1, 1]),
        // Pointwise: a plain product on the input, batch 2.
        ConvCase(batch: 2, channels: 6, outputChannels: 5, input: [7, 9], kernel: [1, 1]),
        // Strided, dilated, asymmetric padding, no bias.
        ConvCase(channels: 3, outputChannels: 4, input: [11, 10], kernel: [3, 2], strides: [2, 3], dilations: [2, 1],
                 pads: [1, 0, 2, 1], bias: false),
        // Groups of 3 channels.
        ConvCase(channels: 6, outputChannels: 4, group: 2, input: [8, 8], kernel: [3, 3], pads: [1, 1, 1, 1]),
        // Depthwise with channel multiplier 2, stride 2 and stride 1 with dilation.
        ConvCase(batch: 2, channels: 8, outputChannels: 16, group: 8, input: [13, 12], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
        ConvCase(channels: 5, outputChannels: 5, group: 5, input: [9, 17], kernel: [3, 5], dilations: [2, 1], pads: [2, 2, 0, 1]),
        // Depthwise 3×3 (the one-pass path) with symmetric and lopsided padding.
        ConvCase(channels: 4, outputChannels: 4, group: 4, input: [10, 9], kernel: [3, 3], pads: [1, 1, 1, 1]),
        // Rows wide enough for the 8-wide SIMD depthwise loop and its scalar tail; asymmetric pads.
        ConvCase(channels: 4, outputChannels: 4, group: 4, input: [7, 37], kernel: [3, 3], pads: [0, 1, 2, 0]),
        ConvCase(batch: 2, channels: 3, outputChannels: 6, group: 3, input: [9, 41], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
        ConvCase(channels: 2, outputChannels: 2, group: 2, input: [5, 26], kernel: [3, 3], strides: [2, 2]),
        ConvCase(channels: 3, outputChannels: 3, group: 3, input: [8, 11], kernel: [3, 3], strides: [1, 2], pads: [0, 2, 1, 0], bias: false),
        // Rows narrower than a vector (MobileNets' 7×7 and 14×14 stages, and 1 or 2 wide): spare
        // lanes spill into later rows but never into the next plane, which another thread owns.
        ConvCase(batch: 2, channels: 6, outputChannels: 6, group: 6, input: [7, 7], kernel: [3, 3], pads: [1, 1, 1, 1]),
        ConvCase(channels: 5, outputChannels: 5, group: 5, input: [14, 14], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
        ConvCase(batch: 2, channels: 4, outputChannels: 8, group: 4, input: [5, 1], kernel: [3, 3], pads: [1, 1, 1, 1]),
        ConvCase(channels: 3, outputChannels: 3, group: 3, input: [3, 4], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
        // Winograd F(2×2, 3×3): odd output sizes, batch 2; lopsided padding; several tile blocks.
        ConvCase(batch: 2, channels: 32, outputChannels: 16, input: [13, 11], kernel: [3, 3], pads: [1, 1, 1, 1]),
        ConvCase(channels: 40, outputChannels: 24, input: [10, 9], kernel: [3, 3], pads: [0, 2, 1, 0], bias: false),
        ConvCase(channels: 32, outputChannels: 16, input: [66, 66], kernel: [3, 3], pads: [1, 1, 1, 1]),
        // A 1-D and a 3-D convolution.
        ConvCase(channels: 4, outputChannels: 3, input: [20], kernel: [4], strides: [3], pads: [2, 1]),
        ConvCase(channels: 2, outputChannels: 3, input: [5, 6, 7], kernel: [2, 3, 3], strides: [1, 2, 1], pads: [0, 1, 1, 1, 0, 1]),
        // (Other tests pick cases by index: new cases go last.)
        // One column block but work for two threads: output channels split between the threads,
        // each finishing its own rows (pointwise on 14×14, and im2col with stride 2).
        ConvCase(channels: 64, outputChannels: 128, input: [14, 14], kernel: [1, 1]),
        ConvCase(channels: 32, outputChannels: 66, input: [9, 9], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
    ]

    static func reference(_ c: ConvCase) -> ReferenceConvolution {
        let n = c.input.count, lift = 3 - n
        func lifted(_ v: [Int]?, _ fill: Int, _ count: Int = n) -> [Int] { Array(repeating: fill, count: lift) + (v ?? Array(repeating: fill, count: count)) }
        let pads = c.pads ?? Array(repeating: 0, count: 2 * n)
        return ReferenceConvolution(
            batch: c.batch, inputChannels: c.channels, outputChannels: c.outputChannels, group: c.group,
            input: lifted(c.input, 1), kernel: lifted(c.kernel, 1), strides: lifted(c.strides, 1), dilations: lifted(c.dilations, 1),
            padBegin: lifted(Array(pads[..<n]), 0), padEnd: lifted(Array(pads[n...]), 0))
    }

    static func attributes(_ c: ConvCase) -> [Attribute] {
        var attributes = [Attribute("group", .int(Int64(c.group)))]
        if let s = c.strides { attributes.append(Attribute("strides", H.ints(s))) }
        if let d = c.dilations { attributes.append(Attribute("dilations", H.ints(d))) }
        if let p = c.pads { attributes.append(Attribute("pads", H.ints(p))) }
        return attributes
    }

    @Test(arguments: convCases)
    func convMatchesDirectLoops(_ c: ConvCase) throws {
        let x = H.random([c.batch, c.channels] + c.input, seed: 1)
        let w = H.random([c.outputChannels, c.channels / c.group] + c.kernel, seed: 2)
        let b = c.bias ? H.random([c.outputChannels], seed: 3) : nil
        let reference = Self.reference(c)
        let expected = reference.conv(Array(x.floats), Array(w.floats), b.map { Array($0.floats) })
        // Weights as constants (prepared at build time) and fed at run time; one and two threads.
        for (constants, threads) in [(Set(["w", "b"]), 1), ([], 2)] {
            let y = try H.run("Conv", [("x", x), ("w", w), ("b", b)], constants: constants, attributes: Self.attributes(c), threads: threads)[0]
            let liftedOut = reference.convOutput
            #expect(y.shape == [c.batch, c.outputChannels] + liftedOut.suffix(c.input.count))
            #expect(H.mismatch(Array(y.floats), expected) == nil, "\(c), threads \(threads): \(H.mismatch(Array(y.floats), expected) ?? "")")
        }
    }

    @Test func convComputesFloat16AndFloat64ThroughTheirOwnPaths() throws {
        let c = Self.convCases[3]
        let x = H.random([1, c.channels] + c.input, seed: 4), w = H.random([c.outputChannels, c.channels / c.group] + c.kernel, seed: 5)
        let expected = Self.reference(c).conv(Array(x.floats), Array(w.floats), nil)
        let x64 = H.array(.float64, x.shape, x.floats.map(Double.init)), w64 = H.array(.float64, w.shape, w.floats.map(Double.init))
        let y64 = try H.run("Conv", [("x", x64), ("w", w64)], attributes: Self.attributes(c), threads: 2)[0]
        #expect(y64.elementType == .float64)
        #expect(H.mismatch(UnsafeBufferPointer(start: y64.pointer(as: Double.self), count: y64.count).map(Float.init), expected, tolerance: 1e-6) == nil)
        // float16 inputs round to half precision; the result is within half-precision error.
        let x16 = H.array(.float16, x.shape, x.floats.map { Float16($0) }), w16 = H.array(.float16, w.shape, w.floats.map { Float16($0) })
        let y16 = try H.run("Conv", [("x", x16), ("w", w16)], constants: ["w"], attributes: Self.attributes(c))[0]
        #expect(y16.elementType == .float16)
        #expect(H.mismatch(UnsafeBufferPointer(start: y16.pointer(as: Float16.self), count: y16.count).map(Float.init), expected, tolerance: 1e-2) == nil)
    }

    @Test func convTransposeMatchesDirectLoops() throws {
        // Grouped, strided, dilated, padded with output_padding; large enough for several column tiles.
        for (cin, cout, group, input, kernel, strides, dilations, pads, outputPadding) in [
            (4, 6, 2, [7, 9], [3, 3], [2, 2], [1, 2], [1, 0, 0, 2], [1, 1]),
            (64, 32, 1, [40, 40], [2, 2], [2, 2], [1, 1], [0, 0, 0, 0], [0, 0]),
            (3, 2, 1, [6], [4], [3], [1], [1, 2], [2]),
            (2, 2, 1, [3, 4, 3], [2, 2, 3], [2, 1, 2], [1, 1, 1], [0, 1, 0, 1, 0, 1], [0, 0, 0]),
        ] as [(Int, Int, Int, [Int], [Int], [Int], [Int], [Int], [Int])] {
            let n = input.count, lift = 3 - n
            let reference = ReferenceConvolution(
                batch: 2, inputChannels: cin, outputChannels: cout, group: group,
                input: Array(repeating: 1, count: lift) + input, kernel: Array(repeating: 1, count: lift) + kernel,
                strides: Array(repeating: 1, count: lift) + strides, dilations: Array(repeating: 1, count: lift) + dilations,
                padBegin: Array(repeating: 0, count: lift) + pads[..<n], padEnd: Array(repeating: 0, count: lift) + pads[n...],
                outputPadding: Array(repeating: 0, count: lift) + outputPadding)
            let x = H.random([2, cin] + input, seed: 6), w = H.random([cin, cout / group] + kernel, seed: 7), b = H.random([cout], seed: 8)
            let expected = reference.convTranspose(Array(x.floats), Array(w.floats), Array(b.floats))
            var attributes = [
                Attribute("group", .int(Int64(group))), Attribute("strides", H.ints(strides)), Attribute("dilations", H.ints(dilations)),
                Attribute("pads", H.ints(pads)),
            ]
            if outputPadding.contains(where: { $0 != 0 }) { attributes.append(Attribute("output_padding", H.ints(outputPadding))) }
            for threads in [1, 2] {
                let y = try H.run("ConvTranspose", [("x", x), ("w", w), ("b", b)], constants: ["w"], attributes: attributes, threads: threads)[0]
                #expect(y.shape == [2, cout] + reference.transposeOutput.suffix(n))
                #expect(H.mismatch(Array(y.floats), expected) == nil, "\(input) k\(kernel): \(H.mismatch(Array(y.floats), expected) ?? "")")
            }
        }
    }

    @Test func matMulBroadcastsBatchesAndPromotesVectors() throws {
        for (a, b) in [([2, 1, 3, 4], [3, 4, 5]), ([5, 4], [2, 4, 3]), ([3, 2, 4], [4, 6]), ([4], [2, 4, 3]), ([2, 3, 4], [4]), ([4], [4]), ([1, 4], [4, 1])] {
            let x = H.random(a, seed: 9), y = H.random(b, seed: 10)
            let a2 = a.count == 1 ? [1] + a : a, b2 = b.count == 1 ? b + [1] : b
            let m = a2[a2.count - 2], k = a2.last!, n = b2.last!
            let batchA = Array(a2.dropLast(2)), batchB = Array(b2.dropLast(2))
            let rank = max(batchA.count, batchB.count)
            let pa = Array(repeating: 1, count: rank - batchA.count) + batchA, pb = Array(repeating: 1, count: rank - batchB.count) + batchB
            let batch = zip(pa, pb).map { max($0, $1) }
            var expected: [Double] = []
            for flat in 0..<batch.reduce(1, *) {
                var rest = flat, ia = 0, ib = 0, sa = 1, sb = 1
                for i in (0..<rank).reversed() {
                    let index = rest % batch[i]
                    rest /= batch[i]
                    ia += (pa[i] == 1 ? 0 : index) * sa
                    ib += (pb[i] == 1 ? 0 : index) * sb
                    sa *= pa[i]
                    sb *= pb[i]
                }
                for i in 0..<m { for j in 0..<n {
                    expected.append((0..<k).reduce(0.0) { $0 + Double(x.floats[ia * m * k + i * k + $1]) * Double(y.floats[ib * k * n + $1 * n + j]) })
                } }
            }
            var shape = batch
            if a.count > 1 { shape.append(m) }
            if b.count > 1 { shape.append(n) }
            for threads in [1, 2] {
                let result = try H.run("MatMul", [("a", x), ("b", y)], constants: threads == 1 ? ["b"] : [], threads: threads)[0]
                #expect(result.shape == shape, "\(a) × \(b)")
                #expect(H.mismatch(Array(result.floats), expected) == nil, "\(a) × \(b)")
            }
        }
        // Integers multiply exactly.
        let a = H.array(.int64, [2, 2], [Int64(1) << 40, 3, -2, 5]), b = H.array(.int64, [2, 1], [Int64(2), -7])
        let c = try H.run("MatMul", [("a", a), ("b", b)])[0]
        #expect(Array(UnsafeBufferPointer(start: c.pointer(as: Int64.self), count: 2)) == [(Int64(1) << 41) - 21, -39])
    }

    @Test func gemmTransposesScalesAndBroadcastsC() throws {
        // Includes single-row and single-column products (the matrix-vector path) both ways, and
        // products large enough to be split by rows and by columns across two threads.
        for (m, n, k) in [(3, 5, 4), (1, 7, 6), (6, 1, 5), (1, 1, 3), (300, 40, 64), (40, 300, 64)] {
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                for cShape in [[n], [m, 1], [], [m, n], nil] as [[Int]?] {
                    let a = H.random(transA ? [k, m] : [m, k], seed: 11), b = H.random(transB ? [n, k] : [k, n], seed: 12)
                    let c = cShape.map { H.random($0, seed: 13) }
                    let alpha: Float = 0.5, beta: Float = 1.5
                    var expected: [Double] = []
                    for i in 0..<m { for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k {
                            sum += Double(a.floats[transA ? p * m + i : i * k + p]) * Double(b.floats[transB ? j * k + p : p * n + j])
                        }
                        var bias = 0.0
                        if let c, let shape = cShape {
                            let ci = shape.count == 2 ? (shape[0] == 1 ? 0 : i) * shape[1] + (shape[1] == 1 ? 0 : j) : (shape.count == 1 ? j : 0)
                            bias = Double(c.floats[ci])
                        }
                        expected.append(Double(alpha) * sum + Double(beta) * bias)
                    } }
                    let attributes = [Attribute("alpha", .float(alpha)), Attribute("beta", .float(beta)),
                                      Attribute("transA", .int(transA ? 1 : 0)), Attribute("transB", .int(transB ? 1 : 0))]
                    let y = try H.run("Gemm", [("a", a), ("b", b), ("c", c)], constants: ["b"], attributes: attributes, threads: m > 100 || n > 100 ? 2 : 1)[0]
                    #expect(y.shape == [m, n])
                    #expect(H.mismatch(Array(y.floats), expected) == nil, "m\(m) n\(n) k\(k) transA \(transA) transB \(transB) C \(cShape ?? [-1])")
                }
            }
        }
    }

    @Test func poolsMatchDirectLoopsOnBothThreadCounts() throws {
        let x = H.random([2, 3, 17, 14], seed: 14)
        let values = Array(x.floats)
        let kernel = [3, 2], strides = [2, 3], pads = [1, 0, 1, 2]
        let attributes = [Attribute("kernel_shape", H.ints(kernel)), Attribute("strides", H.ints(strides)), Attribute("pads", H.ints(pads)),
                          Attribute("ceil_mode", .int(1))]
        // ceil((17 + 2 − 3) / 2) + 1 = 9; ceil((14 + 2 − 2) / 3) + 1 = 6, less the last window,
        // which would start in the end padding.
        let out = [9, 5]
        var maxima: [Double] = [], indices: [Int64] = [], sums: [Double] = [], counts: [Double] = [], padded: [Double] = []
        for plane in 0..<6 { for oh in 0..<out[0] { for ow in 0..<out[1] {
            var best = -Double.infinity, where_ = -1, sum = 0.0, count = 0.0, withPadding = 0.0
            for kh in 0..<kernel[0] { for kw in 0..<kernel[1] {
                let ih = oh * strides[0] - pads[0] + kh, iw = ow * strides[1] - pads[1] + kw
                if ih >= -pads[0], ih < 17 + pads[2], iw >= -pads[1], iw < 14 + pads[3] { withPadding += 1 }
                guard ih >= 0, ih < 17, iw >= 0, iw < 14 else { continue }
                let i = (plane * 17 + ih) * 14 + iw
                if Double(values[i]) > best { best = Double(values[i]); where_ = i }
                sum += Double(values[i])
                count += 1
            } }
            maxima.append(best); indices.append(Int64(where_)); sums.append(sum); counts.append(count); padded.append(withPadding)
        } } }
        for threads in [1, 2] {
            let y = try H.run("MaxPool", [("x", x)], attributes: attributes, threads: threads)[0]
            #expect(y.shape == [2, 3] + out)
            #expect(H.mismatch(Array(y.floats), maxima) == nil)
            let both = try H.run("MaxPool", [("x", x)], attributes: attributes, outputs: ["y", "i"], threads: threads)
            #expect(H.mismatch(Array(both[0].floats), maxima) == nil)
            #expect(Array(UnsafeBufferPointer(start: both[1].pointer(as: Int64.self), count: both[1].count)) == indices)
            let average = try H.run("AveragePool", [("x", x)], attributes: attributes, threads: threads)[0]
            #expect(H.mismatch(Array(average.floats), zip(sums, counts).map { $0 / $1 }) == nil)
            let including = try H.run("AveragePool", [("x", x)], attributes: attributes + [Attribute("count_include_pad", .int(1))], threads: threads)[0]
            #expect(H.mismatch(Array(including.floats), zip(sums, padded).map { $0 / $1 }) == nil)
        }
        // int8 MaxPool keeps its type and its values.
        let small = H.array(.int8, [1, 1, 2, 3], [Int8(-128), 7, -3, 127, -1, 0])
        let pooled = try H.run("MaxPool", [("x", small)], attributes: [Attribute("kernel_shape", H.ints([2, 2]))])[0]
        #expect(pooled.elementType == .int8)
        #expect(Array(UnsafeBufferPointer(start: pooled.pointer(as: Int8.self), count: 2)) == [127, 7])
    }

    @Test func globalPoolsReduceEachPlane() throws {
        let x = H.random([2, 5, 4, 3], seed: 15)
        let values = Array(x.floats)
        let planes = (0..<10).map { Array(values[$0 * 12..<($0 + 1) * 12]) }
        for threads in [1, 2] {
            let average = try H.run("GlobalAveragePool", [("x", x)], threads: threads)[0]
            #expect(average.shape == [2, 5, 1, 1])
            #expect(H.mismatch(Array(average.floats), planes.map { Double($0.reduce(0, +)) / 12 }) == nil)
            let maximum = try H.run("GlobalMaxPool", [("x", x)], threads: threads)[0]
            #expect(H.mismatch(Array(maximum.floats), planes.map { Double($0.max()!) }) == nil)
        }
    }

    /// Inputs that do not fit the op are errors that name the node, never traps.
    @Test func badInputsAreErrors() throws {
        let x = H.random([1, 3, 5, 5], seed: 16)
        func fails(_ op: String, _ inputs: [(String, NDArray?)], _ attributes: [Attribute] = [], outputs: [String] = ["y"]) {
            #expect(throws: RuntimeError.self, "\(op) \(inputs.map { $0.1.map { formatShape($0.shape) } ?? "-" })") {
                _ = try H.run(op, inputs, attributes: attributes, outputs: outputs)
            }
        }
        fails("Conv", [("x", x), ("w", H.random([2, 2, 3, 3], seed: 1))])                      // channel mismatch
        fails("Conv", [("x", x), ("w", H.random([2, 3, 3, 3], seed: 1)), ("b", H.random([3], seed: 1))])  // bias size
        fails("Conv", [("x", x), ("w", H.random([4, 1, 3, 3], seed: 1))], [Attribute("group", .int(3))])   // 4 % 3 ≠ 0
        fails("Conv", [("x", x), ("w", H.random([2, 3, 7, 7], seed: 1))])                      // kernel larger than input
        fails("Conv", [("x", x), ("w", H.random([2, 3, 3, 3], seed: 1))], [Attribute("pads", H.ints([1, 1]))])
        fails("Conv", [("x", x), ("w", H.random([2, 3, 3, 3], seed: 1))], [Attribute("strides", H.ints([0, 1]))])
        fails("Conv", [("x", H.random([1, 1, 2, 2, 2, 2], seed: 1)), ("w", H.random([1, 1, 1, 1, 1, 1], seed: 1))])  // 4 spatial axes
        fails("ConvTranspose", [("x", x), ("w", H.random([2, 3, 3, 3], seed: 1))])             // Cin mismatch
        fails("MaxPool", [("x", x)])                                                            // no kernel_shape
        fails("MaxPool", [("x", x)], [Attribute("kernel_shape", H.ints([3]))])                 // rank mismatch
        fails("AveragePool", [("x", x)], [Attribute("kernel_shape", H.ints([6, 6]))])          // empty output
        fails("MatMul", [("a", H.random([2, 3], seed: 1)), ("b", H.random([4, 2], seed: 1))])
        fails("MatMul", [("a", H.random([2, 2, 3], seed: 1)), ("b", H.random([3, 3, 2], seed: 1))])  // batches 2 vs 3
        fails("Gemm", [("a", H.random([2, 3], seed: 1)), ("b", H.random([3, 4], seed: 1)), ("c", H.random([3], seed: 1))])
        fails("Gemm", [("a", H.random([2, 3, 1], seed: 1)), ("b", H.random([3, 4], seed: 1))])
        fails("GlobalMaxPool", [("x", H.random([3], seed: 1))])
        let indices = H.array(.int64, [1, 1, 1, 2], [Int64(0), 99])
        fails("MaxUnpool", [("x", H.random([1, 1, 1, 2], seed: 1)), ("i", indices)], [Attribute("kernel_shape", H.ints([2, 2])), Attribute("strides", H.ints([2, 2]))])
    }
}

/// The backend node tests of this family again on two threads, where the kernels split their
/// work (the conformance run uses one).
@Suite(.enabled(if: Conformance.folder != nil, "set PARE_ONNX_NODE_TESTS to onnx/backend/test/data/node"))
struct ConvolutionConformanceTests {
    static let prefixes = [
        "test_conv", "test_basic_conv", "test_convtranspose", "test_maxpool", "test_averagepool", "test_lppool", "test_globalaveragepool",
        "test_globalmaxpool", "test_maxunpool", "test_matmul_", "test_gemm",
    ]

    @Test func backendTestsPassOnTwoThreads() {
        let names = Conformance.testNames().filter { name in
            Self.prefixes.contains { name.hasPrefix($0) } && Conformance.exclusions[name] == nil && !name.hasPrefix("test_convinteger")
        }
        #expect(names.count > 80)
        for name in names {
            switch Conformance.run(name, threads: 2) {
            case .passed, .outOfScope: break
            case .failed(let why): Issue.record(Comment(rawValue: "\(name): \(why)"))
            }
        }
    }
}
