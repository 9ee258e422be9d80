import Graph

/// Cast: converts every element to the `to` type. Integers narrow by keeping their low bits,
/// floats become integers by truncation toward zero, float8 types saturate unless saturate = 0,
/// float8e8m0 rounds as round_mode says (see ElementCast). Strings are not run-time tensors.
struct CastKernel: Kernel {
    let target: ElementType
    let options: CastOptions

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        guard let to = context.node.int("to") else { throw context.invalid("Cast needs the 'to' attribute") }
        guard let target = ElementType(rawValue: Int(to)) else {
            throw context.invalid("Cast 'to' names no element type (\(to))")
        }
        guard ElementCast.supports(target) else {
            throw RuntimeError.unsupported("Cast to \(target) (node \(context.node.displayName))")
        }
        return CastKernel(target: target, options: try CastOptions(context))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try requiredInput(inputs, 0, context)
        return [try castInput(x, to: target, options: options, context)]
    }
}

/// x converted into output 0 of the given type (Cast and CastLike).
func castInput(_ x: NDArray, to target: ElementType, options: CastOptions, _ context: KernelContext) throws -> NDArray {
    guard ElementCast.supports(x.elementType) else {
        throw context.failure("cannot cast from \(x.elementType)")
    }
    let out = context.output(0, target, x.shape)
    ElementCast.convert(x, into: out, options: options, threads: context.threads)
    return out
}
