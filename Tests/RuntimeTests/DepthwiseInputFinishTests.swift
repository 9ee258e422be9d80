import Graph
import Runtime
import Testing

/// A fused conv read only by a depthwise conv leaves its bias and activation to that reader,
/// which applies them as it copies (3×3) or just before it reads (other windows) each input
/// plane. Each case runs fused and unfused (every node its own kernel) and compares.
@Suite struct DepthwiseInputFinishTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var producerKernel: [Int]
        var producerAttributes: [Attribute] = []
        var producerBatchNorm = false
        var producerBias = true
        /// "Relu", "Clip" or nil (bias only).
        var activation: String?
        var readerKernel: [Int]
        var readerAttributes: [Attribute]
        var readerBatchNorm = false
        var size: [Int]
        var testDescription: String { name }
        /// Without a BatchNormalization to fold, fused and unfused runs make the same roundings.
        var exact: Bool { !producerBatchNorm && !readerBatchNorm }
    }

    static let pad1 = Attribute("pads", .ints([1, 1, 1, 1]))
    static let cases: [Case] = [
        Case(name: "1×1+BatchNormalization+Clip into 3×3 stride 1, rows of 14", producerKernel: [1, 1], producerBatchNorm: true,
             activation: "Clip", readerKernel: [3, 3], readerAttributes: [pad1], readerBatchNorm: true, size: [9, 14]),
        Case(name: "1×1+BatchNormalization+Relu into 3×3 stride 2, odd width 29", producerKernel: [1, 1], producerBatchNorm: true,
             activation: "Relu", readerKernel: [3, 3], readerAttributes: [pad1, Attribute("strides", .ints([2, 2]))],
             readerBatchNorm: true, size: [13, 29]),
        Case(name: "3×3 stride 2 + Clip into 3×3 stride 1, rows of 7", producerKernel: [3, 3],
             producerAttributes: [pad1, Attribute("strides", .ints([2, 2]))], activation: "Clip", readerKernel: [3, 3],
             readerAttributes: [pad1], size: [14, 14]),
        Case(name: "1×1 without bias + Relu into 3×3, rows of 3", producerKernel: [1, 1], producerBias: false, activation: "Relu",
             readerKernel: [3, 3], readerAttributes: [pad1], size: [5, 3]),
        Case(name: "1×1+BatchNormalization, no activation, into 3×3 stride 2, rows of 14", producerKernel: [1, 1],
             producerBatchNorm: true, readerKernel: [3, 3], readerAttributes: [pad1, Attribute("strides", .ints([2, 2]))],
             size: [14, 28]),
        Case(name: "1×1 + Clip into 5×5", producerKernel: [1, 1], activation: "Clip", readerKernel: [5, 5],
             readerAttributes: [Attribute("pads", .ints([2, 2, 2, 2]))], size: [11, 10]),
        Case(name: "1×1+BatchNormalization+Clip into 3×3 with dilation 2", producerKernel: [1, 1], producerBatchNorm: true,
             activation: "Clip", readerKernel: [3, 3],
             readerAttributes: [Attribute("pads", .ints([2, 2, 2, 2])), Attribute("dilations", .ints([2, 2]))], size: [12, 9]),
    ]

    static let channels = 12

    /// Producer → [BatchNormalization] → [activation] → depthwise reader → [BatchNormalization].
    func model(_ c: Case) -> (ConvFusionTests.Builder, String) {
        var b = ConvFusionTests.Builder()
        let n = Self.channels
        b.conv("x", "p", cin: 5, cout: n, kernel: c.producerKernel, attributes: c.producerAttributes, bias: c.producerBias)
        var current = "p"
        if c.producerBatchNorm {
            b.batchNorm(current, "pbn", channels: n)
            current = "pbn"
        }
        switch c.activation {
        case "Relu": b.node("Relu", [current], "act")
        case "Clip": b.node("Clip", [current, b.constant("lo", []), b.constant("hi", [])], "act")
        default: break
        }
        if c.activation != nil { current = "act" }
        b.conv(current, "d", cin: n, cout: n, kernel: c.readerKernel, group: n, attributes: c.readerAttributes)
        current = "d"
        if c.readerBatchNorm {
            b.batchNorm(current, "dbn", channels: n)
            current = "dbn"
        }
        return (b, current)
    }

    @Test("the reader applies the producer's finish: same outputs as unfused, on 1 and 2 threads",
          arguments: cases, [1, 2])
    func readerFinishesInput(_ c: Case, threads: Int) throws {
        let (b, output) = model(c)
        let shape = [2, 5] + c.size
        let result = try ConvFusionTests().compare(b.model(inputs: [("x", shape)], outputs: [output]),
                                                   feeds: ["x": ConvolutionHarness.random(shape, seed: 7)], threads: threads)
        #expect(result.labels.first?.hasSuffix("(finish in reader)") == true, "\(result.labels)")
        if c.exact {
            #expect(result.error == 0, "relative error \(result.error)")
        } else {
            #expect(result.error < 1e-5, "relative error \(result.error)")
        }
    }

    @Test("a producer whose bias does not fit its channels is an error naming it, with its finish handed over or not")
    func producerBiasMismatchIsAnError() throws {
        var b = ConvFusionTests.Builder()
        b.conv("x", "p", cin: 5, cout: 6, kernel: [1, 1], bias: false)
        b.nodes[0].inputs[2] = b.constant("p.b", [4])                             // 4 values for 6 channels
        b.node("Relu", ["p"], "act")
        b.conv("act", "d", cin: 6, cout: 6, kernel: [3, 3], group: 6, attributes: [Self.pad1])
        let model = b.model(inputs: [("x", [1, 5, 8, 9])], outputs: ["d"])
        for fuses in [true, false] {
            let session = try Session(model: model, options: SessionOptions(threads: 1, fusesConvolutions: fuses))
            #expect {
                _ = try session.run(["x": ConvolutionHarness.random([1, 5, 8, 9], seed: 3)])
            } throws: { error in
                "\(error)".contains("node p (Conv)") && "\(error)".contains("bias B has 4 elements but the output has 6 channels")
            }
        }
    }

    @Test("a producer whose output the graph returns, or that feeds a depthwise conv with two outputs per channel, keeps its finish")
    func finishStaysWhenTheValueIsShared() throws {
        var b = ConvFusionTests.Builder()
        b.conv("x", "p", cin: 5, cout: 6, kernel: [1, 1])
        b.node("Relu", ["p"], "act")                                              // returned by the graph
        b.conv("act", "d", cin: 6, cout: 6, kernel: [3, 3], group: 6, attributes: [Self.pad1])
        b.conv("x", "q", cin: 5, cout: 6, kernel: [1, 1])
        b.node("Relu", ["q"], "qact")
        b.conv("qact", "e", cin: 6, cout: 12, kernel: [3, 3], group: 6, attributes: [Self.pad1])   // multiplier 2
        let shape = [1, 5, 8, 9]
        let result = try ConvFusionTests().compare(b.model(inputs: [("x", shape)], outputs: ["act", "d", "e"]),
                                                   feeds: ["x": ConvolutionHarness.random(shape, seed: 3)])
        #expect(result.labels == ["Conv+Relu", "Conv", "Conv+Relu", "Conv"])
        #expect(result.error == 0)
    }
}
