import Foundation
import Graph

// Sampling shared by Resize and Upsample. Each resized axis gets, once per run, the source
// indices and weights of every output position (its "taps"); nearest sampling is then a
// gather through index maps, linear and cubic a weighted sum over the taps of every axis.

/// How a Resize or Upsample node maps output coordinates to the input and samples there.
struct ResizeOptions: Sendable {
    enum Mode: String, Sendable { case nearest, linear, cubic }

    enum Coordinates: String, Sendable {
        case halfPixel = "half_pixel"
        case halfPixelSymmetric = "half_pixel_symmetric"
        case pytorchHalfPixel = "pytorch_half_pixel"
        case alignCorners = "align_corners"
        case asymmetric
        case tfHalfPixelForNN = "tf_half_pixel_for_nn"
        case tfCropAndResize = "tf_crop_and_resize"
    }

    enum Rounding: String, Sendable {
        case roundPreferFloor = "round_prefer_floor"
        case roundPreferCeil = "round_prefer_ceil"
        case floor
        case ceil
        /// Upsample and Resize-10, as onnxruntime runs them: ceil when downsampling, else floor.
        case simple
    }

    var mode: Mode
    var coordinates: Coordinates
    var rounding: Rounding
    var cubicA: Double = -0.75
    var excludeOutside = false
    var extrapolation: Float = 0
    var antialias = false
}

/// The sampling of one axis: for output position `o`, taps `o·taps ..< (o+1)·taps` of `index`
/// (source positions, already clamped) and `weight`; `outside[o]` marks tf_crop_and_resize
/// positions that take the extrapolation value.
struct ResizeAxis {
    var inputSize: Int
    var outputSize: Int
    var taps: Int
    var index: [Int]
    var weight: [Float]
    var outside: [Bool]
    /// Output equals input along this axis.
    var isIdentity: Bool

    static func identity(_ size: Int) -> ResizeAxis {
        ResizeAxis(inputSize: size, outputSize: size, taps: 1, index: Array(0..<size), weight: Array(repeating: 1, count: size),
                   outside: [], isIdentity: true)
    }
}

extension ResizeAxis {

    /// Taps for an axis of `inputSize` resized to `outputSize` by `scale`, with `roi` (start, end)
    /// for tf_crop_and_resize. Coordinates follow ONNX's reference implementation, including its
    /// use of the unrounded output width `scale · inputSize`.
    init(inputSize: Int, outputSize: Int, scale: Double, roi: (Double, Double), options: ResizeOptions) {
        let roiIsWhole = abs(roi.0) < 1e-12 && abs(roi.1 - 1) < 1e-12
        if outputSize == inputSize && abs(scale - 1) <= 1e-9 && (options.coordinates != .tfCropAndResize || roiIsWhole) {
            self = .identity(inputSize)
            return
        }
        self.inputSize = inputSize
        self.outputSize = outputSize
        isIdentity = false
        let length = Double(inputSize)
        let width = scale * length
        var outside: [Bool] = []
        var index: [Int] = [], weight: [Float] = []
        var taps = 1
        for o in 0..<outputSize {
            let y = Double(o)
            var x: Double
            switch options.coordinates {
            case .halfPixel: x = (y + 0.5) / scale - 0.5
            case .halfPixelSymmetric:
                let adjustment = Double(outputSize) / width
                x = length / 2 * (1 - adjustment) + (y + 0.5) / scale - 0.5
            case .pytorchHalfPixel: x = width == 1 ? -0.5 : (y + 0.5) / scale - 0.5
            case .alignCorners: x = width == 1 ? 0 : y * (length - 1) / (width - 1)
            case .asymmetric: x = y / scale
            case .tfHalfPixelForNN: x = (y + 0.5) / scale
            case .tfCropAndResize:
                let span = roi.1 - roi.0
                x = (width == 1 ? span * (length - 1) / 2 : y * span * (length - 1) / (width - 1)) + roi.0 * (length - 1)
                outside.append(x < 0 || x > length - 1)
            }
            // Degenerate scales give huge or undefined coordinates; they clamp to the edges anyway.
            x = x.isNaN ? 0 : Swift.min(Swift.max(x, -1e12), 1e12)
            let floorX = x.rounded(.down)
            // The reference measures from the pixel to the left: an exact integer has ratio 1.
            let ratio = x == floorX ? 1 : x - floorX
            if options.mode == .nearest {
                let up: Bool
                switch options.rounding {
                case .roundPreferFloor: up = ratio > 0.5
                case .roundPreferCeil: up = ratio >= 0.5
                case .floor: up = false
                case .ceil: up = true
                case .simple: up = scale < 1
                }
                let i = x == floorX ? Int(x) : Int(floorX) + (up ? 1 : 0)
                index.append(Swift.min(Swift.max(i, 0), inputSize - 1))
                weight.append(1)
                continue
            }
            var coefficients = Self.coefficients(ratio: ratio, scale: scale, options: options)
            let n = coefficients.count
            taps = n
            // The n source positions nearest x (ties to the left), as the reference picks them.
            let pad = (n + 1) / 2
            let shifted = x + Double(pad)
            let p = shifted.rounded(.down)
            let fraction = shifted - p
            let offset = n % 2 == 0 ? (fraction == 0 ? -(n / 2) : -(n / 2) + 1) : (fraction <= 0.5 ? -((n - 1) / 2) : -((n - 1) / 2) + 1)
            let start = Int(p) + offset - pad
            if options.excludeOutside {
                for k in 0..<n where start + k < 0 || start + k >= inputSize { coefficients[k] = 0 }
                let sum = coefficients.reduce(0, +)
                if sum != 0 { coefficients = coefficients.map { $0 / sum } }
            }
            for k in 0..<n {
                index.append(Swift.min(Swift.max(start + k, 0), inputSize - 1))
                weight.append(Float(coefficients[k]))
            }
        }
        self.taps = taps
        self.index = index
        self.weight = weight
        self.outside = outside.contains(true) ? outside : []
    }

    /// Interpolation weights at `ratio` ∈ (0, 1] past the left neighbour.
    private static func coefficients(ratio: Double, scale: Double, options: ResizeOptions) -> [Double] {
        let a = options.cubicA
        switch (options.mode, options.antialias && scale < 1) {
        case (.cubic, false):
            let r = ratio, s = 1 - ratio
            return [
                ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
                ((a + 2) * r - (a + 3)) * r * r + 1,
                ((a + 2) * s - (a + 3)) * s * s + 1,
                ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
            ]
        case (.cubic, true):
            // The cubic kernel stretched by 1/scale, normalized.
            func kernel(_ t: Double) -> Double {
                let x = abs(t)
                if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
                if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
                return 0
            }
            let first = Int(Swift.max((-2 / scale).rounded(.down), -1e7)) + 1
            let values = (first..<(2 - first)).map { kernel(scale * (Double($0) - ratio)) }
            let sum = values.reduce(0, +)
            return values.map { $0 / sum }
        case (_, true):
            // The triangle kernel stretched by 1/scale, normalized.
            let first = Int(Swift.max((-1 / scale).rounded(.down), -1e7)) + 1
            let values = (first..<(2 - first)).map { Swift.min(Swift.max(1 - abs((Double($0) - ratio) * scale), 0), 1) }
            let sum = values.reduce(0, +)
            return values.map { $0 / sum }
        default:
            return [1 - ratio, ratio]
        }
    }
}

enum Interpolation {
    /// Resizes `x` into a new array of `shape`, each axis sampled as `axes` say.
    static func resize(_ x: NDArray, axes: [ResizeAxis], options: ResizeOptions, _ context: KernelContext) throws -> NDArray {
        let node = context.node
        let shape = axes.map(\.outputSize)
        try TensorSupport.checkShape(shape, node)
        let out = context.output(0, x.elementType, shape)
        if out.count == 0 { return out }
        guard x.count > 0 else { throw context.failure("cannot resize an empty input \(x.shape) to \(shape)") }
        if options.mode == .nearest {
            let width = try TensorSupport.width(x.elementType, node)
            let maps = axes.map { axis in
                axis.outside.isEmpty ? axis.index : zip(axis.index, axis.outside).map { $1 ? -1 : $0 }
            }
            let fill = TensorSupport.elementBytes(Double(options.extrapolation), as: x.elementType) ?? Array(repeating: 0, count: width)
            TensorSupport.gatherAxes(from: x.buffer.pointer, shape: x.shape, maps: maps, to: out.buffer.pointer,
                                     width: width, fill: fill, threads: context.threads)
            return out
        }
        if x.elementType == .float32 {
            interpolate(x.pointer(as: Float.self), axes: axes, into: out.pointer(as: Float.self), extrapolation: options.extrapolation,
                        threads: context.threads)
            return out
        }
        guard TensorSupport.bridgesThroughFloat(x.elementType), let values = TensorSupport.floatValues(x) else {
            throw context.failure("\(options.mode.rawValue) resizing does not support \(x.elementType)")
        }
        var result = [Float](repeating: 0, count: out.count)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                interpolate(source.baseAddress!, axes: axes, into: target.baseAddress!, extrapolation: options.extrapolation,
                            threads: context.threads)
            }
        }
        result.withUnsafeBufferPointer { TensorSupport.store($0.baseAddress!, into: out) }
        return out
    }

    /// Linear or cubic sampling of float32 data: leading identity axes become independent planes;
    /// up to two resized trailing axes take the 2-D path (bilinear has its own loop), more take the
    /// general n-D sum over tap combinations.
    static func interpolate(_ source: UnsafePointer<Float>, axes: [ResizeAxis], into target: UnsafeMutablePointer<Float>,
                            extrapolation: Float, threads: Int) {
        guard let first = axes.firstIndex(where: { !$0.isIdentity }) else {
            let count = axes.reduce(1) { $0 * $1.inputSize }
            target.update(from: source, count: count)
            return
        }
        let planes = axes[..<first].reduce(1) { $0 * $1.inputSize }
        let region = Array(axes[first...])
        if region.count <= 2 {
            let rows = region.count == 2 ? region[0] : .identity(1)
            interpolatePlanes(source, rows: rows, columns: region[region.count - 1], planes: planes, into: target,
                              extrapolation: extrapolation, threads: threads)
        } else {
            interpolateRegion(source, axes: region, planes: planes, into: target, extrapolation: extrapolation, threads: threads)
        }
    }

    /// Planes of `rows` × `columns`, parallel over (plane, output row). Each source row is
    /// resampled horizontally once into a small cache, since consecutive output rows share source
    /// rows; each output row is then a weighted sum of cached rows.
    private static func interpolatePlanes(_ source: UnsafePointer<Float>, rows: ResizeAxis, columns: ResizeAxis, planes: Int,
                                          into target: UnsafeMutablePointer<Float>, extrapolation: Float, threads: Int) {
        let inH = rows.inputSize, inW = columns.inputSize, outH = rows.outputSize, outW = columns.outputSize
        let xt = columns.taps, yt = rows.taps
        // Two-tap columns (linear) read their taps from split arrays.
        let pairs = xt == 2
        let x0 = pairs ? stride(from: 0, to: columns.index.count, by: 2).map { columns.index[$0] } : []
        let x1 = pairs ? stride(from: 1, to: columns.index.count, by: 2).map { columns.index[$0] } : []
        let w0 = pairs ? stride(from: 0, to: columns.weight.count, by: 2).map { columns.weight[$0] } : []
        let w1 = pairs ? stride(from: 1, to: columns.weight.count, by: 2).map { columns.weight[$0] } : []
        let rowOutside = rows.outside, columnOutside = columns.outside
        let grain = max(1, 4096 / max(1, outW))
        // Unsafe buffers only inside the parallel loop: shared arrays would cost atomic refcounts.
        columns.index.withUnsafeBufferPointer { xIndex in
        columns.weight.withUnsafeBufferPointer { xWeight in
        rows.index.withUnsafeBufferPointer { yIndex in
        rows.weight.withUnsafeBufferPointer { yWeight in
        x0.withUnsafeBufferPointer { x0 in
        x1.withUnsafeBufferPointer { x1 in
        w0.withUnsafeBufferPointer { w0 in
        w1.withUnsafeBufferPointer { w1 in
        rowOutside.withUnsafeBufferPointer { rowOutside in
        columnOutside.withUnsafeBufferPointer { columnOutside in
            Parallel.chunks(planes * outH, threads: threads, grain: grain) { range in
                let cache = UnsafeMutablePointer<Float>.allocate(capacity: yt * outW)
                let keys = UnsafeMutablePointer<Int>.allocate(capacity: yt)
                let slots = UnsafeMutablePointer<Int>.allocate(capacity: yt)
                let busy = UnsafeMutablePointer<Bool>.allocate(capacity: yt)
                defer {
                    cache.deallocate()
                    keys.deallocate()
                    slots.deallocate()
                    busy.deallocate()
                }
                keys.initialize(repeating: -1, count: yt)
                for job in range {
                    let plane = job / outH, oy = job % outH
                    let dst = target + job * outW
                    if !rowOutside.isEmpty && rowOutside[oy] {
                        dst.update(repeating: extrapolation, count: outW)
                        continue
                    }
                    // Find each tap's source row in the cache; resample the missing ones into
                    // slots this output row does not need.
                    busy.initialize(repeating: false, count: yt)
                    for ty in 0..<yt {
                        let key = plane * inH + yIndex[oy * yt + ty]
                        slots[ty] = -1
                        for s in 0..<yt where keys[s] == key {
                            slots[ty] = s
                            busy[s] = true
                            break
                        }
                    }
                    for ty in 0..<yt where slots[ty] < 0 {
                        let key = plane * inH + yIndex[oy * yt + ty]
                        if let s = (0..<ty).first(where: { keys[slots[$0]] == key }).map({ slots[$0] }) {
                            slots[ty] = s
                            continue
                        }
                        let s = (0..<yt).first { !busy[$0] }!
                        busy[s] = true
                        keys[s] = key
                        slots[ty] = s
                        let row = source + key * inW, out = cache + s * outW
                        if pairs {
                            for ox in 0..<outW { out[ox] = w0[ox] * row[x0[ox]] + w1[ox] * row[x1[ox]] }
                        } else {
                            for ox in 0..<outW {
                                var sum: Float = 0
                                for tx in 0..<xt { sum += xWeight[ox * xt + tx] * row[xIndex[ox * xt + tx]] }
                                out[ox] = sum
                            }
                        }
                    }
                    if yt == 2 {
                        let r0 = cache + slots[0] * outW, r1 = cache + slots[1] * outW
                        let v0 = yWeight[2 * oy], v1 = yWeight[2 * oy + 1]
                        for ox in 0..<outW { dst[ox] = v0 * r0[ox] + v1 * r1[ox] }
                    } else {
                        dst.update(repeating: 0, count: outW)
                        for ty in 0..<yt {
                            let r = cache + slots[ty] * outW, v = yWeight[oy * yt + ty]
                            for ox in 0..<outW { dst[ox] += v * r[ox] }
                        }
                    }
                    if !columnOutside.isEmpty {
                        for ox in 0..<outW where columnOutside[ox] { dst[ox] = extrapolation }
                    }
                }
            }
        }
        }
        }
        }
        }
        }
        }
        }
        }
        }
    }

    /// Three or more resized axes (trilinear, or resizing N or C too): per output element, the sum
    /// over every combination of its axes' taps.
    private static func interpolateRegion(_ source: UnsafePointer<Float>, axes: [ResizeAxis], planes: Int,
                                          into target: UnsafeMutablePointer<Float>, extrapolation: Float, threads: Int) {
        let rank = axes.count
        let inShape = axes.map(\.inputSize), outShape = axes.map(\.outputSize)
        let inStrides = TensorSupport.strides(inShape)
        let inCount = inShape.reduce(1, *), outCount = outShape.reduce(1, *)
        let combinations = axes.reduce(1) { $0 * $1.taps }
        Parallel.chunks(planes * outCount, threads: threads, grain: 1024) { range in
            var position = Array(repeating: 0, count: rank)
            var tap = Array(repeating: 0, count: rank)
            for job in range {
                let plane = job / outCount
                var rest = job % outCount
                for k in stride(from: rank - 1, through: 0, by: -1) {
                    position[k] = rest % outShape[k]
                    rest /= outShape[k]
                }
                if axes.indices.contains(where: { !axes[$0].outside.isEmpty && axes[$0].outside[position[$0]] }) {
                    target[job] = extrapolation
                    continue
                }
                let src = source + plane * inCount
                var sum: Float = 0
                for combination in 0..<combinations {
                    var c = combination
                    for k in stride(from: rank - 1, through: 0, by: -1) {
                        tap[k] = c % axes[k].taps
                        c /= axes[k].taps
                    }
                    var offset = 0
                    var weight: Float = 1
                    for k in 0..<rank {
                        let t = position[k] * axes[k].taps + tap[k]
                        offset += axes[k].index[t] * inStrides[k]
                        weight *= axes[k].weight[t]
                    }
                    if weight != 0 { sum += weight * src[offset] }
                }
                target[job] = sum
            }
        }
    }
}
