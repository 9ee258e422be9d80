import Foundation
import Runtime

/// Per-op and per-node times gathered over profiled runs (`convert run --profile`).
struct RunProfile: Encodable {
    struct Operation: Encodable {
        var operation: String
        var nodes: Int
        /// Mean milliseconds per run spent in nodes of this op.
        var ms: Double
        var share: Double
    }

    struct NodeTime: Encodable {
        var node: String
        var operation: String
        var ms: Double
    }

    var runs: Int
    var totalMs: Double
    var operations: [Operation]
    /// Every node that ran, in schedule order.
    var nodes: [NodeTime]

    /// Averages `runs` (each a list of node timings in schedule order) per node and per op.
    init(_ runs: [[NodeTiming]]) {
        self.runs = runs.count
        var perNode: [String: (operation: String, seconds: Double)] = [:]
        var order: [String] = []
        for run in runs {
            for timing in run {
                if perNode[timing.node] == nil { order.append(timing.node) }
                perNode[timing.node, default: (timing.operation, 0)].seconds += timing.seconds
            }
        }
        let scale = 1000 / Double(max(1, runs.count))
        nodes = order.map { NodeTime(node: $0, operation: perNode[$0]!.operation, ms: perNode[$0]!.seconds * scale) }
        totalMs = nodes.reduce(0) { $0 + $1.ms }
        var perOperation: [String: Operation] = [:]
        for node in nodes {
            perOperation[node.operation, default: Operation(operation: node.operation, nodes: 0, ms: 0, share: 0)].nodes += 1
            perOperation[node.operation]!.ms += node.ms
        }
        let total = totalMs

        operations = perOperation.values.map { op in
            var op = op
            op.share = total > 0 ? op.ms / total : 0
            return op
        }.sorted { ($0.ms, $1.operation) > ($1.ms, $0.operation) }
    }

    /// Two tables: time per op, then the `slowest` slowest nodes.
    func text(slowest: Int = 10) -> String {
        let slowestNodes = nodes.sorted { $0.ms > $1.ms }.prefix(slowest)
        let ops = Format.table(
            ["op", "nodes", "ms per run", "share"],
            operations.map { [$0.operation, String($0.nodes), String(format: "%.3f", $0.ms), String(format: "%.1f%%", $0.share * 100)] }
                + [["total", String(operations.reduce(0) { $0 + $1.nodes }), String(format: "%.3f", totalMs), "100.0%"]])
        let slow = Format.table(
            ["slowest nodes", "op", "ms per run"],
            slowestNodes.map { [$0.node, $0.operation, String(format: "%.3f", $0.ms)] })
        return "profile over \(runs) run\(runs == 1 ? "" : "s"):\n" + ops + "\n\n" + slow
    }
}
