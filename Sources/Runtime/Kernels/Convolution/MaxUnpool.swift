import Graph

/// MaxUnpool: scatters each element of X to the flat position its index (as MaxPool's Indices
/// gives it) names in the unpooled shape `(in − 1)·stride − pads + kernel`, zeros elsewhere. With
/// an output_shape input, that result sits at the origin of a larger zero tensor, as in ONNX's
/// reference.
struct MaxUnpoolKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { MaxUnpoolKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard inputs.count >= 2, let x = inputs[0], let indices = inputs[1] else { throw context.failure("MaxUnpool needs inputs X and I") }
        guard indices.elementType == .int64, indices.shape == x.shape else {
            throw context.failure("I must be int64 with X's shape \(formatShape(x.shape)), got \(indices.elementType) \(formatShape(indices.shape))")
        }
        let node = context.node
        let n = x.rank - 2
        guard n >= 1, let kernel = node.ints("kernel_shape")?.map({ Int(clamping: $0) }), kernel.count == n else {
            throw context.failure("kernel_shape must give one size per spatial axis of X \(formatShape(x.shape))")
        }
        let strides = node.ints("strides")?.map { Int(clamping: $0) } ?? Array(repeating: 1, count: n)
        let pads = node.ints("pads")?.map { Int(clamping: $0) } ?? Array(repeating: 0, count: 2 * n)
        guard strides.count == n, pads.count == 2 * n else { throw context.failure("strides or pads do not match \(n) spatial axes") }
        let unpooled = Array(x.shape.prefix(2)) + (0..<n).map { i in (x.shape[2 + i] - 1) * strides[i] - pads[i] - pads[n + i] + kernel[i] }
        var shape = unpooled
        if inputs.count > 2, let requested = inputs[2] {
            shape = requested.int64Array().map { Int(clamping: $0) }
            guard shape.count == x.rank, zip(shape, unpooled).allSatisfy({ $0 >= $1 }) else {
                throw context.failure("output_shape \(shape) cannot hold the unpooled shape \(unpooled)")
            }
        }
        guard unpooled.allSatisfy({ $0 > 0 }) else { throw context.failure("unpooled shape \(unpooled) is empty") }
        let y = context.output(0, x.elementType, shape)
        let width = x.elementType.byteCount(forElements: 1) ?? 0
        guard width > 0 else { throw context.failure("MaxUnpool does not support \(x.elementType)") }
        y.buffer.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: y.byteCount)
        let total = unpooled.reduce(1, *)
        // Row-major strides of Y, to place a flat index of the unpooled shape.
        var yStrides = Array(repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { yStrides[i] = yStrides[i + 1] * shape[i + 1] }
        let index = indices.pointer(as: Int64.self)
        for i in 0..<x.count {
            guard index[i] >= 0, index[i] < total else { throw context.failure("index \(index[i]) is outside the unpooled shape \(unpooled)") }
            var rest = Int(index[i]), offset = 0
            for axis in unpooled.indices.reversed() {
                offset += (rest % unpooled[axis]) * yStrides[axis]
                rest /= unpooled[axis]
            }
            (y.buffer.pointer + offset * width).copyMemory(from: x.buffer.pointer + i * width, byteCount: width)
        }
        return [y]
    }
}
