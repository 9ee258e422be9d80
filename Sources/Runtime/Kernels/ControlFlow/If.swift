import Graph

/// If: runs `then_branch` or `else_branch` depending on a boolean scalar. Each branch is a session
/// of its own, fed the enclosing graph's values it reads (the session appends them to the inputs).
struct IfKernel: Kernel {
    let thenBranch: Session
    let elseBranch: Session
    /// Names of the outer values, in the order they follow the condition in the inputs.
    let outerNames: [String]

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        func branch(_ name: String) throws -> Session {
            guard case .graph(var graph) = context.node.attribute(name) else {
                throw context.invalid("If needs a graph attribute '\(name)'")
            }
            let reads = Set(graph.outerScopeReads())
            graph.inputs = context.outerScopeInputs.filter { reads.contains($0) }.map { Value(name: $0, type: nil) }
            let model = Model(opsetImports: [OpsetImport(domain: "", version: context.opsetVersion)], graph: graph)
            return try Session(model: model, options: SessionOptions(threads: context.threads))
        }
        return IfKernel(thenBranch: try branch("then_branch"), elseBranch: try branch("else_branch"),
                        outerNames: context.outerScopeInputs)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard let condition = inputs.first ?? nil, condition.count == 1 else {
            throw context.failure("If needs a condition with exactly one element")
        }
        let branch = condition.floatArray().first != 0 ? thenBranch : elseBranch
        var feeds: [String: NDArray] = [:]
        let wanted = Set(branch.inputs.map(\.name))
        for (k, name) in outerNames.enumerated() where wanted.contains(name) {
            guard 1 + k < inputs.count, let value = inputs[1 + k] else {
                throw context.failure("outer value '\(name)' read by a branch is not available")
            }
            feeds[name] = value
        }
        let results = try branch.run(feeds)
        // Copied into outputs of this node: a branch may output an outer value unchanged.
        return try branch.outputs.enumerated().map { index, output in
            guard let value = results[output.name] else { throw context.failure("branch output '\(output.name)' missing") }
            let out = context.output(index, value.elementType, value.shape)
            out.buffer.pointer.copyMemory(from: value.buffer.pointer, byteCount: value.byteCount)
            return out
        }
    }
}
