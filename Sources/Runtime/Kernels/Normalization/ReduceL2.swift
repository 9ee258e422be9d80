/// ReduceL2: √(Σ x²) over the axes (0 for the empty set).
enum ReduceL2: ReduceOperation {
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        S.Value.sqrt(group.sum { S.Value.multiply($0, $0) })
    }
}
