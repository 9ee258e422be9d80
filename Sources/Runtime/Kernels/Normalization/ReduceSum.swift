/// ReduceSum: Σ x over the axes (0 for the empty set). Axes became an input in opset 13.
enum ReduceSum: ReduceOperation {
    static var axesInputSince: Int64 { 13 }

    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        group.sum { $0 }
    }
}
