/// ReduceMin: the smallest element (+∞, or the type's maximum, for the empty set); bools from opset 20.
enum ReduceMin: ReduceOperation {
    static var acceptsBool: Bool { true }

    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        var m = S.Value.highest
        for k in 0..<group.count {
            let v = group[k]
            if v < m || v.isNaNValue { m = v }
        }
        return m
    }
}
