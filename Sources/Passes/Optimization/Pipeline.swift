import Foundation
import Graph

/// An ordered list of passes, run over a model round after round until a round changes nothing
/// (at most `maximumRounds`), since one pass's rewrite can open work for an earlier one.
public struct Pipeline: Sendable {
    public var passes: [any Pass]
    public var maximumRounds: Int

    public init(_ passes: [any Pass], maximumRounds: Int = 8) {
        self.passes = passes
        self.maximumRounds = max(1, maximumRounds)
    }

    /// Every pass Pare has, in the order the standard pipeline runs them.
    public static let allPasses: [any Pass] = [
        FreezePass(), ShapeFoldingPass(), ConstantFoldingPass(), NoOpEliminationPass(), ChainMergingPass(),
        BatchNormFoldingPass(), ConvAffineFusionPass(), DeduplicationPass(), DeadCodeEliminationPass(), TopologicalSortPass(),
    ]

    /// Lossy passes that store weights in fewer bits, run only when named (`--passes`): they
    /// change what the model computes, so the standard pipeline never includes them.
    public static let weightStoragePasses: [any Pass] = [Float16WeightsPass(), Int8WeightsPass()]

    /// The freeze-and-simplify pipeline `convert optimize` runs by default: every pass.
    public static var standard: Pipeline { Pipeline(allPasses) }

    /// The passes called `names` (from `allPasses` and `weightStoragePasses`), in the order given.
    /// - Throws: `PassError.unknownPass` naming the unknown name and listing the known ones.
    public static func named(_ names: [String]) throws(PassError) -> Pipeline {
        let known = allPasses + weightStoragePasses
        var passes: [any Pass] = []
        for name in names {
            guard let pass = known.first(where: { $0.name == name }) else {
                throw .unknownPass(name, known: known.map(\.name))
            }
            passes.append(pass)
        }
        return Pipeline(passes)
    }

    /// Runs the pipeline on `model`'s main graph. `progress` hears a line per round.
    /// - Throws: what a pass throws (shape inference errors name the node at fault).
    public func run(on model: inout Model, context: PassContext, progress: ((String) -> Void)? = nil) throws -> PipelineReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let nodesBefore = model.graph.nodes.count, opsBefore = GraphSize.opCounts(model.graph)
        let bytesBefore = GraphSize.constantBytes(model.graph)
        var reports: [String: PassReport] = [:]
        var rounds = 0
        var changed = true
        var ops = opsBefore, bytes = bytesBefore
        while changed && rounds < maximumRounds {
            changed = false
            rounds += 1
            for pass in passes {
                let passStart = DispatchTime.now().uptimeNanoseconds
                var report = try pass.run(on: &model.graph, context: context)
                report.seconds = Double(DispatchTime.now().uptimeNanoseconds - passStart) / 1e9
                (ops, bytes) = report.measure(opsBefore: ops, constantBytesBefore: bytes, after: model.graph)
                if report.changed { changed = true }
                reports[pass.name, default: PassReport(pass: pass.name)].accumulate(report)
            }
            progress?("round \(rounds): \(model.graph.nodes.count) nodes, \(GraphSize.constantBytes(model.graph)) constant bytes")
        }
        return PipelineReport(
            passes: passes.map { reports[$0.name] ?? PassReport(pass: $0.name) }, rounds: rounds,
            nodesBefore: nodesBefore, nodesAfter: model.graph.nodes.count,
            constantBytesBefore: bytesBefore, constantBytesAfter: bytes,
            opsBefore: opsBefore, opsAfter: ops,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// What a pipeline run did, per pass and in total.
public struct PipelineReport: Sendable, Hashable, Codable {
    /// One report per pass, in pipeline order, summed over the rounds.
    public var passes: [PassReport]
    public var rounds: Int
    public var nodesBefore: Int
    public var nodesAfter: Int
    public var constantBytesBefore: Int
    public var constantBytesAfter: Int
    /// Node counts by op type.
    public var opsBefore: [String: Int]
    public var opsAfter: [String: Int]
    public var seconds: Double
}

/// Errors in choosing passes.
public enum PassError: Error, Sendable, CustomStringConvertible {
    case unknownPass(String, known: [String])

    public var description: String {
        switch self {
        case .unknownPass(let name, let known): "unknown pass '\(name)'; the passes are \(known.joined(separator: ", "))"
        }
    }
}
