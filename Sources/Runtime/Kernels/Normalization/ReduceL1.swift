/// ReduceL1: Σ |x| over the axes (0 for the empty set).
enum ReduceL1: ReduceOperation {
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        group.sum { S.Value.absolute($0) }
    }
}
