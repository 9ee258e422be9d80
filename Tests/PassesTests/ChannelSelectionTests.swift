import Foundation
import Graph
@testable import Passes
import Runtime
import Testing

/// The selection rules on a least-squares problem built by hand: a Gemm consumer y = W·x + b
/// over 6 channels, where channel 5 is channel 0 plus a little noise (a re-fit can move 5's
/// weight onto 0) and every channel matters to Y.
@Suite("Channel selection") struct ChannelSelectionTests {
    static let channels = 6, outputs = 3, rows = 400

    static func fit() throws -> LayerFit {
        var generator = NormalGenerator(seed: 7)
        var x = [Float](repeating: 0, count: rows * channels)
        for r in 0..<rows {
            for c in 0..<channels { x[r * channels + c] = Float(generator.next()) }
            x[r * channels + 5] = x[r * channels] + 0.05 * Float(generator.next())
        }
        // Channels 0 and 5 carry large weights, so rules that score each channel's own contribution
        // keep them and drop channel 3 (small weights); yet either of 0 and 5 is what a re-fit
        // replaces almost for free, and channel 3 nothing can replace.
        let w: [Float] = [1.5, 1.0, -0.8, 0.3, 0.9, 2.0,
                          -1.0, 0.5, 0.7, -0.3, 0.4, 1.5,
                          1.2, -0.6, 0.9, 0.3, -0.7, -1.8]
        let bias: [Float] = [0.1, -0.2, 0.3]
        var y = [Float](repeating: 0, count: rows * outputs)
        for r in 0..<rows {
            for o in 0..<outputs {
                var sum = bias[o]
                for c in 0..<channels { sum += w[o * channels + c] * x[r * channels + c] }
                y[r * outputs + o] = sum
            }
        }
        var graph = Graph(name: "gemm")
        graph.inputs = [Value(name: "x", .float32, [.known(rows), .known(channels)])]
        graph.initializers = [
            Tensor(name: "w", shape: [outputs, channels], floats: w),
            Tensor(name: "b", shape: [outputs], floats: bias),
        ]
        graph.nodes = [Node(name: "fc", opType: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"],
                            attributes: [Attribute("transB", .int(1))])]
        let layer = try #require(ConsumerLayer(ChannelConsumer(node: 0, kind: .gemm, input: "x"), graph: graph))
        return LayerFit(layer: layer, inputRows: x, outputRows: y, rows: rows, rectified: false)
    }

    static var oneChannelEach: [[[Int]]] { [(0..<channels).map { [$0] }] }

    /// The error of re-fitting on `kept` channels (plus the bias column).
    static func refitError(_ fit: LayerFit, kept: [Int]) throws -> Double {
        try #require(fit.solve(keeping: kept + [channels])).error
    }

    /// The objective the solves minimize, relative to ‖Y‖²: the error plus the ridge μ‖W − W₀‖²
    /// on the kept columns.
    static func regularizedObjective(_ fit: LayerFit, kept: [Int]) throws -> Double {
        let columns = kept + [channels]
        let (weights, error) = try #require(fit.solve(keeping: columns))
        var penalty = 0.0
        for o in 0..<outputs {
            for (i, f) in columns.enumerated() {
                let change = Double(weights[o * columns.count + i]) - Double(fit.weights[o * fit.width + f])
                penalty += change * change
            }
        }
        return error + fit.ridge * penalty / fit.targetEnergy
    }

    @Test func removalCostsAreTheObjectiveIncreaseOfTheRefit() throws {
        let fit = try Self.fit()
        let elimination = try #require(ChannelElimination(fits: [fit], channelInputs: Self.oneChannelEach))
        let costs = elimination.removalCosts(of: Array(0..<Self.channels))
        let base = try Self.regularizedObjective(fit, kept: Array(0..<Self.channels))
        for c in 0..<Self.channels {
            let increase = try Self.regularizedObjective(fit, kept: (0..<Self.channels).filter { $0 != c }) - base
            #expect(abs(costs[c] - increase) <= 1e-4 * increase + 1e-9, "channel \(c): cost \(costs[c]) vs re-fit \(increase)")
        }
    }

    @Test func eliminationDropsWhatTheRefitReplacesAndContributionRulesDoNot() throws {
        let fit = try Self.fit()
        var elimination = try #require(ChannelElimination(fits: [fit], channelInputs: Self.oneChannelEach))
        let kept = elimination.select(keep: 5, channels: Self.channels)
        #expect(kept == [1, 2, 3, 4, 5] || kept == [0, 1, 2, 3, 4], "one of the correlated pair goes: \(kept)")
        // Brute force over every 4-channel subset: greedy elimination finds the best here.
        var elimination4 = try #require(ChannelElimination(fits: [fit], channelInputs: Self.oneChannelEach))
        let kept4 = elimination4.select(keep: 4, channels: Self.channels)
        var best = Double.infinity
        for a in 0..<6 { for b in (a + 1)..<6 { best = min(best, try Self.refitError(fit, kept: (0..<6).filter { $0 != a && $0 != b })) } }
        #expect(try Self.refitError(fit, kept: kept4) <= best * 1.0001)

        var problem = ChannelProblem(gram: Array(repeating: Array(repeating: 0, count: 6), count: 6), target: Array(repeating: 0, count: 6))
        fit.accumulate(into: &problem, channelFeatures: Self.oneChannelEach[0])
        for (rule, chosen) in [("thinet", problem.greedySelection(keep: 5)), ("lasso", problem.lassoSelection(keep: 5))] {
            #expect(try Self.refitError(fit, kept: chosen) > 2 * (try Self.refitError(fit, kept: kept)),
                    "\(rule) keeps \(chosen): it scores channels without the re-fit")
        }
    }
}
