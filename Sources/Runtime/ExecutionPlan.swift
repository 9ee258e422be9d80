import Foundation
import Graph

/// The schedule for one set of input shapes: which kernel runs when, where each intermediate
/// tensor lives in the arena, and when each value can be released.
final class ExecutionPlan: @unchecked Sendable {
    struct Step {
        var node: Int
        var kernel: any Kernel
        /// Value ids of the inputs (-1 for an absent optional input).
        var inputs: [Int]
        var outputs: [Int]
        var slots: [ArenaSlot?]
        /// Values no later step reads.
        var release: [Int]
    }

    let steps: [Step]
    let arenaBytes: Int
    /// Memory for the intermediate tensors, shared by runs that hold `arenaLock`.
    let arena: Buffer?
    let arenaLock = NSLock()

    /// `nodeInputs` and `nodeOutputs` are each node's values as ids (-1 for absent), `outputIDs`
    /// the graph outputs'; `order` holds the nodes that run (not those fusion removed).
    init(graph: Graph, fusion: ConvFusion.Outcome, opsetVersion: Int64, order: [Int], nodeInputs: NodeValueIDs, nodeOutputs: NodeValueIDs,
         outputIDs: Set<Int>, kernels: [(any Kernel)?], constants: Set<Int>, inputShapes: [String: [Int]]) throws {
        // Static shapes where inference can tell; other tensors are allocated when they are made.
        let inferred: InferredTypes
        do {
            inferred = try ShapeInference.infer(graph, opsetVersion: opsetVersion,
                                                inputShapes: inputShapes.mapValues { $0.map { Dim.known($0) } })
        } catch {
            throw RuntimeError.badInput("input shapes \(inputShapes): \(error)")
        }
        // Nodes computed at session creation are not scheduled again.
        let scheduled = order.filter { i in !nodeOutputs[i].allSatisfy { $0 < 0 || constants.contains($0) } }
        var lastUse: [Int: Int] = [:]
        for (step, i) in scheduled.enumerated() {
            for id in nodeInputs[i] where id >= 0 { lastUse[id] = step }
        }
        var requests: [MemoryPlanner.Request] = []
        for (step, i) in scheduled.enumerated() {
            for (j, id) in nodeOutputs[i].enumerated() where id >= 0 {
                // Graph outputs outlive the run, so they get memory of their own.
                guard !outputIDs.contains(id), let type = inferred.type(of: fusion.node(i, of: graph).outputs[j]), let count = type.elementCount,
                      let bytes = type.elementType.byteCount(forElements: count) else { continue }
                requests.append(.init(id: id, byteCount: bytes, firstStep: step, lastStep: lastUse[id] ?? step))
            }
        }
        let (slots, arenaBytes) = MemoryPlanner.plan(requests)
        var releaseAt: [Int: [Int]] = [:]
        for (id, step) in lastUse where !outputIDs.contains(id) && !constants.contains(id) { releaseAt[step, default: []].append(id) }
        steps = scheduled.enumerated().map { step, i in
            Step(node: i, kernel: kernels[i]!, inputs: Array(nodeInputs[i]), outputs: Array(nodeOutputs[i]),
                 slots: nodeOutputs[i].map { $0 < 0 ? nil : slots[$0] }, release: releaseAt[step] ?? [])
        }
        self.arenaBytes = arenaBytes
        arena = arenaBytes > 0 ? Buffer(uninitializedByteCount: arenaBytes) : nil
    }
}
