import Foundation
import Formats
import Graph

/// Paths into the repository's Samples folder.
enum Samples {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Samples")

    static func url(_ relative: String) -> URL { folder.appendingPathComponent(relative) }

    static func load(_ relative: String) throws -> Model { try ONNXFormat.read(contentsOf: url(relative)) }
}

/// Builds conv nets directly in the IR, for models too large to commit.
struct NetBuilder {
    var graph = Graph(name: "built")
    private var counter = 0

    init(input: String, shape: [Int]) {
        graph.inputs = [Value(name: input, .float32, shape.map { .known($0) })]
    }

    mutating func fresh(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)_\(counter)"
    }

    /// Adds a zero-filled float initializer (zeros are calloc'ed lazily, so large ones are cheap).
    mutating func weight(_ prefix: String, _ shape: [Int]) -> String {
        let name = fresh(prefix)
        graph.initializers.append(Tensor(
            name: name, elementType: .float32, shape: shape, storage: .bytes(Data(count: shape.reduce(1, *) * 4))))
        return name
    }

    mutating func node(_ op: String, _ inputs: [String], _ attributes: [Attribute] = []) -> String {
        let output = fresh(op.lowercased())
        graph.nodes.append(Node(name: output, opType: op, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    mutating func conv(_ x: String, _ cin: Int, _ cout: Int, kernel: Int, pad: Int = 0, bias: Bool = true) -> String {
        var inputs = [x, weight("w", [cout, cin, kernel, kernel])]
        if bias { inputs.append(weight("b", [cout])) }
        return node("Conv", inputs, [
            Attribute("kernel_shape", .ints([Int64(kernel), Int64(kernel)])),
            Attribute("pads", .ints(Array(repeating: Int64(pad), count: 4))),
        ])
    }

    mutating func upConv(_ x: String, _ cin: Int, _ cout: Int) -> String {
        node("ConvTranspose", [x, weight("w", [cin, cout, 2, 2]), weight("b", [cout])], [
            Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2])),
        ])
    }

    mutating func maxPool(_ x: String) -> String {
        node("MaxPool", [x], [Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2]))])
    }

    mutating func output(_ name: String) {
        graph.outputs = [Value(name: name, type: nil)]
    }

    /// A standard U-Net: `depth` poolings, `base` channels doubling per level, 3×3 conv+ReLU pairs,
    /// 2×2 stride-2 transposed convs, skip concats, 1×1 conv + Sigmoid to one class.
    static func unet(depth: Int, base: Int, height: Int, width: Int) -> Model {
        var b = NetBuilder(input: "input", shape: [1, 3, height, width])
        func block(_ b: inout NetBuilder, _ x: String, _ cin: Int, _ cout: Int) -> String {
            let a = b.node("Relu", [b.conv(x, cin, cout, kernel: 3, pad: 1)])
            return b.node("Relu", [b.conv(a, cout, cout, kernel: 3, pad: 1)])
        }
        var x = "input", channels = 3
        var skips: [(String, Int)] = []
        for level in 0..<depth {
            x = block(&b, x, channels, base << level)
            channels = base << level
            skips.append((x, channels))
            x = b.maxPool(x)
        }
        x = block(&b, x, channels, base << depth)
        channels = base << depth
        for (skip, skipChannels) in skips.reversed() {
            let up = b.upConv(x, channels, skipChannels)
            let joined = b.node("Concat", [up, skip], [Attribute("axis", .int(1))])
            x = block(&b, joined, 2 * skipChannels, skipChannels)
            channels = skipChannels
        }
        let logits = b.conv(x, channels, 1, kernel: 1)
        b.output(b.node("Sigmoid", [logits]))
        return Model(graph: b.graph)
    }
}
