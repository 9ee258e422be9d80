import Foundation
import Graph

// Helpers shared by the data-movement kernels: operand reading and checking, and copy engines
// written over element byte width, so one implementation serves every element type.

enum TensorSupport {
    // MARK: Operands

    /// An error about `node`.
    static func fail(_ node: Node, _ message: String) -> RuntimeError {
        .nodeFailed(node: node.displayName, message)
    }

    /// Row-major strides of `shape`, in elements.
    static func strides(_ shape: [Int]) -> [Int] {
        var result = Array(repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            result[axis] = step
            step *= shape[axis]
        }
        return result
    }

    /// Bytes per element of `type`. Strings and packed sub-byte types have no fixed byte width,
    /// so ops that address single elements refuse them.
    static func width(_ type: ElementType, _ node: Node) throws(RuntimeError) -> Int {
        guard let bits = type.bitWidth, bits % 8 == 0 else {
            throw fail(node, "\(type) elements are not supported by \(node.opType)")
        }
        return bits / 8
    }

    /// `value` as an axis in `0..<rank`, counting from the end when negative.
    static func axis(_ value: Int64, rank: Int, _ node: Node, name: String = "axis") throws(RuntimeError) -> Int {
        guard value >= -Int64(rank) && value < Int64(rank) else {
            throw fail(node, "\(name) \(value) is out of range for rank \(rank)")
        }
        return Int(value < 0 ? value + Int64(rank) : value)
    }

    /// Input `i`, which the op requires.
    static func input(_ inputs: [NDArray?], _ i: Int, _ node: Node, _ name: String) throws(RuntimeError) -> NDArray {
        guard i < inputs.count, let value = inputs[i] else { throw fail(node, "input \(i) (\(name)) is missing") }
        return value
    }

    /// The values of an integer operand (shapes, axes, indices, repeats), int32 or int64.
    static func ints(_ array: NDArray, _ node: Node, _ name: String) throws(RuntimeError) -> [Int64] {
        switch array.elementType {
        case .int64: return Array(UnsafeBufferPointer(start: array.pointer(as: Int64.self), count: array.count))
        case .int32: return UnsafeBufferPointer(start: array.pointer(as: Int32.self), count: array.count).map { Int64($0) }
        default: throw fail(node, "\(name) must be int64 or int32, found \(array.elementType)")
        }
    }

    /// The product of `dims`, or nil when it overflows.
    static func product(_ dims: [Int]) -> Int? {
        var total = 1
        for d in dims {
            let (next, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = next
        }
        return total
    }

    /// Checks that `shape` describes an addressable tensor: no negative dims, no overflow.
    static func checkShape(_ shape: [Int], _ node: Node, _ what: String = "output") throws(RuntimeError) {
        var total = 1
        for d in shape {
            guard d >= 0 else { throw fail(node, "\(what) shape \(shape) has a negative dim") }
            let (product, overflow) = total.multipliedReportingOverflow(by: max(d, 1))
            guard !overflow, product < 1 << 48 else { throw fail(node, "\(what) shape \(shape) is too large") }
            total = product
        }
    }

    /// The little-endian bytes of `value` converted to `type` (fill values given as numbers).
    static func elementBytes(_ value: Double, as type: ElementType) -> [UInt8]? {
        func bytes<T>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
        func integer<T: FixedWidthInteger>(_: T.Type) -> [UInt8] {
            guard !value.isNaN else { return bytes(T.zero) }
            let clamped = min(max(value.rounded(.towardZero), Double(T.min)), Double(T.max))
            // Double(T.max) can round up past T.max for 64-bit types.
            return bytes(clamped >= Double(T.max) ? T.max : T(clamped))
        }
        switch type {
        case .float32: return bytes(Float(value))
        case .float64: return bytes(value)
        case .float16: return bytes(floatToHalf(Float(value)))
        case .bfloat16: return bytes(floatToBFloat16(Float(value)))
        case .bool: return [value != 0 ? 1 : 0]
        case .int8: return integer(Int8.self)
        case .uint8: return integer(UInt8.self)
        case .int16: return integer(Int16.self)
        case .uint16: return integer(UInt16.self)
        case .int32: return integer(Int32.self)
        case .uint32: return integer(UInt32.self)
        case .int64: return integer(Int64.self)
        case .uint64: return integer(UInt64.self)
        default: return nil
        }
    }

    // MARK: Float bridging

    /// The elements as Float, for numeric types (nil for others).
    static func floatValues(_ array: NDArray) -> [Float]? {
        if array.elementType == .float32 { return Array(array.floats) }
        return array.tensor(name: "").floatValues()
    }

    /// Writes `values` into `out`, converting to its element type: integers round half to even
    /// and saturate (as ONNX's reference does), halves round to nearest even.
    static func store(_ values: UnsafePointer<Float>, into out: NDArray) {
        let n = out.count
        func integer<T: FixedWidthInteger>(_: T.Type) {
            let target = out.pointer(as: T.self)
            let low = Float(T.min), high = Float(T.max)
            for i in 0..<n {
                let v = values[i].rounded(.toNearestOrEven)
                target[i] = v.isNaN ? 0 : v <= low ? T.min : v >= high ? T.max : T(v)
            }
        }
        switch out.elementType {
        case .float32: out.buffer.pointer.copyMemory(from: values, byteCount: n * 4)
        case .float64: for i in 0..<n { out.pointer(as: Double.self)[i] = Double(values[i]) }
        case .float16: for i in 0..<n { out.pointer(as: UInt16.self)[i] = floatToHalf(values[i]) }
        case .bfloat16: for i in 0..<n { out.pointer(as: UInt16.self)[i] = floatToBFloat16(values[i]) }
        case .bool: for i in 0..<n { out.pointer(as: UInt8.self)[i] = values[i] != 0 ? 1 : 0 }
        case .int8: integer(Int8.self)
        case .uint8: integer(UInt8.self)
        case .int16: integer(Int16.self)
        case .uint16: integer(UInt16.self)
        case .int32: integer(Int32.self)
        case .uint32: integer(UInt32.self)
        case .int64: integer(Int64.self)
        case .uint64: integer(UInt64.self)
        default: break
        }
    }

    /// Whether `store` and `floatValues` handle `type`.
    static func bridgesThroughFloat(_ type: ElementType) -> Bool {
        switch type {
        case .float32, .float64, .float16, .bfloat16, .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64: true
        default: false
        }
    }

    // MARK: Copies

    /// Copies `count` bytes, splitting large copies across threads.
    static func copyBytes(from source: UnsafeRawPointer, to target: UnsafeMutableRawPointer, count: Int, threads: Int) {
        guard count > 0 else { return }
        let block = 1 << 18
        if count < 2 * block || threads <= 1 {
            target.copyMemory(from: source, byteCount: count)
            return
        }
        let pieces = (count + block - 1) / block
        Parallel.chunks(pieces, threads: threads) { range in
            let start = range.lowerBound * block
            let end = min(count, range.upperBound * block)
            (target + start).copyMemory(from: source + start, byteCount: end - start)
        }
    }

    /// A new array holding `input`'s elements under `shape` (Reshape, Flatten, Squeeze, Identity):
    /// outputs never alias inputs, since the arena may reuse an input's memory.
    static func copy(_ input: NDArray, shape: [Int], _ context: KernelContext) -> NDArray {
        let out = context.output(0, input.elementType, shape)
        copyBytes(from: input.buffer.pointer, to: out.buffer.pointer, count: input.byteCount, threads: context.threads)
        return out
    }

    /// Fills `count` elements of `width` bytes at `target` with the element at `element`.
    static func fill(_ target: UnsafeMutableRawPointer, count: Int, element: UnsafeRawPointer, width: Int) {
        guard count > 0 else { return }
        if (0..<width).allSatisfy({ element.load(fromByteOffset: $0, as: UInt8.self) == 0 }) {
            target.initializeMemory(as: UInt8.self, repeating: 0, count: count * width)
            return
        }
        func typed<T>(_: T.Type) {
            let v = element.loadUnaligned(as: T.self)
            for i in 0..<count { target.storeBytes(of: v, toByteOffset: i * width, as: T.self) }
        }
        switch width {
        case 1: target.initializeMemory(as: UInt8.self, repeating: element.load(as: UInt8.self), count: count)
        case 2: typed(UInt16.self)
        case 4: typed(UInt32.self)
        case 8: typed(UInt64.self)
        default:
            // Doubling copies: log(count) memcpys.
            target.copyMemory(from: element, byteCount: width)
            var done = 1
            while done < count {
                let n = min(done, count - done)
                (target + done * width).copyMemory(from: target, byteCount: n * width)
                done += n
            }
        }
    }

    /// Copies `count` elements read `stride` elements apart (stride may be 0 or negative) into
    /// contiguous memory.
    @inline(__always)
    static func copyRow(from source: UnsafeRawPointer, stride: Int, to target: UnsafeMutableRawPointer, count: Int, width: Int) {
        if stride == 1 {
            target.copyMemory(from: source, byteCount: count * width)
            return
        }
        if stride == 0 {
            fill(target, count: count, element: source, width: width)
            return
        }
        func typed<T>(_: T.Type) {
            let step = stride * width
            for i in 0..<count {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: i * step, as: T.self), toByteOffset: i * width, as: T.self)
            }
        }
        switch width {
        case 1: typed(UInt8.self)
        case 2: typed(UInt16.self)
        case 4: typed(UInt32.self)
        case 8: typed(UInt64.self)
        default:
            for i in 0..<count { (target + i * width).copyMemory(from: source + i * stride * width, byteCount: width) }
        }
    }

    /// Drops unit dims and merges neighbours a view walks contiguously, so copies loop over as few
    /// and as long rows as possible.
    static func simplify(_ shape: [Int], _ strides: [Int]) -> (shape: [Int], strides: [Int]) {
        var dims: [Int] = [], steps: [Int] = []
        for (d, s) in zip(shape, strides) where d != 1 {
            if let last = dims.last, steps.last! == s * d {
                dims[dims.count - 1] = last * d
                steps[steps.count - 1] = s
            } else {
                dims.append(d)
                steps.append(s)
            }
        }
        return (dims, steps)
    }

    /// Copies the elements a strided view selects into contiguous memory in row-major order of
    /// `shape`: `target[i] = source[Σₖ iₖ·strides[k]]`. Strides are in elements and may be zero
    /// (broadcast) or negative (reversed). Slice, Transpose, Expand, Tile and the depth/space ops
    /// are all this one copy.
    static func copyStrided(from source: UnsafeRawPointer, strides: [Int], to target: UnsafeMutableRawPointer,
                            shape: [Int], width: Int, threads: Int) {
        if shape.contains(0) { return }
        let (dims, steps) = simplify(shape, strides)
        let rank = dims.count
        guard rank > 0 else {
            target.copyMemory(from: source, byteCount: width)
            return
        }
        let total = dims.reduce(1, *)
        if rank >= 2, steps[rank - 2] == 1, steps[rank - 1] != 1, steps[rank - 1] != 0, dims[rank - 1] >= 4, dims[rank - 2] >= 4 {
            return transposeBlocks(from: source, dims: dims, steps: steps, to: target, width: width, threads: threads)
        }
        let inner = dims[rank - 1], innerStride = steps[rank - 1]
        let rows = total / inner
        let grain = max(1, (1 << 15) / max(1, inner * width))
        // Unsafe buffers in the parallel loop: shared arrays would cost atomic refcounts per thread.
        dims.withUnsafeBufferPointer { dims in
        steps.withUnsafeBufferPointer { steps in
        Parallel.chunks(rows, threads: threads, grain: grain) { range in
            var index = Array(repeating: 0, count: rank - 1)
            var rest = range.lowerBound, offset = 0
            for k in stride(from: rank - 2, through: 0, by: -1) {
                index[k] = rest % dims[k]
                rest /= dims[k]
                offset += index[k] * steps[k]
            }
            for row in range {
                copyRow(from: source + offset * width, stride: innerStride, to: target + row * inner * width, count: inner, width: width)
                var k = rank - 2
                while k >= 0 {
                    index[k] += 1
                    offset += steps[k]
                    if index[k] < dims[k] { break }
                    offset -= steps[k] * dims[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }
        }
        }
    }

    /// The strided copy when the last two output dims are swapped relative to the source (NCHW ↔
    /// NHWC and other batched 2-D transposes): tiles keep both reads and writes in cache.
    private static func transposeBlocks(from source: UnsafeRawPointer, dims: [Int], steps: [Int], to target: UnsafeMutableRawPointer,
                                        width: Int, threads: Int) {
        let rank = dims.count
        let rowsA = dims[rank - 2], colsB = dims[rank - 1], strideB = steps[rank - 1]
        let outerDims = Array(dims[..<(rank - 2)]), outerSteps = Array(steps[..<(rank - 2)])
        let outerCount = outerDims.reduce(1, *)
        let tile = 32
        let tilesA = (rowsA + tile - 1) / tile
        func run<T>(_: T.Type) {
            outerDims.withUnsafeBufferPointer { outerDims in
            outerSteps.withUnsafeBufferPointer { outerSteps in
            Parallel.chunks(outerCount * tilesA, threads: threads, grain: max(1, (1 << 14) / (tile * colsB))) { range in
                for job in range {
                    let outer = job / tilesA, a0 = (job % tilesA) * tile, a1 = min(rowsA, a0 + tile)
                    var rest = outer, sourceOffset = 0
                    for k in stride(from: outerDims.count - 1, through: 0, by: -1) {
                        sourceOffset += (rest % outerDims[k]) * outerSteps[k]
                        rest /= outerDims[k]
                    }
                    let src = source + sourceOffset * width
                    let dst = target + outer * rowsA * colsB * width
                    var b0 = 0
                    while b0 < colsB {
                        let b1 = min(colsB, b0 + tile)
                        for a in a0..<a1 {
                            let row = dst + (a * colsB) * width
                            for b in b0..<b1 {
                                row.storeBytes(of: src.loadUnaligned(fromByteOffset: (a + b * strideB) * width, as: T.self),
                                               toByteOffset: b * width, as: T.self)
                            }
                        }
                        b0 = b1
                    }
                }
            }
            }
            }
        }
        switch width {
        case 1: run(UInt8.self)
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        case 8: run(UInt64.self)
        default:
            // Wide elements (complex128): the row loop is as good as tiling.
            let inner = colsB
            Parallel.chunks(outerCount * rowsA, threads: threads) { range in
                for row in range {
                    let outer = row / rowsA, a = row % rowsA
                    var rest = outer, offset = a
                    for k in stride(from: outerDims.count - 1, through: 0, by: -1) {
                        offset += (rest % outerDims[k]) * outerSteps[k]
                        rest /= outerDims[k]
                    }
                    copyRow(from: source + offset * width, stride: strideB, to: target + row * inner * width, count: inner, width: width)
                }
            }
        }
    }

    /// Gathers along every axis through per-axis index maps:
    /// `target[o₀…oₙ] = source[maps₀[o₀]…mapsₙ[oₙ]]`, or `fill` where any map entry is negative.
    /// Pad (every mode) and nearest-neighbour Resize are this one copy.
    static func gatherAxes(from source: UnsafeRawPointer, shape: [Int], maps: [[Int]], to target: UnsafeMutableRawPointer,
                           width: Int, fill fillElement: [UInt8], threads: Int) {
        let rank = shape.count
        let outShape = maps.map(\.count)
        if outShape.contains(0) { return }
        guard rank > 0 else {
            target.copyMemory(from: source, byteCount: width)
            return
        }
        let strides = strides(shape)
        // Outer maps as element offsets in one flat array; the parallel loop reads only unsafe
        // buffers, since touching shared Swift arrays from several threads costs atomic refcounts.
        var outerOffsets: [Int] = [], outerStarts: [Int] = []
        for k in 0..<(rank - 1) {
            outerStarts.append(outerOffsets.count)
            outerOffsets += maps[k].map { $0 < 0 ? -1 : $0 * strides[k] }
        }
        let innerMap = maps[rank - 1]
        let inner = innerMap.count
        let rowBytes = inner * width
        // The inner map as runs (start, source, count): consecutive source elements (one memcpy
        // each) or fill (source -1).
        var runs: [Int] = []
        for (o, i) in innerMap.enumerated() {
            let n = runs.count
            if n > 0, (i < 0 && runs[n - 2] < 0) || (i >= 0 && runs[n - 2] >= 0 && runs[n - 2] + runs[n - 1] == i) {
                runs[n - 1] += 1
            } else {
                runs += [o, i < 0 ? -1 : i, 1]
            }
        }
        let typedWidth = [1, 2, 4, 8].contains(width)
        let elementwise = typedWidth && !innerMap.contains(where: { $0 < 0 }) && runs.count / 3 * 4 > inner
        let rows = outShape.dropLast().reduce(1, *)
        func copyRows<T>(_: T.Type) {
            outerOffsets.withUnsafeBufferPointer { outerOffsets in
            outerStarts.withUnsafeBufferPointer { outerStarts in
            outShape.withUnsafeBufferPointer { outShape in
            innerMap.withUnsafeBufferPointer { innerMap in
            runs.withUnsafeBufferPointer { runs in
            fillElement.withUnsafeBytes { fillBytes in
                let fillPointer = fillBytes.baseAddress!
                Parallel.chunks(rows, threads: threads, grain: max(1, (1 << 15) / max(1, rowBytes))) { range in
                    var previous = Int.min
                    for row in range {
                        // Source offset of this row, or -1 when an outer map entry says fill.
                        var rest = row, offset = 0
                        for k in stride(from: rank - 2, through: 0, by: -1) {
                            let i = outerOffsets[outerStarts[k] + rest % outShape[k]]
                            rest /= outShape[k]
                            if i < 0 { offset = -1; break }
                            offset += i
                        }
                        let dst = target + row * rowBytes
                        if offset == previous {
                            // Rows that repeat a source row (nearest upsampling) are one memcpy.
                            dst.copyMemory(from: dst - rowBytes, byteCount: rowBytes)
                            continue
                        }
                        previous = offset
                        if offset < 0 {
                            fill(dst, count: inner, element: fillPointer, width: width)
                            continue
                        }
                        let src = source + offset * width
                        if elementwise {
                            for o in 0..<inner {
                                dst.storeBytes(of: src.loadUnaligned(fromByteOffset: innerMap[o] * width, as: T.self),
                                               toByteOffset: o * width, as: T.self)
                            }
                            continue
                        }
                        for r in stride(from: 0, to: runs.count, by: 3) {
                            let start = runs[r], from = runs[r + 1], count = runs[r + 2]
                            if from < 0 {
                                fill(dst + start * width, count: count, element: fillPointer, width: width)
                            } else {
                                (dst + start * width).copyMemory(from: src + from * width, byteCount: count * width)
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
        switch width {
        case 1: copyRows(UInt8.self)
        case 2: copyRows(UInt16.self)
        case 4: copyRows(UInt32.self)
        case 8: copyRows(UInt64.self)
        // Other widths never take the typed element path.
        default: copyRows(UInt8.self)
        }
    }
}
