import Foundation
import Graph

/// LpPool: the p-norm of each window, (Σ |x|ᵖ)^(1/p), with padding contributing nothing.
struct LpPoolKernel: Kernel {
    let opsetVersion: Int64
    let p: Double

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        // p is an int from opset 2 on, a float in opset 1.
        let p = context.node.int("p").map(Double.init) ?? context.node.float("p").map(Double.init) ?? 2
        guard p > 0, p.isFinite else { throw context.invalid("p must be positive, got \(p)") }
        return LpPoolKernel(opsetVersion: context.opsetVersion, p: p)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard let x = inputs.first ?? nil else { throw context.failure("LpPool needs input X") }
        let shape = try schemaOutputShape(inputs, context, opsetVersion: opsetVersion)
        let windows = try PoolWindows(node: context.node, x: x, outputShape: shape, context: context)
        let y = context.output(0, x.elementType, shape)
        let planes = shape[0] * shape[1]
        let p = p
        func pool<T: BinaryFloatingPoint>(_ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>) {
            let g = windows.geometry
            let inputSize = g.inputSize, outputSize = g.outputSize
            let exponent = p
            Parallel.forEach(planes, threads: context.threads, grain: max(1, 4096 / max(1, outputSize * g.kernelSize))) { plane in
                let values = source + plane * inputSize
                let out = target + plane * outputSize
                windows.forEachOutput { o, window in
                    var sum = 0.0
                    for kd in window.depth {
                        for kh in window.height {
                            let row = window.row(kd, kh)
                            for kw in window.width {
                                let v = abs(Double(values[row &+ kw &* window.widthStep]))
                                sum += p == 1 ? v : p == 2 ? v * v : pow(v, exponent)
                            }
                        }
                    }
                    out[o] = T(p == 1 ? sum : p == 2 ? sum.squareRoot() : pow(sum, 1 / exponent))
                }
            }
        }
        try runFloatPool(x, y, context, float: pool, double: pool)
        return [y]
    }
}
