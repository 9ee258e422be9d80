import Foundation
import Synchronization

// Winograd's minimal filtering F(2×2, 3×3) for Conv: each 2×2 block of output comes from a 4×4
// block of input with 16 multiplications per channel pair instead of 36. The transforms use only
// 0, ±1 and ±½, so the result is as accurate as direct convolution in float32.
//
// Per block of output tiles: the input tiles are transformed (V = Bᵀ·d·B), then 16 independent
// products M_ξ = U_ξ · V_ξ (weights U_ξ = G·g·Gᵀ, Cout × Cin) run through BLAS, and the output
// transform (Aᵀ·m·A) adds the bias and writes each 2×2 tile.

extension ConvProblem {
    /// Input and output channels from which Winograd pays: its 16 products are Cin deep and Cout
    /// tall, and shallower ones run far below BLAS's peak (measured on U-Net and ResNet-50: 16
    /// input channels lose a little, 32 gain 1.2–1.5×; 16 output channels still gain).
    static let winogradMinimumInputChannels = 32
    static let winogradMinimumOutputChannels = 16
    /// Output tiles (2×2 each) from which Winograd pays even on a 7×7 output (16 tiles: 1.3×
    /// faster on ResNet-50's 512-channel layers, given the cached weight transform).
    static let winogradMinimumTiles = 16

    /// True for a plain 3×3 conv (2-D, unit strides and dilations, one group) big enough to gain.
    var winogradApplies: Bool {
        let g = geometry
        let tiles = (g.output[1] + 1) / 2 * ((g.output[2] + 1) / 2)
        return group == 1 && g.input[0] == 1 && g.kernel == [1, 3, 3] && g.strides == [1, 1, 1] && g.dilations == [1, 1, 1]
            && inputChannels >= Self.winogradMinimumInputChannels && outputChannels >= Self.winogradMinimumOutputChannels
            && tiles >= Self.winogradMinimumTiles
    }

    /// Runs the conv by F(2×2, 3×3); `winogradApplies` must hold. `cache` holds the transformed
    /// weights of a constant W (made on first use); without it they are made for this run.
    func runWinograd(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        cache: WinogradWeights?, threads: Int, finish: ConvFinish? = nil
    ) {
        let g = geometry
        let cin = inputChannels, cout = outputChannels
        let tileRows = (g.output[1] + 1) / 2, tileColumns = (g.output[2] + 1) / 2
        BLASThreading.useCallerThreadOnly()
        // The transformed weights: 16 matrices Cout × Cin.
        let transform = { (u: UnsafeMutablePointer<Float>) in
            Parallel.chunks(cout, threads: threads, grain: max(1, 4096 / cin)) { range in
                for co in range { for ci in 0..<cin { transformWeight(w + (co * cin + ci) * 9, into: u + co * cin + ci, stride: cout * cin) } }
            }
        }
        let owned: UnsafeMutablePointer<Float>? = cache == nil ? .allocate(capacity: 16 * cout * cin) : nil
        defer { owned?.deallocate() }
        if let owned { transform(owned) }
        let u = cache?.weights(count: 16 * cout * cin, transform) ?? UnsafePointer(owned!)
        // Blocks of whole tile rows, about `preferred` tiles each (a product of that width runs
        // near BLAS's peak), with V and M (16 × (Cin + Cout) × tiles) kept to a few MB.
        let preferred = min(1024, max(128, (1 << 20) / (16 * (cin + cout))))
        let (rowsPerBlock, blocks) = Self.split(tileRows, preferred: max(1, preferred / tileColumns), threads: threads,
                                                minimum: max(1, 64 / tileColumns))
        let blockTiles = rowsPerBlock * tileColumns
        // The 16 matrices of V (and of M) lie `vStride` (`mStride`) apart, padded by 16 floats
        // so the 16 streams a tile's transform reads or writes fall in different cache sets (at
        // a multiple of 4 KB apart they would all share one, and every store would miss).
        let vStride = cin * blockTiles + 16, mStride = cout * blockTiles + 16
        let units = batch * blocks
        func block(_ unit: Int, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, threads: Int) {
            let n = unit / blocks, b = unit % blocks
            let rows = (b * rowsPerBlock)..<min(tileRows, (b + 1) * rowsPerBlock)
            let tiles = rows.count * tileColumns
            let image = x + n * cin * g.inputSize
            Parallel.chunks(cin, threads: threads, grain: max(1, 8192 / max(1, tiles))) { range in
                for ci in range { transformInput(image + ci * g.inputSize, tileRows: rows, into: v + ci * tiles, stride: vStride) }
            }
            Parallel.forEach(16, threads: threads) { xi in
                Float.gemm(transposeA: false, transposeB: false, m: cout, n: tiles, k: cin, alpha: 1,
                           a: u + xi * cout * cin, lda: cin, b: v + xi * vStride, ldb: tiles, beta: 0, c: m + xi * mStride, ldc: tiles)
            }
            let result = y + n * cout * g.outputSize
            Parallel.chunks(cout, threads: threads, grain: max(1, 8192 / max(1, tiles))) { range in
                for co in range {
                    transformOutput(m + co * tiles, stride: mStride, tileRows: rows, bias: bias?[co] ?? 0, into: result + co * g.outputSize)
                    if let finish {
                        // The output rows this block's tile rows cover (the last tile row may be half outside).
                        let top = rows.lowerBound * 2, bottom = min(g.output[1], rows.upperBound * 2)
                        finish.apply(y, offset: (n * cout + co) * g.outputSize + top * g.output[2], count: (bottom - top) * g.output[2])
                    }
                }
            }
        }
        let scratch = 16 * (vStride + mStride)
        if units >= threads {
            Parallel.chunks(units, threads: threads) { range in
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
                defer { buffer.deallocate() }
                for unit in range { block(unit, v: buffer, m: buffer + 16 * vStride, threads: 1) }
            }
        } else {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
            defer { buffer.deallocate() }
            for unit in 0..<units { block(unit, v: buffer, m: buffer + 16 * vStride, threads: threads) }
        }
    }

    /// U = G·g·Gᵀ for one 3×3 filter g; element ξ = 4i + j goes to `target[ξ · stride]`.
    @inline(__always)
    private func transformWeight(_ f: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, stride: Int) {
        // q = G·g (4×3, one SIMD4 per column of g), then u = q·Gᵀ; G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
        @inline(__always) func column(_ j: Int) -> SIMD4<Float> {
            let a = f[j], b = f[3 + j], c = f[6 + j]
            return SIMD4(a, (a + b + c) * 0.5, (a - b + c) * 0.5, c)
        }
        let q0 = column(0), q1 = column(1), q2 = column(2)
        let u0 = q0, u1 = (q0 + q1 + q2) * 0.5, u2 = (q0 - q1 + q2) * 0.5, u3 = q2
        for i in 0..<4 {
            target[(4 * i) * stride] = u0[i]
            target[(4 * i + 1) * stride] = u1[i]
            target[(4 * i + 2) * stride] = u2[i]
            target[(4 * i + 3) * stride] = u3[i]
        }
    }

    /// V = Bᵀ·d·B for every 4×4 input tile d of one channel plane in `tileRows`; tile t's element
    /// ξ goes to `target[ξ · stride + t]`. Taps outside the input read as zero.
    private func transformInput(_ plane: UnsafePointer<Float>, tileRows: Range<Int>, into target: UnsafeMutablePointer<Float>, stride: Int) {
        let g = geometry
        let height = g.input[1], width = g.input[2], padTop = g.padBegin[1], padLeft = g.padBegin[2]
        let tileColumns = (g.output[2] + 1) / 2
        // Tile columns whose four input columns all lie inside the row.
        let interior = max(0, ceilDiv(padLeft, 2))..<max(0, min(tileColumns, floorDiv(width - 4 + padLeft, 2) + 1))
        @inline(__always) func load(_ r: Int, _ left: Int, _ inside: Bool) -> SIMD4<Float> {
            if r < 0 || r >= height { return .zero }
            let p = plane + r * width + left
            if inside { return SIMD4(p[0], p[1], p[2], p[3]) }
            var d = SIMD4<Float>.zero
            for j in 0..<4 where left + j >= 0 && left + j < width { d[j] = p[j] }
            return d
        }
        @inline(__always) func store(_ r: SIMD4<Float>, _ base: UnsafeMutablePointer<Float>) {
            base[0] = r[0] - r[2]
            base[stride] = r[1] + r[2]
            base[2 * stride] = r[2] - r[1]
            base[3 * stride] = r[1] - r[3]
        }
        var t = 0
        for th in tileRows {
            let top = 2 * th - padTop
            for tw in 0..<tileColumns {
                let left = 2 * tw - padLeft, inside = interior.contains(tw)
                let d0 = load(top, left, inside), d1 = load(top + 1, left, inside)
                let d2 = load(top + 2, left, inside), d3 = load(top + 3, left, inside)
                // Bᵀ·d: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3; then ·B on each row likewise.
                let base = target + t
                store(d0 - d2, base)
                store(d1 + d2, base + 4 * stride)
                store(d2 - d1, base + 8 * stride)
                store(d1 - d3, base + 12 * stride)
                t += 1
            }
        }
    }

    /// Y = Aᵀ·m·A (+ bias) for every tile of one output channel in `tileRows`, where tile t's
    /// element ξ is `source[ξ · stride + t]`; writes the 2×2 outputs that lie inside the plane.
    private func transformOutput(
        _ source: UnsafePointer<Float>, stride: Int, tileRows: Range<Int>, bias: Float, into plane: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let height = g.output[1], width = g.output[2]
        let tileColumns = (width + 1) / 2
        var t = 0
        for th in tileRows {
            for tw in 0..<tileColumns {
                // Aᵀ = [1 1 1 0; 0 1 −1 −1] on the rows of m, then on the columns.
                func row(_ i: Int) -> SIMD4<Float> {
                    let p = source + 4 * i * stride + t
                    return SIMD4(p[0], p[stride], p[2 * stride], p[3 * stride])
                }
                let m0 = row(0), m1 = row(1), m2 = row(2), m3 = row(3)
                let s0 = m0 + m1 + m2, s1 = m1 - m2 - m3
                let oh = 2 * th, ow = 2 * tw
                let out = plane + oh * width + ow
                out[0] = bias + s0[0] + s0[1] + s0[2]
                if ow + 1 < width { out[1] = bias + s0[1] - s0[2] - s0[3] }
                if oh + 1 < height {
                    out[width] = bias + s1[0] + s1[1] + s1[2]
                    if ow + 1 < width { out[width + 1] = bias + s1[1] - s1[2] - s1[3] }
                }
                t += 1
            }
        }
    }
}

/// The Winograd transform of a constant weight, made once on the first run that uses it (so a
/// conv whose input turns out too small for Winograd never holds the 16/9-size copy). Runs may
/// be concurrent: the first makes it under the lock, the others wait for it.
final class WinogradWeights: @unchecked Sendable {
    /// Stored inline, and the same generic type as every other lock here (see ShapeMemo).
    private let lock = Mutex<Void>(())
    private var storage: UnsafeMutablePointer<Float>?

    /// The transformed weights (`count` floats), made by `make` if this is the first use.
    func weights(count: Int, _ make: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float> {
        // Returned as an address: a pointer is not `Sendable`, which what leaves the lock must be.
        let address = lock.withLock { _ -> UInt in
            if let storage { return UInt(bitPattern: storage) }
            let made = UnsafeMutablePointer<Float>.allocate(capacity: count)
            make(made)
            storage = made
            return UInt(bitPattern: made)
        }
        return UnsafePointer(bitPattern: address)!
    }

    deinit { storage?.deallocate() }
}
