/// ReduceMean: the mean over the axes (integers truncate; NaN for the empty set of floats).
enum ReduceMean: ReduceOperation {
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        group.sum { $0 }.divided(byCount: group.count)
    }
}
