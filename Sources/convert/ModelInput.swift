import ArgumentParser
import Foundation
import Formats
import Graph
import Passes
import Runtime

/// Loads the model file a command names, ONNX or `.pare` (told apart by the file's first bytes,
/// not its name), with errors that name the file.
enum ModelInput {
    static func load(_ path: String) throws -> Model {
        try loadFile(path).model
    }

    /// The model, and for a `.pare` file also what its header and tables say.
    static func loadFile(_ path: String, options: PareReadOptions = .init()) throws -> (model: Model, pare: PareFile?) {
        let (model, pare) = try loadFile(path, options: options) { model, _ in model }
        return (model, pare)
    }

    /// What `prepare` makes of the model (a session), and for a `.pare` file what its header and
    /// tables say. For a `.pare` file, `prepare` runs while its weights' checksums are still being
    /// checked on other threads; the result is returned only once they have all passed.
    static func loadFile<Prepared>(_ path: String, options: PareReadOptions = .init(),
                                   preparing prepare: (Model, PareFile?) throws -> Prepared) throws -> (prepared: Prepared, pare: PareFile?) {
        // A missing file is reported by the reader ("path: no such file"). A `.pare` file is read
        // by path: a process's first URL costs more than loading a small model.
        if let (file, prepared) = try PareFormat.readIfPare(atPath: path, options: options, preparing: { try prepare($0.model, $0) }) {
            return (prepared, file)
        }
        return (try prepare(try ONNXFormat.read(contentsOf: URL(fileURLWithPath: path)), nil), nil)
    }
}

/// `--input-shape name=1x3x320x480` (repeatable), or `1x3x320x480` for a model with one input.
struct InputShapeOptions: ParsableArguments {
    @Option(
        name: .customLong("input-shape"),
        help: ArgumentHelp(
            "Shape of an input, as name=1x3x320x480 (repeat for several inputs; the name may be left out when the model has one input).",
            valueName: "name=shape"))
    var specs: [String] = []

    /// The shapes, keyed by input name, checked against the model's runtime inputs.
    func shapes(for graph: Graph) throws -> [String: [Dim]] {
        let inputs = graph.runtimeInputs
        var result: [String: [Dim]] = [:]
        for spec in specs {
            let name: String
            let dimsText: Substring
            if let eq = spec.lastIndex(of: "=") {
                name = String(spec[..<eq])
                dimsText = spec[spec.index(after: eq)...]
            } else if inputs.count == 1 {
                name = inputs[0].name
                dimsText = Substring(spec)
            } else {
                throw ValidationError(
                    "--input-shape \(spec): the model has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); write name=shape")
            }
            let parts = dimsText.split(separator: "x", omittingEmptySubsequences: false)
            let dims = parts.compactMap { Int($0) }
            guard !parts.isEmpty, dims.count == parts.count, dims.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--input-shape \(spec): expected positive integers joined by 'x', like 1x3x320x480")
            }
            result[name] = dims.map { .known($0) }
        }
        return result
    }
}

/// Where a command's input arrays come from: `--inputs in.npz`, or `--random-inputs [--seed N]`
/// with shapes from the model or `--input-shape`.
struct InputDataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Input arrays as an .npz file (np.savez; np.savez_compressed works too), one array per model input, by name.",
        valueName: "inputs.npz"))
    var inputs: String?

    @Flag(help: "Feed deterministic standard-normal values (float inputs only) instead of --inputs.")
    var randomInputs = false

    @Option(help: ArgumentHelp(
        "Seed for --random-inputs (the same seed gives the same values on every platform).", valueName: "N"))
    var seed: UInt64 = 0

    @OptionGroup var shapes: InputShapeOptions

    func validate() throws {
        if inputs != nil && randomInputs {
            throw ValidationError("give either --inputs or --random-inputs, not both")
        }
    }

    /// Says what was fed, for summaries: the file, or the random seed.
    var source: String {
        if let inputs { return inputs }
        return "random standard normal, seed \(seed)"
    }

    /// The arrays to feed `graph`'s runtime inputs. Without --inputs, random inputs are used when
    /// `randomByDefault` (with a note), else it is an error.
    func feeds(for graph: Graph, randomByDefault: Bool = false) throws -> [String: NDArray] {
        let runtimeInputs = graph.runtimeInputs
        guard let inputs else {
            guard randomInputs || randomByDefault else {
                throw CLIError("no inputs: give --inputs inputs.npz, or --random-inputs [--seed N]")
            }
            if !randomInputs { Stderr.note("no --inputs given: feeding random standard-normal inputs (seed \(seed))") }
            let overrides = try shapes.shapes(for: graph)
            let resolved: (shapes: [String: [Int]], notes: [String])
            do {
                resolved = try Verification.resolveShapes(runtimeInputs, overrides: overrides)
            } catch {
                throw CLIError("\(error) (--input-shape name=1x3x320x480)")
            }
            for note in resolved.notes { Stderr.note(note) }
            return try Verification.randomInputs(runtimeInputs, shapes: resolved.shapes, seed: seed)
        }
        if !shapes.specs.isEmpty { Stderr.note("--input-shape is ignored with --inputs: the arrays have their shapes") }
        let url = URL(fileURLWithPath: inputs)
        var tensors = try NPZ.read(contentsOf: url)
        // np.savez(file, x) names a lone positional array 'arr_0'; for a one-input model, use it.
        if runtimeInputs.count == 1, tensors.count == 1, tensors[0].name == "arr_0", runtimeInputs[0].name != "arr_0" {
            Stderr.note("\(inputs): feeding its only array '\(tensors[0].name)' to the model's only input '\(runtimeInputs[0].name)'")
            tensors[0].name = runtimeInputs[0].name
        }
        var feeds: [String: NDArray] = [:]
        for tensor in tensors {
            do {
                feeds[tensor.name] = try NDArray(tensor)
            } catch {
                throw CLIError("\(inputs): array '\(tensor.name)': \(error)")
            }
        }
        return feeds
    }
}

/// `--threads N`, shared by the commands that run models.
struct ThreadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Threads for kernels and BLAS (default: every core).", valueName: "N"))
    var threads: Int?

    @Flag(name: .customLong("no-fusion"), help: "Run every node as its own kernel (no Conv+BatchNormalization+activation fusion).")
    var noFusion = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var sessionOptions: SessionOptions {
        var options = SessionOptions(fusesConvolutions: !noFusion)
        if let threads { options.threads = max(1, threads) }
        return options
    }
}

/// Human-readable descriptions of tensors for summaries.
extension Format {
    /// "float32[1×3×320×480]".
    static func type(_ elementType: ElementType, _ shape: [Int]) -> String {
        "\(elementType)[\(shape.isEmpty ? "" : shape.map(String.init).joined(separator: "×"))]"
    }

    /// A value in a table: integers exactly, others with 6 significant digits; "inf", "nan".
    static func value(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return String(format: "%.6g", x)
    }
}
