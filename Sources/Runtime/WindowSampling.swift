import Graph

/// Reads the input window behind chosen output positions of a Conv or ConvTranspose: the rows of
/// the layer's im2col matrix, for only the positions asked. Channel pruning builds its least-squares
/// problems from these.
public enum WindowSampling {
    /// For each flat output spatial position in `positions` (of batch item `batch`), the window of
    /// `input` [N, C, spatial…] that `node` reads: C·K values (channel-major, then kernel taps in
    /// row-major order), zero where the window leaves the input. For ConvTranspose the taps are
    /// those whose scatter lands on the position, in the same order, so row · weight gives the output.
    /// - Throws: `RuntimeError` when the node's attributes do not describe a valid window.
    public static func rows(of node: Node, kernel: [Int], input: NDArray, outputSpatial: [Int], batch: Int = 0,
                            positions: [Int]) throws -> [Float] {
        let transposed = node.opType == "ConvTranspose"
        let channels = input.shape[1]
        let spatial = Array(input.shape.dropFirst(2))
        let context = KernelContext(slots: [], arena: nil, threads: 1, node: node)
        // ConvTranspose's geometry steps over X and scatters into Y (see WindowGeometry).
        let geometry = transposed
            ? try WindowGeometry(node: node, input: outputSpatial, output: spatial, kernel: kernel, context: context, transposed: true)
            : try WindowGeometry(node: node, input: spatial, output: outputSpatial, kernel: kernel, context: context)
        let lift = WindowGeometry.maxSpatialRank - spatial.count
        let inSizes = Array(repeating: 1, count: lift) + spatial
        let outSizes = Array(repeating: 1, count: lift) + outputSpatial
        let taps = geometry.kernelSize
        let inputPlane = inSizes.reduce(1, *)
        let width = channels * taps
        var rows = [Float](repeating: 0, count: positions.count * width)
        let x = input.floats
        let base = batch * channels * inputPlane
        for (row, position) in positions.enumerated() {
            let out = [position / (outSizes[1] * outSizes[2]), (position / outSizes[2]) % outSizes[1], position % outSizes[2]]
            // Per axis, the input coordinate each kernel tap reads (nil: outside, or no tap lands).
            let along = (0..<WindowGeometry.maxSpatialRank).map { axis in
                (0..<geometry.kernel[axis]).map { k -> Int? in
                    let offset = k * geometry.dilations[axis] - geometry.padBegin[axis]
                    var at = out[axis] * geometry.strides[axis] + offset
                    if transposed {
                        let shifted = out[axis] - offset
                        guard shifted % geometry.strides[axis] == 0 else { return nil }
                        at = shifted / geometry.strides[axis]
                    }
                    return at >= 0 && at < inSizes[axis] ? at : nil
                }
            }
            var tap = 0
            for d in along[0] {
                for h in along[1] {
                    for w in along[2] {
                        defer { tap += 1 }
                        guard let d, let h, let w else { continue }
                        let source = (d * inSizes[1] + h) * inSizes[2] + w
                        for c in 0..<channels {
                            rows[row * width + c * taps + tap] = x[base + c * inputPlane + source]
                        }
                    }
                }
            }
        }
        return rows
    }
}
