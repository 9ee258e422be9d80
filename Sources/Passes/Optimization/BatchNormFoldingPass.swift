import Foundation
import Graph

/// `fold-batchnorm`: folds an inference-mode BatchNormalization into the Conv, ConvTranspose or
/// Gemm that produces its input (scaling the weights per output channel and creating a bias when
/// there was none), or else into the Conv that reads its output when that conv has no padding
/// (padding would pad the normalized values with zeros, which the fold cannot reproduce). The
/// arithmetic runs in Double and is rounded once to the weight's type.
public struct BatchNormFoldingPass: Pass {
    public let name = "fold-batchnorm"
    public let summary = "BatchNormalization folds into the Conv/ConvTranspose/Gemm before it, or the unpadded Conv after it"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var editor = GraphEditor(taking: &graph, context: context)
        for i in editor.liveIndices where editor.node(i).opType == "BatchNormalization" && editor.node(i).isDefaultDomain {
            guard let affine = ChannelAffine(batchNorm: editor.node(i), editor) else { continue }
            let bn = editor.node(i)
            let x = bn.inputs[0], y = bn.outputs[0]
            if let p = editor.producer[x], editor.soleReader(of: x) == i, !editor.isRemoved(p),
               let slot = editor.node(p).outputs.firstIndex(of: x), slot == 0,
               affine.foldIntoProducer(p, &editor) {
                editor.remove(i)
                editor.setOutput(node: p, slot: 0, to: y)
                report.rewrites += 1
            } else if let c = editor.soleReader(of: y), editor.node(c).inputs.firstIndex(of: y) == 0,
                      editor.node(c).inputs.lastIndex(of: y) == 0, affine.foldIntoFollowingConv(c, &editor) {
                editor.remove(i)
                editor.setInput(node: c, slot: 0, to: x)
                report.rewrites += 1
            }
        }
        graph = editor.finish()
        return report
    }
}

/// y = scale·x + shift per channel (axis 1): an inference BatchNormalization, or a constant
/// Mul/Add after a conv.
struct ChannelAffine {
    var scale: [Double]
    var shift: [Double]
    var channels: Int { scale.count }

    init(scale: [Double], shift: [Double]) {
        self.scale = scale
        self.shift = shift
    }

    /// The affine map of an inference-mode BatchNormalization with constant parameters whose
    /// extra (training) outputs nobody reads; nil otherwise.
    init?(batchNorm node: Node, _ editor: GraphEditor) {
        guard node.inputs.count == 5, node.outputs.first.map({ !$0.isEmpty }) == true,
              node.int("training_mode", default: 0) == 0, node.int("spatial", default: 1) == 1,
              node.outputs.dropFirst().allSatisfy({ $0.isEmpty || !editor.isUsed($0) }),
              let gamma = editor.constant(node.inputs[1]).flatMap(RealTensor.init),
              let beta = editor.constant(node.inputs[2]).flatMap(RealTensor.init),
              let mean = editor.constant(node.inputs[3]).flatMap(RealTensor.init),
              let variance = editor.constant(node.inputs[4]).flatMap(RealTensor.init) else { return nil }
        let c = gamma.values.count
        guard c > 0, [beta, mean, variance].allSatisfy({ $0.values.count == c }) else { return nil }
        let epsilon = Double(node.float("epsilon") ?? 1e-5)
        scale = (0..<c).map { gamma.values[$0] / (variance.values[$0] + epsilon).squareRoot() }
        shift = (0..<c).map { beta.values[$0] - mean.values[$0] * (gamma.values[$0] / (variance.values[$0] + epsilon).squareRoot()) }
    }

    /// Folds the map into the weights of producer `p` (Conv, ConvTranspose or Gemm), so that it
    /// computes the map's output itself. False, changing nothing, when `p` is anything else or
    /// its weights are not constants.
    func foldIntoProducer(_ p: Int, _ editor: inout GraphEditor) -> Bool {
        let node = editor.node(p)
        guard node.isDefaultDomain, let weight = node.input(1).flatMap(editor.constantLayout),
              RealTensor.supportedTypes.contains(weight.elementType) else { return false }
        switch node.opType {
        case "Conv", "ConvTranspose":
            let group = Int(node.int("group", default: 1))
            guard weight.shape.count >= 3, group >= 1 else { return false }
            let transposed = node.opType == "ConvTranspose"
            let outputs = transposed ? weight.shape[1] * group : weight.shape[0]
            guard outputs == channels, transposed ? weight.shape[0] % group == 0 : true else { return false }
            let bias: RealTensor?
            if let name = node.input(2) {
                guard let b = editor.constant(name).flatMap(RealTensor.init), b.values.count == channels else { return false }
                bias = b
            } else {
                bias = nil
            }
            // A Conv's output channel is its weight's dim 0; a ConvTranspose's is
            // group·(Cout/g) + dim 1, so each kernel-sized run of its weight has its own factor.
            let inner = weight.shape[1], perGroupIn = weight.shape[0] / max(1, group)
            let block = weight.shape.dropFirst(2).reduce(1, *)
            var factors: [Double] = []
            if transposed {
                for first in 0..<weight.shape[0] {
                    for second in 0..<inner { factors.append(scale[(first / perGroupIn) * inner + second]) }
                }
            } else {
                factors = scale
            }
            guard editor.rescaleConstantInput(node: p, slot: 1, block: transposed ? block : inner * block, factors: factors, suffix: "_folded") else { return false }
            let newBias = (0..<channels).map { (bias?.values[$0] ?? 0) * scale[$0] + shift[$0] }
            // A pure scaling of a conv without bias needs no bias.
            if bias == nil && shift.allSatisfy({ $0 == 0 }) { return true }
            editor.setBias(node: p, newBias, elementType: weight.elementType, shape: [channels])
            return true
        case "Gemm":
            return foldIntoGemm(p, weight: weight, &editor)
        default:
            return false
        }
    }

    /// Gemm: Y = α·A·B + β·C, normalized per column n: B's column n scales by scale[n] and the
    /// new C = scale·β·C + shift, with β = 1.
    private func foldIntoGemm(_ p: Int, weight: (elementType: ElementType, shape: [Int]), _ editor: inout GraphEditor) -> Bool {
        let node = editor.node(p)
        guard weight.shape.count == 2 else { return false }
        let transB = node.int("transB", default: 0) != 0
        let n = transB ? weight.shape[0] : weight.shape[1], k = transB ? weight.shape[1] : weight.shape[0]
        guard n == channels else { return false }
        let beta = Double(node.float("beta") ?? 1)
        var c: RealTensor?
        if let name = node.input(2) {
            guard let given = editor.constant(name).flatMap(RealTensor.init), given.shape.count <= 2 else { return false }
            c = given
        }
        let rows = c.map { $0.shape.count == 2 ? $0.shape[0] : 1 } ?? 1
        let columnsOfC = c.map { $0.shape.last ?? 1 } ?? 1
        guard columnsOfC == 1 || columnsOfC == n else { return false }
        // Checks done: from here on the fold changes the weights.
        // Transposed, B is n×k: a row per output column; else k×n: the column is index mod n.
        guard transB ? editor.rescaleConstantInput(node: p, slot: 1, block: k, factors: scale, suffix: "_folded")
                     : editor.rescaleConstantInput(node: p, slot: 1, block: 1, factors: Array((0..<k).map { _ in scale }.joined()), suffix: "_folded")
        else { return false }
        var values = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for column in 0..<n {
                let given = c.map { $0.values[r * columnsOfC + (columnsOfC == 1 ? 0 : column)] } ?? 0
                values[r * n + column] = scale[column] * beta * given + shift[column]
            }
        }
        let shape = c?.shape.count == 2 ? [rows, n] : [n]
        editor.setBias(node: p, values, elementType: weight.elementType, shape: shape)
        editor.setAttribute(node: p, Attribute("beta", .float(1)))
        return true
    }

    /// Folds the map into Conv `c` that reads its output, when `c` pads nothing: the conv then
    /// reads the map's input, with weights scaled per input channel and the shift's response
    /// added to its bias.
    func foldIntoFollowingConv(_ c: Int, _ editor: inout GraphEditor) -> Bool {
        let node = editor.node(c)
        guard node.opType == "Conv", node.isDefaultDomain, let weight = node.input(1).flatMap(editor.constantLayout),
              RealTensor.supportedTypes.contains(weight.elementType), weight.shape.count >= 3 else { return false }
        let group = Int(node.int("group", default: 1))
        let kernel = weight.shape.dropFirst(2)
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        let unpadded = (node.ints("pads") ?? []).allSatisfy { $0 == 0 }
            && (autoPad == "NOTSET" || autoPad == "VALID" || kernel.allSatisfy { $0 == 1 })
        guard unpadded, group >= 1, weight.shape[1] * group == channels, weight.shape[0] % group == 0 else { return false }
        let outputs = weight.shape[0], perGroupOut = outputs / group, inner = weight.shape[1]
        var bias = [Double](repeating: 0, count: outputs)
        if let name = node.input(2) {
            guard let b = editor.constant(name).flatMap(RealTensor.init), b.values.count == outputs else { return false }
            bias = b.values
        }
        // Run r of the weight is (output o, input j of its group): input channel (o / (Cout/g))·(Cin/g) + j.
        func channel(_ run: Int) -> Int { (run / inner / perGroupOut) * inner + run % inner }
        let block = kernel.reduce(1, *)
        // The sums are taken in one expression, so no copy of the weight outlives it and the
        // rescale below can work in place.
        guard let sums = node.input(1).flatMap(editor.constant).flatMap({ WeightScaling.blockSums($0, block: block) }),
              editor.rescaleConstantInput(node: c, slot: 1, block: block, factors: (0..<(outputs * inner)).map { scale[channel($0)] }, suffix: "_folded")
        else { return false }
        for (run, sum) in sums.enumerated() { bias[run / inner] += sum * shift[channel(run)] }
        editor.setBias(node: c, bias, elementType: weight.elementType, shape: [outputs])
        return true
    }
}
