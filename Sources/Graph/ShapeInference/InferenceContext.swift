/// What a schema's shape rule sees of one node, and where it writes what it infers.
///
/// Input arrays are indexed like `node.inputs`; output arrays like `node.outputs`. A `nil` entry
/// means absent or unknown. Rules set `outputs` and, when they can compute them, constant
/// `outputValues` or symbolic `outputSymbolicValues` (so that shape-computing chains fold).
public struct InferenceContext: Sendable {
    public let node: Node
    /// Version of the default ONNX operator set the model imports.
    public let opsetVersion: Int64
    public let inputs: [TensorType?]
    /// Constant values of inputs when known (initializers, `Constant` nodes, propagated values).
    public let inputValues: [Tensor?]
    /// For small 0-D/1-D integer inputs: their elements, each possibly symbolic (e.g. a `Shape`
    /// of an input with a dynamic batch dim).
    public let inputSymbolicValues: [[Dim]?]
    public var outputs: [TensorType?]
    public var outputValues: [Tensor?]
    public var outputSymbolicValues: [[Dim]?]

    /// Largest constant (in elements) that rules compute during inference.
    public static let maxPropagatedElements = 4096

    public init(
        node: Node, opsetVersion: Int64, inputs: [TensorType?], inputValues: [Tensor?] = [],
        inputSymbolicValues: [[Dim]?] = []
    ) {
        self.node = node
        self.opsetVersion = opsetVersion
        func padded<T>(_ array: [T?]) -> [T?] {
            array.count >= node.inputs.count ? array : array + Array(repeating: nil, count: node.inputs.count - array.count)
        }
        self.inputs = padded(inputs)
        self.inputValues = padded(inputValues)
        self.inputSymbolicValues = padded(inputSymbolicValues)
        self.outputs = Array(repeating: nil, count: node.outputs.count)
        self.outputValues = Array(repeating: nil, count: node.outputs.count)
        self.outputSymbolicValues = Array(repeating: nil, count: node.outputs.count)
    }

    // MARK: Inputs

    /// True when input `i` is given (not omitted or empty).
    public func hasInput(_ i: Int) -> Bool { node.input(i) != nil }

    /// Number of inputs actually given (trailing and empty optional inputs not counted).
    public var presentInputCount: Int { node.inputs.filter { !$0.isEmpty }.count }

    /// The type of input `i`, when known.
    public func inputType(_ i: Int) -> TensorType? { i < inputs.count && hasInput(i) ? inputs[i] : nil }

    /// The dims of input `i`, when its rank is known.
    public func inputDims(_ i: Int) -> [Dim]? { inputType(i)?.dims }

    /// The rank of input `i`, when known.
    public func inputRank(_ i: Int) -> Int? { inputType(i)?.rank }

    /// The element type of input `i`, when known.
    public func inputElementType(_ i: Int) -> ElementType? {
        guard let t = inputType(i), t.elementType != .undefined else { return nil }
        return t.elementType
    }

    /// The constant value of input `i`, when known.
    public func inputValue(_ i: Int) -> Tensor? { i < inputValues.count && hasInput(i) ? inputValues[i] : nil }

    /// The integer elements of input `i`, from its constant value or fully known symbolic value.
    public func constantInts(_ i: Int) -> [Int64]? {
        if let t = inputValue(i), t.elementType.isInteger || t.elementType == .bool { return t.int64Values() }
        if let dims = symbolicInts(i) {
            let known = dims.compactMap(\.value)
            if known.count == dims.count { return known.map(Int64.init) }
        }
        return nil
    }

    /// The float elements of input `i` when it is a known constant.
    public func constantFloats(_ i: Int) -> [Float]? {
        if let t = inputValue(i) { return t.floatValues() }
        return constantInts(i).map { $0.map(Float.init) }
    }

    /// The elements of a 0-D/1-D integer input as dims: known values, symbols, or unknown.
    public func symbolicInts(_ i: Int) -> [Dim]? {
        if i < inputSymbolicValues.count, hasInput(i), let dims = inputSymbolicValues[i] { return dims }
        if let t = inputValue(i), t.shape.count <= 1, t.elementType.isInteger, let v = t.int64Values() {
            return v.map { .known(Int($0)) }
        }
        return nil
    }

    /// The decoded constant of input `i` when it is small enough to compute with.
    func smallValue(_ i: Int) -> SmallTensor? {
        guard let t = inputValue(i), t.elementCount <= Self.maxPropagatedElements else { return nil }
        return SmallTensor(t)
    }

    // MARK: Attributes (forwarded to `node`)

    public func int(_ name: String) -> Int64? { node.int(name) }
    public func int(_ name: String, default fallback: Int64) -> Int64 { node.int(name, default: fallback) }
    public func ints(_ name: String) -> [Int64]? { node.ints(name) }
    public func float(_ name: String) -> Float? { node.float(name) }
    public func floats(_ name: String) -> [Float]? { node.floats(name) }
    public func string(_ name: String) -> String? { node.string(name) }
    public func string(_ name: String, default fallback: String) -> String { node.string(name) ?? fallback }

    // MARK: Outputs

    /// Sets the type of output `i` (ignored when the node has no such output).
    public mutating func setOutput(_ i: Int, _ type: TensorType?) {
        guard i < outputs.count else { return }
        outputs[i] = type
    }

    /// Sets the type of output `i` from an element type and dims (`nil` dims: rank unknown).
    public mutating func setOutput(_ i: Int, _ elementType: ElementType?, _ dims: [Dim]?) {
        setOutput(i, TensorType(elementType ?? .undefined, dims))
    }

    /// Sets the constant value of output `i`, and its type from the value.
    public mutating func setValue(_ i: Int, _ tensor: Tensor) {
        guard i < outputs.count, tensor.elementCount <= Self.maxPropagatedElements else { return }
        var t = tensor
        t.name = node.outputs[i]
        outputValues[i] = t
        outputs[i] = t.type
    }

    /// Sets the value of output `i` from a decoded small tensor (no-op when it cannot be encoded).
    mutating func setValue(_ i: Int, _ value: SmallTensor?) {
        guard let value, let tensor = value.tensor(name: i < node.outputs.count ? node.outputs[i] : "") else { return }
        setValue(i, tensor)
    }

    /// Sets the symbolic elements of output `i` (a 0-D/1-D integer tensor).
    public mutating func setSymbolic(_ i: Int, _ dims: [Dim]?) {
        guard i < outputSymbolicValues.count, let dims, dims.count <= Self.maxPropagatedElements else { return }
        outputSymbolicValues[i] = dims
    }

    // MARK: Errors

    /// A shape mismatch error naming this node.
    public func mismatch(_ problem: String) -> GraphError {
        .shapeMismatch(node: node.displayName, problem)
    }

    /// An invalid attribute error naming this node.
    public func invalidAttribute(_ name: String, _ problem: String) -> GraphError {
        .invalidAttribute(node: node.displayName, attribute: name, problem)
    }

    /// Maps a possibly negative `axis` into `0..<rank`, or throws naming the attribute.
    public func normalizedAxis(_ axis: Int64, rank: Int, name: String = "axis") throws(GraphError) -> Int {
        let a = axis < 0 ? Int(axis) + rank : Int(axis)
        // A scalar still accepts axis 0 (e.g. Concat or Gather on values of unknown use).
        guard a >= 0 && a < max(rank, 1) else {
            throw invalidAttribute(name, "value \(axis) is out of range for rank \(rank)")
        }
        return a
    }
}
