/// A dataflow graph: nodes in topological order over named values, with constant tensors.
///
/// Values are identified by name (single assignment). A subgraph (an If branch, a Loop body) may
/// read values of the graphs that enclose it.
public struct Graph: Sendable, Hashable {
    public var name: String
    public var nodes: [Node]
    public var inputs: [Value]
    public var outputs: [Value]
    /// Type annotations of intermediate values, as the source file gave them.
    public var valueInfo: [Value]
    public var initializers: [Tensor]
    public var sparseInitializers: [SparseTensor]
    public var docString: String
    public var metadata: [MetadataEntry]
    public var carried: CarriedFields

    public init(
        name: String = "", nodes: [Node] = [], inputs: [Value] = [], outputs: [Value] = [],
        valueInfo: [Value] = [], initializers: [Tensor] = [], sparseInitializers: [SparseTensor] = [],
        docString: String = "", metadata: [MetadataEntry] = [], carried: CarriedFields = .none
    ) {
        self.name = name
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
        self.initializers = initializers
        self.sparseInitializers = sparseInitializers
        self.docString = docString
        self.metadata = metadata
        self.carried = carried
    }

    /// Graph inputs that are not also initializers: what a caller must feed.
    public var runtimeInputs: [Value] {
        // Few inputs (the usual case) are looked up directly; building a set costs more.
        if inputs.count <= 4 {
            return inputs.filter { input in
                !initializers.contains { $0.name == input.name } && !sparseInitializers.contains { $0.name == input.name }
            }
        }
        let constant = Set(initializers.map(\.name)).union(sparseInitializers.map(\.name))
        return inputs.filter { !constant.contains($0.name) }
    }

    /// The initializer called `name`, if any (linear search; build a `GraphIndex` for many lookups).
    public func initializer(named name: String) -> Tensor? {
        initializers.first(where: { $0.name == name })
    }
}

/// An operator set the model uses: a domain ("" is the default ONNX domain) and its version.
public struct OpsetImport: Sendable, Hashable {
    public var domain: String
    public var version: Int64

    public init(domain: String, version: Int64) {
        self.domain = domain
        self.version = version
    }
}

/// A model-local function: a named subgraph that nodes of `domain`/`name` expand to.
public struct Function: Sendable, Hashable {
    public var name: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    /// Names of the attributes the function accepts without defaults.
    public var attributeNames: [String]
    /// Attributes with default values.
    public var attributeDefaults: [Attribute]
    public var nodes: [Node]
    public var opsetImports: [OpsetImport]
    public var valueInfo: [Value]
    public var docString: String
    public var metadata: [MetadataEntry]
    public var carried: CarriedFields

    public init(
        name: String, domain: String, inputs: [String], outputs: [String], attributeNames: [String] = [],
        attributeDefaults: [Attribute] = [], nodes: [Node], opsetImports: [OpsetImport] = [],
        valueInfo: [Value] = [], docString: String = "", metadata: [MetadataEntry] = [],
        carried: CarriedFields = .none
    ) {
        self.name = name
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributeNames = attributeNames
        self.attributeDefaults = attributeDefaults
        self.nodes = nodes
        self.opsetImports = opsetImports
        self.valueInfo = valueInfo
        self.docString = docString
        self.metadata = metadata
        self.carried = carried
    }
}

/// A whole model: the main graph plus what describes it.
public struct Model: Sendable, Hashable {
    public var irVersion: Int64
    public var opsetImports: [OpsetImport]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64
    public var docString: String
    public var metadata: [MetadataEntry]
    public var graph: Graph
    public var functions: [Function]
    public var carried: CarriedFields

    public init(
        irVersion: Int64 = 8, opsetImports: [OpsetImport] = [OpsetImport(domain: "", version: 17)],
        producerName: String = "", producerVersion: String = "", domain: String = "", modelVersion: Int64 = 0,
        docString: String = "", metadata: [MetadataEntry] = [], graph: Graph, functions: [Function] = [],
        carried: CarriedFields = .none
    ) {
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.metadata = metadata
        self.graph = graph
        self.functions = functions
        self.carried = carried
    }

    /// The version of the default ONNX operator set the model imports (0 when it imports none).
    public var defaultOpsetVersion: Int64 {
        opsetImports.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" })?.version ?? 0
    }

    /// The function that implements nodes of `domain`/`opType`, if the model defines one.
    public func function(domain: String, name: String) -> Function? {
        functions.first(where: { $0.domain == domain && $0.name == name })
    }
}
