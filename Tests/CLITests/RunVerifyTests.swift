import Foundation
import Formats
import Graph
import Testing

/// `convert run` and `convert verify` end to end, through the built executable.
@Suite("run and verify")
struct RunVerifyTests {
    /// Largest violation of |a − b| ≤ atol + rtol·|b| (≤ 0 when every element is close).
    func excess(_ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-4, atol: Float = 1e-5) throws -> Float {
        let a = try #require(actual.floatValues()), b = try #require(expected.floatValues())
        #expect(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) - (atol + rtol * abs($1)) }.max() ?? 0
    }

    @Test("run writes an .npz that matches onnxruntime's outputs, atomically")
    func runWritesOutputs() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.npz")
        let result = try CLI.run(["run", CLI.sample("mobilenet_mini.onnx"), "--inputs", CLI.sample("mobilenet_mini.inputs.npz"),
                                  "--outputs", out.path, "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote \(out.path)") && result.stdout.contains("output float32[1×10]"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.npz"])
        let written = try NPZ.read(contentsOf: out)
        let expected = try NPZ.read(contentsOf: URL(fileURLWithPath: CLI.sample("mobilenet_mini.outputs.npz")))
        #expect(written.map(\.name) == ["output"] && written[0].shape == [1, 10])
        #expect(try excess(written[0], expected[0]) <= 0)
    }

    @Test("run without --outputs prints each output's type, shape and statistics; --json too")
    func runSummary() throws {
        let text = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--inputs", CLI.sample("resnet_mini.inputs.npz")])
        #expect(text.status == 0, "\(text.stderr)")
        for expected in ["output", "float32[1×10]", "min", "max", "mean"] {
            #expect(text.stdout.contains(expected), "missing \(expected)")
        }
        let json = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--inputs", CLI.sample("resnet_mini.inputs.npz"), "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let outputs = try #require(object["outputs"] as? [[String: Any]])
        #expect(outputs.first?["name"] as? String == "output")
        #expect(outputs.first?["shape"] as? [Int] == [1, 10])
        #expect(outputs.first?["mean"] is Double)
    }

    @Test("a missing input is an error listing what the model expects")
    func missingInput() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputs = folder.appendingPathComponent("wrong.npz")
        try NPZ.write([Tensor(name: "image", shape: [1, 3, 64, 64], floats: Array(repeating: 0, count: 3 * 64 * 64))], to: inputs)
        let result = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--inputs", inputs.path])
        #expect(result.status != 0 && !result.crashed)
        #expect(result.stderr.contains("missing input 'input'"), "\(result.stderr)")
        #expect(result.stderr.contains("'input' float32[1×3×64×64]"), "\(result.stderr)")

        let none = try CLI.run(["run", CLI.sample("resnet_mini.onnx")])
        #expect(none.status != 0 && none.stderr.contains("--random-inputs"))
        let corrupt = folder.appendingPathComponent("corrupt.npz")
        try Data("not a zip".utf8).write(to: corrupt)
        let bad = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--inputs", corrupt.path])
        #expect(bad.status != 0 && !bad.crashed && bad.stderr.contains(corrupt.path))
    }

    @Test("--random-inputs is deterministic for a seed; a dynamic batch dim defaults to 1 with a note")
    func randomInputs() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func run(seed: Int, _ name: String, extra: [String] = []) throws -> (CLIResult, Data) {
            let out = folder.appendingPathComponent(name).path
            let result = try CLI.run(["run", CLI.sample("torch_opset17.onnx"), "--random-inputs", "--seed", String(seed), "--outputs", out] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            return (result, (try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data())
        }
        let (first, a) = try run(seed: 5, "a.npz")
        let (_, b) = try run(seed: 5, "b.npz", extra: ["--threads", "1"])
        let (_, c) = try run(seed: 6, "c.npz")
        #expect(!a.isEmpty && a == b)
        #expect(a != c)
        #expect(first.stderr.contains("dynamic batch dim (batch); using batch 1"))
        let (_, batch3) = try run(seed: 5, "d.npz", extra: ["--input-shape", "input=3x3x64x64"])
        #expect(try NPZ.decode(batch3, source: "d.npz").first?.shape == [3, 2, 64, 64])
    }

    @Test("--repeat prints the latency line a benchmark parses")
    func repeatPrintsLatency() throws {
        let result = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--random-inputs", "--repeat", "3", "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("latency: ") })
        let pattern = try NSRegularExpression(pattern: #"^latency: min [0-9]+\.[0-9]{2} ms, median [0-9]+\.[0-9]{2} ms over 3 runs$"#)
        #expect(pattern.firstMatch(in: String(line), range: NSRange(line.startIndex..., in: line)) != nil, "\(line)")
    }

    @Test("--reload times further loads in the process, on stderr and as reloadMs in --json; 0 is refused")
    func reloadTimesLoads() throws {
        let text = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--random-inputs", "--reload", "2"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stderr.contains("reload: median ") && text.stderr.contains(" ms over 2 more loads in this process"), "\(text.stderr)")
        let json = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--random-inputs", "--reload", "2", "--json"])
        let summary = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((summary["reloadMs"] as? Double ?? 0) > 0 && (summary["loadMs"] as? Double ?? 0) > 0, "\(json.stdout)")
        let zero = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--random-inputs", "--reload", "0"])
        #expect(zero.status != 0 && zero.stderr.contains("--reload must be at least 1"), "\(zero.stderr)")
    }

    @Test("--profile prints time per op with fused convs, and every node in --json; --no-fusion runs them apart")
    func profile() throws {
        let text = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--random-inputs", "--profile", "--threads", "1"])
        #expect(text.status == 0, "\(text.stderr)")
        for expected in ["profile over 1 run", "ms per run", "slowest nodes", "Conv+BatchNormalization+Relu"] {
            #expect(text.stdout.contains(expected), "missing \(expected) in \(text.stdout)")
        }
        func operations(_ extra: [String]) throws -> [String] {
            let json = try CLI.run(["run", CLI.sample("resnet_mini.onnx"), "--random-inputs", "--profile", "--json", "--repeat", "2"] + extra)
            #expect(json.status == 0, "\(json.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let profile = try #require(object["profile"] as? [String: Any])
            #expect(profile["runs"] as? Int == 2)
            let nodes = try #require(profile["nodes"] as? [[String: Any]])
            #expect(nodes.allSatisfy { ($0["ms"] as? Double ?? -1) >= 0 })
            return nodes.compactMap { $0["operation"] as? String }
        }
        let fused = try operations([])
        let separate = try operations(["--no-fusion"])
        #expect(fused.contains("Conv+BatchNormalization+Add+Relu"), "\(fused)")
        #expect(separate.contains("BatchNormalization") && !separate.contains { $0.contains("+") }, "\(separate)")
        #expect(separate.count > fused.count)
    }

    @Test("verify of a model against itself passes with exit 0, with mask metrics for the U-Net")
    func verifyItself() throws {
        let unet = CLI.sample("unet_thesis.onnx")
        let result = try CLI.run(["verify", unet, unet, "--inputs", CLI.sample("unet_thesis.inputs.npz"), "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("PASS: 1 output within tolerance"))
        #expect(result.stdout.contains("1.0000  1.0000"), "F1 and IoU of identical masks")
        #expect(result.stdout.contains("inf"))

        let json = try CLI.run(["verify", CLI.sample("resnet_mini.onnx"), CLI.sample("resnet_mini.onnx"), "--random-inputs", "--seed", "2", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == true)
        let output = try #require((object["outputs"] as? [[String: Any]])?.first)
        #expect(output["snrDB"] as? String == "inf")
        #expect(output["maxAbsoluteError"] as? Double == 0)
        #expect(output["mask"] == nil)
    }

    /// The issue's acceptance test: one conv weight changed noticeably makes verify fail, exit 1.
    @Test("verify fails with exit 1 and names the output when a conv weight is perturbed")
    func verifyCatchesAPerturbedWeight() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = URL(fileURLWithPath: CLI.sample("unet_thesis.onnx"))
        var model = try ONNXFormat.read(contentsOf: original)
        let conv = try #require(model.graph.nodes.first { $0.opType == "Conv" })
        let index = try #require(model.graph.initializers.firstIndex { $0.name == conv.inputs[1] })
        var weights = try #require(model.graph.initializers[index].floatValues())
        weights[0] += 1
        let tensor = model.graph.initializers[index]
        model.graph.initializers[index] = Tensor(name: tensor.name, shape: tensor.shape, floats: weights)
        let perturbed = folder.appendingPathComponent("perturbed.onnx")
        try ONNXFormat.write(model, to: perturbed)

        let result = try CLI.run(["verify", original.path, perturbed.path, "--inputs", CLI.sample("unet_thesis.inputs.npz")])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("verify: output 'output' differs"), "\(result.stderr)")
        #expect(result.stdout.contains("FAIL"))

        let json = try CLI.run(["verify", original.path, perturbed.path, "--inputs", CLI.sample("unet_thesis.inputs.npz"), "--json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        let output = try #require((object["outputs"] as? [[String: Any]])?.first)
        #expect((output["mismatches"] as? Int ?? 0) > 0)
        #expect((output["mask"] as? [String: Any])?["iou"] is Double)

        // A loose enough tolerance accepts the same pair.
        let loose = try CLI.run(["verify", original.path, perturbed.path, "--inputs", CLI.sample("unet_thesis.inputs.npz"), "--atol", "1"])
        #expect(loose.status == 0, "\(loose.stderr)")
    }

    @Test("verify errors exit 2, distinct from a mismatch")
    func verifyErrors() throws {
        let missing = try CLI.run(["verify", CLI.sample("resnet_mini.onnx"), "/nonexistent/model.onnx"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/model.onnx: no such file"), "\(missing.stderr)")
        // Same input, different outputs: torch_opset17 gives [1,2,64,64], resnet_mini [1,10].
        let shapes = try CLI.run(["verify", CLI.sample("torch_opset17.onnx"), CLI.sample("resnet_mini.onnx"), "--random-inputs"])
        #expect(shapes.status == 2 && shapes.stderr.contains("output 'output' has shape"), "\(shapes.stderr)")
        let both = try CLI.run(["verify", CLI.sample("resnet_mini.onnx"), CLI.sample("resnet_mini.onnx"),
                                "--random-inputs", "--inputs", CLI.sample("resnet_mini.inputs.npz")])
        #expect(both.status != 0 && both.status != 1 && both.stderr.contains("not both"))
    }
}
