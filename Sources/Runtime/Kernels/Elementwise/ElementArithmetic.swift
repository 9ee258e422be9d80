import Foundation
import Graph

// The arithmetic the elementwise kernels are generic over. Witness types (not extensions of the
// standard number types) carry it, so generic kernels specialize per storage type and no member
// names are added to Float or Int that other kernel families might also want.

/// Arithmetic on one storage type, as the elementwise kernels need it. Integer arithmetic wraps
/// on overflow and never traps (numpy's and C's behaviour); division by zero gives 0.
protocol ElementArithmetic {
    associatedtype Value: Comparable & BitwiseCopyable
    static var zero: Value { get }
    static var one: Value { get }
    static func add(_ a: Value, _ b: Value) -> Value
    static func subtract(_ a: Value, _ b: Value) -> Value
    static func multiply(_ a: Value, _ b: Value) -> Value
    /// a / b; integers truncate toward zero, like C.
    static func divide(_ a: Value, _ b: Value) -> Value
    /// The remainder of a / b: with the sign of a when `fmod` (C's fmod), else of b (Python's %).
    static func remainder(_ a: Value, _ b: Value, fmod: Bool) -> Value
    static func negate(_ a: Value) -> Value
    static func magnitude(_ a: Value) -> Value
    /// a raised to the power b (integers: exact with wrapping; negative powers truncate).
    static func power(_ a: Value, _ b: Value) -> Value
    /// The value as a Double (exact for every type but 64-bit integers beyond 2^53).
    static func double(_ a: Value) -> Double
    /// A Double converted to this type: rounded for floats, truncated toward zero (and clamped
    /// to the type's range, NaN giving 0) for integers.
    static func fromDouble(_ d: Double) -> Value
}

extension ElementArithmetic {
    /// The larger of a and b; NaN when either is NaN (numpy's maximum).
    @inline(__always) static func maximum(_ a: Value, _ b: Value) -> Value { a > b || a != a ? a : b }
    /// The smaller of a and b; NaN when either is NaN (numpy's minimum).
    @inline(__always) static func minimum(_ a: Value, _ b: Value) -> Value { a < b || a != a ? a : b }
}

extension SIMD8 where Scalar == Float {
    /// `f` applied to each lane. Spelled lane by lane because LLVM turns a per-lane compare and
    /// select against a bound (Clip's clamp) into one `maxps`/`minps` per four lanes, where SIMD
    /// `replacing(with:where:)` with a non-zero value becomes a compare and three logic ops
    /// without SSE4.1. A closure with a branch (`maximum`'s `||`) runs lane by lane instead.
    @inline(__always) func eachLane(_ f: (Float) -> Float) -> Self {
        // Straight-line lanes, not a loop: a loop left unrolled in a large caller ran lane by
        // lane through the stack (ResNet-50 twice as slow).
        Self(f(self[0]), f(self[1]), f(self[2]), f(self[3]), f(self[4]), f(self[5]), f(self[6]), f(self[7]))
    }
}

/// Floating-point arithmetic with the math functions of the activation kernels.
protocol RealArithmetic: ElementArithmetic where Value: BinaryFloatingPoint {
    static func exp(_ x: Value) -> Value
    static func log(_ x: Value) -> Value
    static func log1p(_ x: Value) -> Value
    static func expm1(_ x: Value) -> Value
    static func tanh(_ x: Value) -> Value
    static func erf(_ x: Value) -> Value
    static func sin(_ x: Value) -> Value
    static func cos(_ x: Value) -> Value
    static func tan(_ x: Value) -> Value
    static func asin(_ x: Value) -> Value
    static func acos(_ x: Value) -> Value
    static func atan(_ x: Value) -> Value
    static func sinh(_ x: Value) -> Value
    static func cosh(_ x: Value) -> Value
    static func asinh(_ x: Value) -> Value
    static func acosh(_ x: Value) -> Value
    static func atanh(_ x: Value) -> Value
}

extension RealArithmetic {
    @inline(__always) static var zero: Value { 0 }
    @inline(__always) static var one: Value { 1 }
    @inline(__always) static func add(_ a: Value, _ b: Value) -> Value { a + b }
    @inline(__always) static func subtract(_ a: Value, _ b: Value) -> Value { a - b }
    @inline(__always) static func multiply(_ a: Value, _ b: Value) -> Value { a * b }
    @inline(__always) static func divide(_ a: Value, _ b: Value) -> Value { a / b }
    @inline(__always) static func negate(_ a: Value) -> Value { -a }
    @inline(__always) static func magnitude(_ a: Value) -> Value { Swift.abs(a) }
    @inline(__always) static func double(_ a: Value) -> Double { Double(a) }
    @inline(__always) static func fromDouble(_ d: Double) -> Value { Value(d) }

    @inline(__always) static func remainder(_ a: Value, _ b: Value, fmod: Bool) -> Value {
        let r = a.truncatingRemainder(dividingBy: b)
        if fmod || r == 0 || (r < 0) == (b < 0) { return r }
        return r + b
    }
}

/// float32 arithmetic with the C library's single-precision functions.
enum FloatArithmetic: RealArithmetic {
    typealias Value = Float
    @inline(__always) static func power(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) }
    @inline(__always) static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    @inline(__always) static func expm1(_ x: Float) -> Float { Foundation.expm1(x) }
    @inline(__always) static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) static func erf(_ x: Float) -> Float { Foundation.erf(x) }
    @inline(__always) static func sin(_ x: Float) -> Float { Foundation.sin(x) }
    @inline(__always) static func cos(_ x: Float) -> Float { Foundation.cos(x) }
    @inline(__always) static func tan(_ x: Float) -> Float { Foundation.tan(x) }
    @inline(__always) static func asin(_ x: Float) -> Float { Foundation.asin(x) }
    @inline(__always) static func acos(_ x: Float) -> Float { Foundation.acos(x) }
    @inline(__always) static func atan(_ x: Float) -> Float { Foundation.atan(x) }
    @inline(__always) static func sinh(_ x: Float) -> Float { Foundation.sinh(x) }
    @inline(__always) static func cosh(_ x: Float) -> Float { Foundation.cosh(x) }
    @inline(__always) static func asinh(_ x: Float) -> Float { Foundation.asinh(x) }
    @inline(__always) static func acosh(_ x: Float) -> Float { Foundation.acosh(x) }
    @inline(__always) static func atanh(_ x: Float) -> Float { Foundation.atanh(x) }
}

/// float64 arithmetic.
enum DoubleArithmetic: RealArithmetic {
    typealias Value = Double
    @inline(__always) static func power(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
    @inline(__always) static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inline(__always) static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
    @inline(__always) static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inline(__always) static func erf(_ x: Double) -> Double { Foundation.erf(x) }
    @inline(__always) static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    @inline(__always) static func tan(_ x: Double) -> Double { Foundation.tan(x) }
    @inline(__always) static func asin(_ x: Double) -> Double { Foundation.asin(x) }
    @inline(__always) static func acos(_ x: Double) -> Double { Foundation.acos(x) }
    @inline(__always) static func atan(_ x: Double) -> Double { Foundation.atan(x) }
    @inline(__always) static func sinh(_ x: Double) -> Double { Foundation.sinh(x) }
    @inline(__always) static func cosh(_ x: Double) -> Double { Foundation.cosh(x) }
    @inline(__always) static func asinh(_ x: Double) -> Double { Foundation.asinh(x) }
    @inline(__always) static func acosh(_ x: Double) -> Double { Foundation.acosh(x) }
    @inline(__always) static func atanh(_ x: Double) -> Double { Foundation.atanh(x) }
}

/// Integer arithmetic that wraps like C instead of trapping.
enum IntegerArithmetic<Value: FixedWidthInteger & BitwiseCopyable>: ElementArithmetic {
    @inline(__always) static var zero: Value { 0 }
    @inline(__always) static var one: Value { 1 }
    @inline(__always) static func add(_ a: Value, _ b: Value) -> Value { a &+ b }
    @inline(__always) static func subtract(_ a: Value, _ b: Value) -> Value { a &- b }
    @inline(__always) static func multiply(_ a: Value, _ b: Value) -> Value { a &* b }
    @inline(__always) static func negate(_ a: Value) -> Value { 0 &- a }
    @inline(__always) static func magnitude(_ a: Value) -> Value { a < 0 ? 0 &- a : a }
    @inline(__always) static func double(_ a: Value) -> Double { Double(a) }

    @inline(__always) static func divide(_ a: Value, _ b: Value) -> Value {
        // Division by zero has no defined result; 0 (numpy's) beats a trap. min / −1 wraps.
        b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue
    }

    @inline(__always) static func remainder(_ a: Value, _ b: Value, fmod: Bool) -> Value {
        guard b != 0 else { return 0 }
        let r = a.remainderReportingOverflow(dividingBy: b).partialValue
        if fmod || r == 0 || (r < 0) == (b < 0) { return r }
        return r &+ b
    }

    static func power(_ a: Value, _ b: Value) -> Value {
        if b < 0 {
            // a^-n truncates to 0 unless |a| is 1.
            if a == 1 { return 1 }
            if Value.isSigned && a == 0 &- 1 { return b & 1 == 0 ? 1 : a }
            return 0
        }
        var result: Value = 1, base = a, exponent = b
        while exponent > 0 {
            if exponent & 1 == 1 { result = result &* base }
            base = base &* base
            exponent >>= 1
        }
        return result
    }

    @inline(__always) static func fromDouble(_ d: Double) -> Value {
        if d.isNaN { return 0 }
        if d <= Double(Value.min) { return Value.min }
        if d >= Double(Value.max) { return Value.max }
        return Value(d.rounded(.towardZero))
    }
}

// MARK: Dispatch on element type

/// A computation generic over the arithmetic of a numeric element type.
protocol ArithmeticVisitor {
    associatedtype Result
    func visit<A: ElementArithmetic>(_ arithmetic: A.Type) throws -> Result
}

/// A computation generic over the arithmetic of a floating-point element type.
protocol RealVisitor {
    associatedtype Result
    func visit<A: RealArithmetic>(_ arithmetic: A.Type) throws -> Result
}

/// A computation generic over an integer storage type (the bitwise ops).
protocol IntegerVisitor {
    associatedtype Result
    func visit<T: FixedWidthInteger>(_ type: T.Type) throws -> Result
}

extension ElementType {
    /// Runs `visitor` with the arithmetic of this type when it is stored natively (integers,
    /// float32, float64); nil otherwise (bool, float16/bfloat16 which compute via float32, …).
    func visitArithmetic<V: ArithmeticVisitor>(_ visitor: V) throws -> V.Result? {
        switch self {
        case .float32: try visitor.visit(FloatArithmetic.self)
        case .float64: try visitor.visit(DoubleArithmetic.self)
        case .int8: try visitor.visit(IntegerArithmetic<Int8>.self)
        case .int16: try visitor.visit(IntegerArithmetic<Int16>.self)
        case .int32: try visitor.visit(IntegerArithmetic<Int32>.self)
        case .int64: try visitor.visit(IntegerArithmetic<Int64>.self)
        case .uint8: try visitor.visit(IntegerArithmetic<UInt8>.self)
        case .uint16: try visitor.visit(IntegerArithmetic<UInt16>.self)
        case .uint32: try visitor.visit(IntegerArithmetic<UInt32>.self)
        case .uint64: try visitor.visit(IntegerArithmetic<UInt64>.self)
        default: nil
        }
    }

    /// Runs `visitor` with an integer storage type; nil for other types.
    func visitInteger<V: IntegerVisitor>(_ visitor: V) throws -> V.Result? {
        switch self {
        case .int8: try visitor.visit(Int8.self)
        case .int16: try visitor.visit(Int16.self)
        case .int32: try visitor.visit(Int32.self)
        case .int64: try visitor.visit(Int64.self)
        case .uint8: try visitor.visit(UInt8.self)
        case .uint16: try visitor.visit(UInt16.self)
        case .uint32: try visitor.visit(UInt32.self)
        case .uint64: try visitor.visit(UInt64.self)
        default: nil
        }
    }

    /// Runs `visitor` with the arithmetic of float32 or float64; nil for other types.
    func visitReal<V: RealVisitor>(_ visitor: V) throws -> V.Result? {
        switch self {
        case .float32: try visitor.visit(FloatArithmetic.self)
        case .float64: try visitor.visit(DoubleArithmetic.self)
        default: nil
        }
    }

    /// True for the types kernels compute through float32 (stored as 16 bits).
    var computesInFloat32: Bool { self == .float16 || self == .bfloat16 }
}
