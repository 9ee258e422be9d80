import Graph

/// Conv: 1-D to 3-D convolution with groups, strides, dilations and padding (explicit or auto_pad).
///
/// Three paths: a pointwise conv (1×1, stride 1, unpadded) multiplies the weights with the input
/// as it lies; a depthwise conv (one input channel per group) runs a direct stencil per channel;
/// every other conv copies receptive fields into columns (im2col) and multiplies each group's
/// weights with them through BLAS. Products run in blocks of output columns (for im2col, rows of
/// output, so the column scratch stays small and in cache), spread over the session's threads.
/// A float32 product's bias is added in the same vectorized pass as the fused epilogue (see
/// ConvFinish), while the block is in cache.
///
/// A class rather than a struct: held as `any Kernel`, a struct this size would be copied into a
/// box of its own at every session creation.
final class ConvKernel: Kernel {
    let opsetVersion: Int64
    let group: Int
    /// The weight and bias when they are constants, already widened to float32 for half types.
    let weight: NDArray?
    let bias: NDArray?
    /// For a constant 3×3 float weight: its Winograd transform, made on first use.
    let winograd: WinogradWeights?
    /// What fused nodes add to the output (see ConvFusion).
    let epilogue: ConvEpilogue?
    /// The producing conv's per-channel bias for `epilogue.inputFinish`, when it has one.
    let inputFinishBias: NDArray?
    /// The output shape and geometry of the last input shapes.
    let shapes = ShapeMemo<(shape: [Int], geometry: WindowGeometry)>()

    private init(opsetVersion: Int64, group: Int, weight: NDArray?, bias: NDArray?, winograd: WinogradWeights?,
                 epilogue: ConvEpilogue?, inputFinishBias: NDArray?) {
        self.opsetVersion = opsetVersion
        self.group = group
        self.weight = weight
        self.bias = bias
        self.winograd = winograd
        self.epilogue = epilogue
        self.inputFinishBias = inputFinishBias
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { try build(context, epilogue: nil) }

    /// The kernel for a Conv node into which session creation fused the work of `epilogue`.
    static func make(_ context: KernelBuildContext, epilogue: ConvEpilogue) throws -> any Kernel {
        try build(context, epilogue: epilogue)
    }

    private static func build(_ context: KernelBuildContext, epilogue: ConvEpilogue?) throws -> ConvKernel {
        let group = Int(clamping: context.int("group", default: 1))
        guard group >= 1 else { throw context.invalid("group must be ≥ 1, got \(group)") }
        let weight = context.constant(1).map(HalfBridge.widenedIfHalf)
        let winograd = weight.flatMap { w in
            w.elementType == .float32 && w.rank == 4 && w.shape[2] == 3 && w.shape[3] == 3 && group == 1 ? WinogradWeights() : nil
        }
        var inputFinishBias: NDArray?
        if let biasInput = epilogue?.inputFinish?.biasInput {
            // ConvFusion hands over only float32 initializers, which sessions hold as constants.
            inputFinishBias = context.constant(biasInput)
            precondition(inputFinishBias?.elementType == .float32, "a handed-over bias is a float32 constant")
        }
        return ConvKernel(opsetVersion: context.opsetVersion, group: group, weight: weight,
                          bias: context.constant(2).map(HalfBridge.widenedIfHalf), winograd: winograd,
                          epilogue: epilogue, inputFinishBias: inputFinishBias)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard inputs.count >= 2, let x = inputs[0], let w = inputs[1] else { throw context.failure("Conv needs inputs X and W") }
        let b = inputs.count > 2 ? inputs[2] : nil
        let type = x.elementType
        guard w.elementType == type, b.map({ $0.elementType == type }) ?? true else {
            throw context.failure("X, W and B must share one element type, got \(type), \(w.elementType), \(b.map { "\($0.elementType)" } ?? "-")")
        }
        let cin = x.shape[1], cout = w.shape[0]
        // Everything here depends on the input shapes alone.
        let (shape, geometry) = try shapes.value(for: inputs) {
            let shape = try schemaOutputShape(inputs, context, opsetVersion: opsetVersion)
            guard cin == w.shape[1] * group, cout % group == 0, shape[1] == cout else {
                throw context.failure("input X \(formatShape(x.shape)) and weight W \(formatShape(w.shape)) do not fit group \(group)")
            }
            if let b, b.count != cout { throw context.failure("bias B has \(b.count) elements for \(cout) output channels") }
            let geometry = try WindowGeometry(node: context.node, input: Array(x.shape.dropFirst(2)), output: Array(shape.dropFirst(2)),
                                              kernel: Array(w.shape.dropFirst(2)), context: context)
            return (shape, geometry)
        }
        let problem = ConvProblem(batch: x.shape[0], inputChannels: cin, outputChannels: cout, group: group, geometry: geometry)
        var summand: NDArray?
        if epilogue?.addsSummand == true {
            guard inputs.count > 3, let z = inputs[3], z.elementType == .float32, z.shape == shape else {
                throw context.failure("the fused residual input must be float32 of the output's shape \(formatShape(shape)), got \(inputs.count > 3 ? inputs[3].map { "\($0.elementType) \(formatShape($0.shape))" } ?? "none" : "none")")
            }
            summand = z
        }
        if epilogue != nil && type != .float32 { throw context.failure("a fused Conv runs on float32 only, got \(type)") }
        var inputFinish: InputFinishValues?
        if let spec = epilogue?.inputFinish {
            // The producer, which ran first, checked that its bias has one value per channel of X.
            inputFinish = InputFinishValues(lower: spec.lower, upper: spec.upper, bias: inputFinishBias?.pointer(as: Float.self))
        }
        let y = context.output(0, type, shape)
        switch type {
        case .float32:
            // A conv leaving its finish to its reader outputs the bare product.
            let leavesFinish = epilogue?.leavesFinishToReader == true
            problem.runFloat(x: x.pointer(as: Float.self), w: (weight ?? w).pointer(as: Float.self),
                             bias: leavesFinish ? nil : (bias ?? b)?.pointer(as: Float.self), y: y.pointer(as: Float.self),
                             winograd: weight == nil ? nil : winograd, threads: context.threads,
                             finish: leavesFinish ? nil : epilogue?.bound(summand: summand?.pointer(as: Float.self)),
                             inputFinish: inputFinish)
        case .float64:
            problem.run(x: x.pointer(as: Double.self), w: w.pointer(as: Double.self),
                        bias: b?.pointer(as: Double.self), y: y.pointer(as: Double.self), threads: context.threads)
        case .float16, .bfloat16:
            HalfBridge.compute([x, weight ?? w, bias ?? b], into: y) { wide, result in
                problem.runFloat(x: wide[0]!.pointer(as: Float.self), w: wide[1]!.pointer(as: Float.self),
                                 bias: wide[2]?.pointer(as: Float.self), y: result.pointer(as: Float.self),
                                 winograd: weight == nil ? nil : winograd, threads: context.threads)
            }
        default:
            throw context.failure("Conv does not support \(type)")
        }
        return [y]
    }
}

/// One convolution's sizes, with the algorithm that fits them.
struct ConvProblem {
    var batch: Int
    var inputChannels: Int
    var outputChannels: Int
    var group: Int
    var geometry: WindowGeometry

    /// Elements of im2col scratch per tile: 1 MB of float32 stays in the L2 cache between im2col
    /// writing it and BLAS packing it (measured faster than 4 MB and than 16 MB tiles on U-Net's
    /// full-resolution layers), and bounds the scratch memory.
    static let columnTileElements = 1 << 18

    /// Rows of output (each `width` columns) per tile of a product with `productRows` rows and
    /// `depth` terms per output whose column scratch has `scratchRows` rows: as many as fit
    /// `columnTileElements`, but at least `minimumTileColumns` columns, under which BLAS runs
    /// well below its peak (123 against 156 GFLOP/s for 60 against 240 columns on a 128×2304
    /// weight); for a shallow product, no more than `shallowColumns` allows.
    static func tileRows(scratchRows: Int, depth: Int, productRows: Int, width: Int) -> Int {
        var columns = max(columnTileElements / max(1, scratchRows), minimumTileColumns)
        if depth < shallowDepth { columns = min(columns, shallowColumns(productRows)) }
        return max(1, columns / max(1, width))
    }

    static let minimumTileColumns = 256

    /// A product with fewer than `shallowDepth` terms per output does so little work per output
    /// element that BLAS's passes over the output block dominate unless the block stays in cache:
    /// such products run in blocks of at most 32K outputs (128 KB), and at least 256 columns.
    /// Measured on MobileNetV2's expansion convs (1.3–1.5× faster) and the 3-channel stems of
    /// U-Net and MobileNetV2 (1.4×); from 64 terms on, larger blocks are as fast or faster.
    static let shallowDepth = 64
    static func shallowColumns(_ outputChannels: Int) -> Int { max(256, (1 << 15) / max(1, outputChannels)) }

    /// One input channel per group, over 1-D or 2-D planes.
    var isDepthwise: Bool {
        let g = geometry
        return group > 1 && inputChannels == group && g.kernel[0] == 1 && g.input[0] == 1 && g.output[0] == 1
    }

    /// The float32 conv: Winograd where it applies, else the general paths. `winograd` caches
    /// the transform of a constant weight; `finish` is a fused epilogue.
    func runFloat(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        winograd: WinogradWeights?, threads: Int, finish: ConvFinish? = nil, inputFinish: InputFinishValues? = nil
    ) {
        // ConvFusion hands a producer's finish only to depthwise convs with one output per channel.
        precondition(inputFinish == nil || (isDepthwise && outputChannels == group), "an input finish needs a depthwise conv")
        if winogradApplies {
            runWinograd(x: x, w: w, bias: bias, y: y, cache: winograd, threads: threads, finish: finish)
        } else if isDepthwise && depthwise3x3Applies {
            runDepthwise3x3(x: x, w: w, bias: bias, y: y, threads: threads, finish: finish, inputFinish: inputFinish)
        } else if isDepthwise {
            runDepthwise(x: x, w: w, bias: bias, y: y, threads: threads, finish: finish, inputFinish: inputFinish)
        } else {
            run(x: x, w: w, bias: bias, y: y, threads: threads, finish: finish)
        }
    }

    /// The general conv. A `finish` (fused epilogue) requires T to be Float.
    func run<T: MatrixScalar>(
        x: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>, threads: Int,
        finish: ConvFinish? = nil
    ) {
        let g = geometry
        let inputSize = g.inputSize, outputSize = g.outputSize
        guard batch > 0, outputChannels > 0, outputSize > 0 else { return }
        let cinPerGroup = inputChannels / group, coutPerGroup = outputChannels / group
        if isDepthwise {
            runDepthwise(x: x, w: w, bias: bias, y: y, threads: threads, finish: finish)
            return
        }
        BLASThreading.useCallerThreadOnly()
        let depth = cinPerGroup * g.kernelSize
        // A float32 product starts from zero, and its bias, residual and activation are added in
        // one vectorized pass over each block while it is in cache; other types start from the bias.
        let finish = finish ?? (T.self == Float.self && bias != nil ? ConvFinish.biasOnly : nil)
        let biasFirst = finish == nil && bias != nil
        let beta: Double = biasFirst ? 1 : 0
        let width = g.output[2]
        // Work splits into blocks of output columns (a block of output rows for im2col), one
        // product each per image and group. Blocks run in parallel, each a single-threaded BLAS
        // call on memory no other block touches; the block is finished right after its product.
        let pointwise = g.isPointwise
        let (blockSize, blocks) = pointwise
            ? Self.split(outputSize, preferred: depth < Self.shallowDepth ? Self.shallowColumns(coutPerGroup) : outputSize,
                         threads: threads, minimum: Self.minimumBlockColumns, align: 16)
            : Self.split(g.output[0] * g.output[1], preferred: Self.tileRows(scratchRows: depth, depth: depth, productRows: coutPerGroup, width: width),
                         threads: threads, minimum: (Self.minimumBlockColumns + width - 1) / width)
        let columnsPerBlock = pointwise ? blockSize : blockSize * width
        let units = batch * group * blocks
        /// Output columns [start, start + count) of image n, group gi.
        func place(_ unit: Int) -> (n: Int, gi: Int, start: Int, count: Int) {
            let b = unit % blocks, gi = (unit / blocks) % group, n = unit / (blocks * group)
            let start = b * columnsPerBlock
            return (n, gi, start, min(columnsPerBlock, outputSize - start))
        }
        /// The product's right-hand side for a unit and its row stride: the input itself for a
        /// pointwise conv, else the unit's receptive fields copied into `scratch`.
        func columns(_ unit: Int, scratch: UnsafeMutablePointer<T>?, threads: Int) -> (UnsafePointer<T>, Int) {
            let (n, gi, start, count) = place(unit)
            let groupInput = x + (n * inputChannels + gi * cinPerGroup) * inputSize
            guard let scratch else { return (groupInput + start, inputSize) }
            im2col(groupInput, channels: cinPerGroup, rows: (start / width)..<((start + count) / width), into: scratch, threads: threads)
            return (UnsafePointer(scratch), count)
        }
        /// Output channels `rows` (within the group) of a unit: bias, product, then the finish
        /// while the block is in cache.
        func multiply(_ unit: Int, rows: Range<Int>, source: UnsafePointer<T>, sourceStride: Int) {
            let (n, gi, start, count) = place(unit)
            let first = (n * outputChannels + gi * coutPerGroup) * outputSize + start
            if biasFirst, let bias {
                for c in rows { (y + first + c * outputSize).update(repeating: bias[gi * coutPerGroup + c], count: count) }
            }
            T.gemm(transposeA: false, transposeB: false, m: rows.count, n: count, k: depth, alpha: 1,
                   a: w + (gi * coutPerGroup + rows.lowerBound) * depth, lda: depth, b: source, ldb: sourceStride, beta: beta,
                   c: y + first + rows.lowerBound * outputSize, ldc: outputSize)
            if let finish {
                for c in rows { finish.apply(y, offset: first + c * outputSize, count: count, bias: bias?[gi * coutPerGroup + c]) }
            }
        }
        let scratchSize = pointwise ? 0 : depth * columnsPerBlock
        if units >= threads {
            Parallel.chunks(units, threads: threads) { range in
                let scratch: UnsafeMutablePointer<T>? = pointwise ? nil : .allocate(capacity: scratchSize)
                defer { scratch?.deallocate() }
                for unit in range {
                    let (source, stride) = columns(unit, scratch: scratch, threads: 1)
                    multiply(unit, rows: 0..<coutPerGroup, source: source, sourceStride: stride)
                }
            }
        } else {
            // Fewer blocks than threads: each block's im2col, then its output channels in one
            // part per thread, each part's product and finish on its own thread.
            let scratch: UnsafeMutablePointer<T>? = pointwise ? nil : .allocate(capacity: scratchSize)
            defer { scratch?.deallocate() }
            for unit in 0..<units {
                let (source, stride) = columns(unit, scratch: scratch, threads: threads)
                let parts = max(1, min(threads, coutPerGroup * place(unit).count * depth / BLASThreading.minimumWorkPerThread))
                let size = (coutPerGroup + parts - 1) / parts
                Parallel.forEach((coutPerGroup + size - 1) / size, threads: parts) { part in
                    multiply(unit, rows: (part * size)..<min(coutPerGroup, (part + 1) * size), source: source, sourceStride: stride)
                }
            }
        }
    }

    /// Splits `count` items into blocks of about `preferred` items (a multiple of `align`). With
    /// several threads, the block count is raised to a multiple of `threads` so they get equal
    /// shares, unless blocks would then fall under `minimum` items (a product that narrow is
    /// better split by rows of the weight).
    /// Returns the block size and count.
    static func split(_ count: Int, preferred: Int, threads: Int, minimum: Int, align: Int = 1) -> (size: Int, blocks: Int) {
        var blocks = max(1, (count + max(1, preferred) - 1) / max(1, preferred))
        if threads > 1, count / max(blocks, threads) >= minimum {
            blocks = (max(blocks, threads) + threads - 1) / threads * threads
        }
        let size = ((count + blocks - 1) / blocks + align - 1) / align * align
        return (size, (count + size - 1) / size)
    }

    /// The narrowest column block worth a product of its own when splitting work across threads.
    static let minimumBlockColumns = 128

    /// Copies the receptive fields of `channels` input channels for output rows `rows` (a row is
    /// one (depth, height) position; its `output[2]` columns follow) into a
    /// (channels·kernel) × (rows·width) matrix. Taps outside the input read as zero.
    func im2col<T: Numeric>(_ image: UnsafePointer<T>, channels: Int, rows: Range<Int>, into columns: UnsafeMutablePointer<T>, threads: Int) {
        let g = geometry
        let kernelSize = g.kernelSize, width = g.output[2], height = g.output[1]
        let inputSize = g.inputSize, inputHeight = g.input[1], inputWidth = g.input[2], inputDepth = g.input[0]
        let tileColumns = rows.count * width
        let count = channels * kernelSize
        // With unit strides and rows as wide as the input's ("same" padding), consecutive output
        // rows read consecutive input rows: a run of them is one contiguous copy, after which
        // only the few padding columns between rows are cleared.
        let contiguous = g.strides[1] == 1 && g.strides[2] == 1 && width == inputWidth
        Parallel.chunks(count, threads: threads, grain: max(1, 32768 / max(1, tileColumns))) { chunk in
            for r in chunk {
                let c = r / kernelSize, tap = r % kernelSize
                let kd = tap / (g.kernel[1] * g.kernel[2]), kh = (tap / g.kernel[2]) % g.kernel[1], kw = tap % g.kernel[2]
                let (valid, offset) = g.validRange(axis: 2, tap: kw)
                let strideW = g.strides[2]
                let plane = image + c * inputSize
                var target = columns + r * tileColumns
                var row = rows.lowerBound
                while row < rows.upperBound {
                    let od = row / height, oh = row % height
                    let id = od * g.strides[0] + kd * g.dilations[0] - g.padBegin[0]
                    let ih = oh * g.strides[1] + kh * g.dilations[1] - g.padBegin[1]
                    if id < 0 || id >= inputDepth || ih < 0 || ih >= inputHeight || valid.isEmpty {
                        target.update(repeating: .zero, count: width)
                        target += width
                        row += 1
                        continue
                    }
                    let source = plane + (id * inputHeight + ih) * inputWidth + offset
                    // Rows in this run: same depth position, input rows still inside.
                    let run = contiguous ? min(rows.upperBound - row, height - oh, inputHeight - ih) : 1
                    let last = (run - 1) * width
                    target.update(repeating: .zero, count: valid.lowerBound)
                    if strideW == 1 {
                        (target + valid.lowerBound).update(from: source + valid.lowerBound, count: last + valid.count)
                    } else {
                        for ow in valid { target[ow] = source[ow &* strideW] }
                    }
                    for boundary in stride(from: width, through: last, by: width) {
                        (target + boundary - width + valid.upperBound).update(repeating: .zero, count: width - valid.count)
                    }
                    (target + last + valid.upperBound).update(repeating: .zero, count: width - valid.upperBound)
                    target += run * width
                    row += run
                }
            }
        }
    }

    /// One input channel per group: each output channel is a small 2-D stencil over one input
    /// plane (finished by `inputFinish` first, when the producer left its finish to this conv,
    /// which then has one output per channel). Planes run in parallel. A window three wide (the
    /// common 3×3, stride 1 or 2) sums all its taps per output in one pass; other windows
    /// accumulate tap by tap over whole output rows. Either way the inner loop runs along an
    /// output row and vectorizes.
    func runDepthwise<T: MatrixScalar>(
        x: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>, threads: Int, finish: ConvFinish?,
        inputFinish: InputFinishValues? = nil
    ) {
        let g = geometry
        let multiplier = outputChannels / group
        let kernelHeight = g.kernel[1], kernelWidth = g.kernel[2]
        let inputHeight = g.input[1], inputWidth = g.input[2], height = g.output[1], width = g.output[2]
        let inputSize = g.inputSize, outputSize = g.outputSize
        let strideH = g.strides[1], strideW = g.strides[2], dilationH = g.dilations[1], padTop = g.padBegin[1]
        let taps = (0..<kernelWidth).map { g.validRange(axis: 2, tap: $0) }
        let threeWide = kernelWidth == 3 && g.dilations[2] == 1 && (strideW == 1 || strideW == 2)
        // Outputs whose three taps all land inside the input row.
        let interior = threeWide ? max(taps[0].range.lowerBound, taps[2].range.lowerBound)..<min(taps[0].range.upperBound, taps[2].range.upperBound) : 0..<0
        let planes = batch * outputChannels
        Parallel.forEach(planes, threads: threads, grain: max(1, 8192 / max(1, outputSize * kernelHeight * kernelWidth))) { p in
            let n = p / outputChannels, oc = p % outputChannels
            let plane = x + (n * inputChannels + oc / multiplier) * inputSize
            // The producer's finish, on the plane this output alone reads (one output per
            // channel), just before the stencil reads it from cache.
            inputFinish?.apply(UnsafeMutablePointer(mutating: plane), count: inputSize, channel: oc)
            let filter = w + oc * kernelHeight * kernelWidth
            let out = y + p * outputSize
            let initial = bias?[oc] ?? .zero
            /// Adds the taps of input row `source` (weights `weights`) to outputs `range`, checking each tap.
            @inline(__always) func edge(_ range: Range<Int>, _ row: UnsafeMutablePointer<T>, _ source: UnsafePointer<T>, _ weights: UnsafePointer<T>) {
                for ow in range {
                    for kw in 0..<kernelWidth where taps[kw].range.contains(ow) {
                        row[ow] += weights[kw] * source[ow * strideW + taps[kw].offset]
                    }
                }
            }
            let leftEdge = 0..<min(interior.lowerBound, width), rightEdge = max(interior.upperBound, 0)..<width
            for oh in 0..<height {
                let row = out + oh * width
                let top = oh * strideH - padTop
                if threeWide && kernelHeight == 3 && dilationH == 1 && top >= 0 && top + 2 < inputHeight {
                    // All nine taps inside: one pass per output row.
                    let r0 = plane + top * inputWidth + taps[0].offset, r1 = r0 + inputWidth, r2 = r1 + inputWidth
                    let a0 = filter[0], a1 = filter[1], a2 = filter[2], b0 = filter[3], b1 = filter[4], b2 = filter[5]
                    let c0 = filter[6], c1 = filter[7], c2 = filter[8]
                    if strideW == 1 {
                        for ow in interior {
                            var sum = initial + a0 * r0[ow] + a1 * r0[ow &+ 1] + a2 * r0[ow &+ 2]
                            sum += b0 * r1[ow] + b1 * r1[ow &+ 1] + b2 * r1[ow &+ 2]
                            row[ow] = sum + c0 * r2[ow] + c1 * r2[ow &+ 1] + c2 * r2[ow &+ 2]
                        }
                    } else {
                        for ow in interior {
                            let i = ow &* 2
                            var sum = initial + a0 * r0[i] + a1 * r0[i &+ 1] + a2 * r0[i &+ 2]
                            sum += b0 * r1[i] + b1 * r1[i &+ 1] + b2 * r1[i &+ 2]
                            row[ow] = sum + c0 * r2[i] + c1 * r2[i &+ 1] + c2 * r2[i &+ 2]
                        }
                    }
                    for ow in leftEdge { row[ow] = initial }
                    for ow in rightEdge { row[ow] = initial }
                    for kh in 0..<3 {
                        let source = plane + (top + kh) * inputWidth, weights = filter + kh * 3
                        edge(leftEdge, row, source, weights)
                        edge(rightEdge, row, source, weights)
                    }
                    continue
                }
                row.update(repeating: initial, count: width)
                for kh in 0..<kernelHeight {
                    let ih = oh * strideH + kh * dilationH - padTop
                    if ih < 0 || ih >= inputHeight { continue }
                    let source = plane + ih * inputWidth
                    let weights = filter + kh * kernelWidth
                    if threeWide {
                        let w0 = weights[0], w1 = weights[1], w2 = weights[2]
                        // Input index of tap 0 for output ow: ow·stride + offset.
                        let first = source + taps[0].offset
                        if strideW == 1 {
                            for ow in interior { row[ow] += w0 * first[ow] + w1 * first[ow &+ 1] + w2 * first[ow &+ 2] }
                        } else {
                            for ow in interior {
                                let i = ow &* 2
                                row[ow] += w0 * first[i] + w1 * first[i &+ 1] + w2 * first[i &+ 2]
                            }
                        }
                        // The few edge outputs, tap by tap.
                        edge(leftEdge, row, source, weights)
                        edge(rightEdge, row, source, weights)
                        continue
                    }
                    for kw in 0..<kernelWidth {
                        let weight = weights[kw]
                        let (valid, offset) = taps[kw]
                        let shifted = source + offset
                        if strideW == 1 {
                            for ow in valid { row[ow] += weight * shifted[ow] }
                        } else {
                            for ow in valid { row[ow] += weight * shifted[ow &* strideW] }
                        }
                    }
                }
            }
            finish?.apply(y, offset: p * outputSize, count: outputSize)
        }
    }
}
