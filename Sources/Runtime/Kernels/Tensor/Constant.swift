import Graph

/// Constant: outputs the tensor its attributes describe (value, value_float(s), value_int(s)).
struct ConstantKernel: Kernel {
    let value: NDArray

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        if let tensor = node.tensor("value") {
            return ConstantKernel(value: try NDArray(tensor))
        }
        if case .sparseTensor(let sparse) = node.attribute("sparse_value") {
            return ConstantKernel(value: try NDArray(try sparse.densified()))
        }
        if let v = node.float("value_float") { return ConstantKernel(value: NDArray(shape: [], floats: [v])) }
        if let v = node.floats("value_floats") { return ConstantKernel(value: NDArray(shape: [v.count], floats: v)) }
        if let v = node.int("value_int") {
            return ConstantKernel(value: try NDArray(Tensor(name: "", shape: [], int64s: [v])))
        }
        if let v = node.ints("value_ints") {
            return ConstantKernel(value: try NDArray(Tensor(name: "", shape: [v.count], int64s: v)))
        }
        throw context.invalid("Constant has no value attribute Pare can run (strings are not supported)")
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let out = context.output(0, value.elementType, value.shape)
        out.buffer.pointer.copyMemory(from: value.buffer.pointer, byteCount: value.byteCount)
        return [out]
    }
}
