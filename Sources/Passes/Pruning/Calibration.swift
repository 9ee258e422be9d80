import Graph
import Runtime

/// Inputs to run a model on while pruning: one feed (batch 1) per sample.
public struct CalibrationSet: Sendable {
    public var samples: [[String: NDArray]]

    public init(samples: [[String: NDArray]]) {
        self.samples = samples
    }

    /// Samples from arrays (an NPZ file's contents). Either every model input has an array of
    /// that name, with the samples stacked on axis 0; or, for a one-input model, every array holds
    /// samples of that input (stacked on axis 0, or one per array).
    /// - Throws: `PruneError.calibration` naming the array and what the model expects.
    public static func from(_ tensors: [Tensor], inputs: [Value], source: String) throws(PruneError) -> CalibrationSet {
        guard !inputs.isEmpty else { throw .calibration("the model has no inputs to feed") }
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let expected = inputs.map { "'\($0.name)' \(describe($0))" }.joined(separator: ", ")
        if inputs.allSatisfy({ byName[$0.name] != nil }) {
            var perInput: [String: [NDArray]] = [:]
            for input in inputs { perInput[input.name] = try split(byName[input.name]!, for: input, source: source) }
            let counts = Set(perInput.values.map(\.count))
            guard counts.count == 1, let count = counts.first else {
                throw .calibration("\(source): the arrays hold different numbers of samples (\(perInput.mapValues(\.count)))")
            }
            return CalibrationSet(samples: (0..<count).map { k in perInput.mapValues { $0[k] } })
        }
        guard inputs.count == 1 else {
            let missing = inputs.filter { byName[$0.name] == nil }.map { "'\($0.name)'" }
            throw .calibration("\(source) has no array named \(missing.joined(separator: ", ")); the model expects \(expected)")
        }
        guard !tensors.isEmpty else { throw .calibration("\(source) holds no arrays; the model expects \(expected)") }
        var samples: [[String: NDArray]] = []
        for tensor in tensors {
            for array in try split(tensor, for: inputs[0], source: source) { samples.append([inputs[0].name: array]) }
        }
        return CalibrationSet(samples: samples)
    }

    /// `count` standard-normal samples of the inputs' declared shapes (batch 1), for users without data.
    public static func random(inputs: [Value], count: Int, seed: UInt64) throws -> CalibrationSet {
        let (shapes, _) = try Verification.resolveShapes(inputs)
        var samples: [[String: NDArray]] = []
        for k in 0..<count {
            var batchOne = shapes
            for (name, shape) in shapes where !shape.isEmpty { batchOne[name]![0] = 1 }
            samples.append(try Verification.randomInputs(inputs, shapes: batchOne, seed: seed &+ UInt64(k) &* 0x9E37_79B9))
        }
        return CalibrationSet(samples: samples)
    }

    /// The samples of one array: rank of the input with N on axis 0 (N ≥ 1), or one sample without it.
    private static func split(_ tensor: Tensor, for input: Value, source: String) throws(PruneError) -> [NDArray] {
        let declared = input.tensorType?.dims
        let type = input.tensorType?.elementType ?? .float32
        guard tensor.elementType == type else {
            throw .calibration("\(source): array '\(tensor.name)' is \(tensor.elementType), input '\(input.name)' expects \(type)")
        }
        var shape = tensor.shape
        if let declared, shape.count == declared.count - 1 { shape.insert(1, at: 0) }
        if let declared {
            let fits = shape.count == declared.count && zip(declared.dropFirst(), shape.dropFirst()).allSatisfy { $0.value == nil || $0.value == $1 }
            guard fits else {
                throw .calibration("\(source): array '\(tensor.name)' has shape \(tensor.shape.map(String.init).joined(separator: "×")); input '\(input.name)' expects \(describe(input)) with samples on axis 0")
            }
        }
        guard let first = shape.first, first > 0 else { throw .calibration("\(source): array '\(tensor.name)' holds no samples") }
        let whole: NDArray
        do { whole = try NDArray(tensor) } catch { throw .calibration("\(source): array '\(tensor.name)': \(error)") }
        let sampleShape = [1] + shape.dropFirst()
        let per = sampleShape.reduce(1, *)
        let bytes = type.byteCount(forElements: per) ?? 0
        return (0..<first).map { k in
            let array = NDArray(type, shape: sampleShape)
            array.buffer.pointer.copyMemory(from: whole.buffer.pointer + k * bytes, byteCount: bytes)
            return array
        }
    }

    private static func describe(_ input: Value) -> String {
        guard let type = input.tensorType else { return "(untyped)" }
        return "\(type.elementType) \(type.dims.map { $0.map(\.description).joined(separator: "×") } ?? "of any shape")"
    }
}
