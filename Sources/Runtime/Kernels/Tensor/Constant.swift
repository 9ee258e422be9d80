import Graph

/// Constant: outputs the tensor its attributes describe (value, sparse_value, value_float(s),
/// value_int(s)). String constants (value_string(s)) have no run-time representation.
struct ConstantKernel: Kernel {
    let value: NDArray

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let tensor: Tensor
        if let given = node.tensor("value") {
            tensor = given
        } else if case .sparseTensor(let sparse) = node.attribute("sparse_value") {
            tensor = try sparse.densified()
        } else if let v = node.float("value_float") {
            tensor = Tensor(name: "", shape: [], floats: [v])
        } else if let v = node.floats("value_floats") {
            tensor = Tensor(name: "", shape: [v.count], floats: v)
        } else if let v = node.int("value_int") {
            tensor = Tensor(name: "", shape: [], int64s: [v])
        } else if let v = node.ints("value_ints") {
            tensor = Tensor(name: "", shape: [v.count], int64s: v)
        } else if node.attribute("value_string") != nil || node.attribute("value_strings") != nil {
            throw context.invalid("string constants are not supported by the runtime")
        } else {
            throw context.invalid("Constant has no value attribute")
        }
        guard tensor.elementType != .string else { throw context.invalid("string constants are not supported by the runtime") }
        do {
            return ConstantKernel(value: try NDArray(tensor))
        } catch {
            throw context.invalid("cannot hold its value: \(error)")
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let out = context.output(0, value.elementType, value.shape)
        out.buffer.pointer.copyMemory(from: value.buffer.pointer, byteCount: value.byteCount)
        return [out]
    }
}
