/// ReduceLogSumExp: log(Σ eˣ) over the axes, computed as m + log(Σ eˣ⁻ᵐ) with m the largest
/// finite element so that large inputs do not overflow (−∞ for the empty set).
enum ReduceLogSumExp: ReduceOperation {
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue {
        typealias V = S.Value
        // Infinities are left out of the shift, as in the ONNX reference, so ±∞ give ±∞ rather than NaN.
        var m = V.lowest
        for k in 0..<group.count {
            let v = group[k]
            if v > m && v != V.highest { m = v }
        }
        if m == V.lowest { m = V.zero }
        let total = group.sum { V.exp(V.subtract($0, m)) }
        return V.add(V.log(total), m)
    }
}
