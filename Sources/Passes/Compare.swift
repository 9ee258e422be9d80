import Foundation
import Graph
import Runtime

/// When two arrays agree: element by element, `|candidate − reference| ≤ absolute + relative·|reference|`,
/// the rule of `numpy.allclose(candidate, reference, rtol, atol)` (NaN never agrees, infinities
/// agree only with the same infinity).
public struct Tolerance: Sendable, Hashable, Codable {
    /// `rtol`: the allowed error per unit of the reference's magnitude.
    public var relative: Double
    /// `atol`: the allowed error near zero.
    public var absolute: Double

    /// The allowed error as a fraction of the reference output's largest magnitude, added to
    /// `absolute`: what lossy weight storage needs, whose error scales with the output, not with
    /// each element (0 gives numpy.allclose exactly).
    public var ofRange: Double

    public init(relative: Double = 1e-4, absolute: Double = 1e-5, ofRange: Double = 0) {
        self.relative = relative
        self.absolute = absolute
        self.ofRange = ofRange
    }

    /// This tolerance with `ofRange` turned into absolute error for a reference whose largest
    /// finite magnitude is `magnitude`.
    func resolved(forMagnitude magnitude: Double) -> Tolerance {
        Tolerance(relative: relative, absolute: absolute + ofRange * magnitude)
    }

    /// True when `candidate` is close enough to `reference`.
    @inline(__always)
    public func accepts(_ candidate: Double, _ reference: Double) -> Bool {
        if candidate.isFinite && reference.isFinite {
            return abs(candidate - reference) <= absolute + relative * abs(reference)
        }
        return candidate == reference  // equal infinities; NaN is unequal to everything
    }
}

/// How well two binary masks agree: both arrays thresholded (a pixel is foreground when its value
/// is above `threshold`), the reference's mask taken as the truth.
public struct MaskAgreement: Sendable, Hashable, Encodable {
    public var threshold: Double
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int
    /// 2·TP / (2·TP + FP + FN); 1 when both masks are empty.
    public var f1: Double
    /// TP / (TP + FP + FN) (intersection over union); 1 when both masks are empty.
    public var iou: Double
}

/// The comparison of one output: error metrics, and whether every element is within tolerance.
public struct OutputComparison: Sendable, Encodable {
    public var name: String
    public var shape: [Int]
    public var referenceType: ElementType
    public var candidateType: ElementType
    /// Largest |candidate − reference|.
    public var maxAbsoluteError: Double
    /// Largest |candidate − reference| / |reference| over elements whose reference is not zero
    /// (where it is, the absolute error and `atol` decide).
    public var maxRelativeError: Double
    /// Σ c·r / (‖c‖·‖r‖); 1 when both are all zeros, 0 when only one is.
    public var cosineSimilarity: Double
    /// 10·log10(Σ r² / Σ (r − c)²) in dB: +∞ when the arrays are identical, −∞ when the reference
    /// is all zeros and the candidate is not.
    public var snrDB: Double
    /// For single-channel probability maps (shape [N,1,H,W] or [N,H,W], every reference value in
    /// [0, 1]): agreement of the masks thresholded at 0.5; nil for other outputs.
    public var mask: MaskAgreement?
    /// Elements outside the tolerance.
    public var mismatches: Int
    public var elementCount: Int
    /// Where the largest absolute error is, and the two values there (nil for empty arrays).
    public var worst: WorstElement?
    public var passed: Bool

    public struct WorstElement: Sendable, Hashable, Encodable {
        public var index: [Int]
        public var reference: Double
        public var candidate: Double

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(JSONNumber(reference), forKey: .reference)
            try c.encode(JSONNumber(candidate), forKey: .candidate)
        }

        enum CodingKeys: String, CodingKey { case index, reference, candidate }
    }

    enum CodingKeys: String, CodingKey {
        case name, shape, referenceType, candidateType, maxAbsoluteError, maxRelativeError, cosineSimilarity
        case snrDB, mask, mismatches, elementCount, worst, passed
    }

    // Infinite SNRs and NaN errors are written as the strings "inf", "-inf" and "nan", since JSON
    // has no numbers for them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(shape, forKey: .shape)
        try c.encode(referenceType.description, forKey: .referenceType)
        try c.encode(candidateType.description, forKey: .candidateType)
        try c.encode(JSONNumber(maxAbsoluteError), forKey: .maxAbsoluteError)
        try c.encode(JSONNumber(maxRelativeError), forKey: .maxRelativeError)
        try c.encode(JSONNumber(cosineSimilarity), forKey: .cosineSimilarity)
        try c.encode(JSONNumber(snrDB), forKey: .snrDB)
        try c.encodeIfPresent(mask, forKey: .mask)
        try c.encode(mismatches, forKey: .mismatches)
        try c.encode(elementCount, forKey: .elementCount)
        try c.encodeIfPresent(worst, forKey: .worst)
        try c.encode(passed, forKey: .passed)
    }
}

/// A Double for JSON: a number when finite, else "inf", "-inf" or "nan".
struct JSONNumber: Encodable {
    let value: Double
    init(_ value: Double) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isFinite {
            try c.encode(value)
        } else {
            try c.encode(value.isNaN ? "nan" : value > 0 ? "inf" : "-inf")
        }
    }
}

/// The comparison of every output of two runs.
public struct ComparisonReport: Sendable, Encodable {
    public var tolerance: Tolerance
    public var outputs: [OutputComparison]
    /// True when every element of every output is within tolerance.
    public var passed: Bool { outputs.allSatisfy(\.passed) }
    /// The outputs with elements outside tolerance.
    public var failing: [OutputComparison] { outputs.filter { !$0.passed } }

    enum CodingKeys: String, CodingKey { case tolerance, outputs, passed }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(passed, forKey: .passed)
    }
}

/// The arrays cannot be compared (different names or shapes, non-numeric types), or a model could
/// not be run.
public struct CompareError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Simple statistics of one array, for summaries.
public struct ArrayStatistics: Sendable, Encodable {
    public var name: String
    public var elementType: ElementType
    public var shape: [Int]
    /// nil for empty arrays and types without numbers.
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    /// NaN and infinite elements, left out of min, max and mean.
    public var nonFinite: Int

    enum CodingKeys: String, CodingKey { case name, elementType, shape, min, max, mean, nonFinite }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(elementType.description, forKey: .elementType)
        try c.encode(shape, forKey: .shape)
        try c.encodeIfPresent(min.map(JSONNumber.init), forKey: .min)
        try c.encodeIfPresent(max.map(JSONNumber.init), forKey: .max)
        try c.encodeIfPresent(mean.map(JSONNumber.init), forKey: .mean)
        try c.encode(nonFinite, forKey: .nonFinite)
    }
}

/// Metrics that say how far one model's outputs are from another's (docs/runtime-cli.md).
public enum Compare {
    /// Compares `candidate` with `reference` element by element.
    public static func arrays(
        reference: NDArray, candidate: NDArray, name: String, tolerance: Tolerance = Tolerance()
    ) throws(CompareError) -> OutputComparison {
        guard reference.shape == candidate.shape else {
            throw CompareError("output '\(name)' has shape \(formatShape(reference.shape)) in the reference and \(formatShape(candidate.shape)) in the candidate")
        }
        let r = try values(reference, name: name)
        let c = try values(candidate, name: name)
        let tolerance = tolerance.ofRange == 0 ? tolerance
            : tolerance.resolved(forMagnitude: r.reduce(0) { $1.isFinite ? Swift.max($0, abs($1)) : $0 })
        var maxAbs = 0.0, maxRel = 0.0, worstAt = -1, sawNaN = false
        var dot = 0.0, rr = 0.0, cc = 0.0, noise = 0.0
        var mismatches = 0
        var probabilityMap = reference.elementType.isFloatingPoint
            && (reference.rank == 3 || (reference.rank == 4 && reference.shape[1] == 1))
        var tp = 0, fp = 0, fn = 0
        for i in 0..<r.count {
            let a = r[i], b = c[i]
            let error = abs(b - a)
            if error.isNaN {
                // The first NaN is the worst element, and makes the maxima NaN.
                if !sawNaN { worstAt = i }
                sawNaN = true
            } else if !sawNaN && (worstAt < 0 || error > maxAbs) {
                maxAbs = error
                worstAt = i
            }
            if a != 0 && !error.isNaN { maxRel = Swift.max(maxRel, error / abs(a)) }
            if !tolerance.accepts(b, a) { mismatches += 1 }
            dot += a * b
            rr += a * a
            cc += b * b
            noise += (a - b) * (a - b)
            if probabilityMap {
                if !(a >= 0 && a <= 1) { probabilityMap = false }
                let truth = a > 0.5, predicted = b > 0.5
                if truth && predicted { tp += 1 } else if predicted { fp += 1 } else if truth { fn += 1 }
            }
        }
        if sawNaN {
            maxAbs = .nan
            maxRel = .nan
        }
        let cosine: Double
        if rr == 0 && cc == 0 {
            cosine = 1
        } else if rr == 0 || cc == 0 {
            cosine = 0
        } else if noise == 0 {
            cosine = 1  // identical; the division below can round to 1 − ulp
        } else {
            cosine = Swift.max(-1, Swift.min(1, dot / (rr.squareRoot() * cc.squareRoot())))
        }
        let snr: Double
        if noise == 0 {
            snr = .infinity
        } else if rr == 0 {
            snr = -.infinity
        } else {
            snr = 10 * log10(rr / noise)
        }
        var mask: MaskAgreement?
        if probabilityMap {
            let union = tp + fp + fn
            mask = MaskAgreement(
                threshold: 0.5, truePositives: tp, falsePositives: fp, falseNegatives: fn,
                f1: union == 0 ? 1 : 2 * Double(tp) / Double(2 * tp + fp + fn),
                iou: union == 0 ? 1 : Double(tp) / Double(union))
        }
        let worst = worstAt < 0 ? nil : OutputComparison.WorstElement(
            index: coordinates(worstAt, in: reference.shape), reference: r[worstAt], candidate: c[worstAt])
        return OutputComparison(
            name: name, shape: reference.shape, referenceType: reference.elementType, candidateType: candidate.elementType,
            maxAbsoluteError: maxAbs, maxRelativeError: maxRel, cosineSimilarity: cosine, snrDB: snr, mask: mask,
            mismatches: mismatches, elementCount: r.count, worst: worst, passed: mismatches == 0)
    }

    /// Compares every output `names` lists (the reference model's outputs, in order); both sides
    /// must have exactly these outputs.
    public static func outputs(
        reference: [String: NDArray], candidate: [String: NDArray], names: [String], tolerance: Tolerance = Tolerance()
    ) throws(CompareError) -> ComparisonReport {
        let missing = names.filter { candidate[$0] == nil }
        let extra = candidate.keys.filter { !names.contains($0) }.sorted()
        guard missing.isEmpty && extra.isEmpty else {
            var problems: [String] = []
            if !missing.isEmpty { problems.append("the candidate has no output \(missing.map { "'\($0)'" }.joined(separator: ", "))") }
            if !extra.isEmpty { problems.append("the reference has no output \(extra.map { "'\($0)'" }.joined(separator: ", "))") }
            throw CompareError("the models' outputs differ: \(problems.joined(separator: "; ")) (reference outputs: \(names.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        var results: [OutputComparison] = []
        for name in names {
            guard let a = reference[name], let b = candidate[name] else {
                throw CompareError("output '\(name)' was not computed")
            }
            results.append(try arrays(reference: a, candidate: b, name: name, tolerance: tolerance))
        }
        return ComparisonReport(tolerance: tolerance, outputs: results)
    }

    /// Minimum, maximum and mean of an array's finite elements.
    public static func statistics(_ array: NDArray, name: String) -> ArrayStatistics {
        var stats = ArrayStatistics(name: name, elementType: array.elementType, shape: array.shape, nonFinite: 0)
        guard let v = try? values(array, name: name), !v.isEmpty else { return stats }
        var low = Double.infinity, high = -Double.infinity, sum = 0.0, finite = 0
        for x in v {
            guard x.isFinite else { stats.nonFinite += 1; continue }
            low = Swift.min(low, x)
            high = Swift.max(high, x)
            sum += x
            finite += 1
        }
        if finite > 0 {
            stats.min = low
            stats.max = high
            stats.mean = sum / Double(finite)
        }
        return stats
    }

    /// The elements as Double, for every numeric and boolean type.
    public static func values(_ array: NDArray, name: String) throws(CompareError) -> [Double] {
        let n = array.count
        func read<T>(_ type: T.Type, _ convert: (T) -> Double) -> [Double] {
            let p = array.pointer(as: T.self)
            return (0..<n).map { convert(p[$0]) }
        }
        switch array.elementType {
        case .float32: return read(Float.self) { Double($0) }
        case .float64: return read(Double.self) { $0 }
        case .float16: return read(UInt16.self) { Double(halfToFloat($0)) }
        case .bfloat16: return read(UInt16.self) { Double(bfloat16ToFloat($0)) }
        case .int8: return read(Int8.self) { Double($0) }
        case .int16: return read(Int16.self) { Double($0) }
        case .int32: return read(Int32.self) { Double($0) }
        case .int64: return read(Int64.self) { Double($0) }
        case .uint8, .bool: return read(UInt8.self) { Double($0) }
        case .uint16: return read(UInt16.self) { Double($0) }
        case .uint32: return read(UInt32.self) { Double($0) }
        case .uint64: return read(UInt64.self) { Double($0) }
        default: throw CompareError("output '\(name)' is \(array.elementType), which cannot be compared numerically")
        }
    }

    /// The row-major coordinates of flat index `flat` in `shape`.
    static func coordinates(_ flat: Int, in shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}

/// Running two models on the same inputs and comparing their outputs (`convert verify`), and the
/// inputs to do it with.
public enum Verification {
    /// Runs `reference` and `candidate` on `inputs` and compares every output of the reference.
    public static func run(
        reference: Model, candidate: Model, inputs: [String: NDArray], tolerance: Tolerance = Tolerance(),
        options: SessionOptions = SessionOptions()
    ) throws -> ComparisonReport {
        let expected = try outputs(of: reference, inputs: inputs, options: options, role: "reference")
        let actual = try outputs(of: candidate, inputs: inputs, options: options, role: "candidate")
        return try Compare.outputs(
            reference: expected, candidate: actual, names: reference.graph.outputs.map(\.name), tolerance: tolerance)
    }

    private static func outputs(of model: Model, inputs: [String: NDArray], options: SessionOptions, role: String) throws -> [String: NDArray] {
        do {
            return try Session(model: model, options: options).run(inputs)
        } catch {
            throw CompareError("\(role) model: \(error)")
        }
    }

    /// Concrete shapes for `inputs`: `overrides` first, then the declared shape. A symbolic
    /// leading (batch) dim becomes 1, with a note; any other unknown dim is an error saying the
    /// shape must be given.
    public static func resolveShapes(
        _ inputs: [Value], overrides: [String: [Dim]] = [:]
    ) throws(CompareError) -> (shapes: [String: [Int]], notes: [String]) {
        var shapes: [String: [Int]] = [:]
        var notes: [String] = []
        let names = Set(inputs.map(\.name))
        if let unknown = overrides.keys.sorted().first(where: { !names.contains($0) }) {
            throw CompareError("a shape is given for '\(unknown)', which is not an input; the model's inputs are \(inputs.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        for input in inputs {
            let declared = input.tensorType?.dims
            if let override = overrides[input.name] {
                if let declared {
                    let fits = declared.count == override.count
                        && zip(declared, override).allSatisfy { $0.value == nil || $0.value == $1.value }
                    guard fits else {
                        throw CompareError("input '\(input.name)': shape \(override.map(\.description).joined(separator: "×")) does not fit the declared \(declared.map(\.description).joined(separator: "×"))")
                    }
                }
                shapes[input.name] = override.compactMap(\.value)
                continue
            }
            guard var dims = declared else {
                throw CompareError("input '\(input.name)' has no declared shape; its shape must be given")
            }
            if let first = dims.first, first.value == nil {
                dims[0] = .known(1)
                notes.append("input '\(input.name)' has a dynamic batch dim (\(first)); using batch 1")
            }
            if let unknown = dims.firstIndex(where: { $0.value == nil }) {
                throw CompareError("input '\(input.name)' has a dynamic dim \(dims[unknown]) (axis \(unknown)) in \(dims.map(\.description).joined(separator: "×")); its shape must be given")
            }
            shapes[input.name] = dims.compactMap(\.value)
        }
        return (shapes, notes)
    }

    /// Standard-normal inputs of the given shapes, the same for the same seed on every platform.
    /// Floating-point inputs only (float32, float64, float16); other types are an error.
    public static func randomInputs(
        _ inputs: [Value], shapes: [String: [Int]], seed: UInt64
    ) throws(CompareError) -> [String: NDArray] {
        var generator = NormalGenerator(seed: seed)
        var result: [String: NDArray] = [:]
        for input in inputs {
            guard let shape = shapes[input.name] else { throw CompareError("input '\(input.name)' has no shape") }
            let type = input.tensorType?.elementType ?? .float32
            var count = 1
            for dim in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow, dim >= 0, product <= 1 << 34 else {
                    throw CompareError("input '\(input.name)': shape \(formatShape(shape)) is too large for random inputs")
                }
                count = product
            }
            let array = NDArray(type, shape: shape)
            switch type {
            case .float32:
                let p = array.pointer(as: Float.self)
                for i in 0..<count { p[i] = Float(generator.next()) }
            case .float64:
                let p = array.pointer(as: Double.self)
                for i in 0..<count { p[i] = generator.next() }
            case .float16:
                let p = array.pointer(as: UInt16.self)
                for i in 0..<count { p[i] = floatToHalf(Float(generator.next())) }
            default:
                throw CompareError("input '\(input.name)' is \(type); random inputs are floating-point only, give the inputs with --inputs")
            }
            result[input.name] = array
        }
        return result
    }
}

/// SplitMix64 uniform bits turned into standard-normal values by the Box–Muller transform.
struct NormalGenerator {
    var state: UInt64
    var spare: Double?

    init(seed: UInt64) { state = seed }

    mutating func bits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1], never 0 so its logarithm is finite.
    mutating func uniform() -> Double { (Double(bits() >> 11) + 1) * 0x1p-53 }

    mutating func next() -> Double {
        if let value = spare {
            spare = nil
            return value
        }
        let radius = (-2 * log(uniform())).squareRoot()
        let angle = 2 * Double.pi * uniform()
        spare = radius * sin(angle)
        return radius * cos(angle)
    }
}
