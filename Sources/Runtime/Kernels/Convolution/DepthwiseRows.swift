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
        threads: Int, finish: ConvFinish?
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
            for p in range {
                let n = p / outputChannels, oc = p % outputChannels
                let source = (n * inputChannels + oc / multiplier)
                if source != loadedPlane {
                    // Borders stay zero from the initialization; only the inside is overwritten.
                    let plane = x + source * g.inputSize
                    for r in 0..<inputHeight {
                        let from = plane + r * inputWidth, row = padded + (padTop + r) * paddedWidth
                        if stride == 1 {
                            Self.copyRow(from, into: row + padLeft, count: inputWidth)
                        } else {
                            Self.splitRow(from, count: inputWidth, at: padLeft, into: row, oddColumns: row + evenColumns)
                        }
                    }
                    loadedPlane = source
                }
                let filter = w + oc * 9
                let out = y + p * g.outputSize
                for oh in 0..<height {
                    let top = UnsafePointer(padded + oh * stride * paddedWidth)
                    // A row's spare lanes land in the rows after it, which are written later;
                    // lanes that would leave the plane are dropped instead.
                    Self.threeByThreeRow(top, pitch: paddedWidth, taps: taps, filter: filter,
                                         initial: bias?[oc] ?? 0, count: width, into: out + oh * width,
                                         spillsOver: oh * width + vectorWidth <= g.outputSize)
                }
                finish?.apply(y, offset: p * g.outputSize, count: g.outputSize)
            }
        }
    }

    /// Copies `count` floats; short rows (7 to 56 wide) copy faster inline than through memmove.
    @inline(__always)
    private static func copyRow(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(target + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            target[i] = source[i]
            i += 1
        }
    }

    /// Places `count` floats at columns `column ..< column + count` of a row stored as its even
    /// columns (`evens`) followed by its odd columns (`odds`).
    @inline(__always)
    private static func splitRow(
        _ source: UnsafePointer<Float>, count: Int, at column: Int, into evens: UnsafeMutablePointer<Float>, oddColumns odds: UnsafeMutablePointer<Float>
    ) {
        // Source elements 2k and 2k + 1 land at columns column + 2k and column + 2k + 1.
        let first = column % 2 == 0 ? evens + column / 2 : odds + column / 2
        let second = column % 2 == 0 ? odds + column / 2 : evens + column / 2 + 1
        var k = 0
        while 2 * k + 16 <= count {
            let pair = UnsafeRawPointer(source + 2 * k).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(first + k).storeBytes(of: pair.evenHalf, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(second + k).storeBytes(of: pair.oddHalf, as: SIMD8<Float>.self)
            k += 8
        }
        while 2 * k < count {
            first[k] = source[2 * k]
            if 2 * k + 1 < count { second[k] = source[2 * k + 1] }
            k += 1
        }
    }

    /// Writes outputs `0 ..< count` of `row`, where output `ow` reads scratch elements
    /// `ow + taps.n` of rows `top`, `top + pitch` and `top + 2·pitch`, in whole vectors of eight:
    /// the last vector's spare lanes are stored past `count` when `spillsOver`, else dropped.
    @inline(__always)
    private static func threeByThreeRow(
        _ top: UnsafePointer<Float>, pitch: Int, taps: (Int, Int, Int), filter: UnsafePointer<Float>,
        initial: Float, count: Int, into row: UnsafeMutablePointer<Float>, spillsOver: Bool
    ) {
        typealias V = SIMD8<Float>
        let a0 = V(repeating: filter[0]), a1 = V(repeating: filter[1]), a2 = V(repeating: filter[2])
        let b0 = V(repeating: filter[3]), b1 = V(repeating: filter[4]), b2 = V(repeating: filter[5])
        let c0 = V(repeating: filter[6]), c1 = V(repeating: filter[7]), c2 = V(repeating: filter[8])
        let start = V(repeating: initial)
        let r0 = top, r1 = top + pitch, r2 = top + 2 * pitch
        let (t0, t1, t2) = taps
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var ow = 0
        while ow < count {
            var sum = start + a0 * load(r0 + t0 + ow) + a1 * load(r0 + t1 + ow) + a2 * load(r0 + t2 + ow)
            sum += b0 * load(r1 + t0 + ow) + b1 * load(r1 + t1 + ow) + b2 * load(r1 + t2 + ow)
            sum += c0 * load(r2 + t0 + ow) + c1 * load(r2 + t1 + ow) + c2 * load(r2 + t2 + ow)
            if ow + 8 <= count || spillsOver {
                UnsafeMutableRawPointer(row + ow).storeBytes(of: sum, as: V.self)
            } else {
                for lane in 0..<(count - ow) { row[ow + lane] = sum[lane] }
            }
            ow += 8
        }
    }
}
