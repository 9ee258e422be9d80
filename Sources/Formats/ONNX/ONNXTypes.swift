import Foundation
import Graph

/// The mapping between ONNX `TensorProto.DataType` numbers and the IR's element types, spelled out
/// so that the IR does not depend on ONNX's numbering.
enum ONNXElementType {
    static let pairs: [(Int32, ElementType)] = [
        (0, .undefined), (1, .float32), (2, .uint8), (3, .int8), (4, .uint16), (5, .int16), (6, .int32),
        (7, .int64), (8, .string), (9, .bool), (10, .float16), (11, .float64), (12, .uint32), (13, .uint64),
        (14, .complex64), (15, .complex128), (16, .bfloat16), (17, .float8e4m3fn), (18, .float8e4m3fnuz),
        (19, .float8e5m2), (20, .float8e5m2fnuz), (21, .uint4), (22, .int4), (23, .float4e2m1),
        (24, .float8e8m0), (25, .uint2), (26, .int2), (27, .float6e2m3), (28, .float6e3m2),
    ]
    private static let byCode: [Int32: ElementType] = Dictionary(uniqueKeysWithValues: pairs)
    private static let byType: [ElementType: Int32] = Dictionary(uniqueKeysWithValues: pairs.map { ($1, $0) })

    /// The element type for an ONNX data type number; nil for numbers this version does not know.
    static func elementType(_ code: Int32) -> ElementType? { byCode[code] }

    /// The ONNX data type number of an element type.
    static func code(_ type: ElementType) -> Int32 { byType[type] ?? 0 }
}

/// The mapping between the ONNX attribute type enum and the IR's attribute kinds.
enum ONNXAttributeKind {
    private static let pairs: [(Onnx_AttributeProto.AttributeType, AttributeKind)] = [
        (.undefined, .undefined), (.float, .float), (.int, .int), (.string, .string), (.tensor, .tensor),
        (.graph, .graph), (.floats, .floats), (.ints, .ints), (.strings, .strings), (.tensors, .tensors),
        (.graphs, .graphs), (.sparseTensor, .sparseTensor), (.sparseTensors, .sparseTensors),
        (.typeProto, .type), (.typeProtos, .types),
    ]
    private static let kindByType = Dictionary(uniqueKeysWithValues: pairs.map { ($0.0, $0.1) })
    private static let typeByKind = Dictionary(uniqueKeysWithValues: pairs.map { ($0.1, $0.0) })

    static func kind(_ type: Onnx_AttributeProto.AttributeType) -> AttributeKind { kindByType[type] ?? .undefined }

    static func type(_ kind: AttributeKind) -> Onnx_AttributeProto.AttributeType { typeByKind[kind] ?? .undefined }

    /// The kind an attribute without a `type` field has, judged by which value field is set
    /// (models from before the field existed), in the order `onnx.helper.get_attribute_value` checks.
    static func inferred(_ a: Onnx_AttributeProto) -> Onnx_AttributeProto.AttributeType? {
        if a.hasF { return .float }
        if a.hasI { return .int }
        if a.hasS { return .string }
        if a.hasT { return .tensor }
        if a.hasG { return .graph }
        if a.hasSparseTensor { return .sparseTensor }
        if a.hasTp { return .typeProto }
        if !a.floats.isEmpty { return .floats }
        if !a.ints.isEmpty { return .ints }
        if !a.strings.isEmpty { return .strings }
        if !a.tensors.isEmpty { return .tensors }
        if !a.graphs.isEmpty { return .graphs }
        if !a.sparseTensors.isEmpty { return .sparseTensors }
        if !a.typeProtos.isEmpty { return .typeProtos }
        return nil
    }

    /// True when a value field other than the one of `used` is set: such an attribute has fields
    /// the IR cannot hold and they must be carried.
    static func hasOtherValueFields(_ a: Onnx_AttributeProto, besides used: Onnx_AttributeProto.AttributeType?) -> Bool {
        (a.hasF && used != .float) || (a.hasI && used != .int) || (a.hasS && used != .string)
            || (a.hasT && used != .tensor) || (a.hasG && used != .graph)
            || (a.hasSparseTensor && used != .sparseTensor) || (a.hasTp && used != .typeProto)
            || (!a.floats.isEmpty && used != .floats) || (!a.ints.isEmpty && used != .ints)
            || (!a.strings.isEmpty && used != .strings) || (!a.tensors.isEmpty && used != .tensors)
            || (!a.graphs.isEmpty && used != .graphs) || (!a.sparseTensors.isEmpty && used != .sparseTensors)
            || (!a.typeProtos.isEmpty && used != .typeProtos)
    }

    /// Clears the value field of `kind`, leaving the others.
    static func clearValue(_ kind: Onnx_AttributeProto.AttributeType, in a: inout Onnx_AttributeProto) {
        switch kind {
        case .undefined: break
        case .float: a.clearF()
        case .int: a.clearI()
        case .string: a.clearS()
        case .tensor: a.clearT()
        case .graph: a.clearG()
        case .sparseTensor: a.clearSparseTensor()
        case .typeProto: a.clearTp()
        case .floats: a.floats = []
        case .ints: a.ints = []
        case .strings: a.strings = []
        case .tensors: a.tensors = []
        case .graphs: a.graphs = []
        case .sparseTensors: a.sparseTensors = []
        case .typeProtos: a.typeProtos = []
        }
    }
}

/// The mapping between ONNX `TypeProto` and the IR's value types.
enum ONNXValueType {
    /// The tensor type a `TypeProto` describes, when it is a plain tensor type (known element type,
    /// optional shape of values and params, no denotations, nothing unknown); nil otherwise.
    static func plainTensorType(_ t: Onnx_TypeProto) -> TensorType? {
        guard !t.hasDenotation, t.unknownFields.data.isEmpty, case .tensorType(let tensor)? = t.value,
              tensor.unknownFields.data.isEmpty, tensor.hasElemType,
              let elementType = ONNXElementType.elementType(tensor.elemType)
        else { return nil }
        guard tensor.hasShape else { return TensorType(elementType, nil) }
        let shape = tensor.shape
        guard shape.unknownFields.data.isEmpty else { return nil }
        var dims: [Dim] = []
        dims.reserveCapacity(shape.dim.count)
        for d in shape.dim {
            guard !d.hasDenotation, d.unknownFields.data.isEmpty else { return nil }
            switch d.value {
            case .dimValue(let v)?:
                guard let size = Int(exactly: v) else { return nil }
                dims.append(.known(size))
            case .dimParam(let s)?: dims.append(.symbol(s))
            case nil: dims.append(.unknown)
            }
        }
        return TensorType(elementType, dims)
    }

    static func typeProto(_ t: TensorType) -> Onnx_TypeProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = ONNXElementType.code(t.elementType)
        if let dims = t.dims {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                switch d {
                case .known(let v): dim.dimValue = Int64(v)
                case .symbol(let s): dim.dimParam = s
                case .unknown: break
                }
                return dim
            }
            tensor.shape = shape
        }
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        return type
    }
}
