/// The float32 3×3 depthwise conv (stride 1 or 2, no dilation) of MobileNets, eight outputs at a
/// time with explicit SIMD. Each input plane is first copied into a zero-bordered scratch plane,
/// so every output reads nine taps inside it and no row needs edge handling (the edge loops of
/// the general kernel cost as much as the vectorized interior on 56×56 planes).
extension ConvProblem {
    /// True when `runDepthwise3x3` handles this depthwise conv.
    var depthwise3x3Applies: Bool {
        let g = geometry
        return g.input[0] == 1 && g.kernel == [1, 3, 3] && g.dilations == [1, 1, 1]
            && g.strides[1] == g.strides[2] && (g.strides[1] == 1 || g.strides[1] == 2)
    }

    func runDepthwise3x3(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        threads: Int, finish: ConvFinish?
    ) {
        let g = geometry
        let multiplier = outputChannels / group
        let inputHeight = g.input[1], inputWidth = g.input[2], height = g.output[1], width = g.output[2]
        let stride = g.strides[1], padTop = g.padBegin[1], padLeft = g.padBegin[2]
        // The scratch plane holds every row and column an output reads.
        let paddedHeight = max((height - 1) * stride + 3, padTop + inputHeight)
        let paddedWidth = max((width - 1) * stride + 3, padLeft + inputWidth)
        let planes = batch * outputChannels
        Parallel.chunks(planes, threads: threads, grain: max(1, 8192 / max(1, g.outputSize * 9))) { range in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * paddedWidth)
            defer { padded.deallocate() }
            padded.initialize(repeating: 0, count: paddedHeight * paddedWidth)
            var loadedPlane = -1
            for p in range {
                let n = p / outputChannels, oc = p % outputChannels
                let source = (n * inputChannels + oc / multiplier)
                if source != loadedPlane {
                    // Borders stay zero from the initialization; only the inside is overwritten.
                    let plane = x + source * g.inputSize
                    for r in 0..<inputHeight {
                        (padded + (padTop + r) * paddedWidth + padLeft).update(from: plane + r * inputWidth, count: inputWidth)
                    }
                    loadedPlane = source
                }
                let filter = w + oc * 9
                let initial = bias?[oc] ?? 0
                let out = y + p * g.outputSize
                for oh in 0..<height {
                    let r0 = UnsafePointer(padded + oh * stride * paddedWidth), r1 = r0 + paddedWidth, r2 = r1 + paddedWidth
                    let row = out + oh * width
                    var ow = Self.threeByThreeRow(r0, r1, r2, filter: filter, initial: initial, stride: stride, count: width, into: row)
                    while ow < width {
                        let i = ow * stride
                        var sum = initial + filter[0] * r0[i] + filter[1] * r0[i + 1] + filter[2] * r0[i + 2]
                        sum += filter[3] * r1[i] + filter[4] * r1[i + 1] + filter[5] * r1[i + 2]
                        row[ow] = sum + filter[6] * r2[i] + filter[7] * r2[i + 1] + filter[8] * r2[i + 2]
                        ow += 1
                    }
                }
                finish?.apply(y, offset: p * g.outputSize, count: g.outputSize)
            }
        }
    }

    /// Writes outputs `0 ..< returned` of `row` (a multiple of 8), where output `ow` reads columns
    /// `ow·stride + 0...2` of input rows `r0`, `r1`, `r2`; the caller finishes the rest.
    @inline(__always)
    private static func threeByThreeRow(
        _ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        initial: Float, stride: Int, count: Int, into row: UnsafeMutablePointer<Float>
    ) -> Int {
        typealias V = SIMD8<Float>
        let a0 = V(repeating: filter[0]), a1 = V(repeating: filter[1]), a2 = V(repeating: filter[2])
        let b0 = V(repeating: filter[3]), b1 = V(repeating: filter[4]), b2 = V(repeating: filter[5])
        let c0 = V(repeating: filter[6]), c1 = V(repeating: filter[7]), c2 = V(repeating: filter[8])
        let start = V(repeating: initial)
        var ow = 0
        if stride == 1 {
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
            while ow + 8 <= count {
                var sum = start + a0 * load(r0 + ow) + a1 * load(r0 + ow + 1) + a2 * load(r0 + ow + 2)
                sum += b0 * load(r1 + ow) + b1 * load(r1 + ow + 1) + b2 * load(r1 + ow + 2)
                sum += c0 * load(r2 + ow) + c1 * load(r2 + ow + 1) + c2 * load(r2 + ow + 2)
                UnsafeMutableRawPointer(row + ow).storeBytes(of: sum, as: V.self)
                ow += 8
            }
        } else {
            // Columns 2·ow + {0, 1, 2} of eight outputs: the even and odd halves of the 16 columns
            // from 2·ow, and the odd half of the 16 from 2·ow + 1 (ending at the last column the
            // eighth output reads).
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
            while ow + 8 <= count {
                let i = 2 * ow
                let x0 = load(r0 + i), y0 = load(r0 + i + 1), x1 = load(r1 + i), y1 = load(r1 + i + 1)
                let x2 = load(r2 + i), y2 = load(r2 + i + 1)
                var sum = start + a0 * x0.evenHalf + a1 * x0.oddHalf + a2 * y0.oddHalf
                sum += b0 * x1.evenHalf + b1 * x1.oddHalf + b2 * y1.oddHalf
                sum += c0 * x2.evenHalf + c1 * x2.oddHalf + c2 * y2.oddHalf
                UnsafeMutableRawPointer(row + ow).storeBytes(of: sum, as: V.self)
                ow += 8
            }
        }
        return ow
    }
}
