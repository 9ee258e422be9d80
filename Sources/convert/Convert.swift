import ArgumentParser

/// The `convert` command: subcommands for each job, with `export` as the default so that
/// `convert model.onnx --to mobile` works without naming one.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Compress, count, convert and verify neural networks given as ONNX.",
        discussion: """
            convert model.onnx --to mobile [--fp16 | --int8-weights] [--compress zstd]
            convert model.pare --to onnx -o out.onnx
            convert optimize model.onnx -o out.onnx --report
            convert prune-graph model.onnx --ratio 0.5 --calibration inputs.npz -o pruned.onnx
            convert count-flops model.(onnx|pare) --input-shape input=1x3x320x480
            convert inspect model.(onnx|pare)
            convert run model.(onnx|pare) --inputs in.npz --outputs out.npz
            convert verify original.onnx converted.pare --inputs in.npz
            """,
        version: PareVersion.string,
        subcommands: [ExportCommand.self, OptimizeCommand.self, PruneGraphCommand.self, CountFlopsCommand.self, InspectCommand.self, RunCommand.self, VerifyCommand.self],
        defaultSubcommand: ExportCommand.self
    )

    /// Subcommands reachable through a link of the same name.
    static func subcommand(named name: String) -> ParsableCommand.Type? {
        let linkable: [ParsableCommand.Type] = [CountFlopsCommand.self, PruneGraphCommand.self]
        return linkable.first { $0.configuration.commandName == name }
    }
}

enum PareVersion {
    static let string = "0.1.0"
}
