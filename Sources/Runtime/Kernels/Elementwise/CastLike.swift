/// CastLike: casts input 0 to the element type of input 1, by Cast's rules.
struct CastLikeKernel: Kernel {
    let options: CastOptions

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        CastLikeKernel(options: try CastOptions(context))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try requiredInput(inputs, 0, context), like = try requiredInput(inputs, 1, context)
        guard ElementCast.supports(like.elementType) else {
            throw context.failure("cannot cast to \(like.elementType)")
        }
        return [try castInput(x, to: like.elementType, options: options, context)]
    }
}
