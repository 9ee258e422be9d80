import ArgumentParser
import Foundation
import Formats
import Graph
import Passes

/// `convert model.onnx --to mobile|onnx [-o out]`: converts a model to the mobile format (freezing
/// and simplifying it first, then verifying the result) or re-encodes it as ONNX.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Convert a model to the mobile format (.pare) or to ONNX (the default command).",
        discussion: """
            --to mobile runs the standard freeze-and-simplify pipeline (convert optimize), stores the \
            weights as float32, float16 (--fp16) or int8 with per-output-channel scales \
            (--int8-weights), optionally zstd-compressed, writes the file atomically, then runs the \
            source and the written file on the same inputs and reports how closely they agree. \
            Exit status 1 when that verification fails (the file is kept for inspection).
            --to onnx writes any model Pare reads (.onnx or .pare) as ONNX.
            """)

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case onnx, mobile
    }

    enum CompressionChoice: String, ExpressibleByArgument, CaseIterable {
        case zstd
    }

    @Argument(help: "The model to convert (.onnx or .pare).")
    var input: String

    @Option(name: .customLong("to"), help: "Target format: mobile (.pare) or onnx.")
    var target: Target

    @Option(name: .shortAndLong, help: "Output file (default for --to mobile: the input's name with .pare).")
    var output: String?

    @Flag(help: "Store float weights as float16 (half the size; about 1e-3 relative error).")
    var fp16 = false

    @Flag(name: .customLong("int8-weights"), help: "Store Conv/Gemm/MatMul weights as int8 with a symmetric scale per output channel.")
    var int8Weights = false

    @Option(help: "Compress tensor data (zstd; each tensor only where it saves space).")
    var compress: CompressionChoice?

    @Flag(name: .customLong("no-verify"), help: "Skip running the source and the converted model to compare them.")
    var noVerify = false

    @Option(help: ArgumentHelp("Preprocessing mean per channel, recorded for apps (e.g. 0.485,0.456,0.406).", valueName: "m1,m2,..."))
    var mean: String?

    @Option(help: ArgumentHelp("Preprocessing std per channel, recorded for apps (e.g. 0.229,0.224,0.225).", valueName: "s1,s2,..."))
    var std: String?

    @Option(help: ArgumentHelp("Input layout an app feeds, recorded for apps: NCHW or NHWC.", valueName: "layout"))
    var layout: String?

    @OptionGroup var data: InputDataOptions

    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if fp16 && int8Weights { throw ValidationError("give either --fp16 or --int8-weights, not both") }
        if target == .onnx {
            guard output != nil else { throw ValidationError("--to onnx needs an output file: -o out.onnx") }
            let mobileOnly = [fp16 ? "--fp16" : nil, int8Weights ? "--int8-weights" : nil, compress != nil ? "--compress" : nil,
                              mean != nil ? "--mean" : nil, std != nil ? "--std" : nil, layout != nil ? "--layout" : nil].compactMap { $0 }
            if !mobileOnly.isEmpty { throw ValidationError("\(mobileOnly.joined(separator: ", ")) only apply to --to mobile") }
        }
        if let layout, !["NCHW", "NHWC"].contains(layout) { throw ValidationError("--layout must be NCHW or NHWC, not '\(layout)'") }
        _ = try preprocessing()
    }

    func run() throws {
        switch target {
        case .onnx:
            guard let output else { return }
            let start = Date()
            let model = try ModelInput.load(input)
            try ONNXFormat.write(model, to: URL(fileURLWithPath: output))
            print("wrote \(output) (\(Format.bytes(OptimizeCommand.fileSize(output))), \(model.graph.nodes.count) nodes) in \(Format.seconds(Date().timeIntervalSince(start)))")
        case .mobile:
            try MobileExport(command: self).run()
        }
    }

    /// Where `--to mobile` writes: -o, else the input's name with the extension .pare.
    var mobileOutput: String {
        if let output { return output }
        let url = URL(fileURLWithPath: input)
        return url.deletingPathExtension().appendingPathExtension("pare").path
    }

    /// --mean/--std/--layout, nil when none is given.
    func preprocessing() throws -> Preprocessing? {
        func floats(_ text: String?, _ flag: String) throws -> [Float]? {
            guard let text else { return nil }
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw ValidationError("\(flag) \(text): expected numbers separated by commas, like 0.485,0.456,0.406")
            }
            return values.map { $0! }
        }
        let result = Preprocessing(mean: try floats(mean, "--mean"), std: try floats(std, "--std"), layout: layout)
        if let std = result.std, std.contains(0) { throw ValidationError("--std must not contain 0") }
        return result.isEmpty ? nil : result
    }
}
