/// ReduceLogSum: log(Σ x) over the axes (−∞ for the empty set).
enum ReduceLogSum: ReduceOperation {
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        S.Value.log(group.sum { $0 })
    }
}
