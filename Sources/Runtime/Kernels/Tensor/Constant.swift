import Graph

/// Constant: outputs the tensor its attributes describe (value, sparse_value, value_float(s),
/// value_int(s)), as `Node.constantValue` reads it. String constants (value_string(s)) have no
/// run-time representation.
struct ConstantKernel: Kernel {
    let value: NDArray

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        if case .sparseTensor(let sparse) = node.attribute("sparse_value") {
            do { _ = try sparse.densified() } catch { throw context.invalid("cannot densify its sparse value: \(error)") }
        }
        guard let tensor = node.constantValue else { throw context.invalid("Constant has no value attribute") }
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
