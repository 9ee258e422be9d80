import Foundation
import Formats
import Graph
import Testing

/// `convert model.onnx --to mobile` and the commands that read `.pare` files, end to end.
@Suite("--to mobile and .pare files")
struct MobileTests {
    @Test("converts a sample, verifies it, and names the output after the input by default")
    func convertsAndVerifies() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("unet.onnx")
        try FileManager.default.copyItem(atPath: CLI.sample("unet_thesis.onnx"), toPath: source.path)
        let result = try CLI.run([source.path, "--to", "mobile", "--fp16", "--compress", "zstd"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = folder.appendingPathComponent("unet.pare")
        #expect(FileManager.default.fileExists(atPath: output.path))
        for expected in ["wrote:", "storage:    float16 weights, compression zstd", "parameters:", "MACs:", "verify:     PASS", "mask F1"] {
            #expect(result.stdout.contains(expected), "missing '\(expected)' in\n\(result.stdout)")
        }
        #expect(result.stderr.contains("optimize: round 1"))
        // Only the model and its conversion are in the folder: no temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["unet.onnx", "unet.pare"])
    }

    @Test("--json summary with sizes, counts, stage times and the verification report")
    func jsonSummary() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.pare").path
        let result = try CLI.run([CLI.sample("resnet_mini.onnx"), "--to", "mobile", "-o", out, "--int8-weights", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["storage"] as? String == "int8")
        #expect((json["fileBytes"] as? Int ?? 0) < (json["sourceBytes"] as? Int ?? 0) / 2)
        #expect((json["sourceSHA256"] as? String)?.count == 64)
        #expect(json["passed"] as? Bool == true)
        #expect((json["stageSeconds"] as? [String: Any])?.keys.sorted() == ["load", "optimize", "verify", "write"])
    }

    @Test(".pare → ONNX → .pare gives the same bytes; inspect, run, count-flops and verify read .pare")
    func roundTripAndReaders() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("a.pare").path, onnx = folder.appendingPathComponent("b.onnx").path
        let second = folder.appendingPathComponent("c.pare").path
        let options = ["--int8-weights", "--compress", "zstd", "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25", "--layout", "NCHW"]
        #expect(try CLI.run([CLI.sample("mobilenet_mini.onnx"), "--to", "mobile", "-o", first, "--no-verify"] + options).status == 0)
        #expect(try CLI.run([first, "--to", "onnx", "-o", onnx]).status == 0)
        let again = try CLI.run([onnx, "--to", "mobile", "-o", second, "--no-verify", "--int8-weights", "--compress", "zstd"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == Data(contentsOf: URL(fileURLWithPath: second)))

        let inspect = try CLI.run(["inspect", first])
        #expect(inspect.status == 0)
        for expected in ["format:       .pare 1.0", "int8", "pare.preprocess.mean = 0.5,0.5,0.5", "pare.source.sha256", "DequantizeLinear"] {
            #expect(inspect.stdout.contains(expected), "missing '\(expected)' in\n\(inspect.stdout)")
        }
        let flops = try CLI.run(["count-flops", first, "--json"])
        #expect(flops.status == 0 && flops.stdout.contains("\"macs\""))
        let run = try CLI.run(["run", first, "--inputs", CLI.sample("mobilenet_mini.inputs.npz"), "--repeat", "1"])
        #expect(run.status == 0 && run.stderr.contains("load: "), "\(run.stderr)")
        let verify = try CLI.run(["verify", CLI.sample("mobilenet_mini.onnx"), first, "--inputs", CLI.sample("mobilenet_mini.inputs.npz"),
                                  "--rtol", "0.05", "--atol", "0.05"])
        #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
    }

    @Test("bad arguments and damaged files fail with a message and no output file")
    func badInput() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("x.pare").path
        let both = try CLI.run([CLI.sample("resnet_mini.onnx"), "--to", "mobile", "-o", out, "--fp16", "--int8-weights"])
        #expect(both.status != 0 && both.stderr.contains("either --fp16 or --int8-weights"))
        let layout = try CLI.run([CLI.sample("resnet_mini.onnx"), "--to", "mobile", "-o", out, "--layout", "HWC"])
        #expect(layout.status != 0 && layout.stderr.contains("--layout"))
        let mean = try CLI.run([CLI.sample("resnet_mini.onnx"), "--to", "mobile", "-o", out, "--mean", "0.5,x"])
        #expect(mean.status != 0 && mean.stderr.contains("--mean"))
        let onnxOnly = try CLI.run([CLI.sample("resnet_mini.onnx"), "--to", "onnx", "-o", folder.appendingPathComponent("y.onnx").path, "--fp16"])
        #expect(onnxOnly.status != 0 && onnxOnly.stderr.contains("only apply to --to mobile"))
        #expect(!FileManager.default.fileExists(atPath: out))

        // A truncated .pare: every command that reads it names the file and the problem.
        let good = folder.appendingPathComponent("good.pare").path
        #expect(try CLI.run([CLI.sample("resnet_mini.onnx"), "--to", "mobile", "-o", good, "--no-verify"]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = folder.appendingPathComponent("cut.pare")
        try bytes.prefix(bytes.count - 10).write(to: cut)
        for command in [["inspect", cut.path], ["run", cut.path, "--random-inputs"], ["count-flops", cut.path], [cut.path, "--to", "onnx", "-o", out]] {
            let result = try CLI.run(command)
            #expect(result.status != 0 && !result.crashed, "\(command)")
            #expect(result.stderr.contains("cut.pare") && result.stderr.contains("truncated"), "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        let sameFile = try CLI.run([good, "--to", "mobile", "-o", good])
        #expect(sameFile.status != 0 && sameFile.stderr.contains("overwrite the input"))
    }

    @Test("run --defer-checksums loads a corrupt blob unchecked but fails after the run, writing no outputs")
    func deferredChecksumFailure() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("r.pare").path
        #expect(try CLI.run([CLI.sample("resnet_mini.onnx"), "--to", "mobile", "-o", good, "--no-verify"]).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        // The last byte of the file is the last byte of the last weight blob.
        bytes[bytes.count - 1] ^= 0x01
        let bad = folder.appendingPathComponent("bad.pare")
        try Data(bytes).write(to: bad)
        let out = folder.appendingPathComponent("out.npz").path
        let checked = try CLI.run(["run", bad.path, "--random-inputs", "--outputs", out])
        #expect(checked.status != 0 && checked.stderr.contains("checksum mismatch"), "\(checked.stderr)")
        let deferred = try CLI.run(["run", bad.path, "--random-inputs", "--outputs", out, "--defer-checksums"])
        #expect(deferred.status != 0 && !deferred.crashed && deferred.stderr.contains("checksum mismatch"), "\(deferred.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
