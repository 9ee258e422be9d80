import Graph

// Shared by the windowed pools (MaxPool, AveragePool, LpPool): where each output's window lies.

/// Per spatial axis and output position: the kernel taps that land inside the input, and how many
/// land inside the padded input (the divisor of AveragePool with count_include_pad). Windows that
/// ceil_mode lets run past the padding are cut at its end, as ONNX specifies.
struct PoolWindows {
    let geometry: WindowGeometry
    /// `taps[axis][o]`: kernel taps of output position `o` that read the input.
    let taps: [[Range<Int>]]
    /// `paddedCounts[axis][o]`: taps of output position `o` inside the input or its padding.
    let paddedCounts: [[Int]]

    init(_ g: WindowGeometry) {
        geometry = g
        var taps: [[Range<Int>]] = [], counts: [[Int]] = []
        for axis in 0..<3 {
            let s = g.strides[axis], d = g.dilations[axis], k = g.kernel[axis]
            var axisTaps: [Range<Int>] = [], axisCounts: [Int] = []
            for o in 0..<g.output[axis] {
                let start = o * s - g.padBegin[axis]
                // start + t·d ∈ [lower, upper)  ⇔  t ∈ [ceil((lower − start) / d), ceil((upper − start) / d)).
                func taps(_ lower: Int, _ upper: Int) -> Range<Int> {
                    let lo = max(0, ceilDiv(lower - start, d)), hi = min(k, ceilDiv(upper - start, d))
                    return lo..<max(lo, hi)
                }
                axisTaps.append(taps(0, g.input[axis]))
                axisCounts.append(taps(-g.padBegin[axis], g.input[axis] + g.padEnd[axis]).count)
            }
            taps.append(axisTaps)
            counts.append(axisCounts)
        }
        self.taps = taps
        paddedCounts = counts
    }

    /// The window geometry of a pool node: kernel_shape, strides, dilations, pads or auto_pad,
    /// with the output size from the schema (which applies ceil_mode).
    init(node: Node, x: NDArray, outputShape: [Int], context: KernelContext) throws {
        guard let kernel = node.ints("kernel_shape")?.map({ Int(clamping: $0) }) else {
            throw context.failure("kernel_shape is required")
        }
        guard x.rank == kernel.count + 2 else {
            throw context.failure("input X \(formatShape(x.shape)) must have rank \(kernel.count + 2) for kernel_shape \(kernel)")
        }
        self.init(try WindowGeometry(node: node, input: Array(x.shape.dropFirst(2)), output: Array(outputShape.dropFirst(2)),
                                     kernel: kernel, context: context))
    }

    /// Calls `body` once per output position with its flat index in the output plane and its
    /// window. Callers loop over the window's taps themselves, so the per-tap work inlines.
    @inline(__always)
    func forEachOutput(_ body: (_ output: Int, _ window: Window) -> Void) {
        let g = geometry
        let inputHeight = g.input[1], inputWidth = g.input[2]
        var window = Window(depth: 0..<0, height: 0..<0, width: 0..<0, origin: 0,
                            depthStep: g.dilations[0] * inputHeight * inputWidth, heightStep: g.dilations[1] * inputWidth,
                            widthStep: g.dilations[2])
        var output = 0
        for od in 0..<g.output[0] {
            window.depth = taps[0][od]
            let depthOrigin = (od * g.strides[0] - g.padBegin[0]) * inputHeight
            for oh in 0..<g.output[1] {
                window.height = taps[1][oh]
                let rowOrigin = (depthOrigin + oh * g.strides[1] - g.padBegin[1]) * inputWidth
                for ow in 0..<g.output[2] {
                    window.width = taps[2][ow]
                    window.origin = rowOrigin + ow * g.strides[2] - g.padBegin[2]
                    body(output, window)
                    output += 1
                }
            }
        }
    }

    /// One output's window: the taps inside the input on each axis, and where tap (kd, kh, kw)
    /// reads: `origin + kd·depthStep + kh·heightStep + kw·widthStep` (origin may be negative;
    /// only in-range taps are visited).
    struct Window {
        var depth: Range<Int>, height: Range<Int>, width: Range<Int>
        var origin: Int
        let depthStep: Int, heightStep: Int, widthStep: Int

        @inline(__always) func row(_ kd: Int, _ kh: Int) -> Int { origin &+ kd &* depthStep &+ kh &* heightStep }
    }

    /// Reduces every window of `planes` planes with `R`, tap by tap over whole output rows (the
    /// inner loop runs along the output row, so it vectorizes), planes in parallel; then
    /// `finish(row, od, oh, rowPointer)` post-processes each output row.
    @inline(__always)
    func reduceRows<R: PoolReduction>(
        _: R.Type, _ source: UnsafePointer<R.Element>, _ target: UnsafeMutablePointer<R.Element>, planes: Int, threads: Int,
        finish: (_ od: Int, _ oh: Int, _ row: UnsafeMutablePointer<R.Element>) -> Void
    ) {
        let g = geometry
        let inputSize = g.inputSize, outputSize = g.outputSize
        let inputHeight = g.input[1], inputWidth = g.input[2], width = g.output[2]
        let strideW = g.strides[2]
        let columns = (0..<g.kernel[2]).map { g.validRange(axis: 2, tap: $0) }
        Parallel.forEach(planes, threads: threads, grain: max(1, 8192 / max(1, outputSize * g.kernelSize))) { p in
            let plane = source + p * inputSize
            var row = target + p * outputSize
            for od in 0..<g.output[0] {
                for oh in 0..<g.output[1] {
                    row.update(repeating: R.initial, count: width)
                    for kd in taps[0][od] {
                        let id = od * g.strides[0] - g.padBegin[0] + kd * g.dilations[0]
                        for kh in taps[1][oh] {
                            let ih = oh * g.strides[1] - g.padBegin[1] + kh * g.dilations[1]
                            let input = plane + (id * inputHeight + ih) * inputWidth
                            for (valid, offset) in columns {
                                let shifted = input + offset
                                // Constant strides let the compiler vectorize (stride 2 as interleaved loads).
                                if strideW == 1 {
                                    for ow in valid { row[ow] = R.combine(row[ow], shifted[ow]) }
                                } else if strideW == 2 {
                                    for ow in valid { row[ow] = R.combine(row[ow], shifted[ow &* 2]) }
                                } else {
                                    for ow in valid { row[ow] = R.combine(row[ow], shifted[ow &* strideW]) }
                                }
                            }
                        }
                    }
                    finish(od, oh, row)
                    row += width
                }
            }
        }
    }
}

/// How a pool folds a window's elements.
protocol PoolReduction {
    associatedtype Element
    static var initial: Element { get }
    static func combine(_ accumulated: Element, _ element: Element) -> Element
}

/// The largest element (the first of equal ones).
enum MaximumReduction<Element: PoolOrdered>: PoolReduction {
    static var initial: Element { Element.lowest }
    @inline(__always) static func combine(_ accumulated: Element, _ element: Element) -> Element {
        element > accumulated ? element : accumulated
    }
}

/// The sum of the elements.
enum SumReduction<Element: BinaryFloatingPoint>: PoolReduction {
    static var initial: Element { 0 }
    @inline(__always) static func combine(_ accumulated: Element, _ element: Element) -> Element { accumulated + element }
}

/// Element types MaxPool orders, with the value below every element.
protocol PoolOrdered: Comparable { static var lowest: Self { get } }
extension Float: PoolOrdered { static var lowest: Float { -.infinity } }
extension Double: PoolOrdered { static var lowest: Double { -.infinity } }
extension Int8: PoolOrdered { static var lowest: Int8 { .min } }
extension UInt8: PoolOrdered { static var lowest: UInt8 { .min } }

/// Runs a float pool body in the precision it computes in: float32 and float64 natively, float16
/// and bfloat16 widened to float32 and rounded back.
func runFloatPool(
    _ x: NDArray, _ y: NDArray, _ context: KernelContext,
    float: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
    double: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
) throws {
    switch x.elementType {
    case .float32: float(x.pointer(as: Float.self), y.pointer(as: Float.self))
    case .float64: double(x.pointer(as: Double.self), y.pointer(as: Double.self))
    case .float16, .bfloat16:
        HalfBridge.compute([x], into: y) { wide, result in float(wide[0]!.pointer(as: Float.self), result.pointer(as: Float.self)) }
    default:
        throw context.failure("\(context.node.opType) does not support \(x.elementType)")
    }
}
