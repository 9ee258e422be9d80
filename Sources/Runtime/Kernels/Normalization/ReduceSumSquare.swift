/// ReduceSumSquare: Σ x² over the axes (0 for the empty set).
enum ReduceSumSquare: ReduceOperation {
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        group.sum { S.Value.multiply($0, $0) }
    }
}
