/// ReduceMax: the largest element (−∞, or the type's minimum, for the empty set); bools from opset 20.
enum ReduceMax: ReduceOperation {
    static var acceptsBool: Bool { true }

    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        group.maximum()
    }
}
