/// ReduceProd: Π x over the axes (1 for the empty set).
enum ReduceProd: ReduceOperation {
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        var p = S.Value.one
        for k in 0..<group.count { p = S.Value.multiply(p, group[k]) }
        return p
    }
}
