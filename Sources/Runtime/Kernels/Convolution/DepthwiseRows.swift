/// The float32 3×3 depthwise conv (stride 1 or 2, no dilation) of MobileNets, eight outputs at a
/// time with explicit SIMD. Each input plane is first copied into a zero-bordered scratch plane,
/// so every output reads nine taps inside it and no row needs edge handling (the edge loops of
/// the general kernel cost as much as the vectorized interior on 56×56 planes).
///
/// - The scratch is wide enough for a whole last vector per row, so rows of 7 or 14 (MobileNets'
///   last stages) are vectorized too, their spare lanes dropped.
/// - For stride 2 the copy splits each row into its even columns followed by its odd columns.
///   Output `ow` then reads even[ow], odd[ow] and even[ow + 1]: three plain vector loads per row,
///   as for stride 1, instead of de-interleaving every row again for each output row reading it.
extension ConvProblem {
    /// True when `runDepthwise3x3` handles this depthwise conv.
    var depthwise3x3Applies: Bool {
        let g = geometry
        return g.input[0] == 1 && g.kernel == [1, 3, 3] && g.dilations == [1, 1, 1]
            && g.strides[1] == g.strides[2] && (g.strides[1] == 1 || g.strides[1] == 2)
    }

    func runDepthwise3x3(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        threads: Int, finish: ConvFinish?, inputFinish: InputFinishValues? = nil
    ) {
        // Relu and Clip are applied to each vector before it is stored, saving a pass over each
        // plane; other finishes run on each plane once it is computed.
        guard let finish, finish.summand == nil else {
            return runDepthwise3x3(x: x, w: w, bias: bias, y: y, threads: threads, activation: UnchangedLanes(), planeFinish: finish,
                                   inputFinish: inputFinish)
        }
        switch finish.activation {
        case nil:
            runDepthwise3x3(x: x, w: w, bias: bias, y: y, threads: threads, activation: UnchangedLanes(), planeFinish: nil,
                            inputFinish: inputFinish)
        case .relu:
            runDepthwise3x3(x: x, w: w, bias: bias, y: y, threads: threads, activation: ReluLanes(), planeFinish: nil,
                            inputFinish: inputFinish)
        case .clip(let lower, let upper):
            runDepthwise3x3(x: x, w: w, bias: bias, y: y, threads: threads,
                            activation: ClampedLanes(lower: lower ?? -.infinity, upper: upper ?? .infinity), planeFinish: nil,
                            inputFinish: inputFinish)
        default:
            runDepthwise3x3(x: x, w: w, bias: bias, y: y, threads: threads, activation: UnchangedLanes(), planeFinish: finish,
                            inputFinish: inputFinish)
        }
    }

    private func runDepthwise3x3<Activation: LaneFunction>(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        threads: Int, activation: Activation, planeFinish: ConvFinish?, inputFinish: InputFinishValues?
    ) {
        let g = geometry
        let multiplier = outputChannels / group
        let inputHeight = g.input[1], inputWidth = g.input[2], height = g.output[1], width = g.output[2]
        let stride = g.strides[1], padTop = g.padBegin[1], padLeft = g.padBegin[2]
        // Outputs per row rounded up to whole vectors; a scratch row holds every column those
        // vectors read: 2 past them for stride 1, and for stride 2 one more even column than odd.
        let vectorWidth = (width + 7) / 8 * 8
        let paddedHeight = max((height - 1) * stride + 3, padTop + inputHeight)
        let paddedWidth = max(stride == 1 ? vectorWidth + 2 : 2 * vectorWidth + 1, padLeft + inputWidth)
        let evenColumns = (paddedWidth + 1) / 2
        // Where tap kw of output 0 lies in a scratch row (tap kw of output ow lies ow further on).
        let taps = stride == 1 ? (0, 1, 2) : (0, evenColumns, 1)
        let planes = batch * outputChannels
        Parallel.chunks(planes, threads: threads, grain: max(1, 8192 / max(1, g.outputSize * 9))) { range in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * paddedWidth)
            defer { padded.deallocate() }
            padded.initialize(repeating: 0, count: paddedHeight * paddedWidth)
            var loadedPlane = -1
            // Image and channel of plane p, stepped along with it (two divisions per plane cost
            // as much as the arithmetic of a 7×7 plane).
            var n = range.lowerBound / outputChannels, oc = range.lowerBound % outputChannels
            for p in range {
                let source = n * inputChannels + (multiplier == 1 ? oc : oc / multiplier)
                if source != loadedPlane {
                    // Borders stay zero from the initialization; only the inside is overwritten.
                    let plane = x + source * g.inputSize
                    let channelFinish = inputFinish?.channel(source % inputChannels)
                    for r in 0..<inputHeight {
                        let from = plane + r * inputWidth, row = padded + (padTop + r) * paddedWidth
                        switch (stride, channelFinish) {
                        case (1, nil): Self.copyRow(from, into: row + padLeft, count: inputWidth, finish: UnchangedLanes())
                        case (1, let f?): Self.copyRow(from, into: row + padLeft, count: inputWidth, finish: f)
                        case (_, nil): Self.splitRow(from, count: inputWidth, at: padLeft, into: row, oddColumns: row + evenColumns,
                                                     finish: UnchangedLanes())
                        case (_, let f?): Self.splitRow(from, count: inputWidth, at: padLeft, into: row, oddColumns: row + evenColumns,
                                                        finish: f)
                        }
                    }
                    loadedPlane = source
                }
                let filter = w + oc * 9
                let out = y + p * g.outputSize
                Self.threeByThreePlane(padded, pitch: paddedWidth, rowStep: stride * paddedWidth, taps: taps, filter: filter,
                                       initial: bias?[oc] ?? 0, activation: activation, height: height, width: width,
                                       into: out)
                planeFinish?.apply(y, offset: p * g.outputSize, count: g.outputSize)
                oc += 1
                if oc == outputChannels { oc = 0; n += 1 }
            }
        }
    }

    /// Copies `count` floats through `finish` (the producing conv's bias and activation, or
    /// nothing) in whole vectors, the last one overlapping the one before it; rows of 4 to 7 go
    /// through one vector made of their first and last four. Short rows (7 to 56 wide) copy
    /// faster this way than through memmove or value by value.
    @inline(__always)
    private static func copyRow(
        _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int, finish: some LaneFunction
    ) {
        typealias V = SIMD8<Float>
        @inline(__always) func copy(at i: Int) {
            UnsafeMutableRawPointer(target + i).storeBytes(of: finish(UnsafeRawPointer(source + i).loadUnaligned(as: V.self)), as: V.self)
        }
        if count >= 8 {
            var i = 0
            while i + 8 <= count {
                copy(at: i)
                i += 8
            }
            if i < count { copy(at: count - 8) }
        } else if count >= 4 {
            // Two halves, overlapping when count < 8: the first four and the last four.
            let v = finish(V(lowHalf: UnsafeRawPointer(source).loadUnaligned(as: SIMD4<Float>.self),
                             highHalf: UnsafeRawPointer(source + count - 4).loadUnaligned(as: SIMD4<Float>.self)))
            UnsafeMutableRawPointer(target).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(target + count - 4).storeBytes(of: v.highHalf, as: SIMD4<Float>.self)
        } else {
            for i in 0..<count { target[i] = finish(source[i]) }
        }
    }

    /// Places `count` floats, through `finish`, at columns `column ..< column + count` of a row
    /// stored as its even columns (`evens`) followed by its odd columns (`odds`).
    @inline(__always)
    private static func splitRow(
        _ source: UnsafePointer<Float>, count: Int, at column: Int, into evens: UnsafeMutablePointer<Float>, oddColumns odds: UnsafeMutablePointer<Float>,
        finish: some LaneFunction
    ) {
        // Source elements 2k and 2k + 1 land at columns column + 2k and column + 2k + 1.
        let first = column % 2 == 0 ? evens + column / 2 : odds + column / 2
        let second = column % 2 == 0 ? odds + column / 2 : evens + column / 2 + 1
        var k = 0
        while 2 * k + 16 <= count {
            let loaded = UnsafeRawPointer(source + 2 * k).loadUnaligned(as: SIMD16<Float>.self)
            let pair = SIMD16(lowHalf: finish(loaded.lowHalf), highHalf: finish(loaded.highHalf))
            UnsafeMutableRawPointer(first + k).storeBytes(of: pair.evenHalf, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(second + k).storeBytes(of: pair.oddHalf, as: SIMD8<Float>.self)
            k += 8
        }
        @inline(__always) func splitEight(at k: Int) {
            let pair = finish(UnsafeRawPointer(source + 2 * k).loadUnaligned(as: SIMD8<Float>.self))
            UnsafeMutableRawPointer(first + k).storeBytes(of: pair.evenHalf, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(second + k).storeBytes(of: pair.oddHalf, as: SIMD4<Float>.self)
        }
        if 2 * k + 8 <= count {
            splitEight(at: k)
            k += 4
        }
        // An even row's last few pairs: eight elements ending at the row's end, overlapping ones
        // already placed (which get the same values again).
        if 2 * k < count && count >= 8 && count % 2 == 0 {
            splitEight(at: count / 2 - 4)
            return
        }
        while 2 * k < count {
            first[k] = finish(source[2 * k])
            if 2 * k + 1 < count { second[k] = finish(source[2 * k + 1]) }
            k += 1
        }
    }

    /// Writes the `height` × `width` outputs of one plane: output (oh, ow) reads scratch elements
    /// `ow + taps.n` of rows `oh · rowStep`, plus `pitch` and plus `2 · pitch`, then goes through
    /// `activation`. Rows run in whole vectors of eight (the filter's broadcasts made once per
    /// plane): a last vector's spare lanes land in the next row, which is written afterwards, and
    /// are dropped only where they would leave the plane.
    @inline(__always)
    private static func threeByThreePlane(
        _ padded: UnsafePointer<Float>, pitch: Int, rowStep: Int, taps: (Int, Int, Int), filter: UnsafePointer<Float>,
        initial: Float, activation: some LaneFunction, height: Int, width: Int, into out: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        let a0 = V(repeating: filter[0]), a1 = V(repeating: filter[1]), a2 = V(repeating: filter[2])
        let b0 = V(repeating: filter[3]), b1 = V(repeating: filter[4]), b2 = V(repeating: filter[5])
        let c0 = V(repeating: filter[6]), c1 = V(repeating: filter[7]), c2 = V(repeating: filter[8])
        let start = V(repeating: initial)
        let (t0, t1, t2) = taps
        let planeSize = height * width, lastVector = (width - 1) / 8 * 8
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        for oh in 0..<height {
            let r0 = padded + oh * rowStep, r1 = r0 + pitch, r2 = r1 + pitch
            let row = out + oh * width
            let spillsOver = oh * width + lastVector + 8 <= planeSize
            var ow = 0
            while ow < width {
                var sum = start + a0 * load(r0 + t0 + ow) + a1 * load(r0 + t1 + ow) + a2 * load(r0 + t2 + ow)
                sum += b0 * load(r1 + t0 + ow) + b1 * load(r1 + t1 + ow) + b2 * load(r1 + t2 + ow)
                sum += c0 * load(r2 + t0 + ow) + c1 * load(r2 + t1 + ow) + c2 * load(r2 + t2 + ow)
                sum = activation(sum)
                if ow + 8 <= width || spillsOver {
                    UnsafeMutableRawPointer(row + ow).storeBytes(of: sum, as: V.self)
                } else {
                    for lane in 0..<(width - ow) { row[ow + lane] = sum[lane] }
                }
                ow += 8
            }
        }
    }
}
