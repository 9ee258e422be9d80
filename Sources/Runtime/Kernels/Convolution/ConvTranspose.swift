import Graph

/// ConvTranspose: the gradient of Conv with respect to its input, 1-D to 3-D, with groups,
/// strides, dilations, pads or auto_pad, output_padding and output_shape.
///
/// Per group, one matrix product spreads every input pixel over its kernel window (Wᵀ · X into
/// columns), then col2im adds the columns into the output, which starts as the bias. Columns are
/// made for a tile of input rows at a time so the scratch stays small.
struct ConvTransposeKernel: Kernel {
    let opsetVersion: Int64
    let group: Int
    let weight: NDArray?
    let bias: NDArray?
    /// The output shape and geometry of the last input shapes.
    let shapes = ShapeMemo<(shape: [Int], geometry: WindowGeometry)>()

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let group = Int(clamping: context.int("group", default: 1))
        guard group >= 1 else { throw context.invalid("group must be ≥ 1, got \(group)") }
        return ConvTransposeKernel(opsetVersion: context.opsetVersion, group: group,
                                   weight: context.constant(1).map(HalfBridge.widenedIfHalf), bias: context.constant(2).map(HalfBridge.widenedIfHalf))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard inputs.count >= 2, let x = inputs[0], let w = inputs[1] else { throw context.failure("ConvTranspose needs inputs X and W") }
        let b = inputs.count > 2 ? inputs[2] : nil
        let type = x.elementType
        guard w.elementType == type, b.map({ $0.elementType == type }) ?? true else {
            throw context.failure("X, W and B must share one element type, got \(type), \(w.elementType), \(b.map { "\($0.elementType)" } ?? "-")")
        }
        let cin = x.shape[1], cout = w.shape[1] * group
        // Everything here depends on the input shapes alone.
        let (shape, geometry) = try shapes.value(for: inputs) {
            let shape = try schemaOutputShape(inputs, context, opsetVersion: opsetVersion)
            guard cin == w.shape[0], cin % group == 0, shape[1] == cout else {
                throw context.failure("input X \(formatShape(x.shape)) and weight W \(formatShape(w.shape)) do not fit group \(group)")
            }
            if let b, b.count != cout { throw context.failure("bias B has \(b.count) elements for \(cout) output channels") }
            // The window steps over X and lands in Y: X's sizes are the window's "output".
            let geometry = try WindowGeometry(node: context.node, input: Array(shape.dropFirst(2)), output: Array(x.shape.dropFirst(2)),
                                              kernel: Array(w.shape.dropFirst(2)), context: context, transposed: true)
            return (shape, geometry)
        }
        let problem = ConvTransposeProblem(batch: x.shape[0], inputChannels: cin, outputChannels: cout, group: group, geometry: geometry)
        let y = context.output(0, type, shape)
        switch type {
        case .float32:
            problem.run(x: x.pointer(as: Float.self), w: (weight ?? w).pointer(as: Float.self),
                        bias: (bias ?? b)?.pointer(as: Float.self), y: y.pointer(as: Float.self), threads: context.threads)
        case .float64:
            problem.run(x: x.pointer(as: Double.self), w: w.pointer(as: Double.self),
                        bias: b?.pointer(as: Double.self), y: y.pointer(as: Double.self), threads: context.threads)
        case .float16, .bfloat16:
            HalfBridge.compute([x, weight ?? w, bias ?? b], into: y) { wide, result in
                problem.run(x: wide[0]!.pointer(as: Float.self), w: wide[1]!.pointer(as: Float.self),
                            bias: wide[2]?.pointer(as: Float.self), y: result.pointer(as: Float.self), threads: context.threads)
            }
        default:
            throw context.failure("ConvTranspose does not support \(type)")
        }
        return [y]
    }
}

/// One transposed convolution's sizes. `geometry.output` holds X's spatial sizes and
/// `geometry.input` Y's (see `WindowGeometry`).
struct ConvTransposeProblem {
    var batch: Int
    var inputChannels: Int
    var outputChannels: Int
    var group: Int
    var geometry: WindowGeometry

    func run<T: MatrixScalar>(x: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>, threads: Int) {
        let g = geometry
        let xSize = g.outputSize, ySize = g.inputSize
        guard batch > 0, outputChannels > 0, ySize > 0 else { return }
        BLASThreading.useCallerThreadOnly()
        let cinPerGroup = inputChannels / group, coutPerGroup = outputChannels / group
        let depth = coutPerGroup * g.kernelSize
        let width = g.output[2]
        // When windows tile the output exactly (kernel = stride, no padding: the usual 2×2/2
        // upsampling), every output gets one value, which col2im stores with the bias added; and
        // blocks of input rows then write disjoint outputs, so they run in parallel, each a
        // single-threaded product plus its col2im. Otherwise the output starts as the bias and
        // blocks run one after another, each split across threads.
        let exact = (0..<3).allSatisfy { i -> Bool in
            let tiles: Bool = g.kernel[i] == g.strides[i] && (g.kernel[i] == 1 || g.dilations[i] == 1)
            return tiles && g.padBegin[i] == 0 && g.input[i] == g.output[i] * g.strides[i]
        }
        let (blockRows, blocks) = ConvProblem.split(
            g.output[0] * g.output[1], preferred: ConvProblem.tileRows(scratchRows: depth, depth: cinPerGroup, productRows: depth, width: width),
            threads: exact ? threads : 1, minimum: (ConvProblem.minimumBlockColumns + width - 1) / width)
        let units = batch * group * blocks
        if !exact {
            Parallel.forEach(batch * outputChannels, threads: threads, grain: max(1, 16384 / ySize)) { p in
                (y + p * ySize).update(repeating: bias?[p % outputChannels] ?? .zero, count: ySize)
            }
        }
        func block(_ unit: Int, columns: UnsafeMutablePointer<T>, threads: Int) {
            let b = unit % blocks, gi = (unit / blocks) % group, n = unit / (blocks * group)
            let rows = (b * blockRows)..<min(g.output[0] * g.output[1], (b + 1) * blockRows)
            T.parallelGemm(threads: threads, transposeA: true, m: depth, n: rows.count * width, k: cinPerGroup,
                           a: w + gi * cinPerGroup * depth, lda: depth,
                           b: x + (n * inputChannels + gi * cinPerGroup) * xSize + rows.lowerBound * width, ldb: xSize,
                           beta: 0, c: columns, ldc: rows.count * width)
            col2im(columns, rows: rows, into: y + (n * outputChannels + gi * coutPerGroup) * ySize, channels: coutPerGroup,
                   assigning: exact ? bias.map { $0 + gi * coutPerGroup } : nil, exact: exact, threads: threads)
        }
        let scratchSize = max(1, depth * blockRows * width)
        if exact && units >= threads {
            Parallel.chunks(units, threads: threads) { range in
                let columns = UnsafeMutablePointer<T>.allocate(capacity: scratchSize)
                defer { columns.deallocate() }
                for unit in range { block(unit, columns: columns, threads: 1) }
            }
        } else {
            let columns = UnsafeMutablePointer<T>.allocate(capacity: scratchSize)
            defer { columns.deallocate() }
            for unit in 0..<units { block(unit, columns: columns, threads: threads) }
        }
    }

    /// Adds a (channels·kernel) × (rows·width) column matrix into `channels` output planes: column
    /// entry (c, tap; x position) lands at `x·stride + tap·dilation − padBegin` when inside.
    /// With `exact` (each output receives exactly one entry) entries are stored, plus the bias
    /// in `assigning` when given, instead of added. Channels run in parallel; each writes only
    /// its own plane.
    func col2im<T: Numeric>(
        _ columns: UnsafePointer<T>, rows: Range<Int>, into output: UnsafeMutablePointer<T>, channels: Int,
        assigning bias: UnsafePointer<T>?, exact: Bool, threads: Int
    ) {
        let g = geometry
        let kernelSize = g.kernelSize, width = g.output[2], height = g.output[1]
        let ySize = g.inputSize, yHeight = g.input[1], yWidth = g.input[2], yDepth = g.input[0]
        let tileColumns = rows.count * width
        Parallel.forEach(channels, threads: threads, grain: max(1, 32768 / max(1, tileColumns * kernelSize))) { c in
            let plane = output + c * ySize
            let initial = bias?[c] ?? .zero
            for tap in 0..<kernelSize {
                let kd = tap / (g.kernel[1] * g.kernel[2]), kh = (tap / g.kernel[2]) % g.kernel[1], kw = tap % g.kernel[2]
                let (valid, offset) = g.validRange(axis: 2, tap: kw)
                if valid.isEmpty { continue }
                let strideW = g.strides[2]
                var source = columns + (c * kernelSize + tap) * tileColumns
                for row in rows {
                    defer { source += width }
                    let od = row / height, oh = row % height
                    let yd = od * g.strides[0] + kd * g.dilations[0] - g.padBegin[0]
                    let yh = oh * g.strides[1] + kh * g.dilations[1] - g.padBegin[1]
                    if yd < 0 || yd >= yDepth || yh < 0 || yh >= yHeight { continue }
                    let target = plane + (yd * yHeight + yh) * yWidth + offset
                    if exact {
                        for ox in valid { target[ox &* strideW] = initial + source[ox] }
                    } else {
                        for ox in valid { target[ox &* strideW] += source[ox] }
                    }
                }
            }
        }
    }
}
