/// The schemas Pare knows, found by op type and domain.
public enum OpSchemas {
    /// Every registered schema, sorted by domain and op type.
    public static var all: [OpSchema] {
        table.values.sorted { ($0.domain, $0.opType) < ($1.domain, $1.opType) }
    }

    /// The schema of `opType` in `domain`; "" and "ai.onnx" are the same domain.
    public static func lookup(_ opType: String, domain: String) -> OpSchema? {
        table[Key(domain: domain == "ai.onnx" ? "" : domain, opType: opType)]
    }

    private struct Key: Hashable {
        let domain: String
        let opType: String
    }

    /// Built once, on first use.
    private static let table: [Key: OpSchema] = {
        let families: [[OpSchema]] = [
            convolutionSchemas, poolingSchemas, normalizationSchemas, elementwiseSchemas, linearAlgebraSchemas,
            tensorSchemas, generatorSchemas, resizeSchemas, reductionSchemas,
        ]
        var table: [Key: OpSchema] = [:]
        for schema in families.joined() {
            let key = Key(domain: schema.domain == "ai.onnx" ? "" : schema.domain, opType: schema.opType)
            precondition(table[key] == nil, "schema \(schema.opType) is registered twice")
            table[key] = schema
        }
        return table
    }()
}
