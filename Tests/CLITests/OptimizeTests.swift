import Foundation
import Formats
import Graph
import Testing

/// `convert optimize` and `count-flops --after-freeze` end to end.
@Suite("optimize")
struct OptimizeTests {
    @Test("optimize writes a smaller model that verify accepts, and reports each pass")
    func optimizeAndVerify() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("resnet.onnx").path
        let result = try CLI.run(["optimize", CLI.sample("resnet_mini.onnx"), "-o", out, "--report"])
        #expect(result.status == 0, "\(result.stderr)")
        for expected in ["wrote:", "nodes:      29 → 21", "BatchNormalization -8", "fold-batchnorm", "bytes saved"] {
            #expect(result.stdout.contains(expected), "missing \(expected) in \(result.stdout)")
        }
        #expect(result.stderr.contains("optimize: round 1"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["resnet.onnx"])
        let model = try ONNXFormat.read(contentsOf: URL(fileURLWithPath: out))
        #expect(!model.graph.nodes.contains { $0.opType == "BatchNormalization" })
        let verify = try CLI.run(["verify", CLI.sample("resnet_mini.onnx"), out, "--inputs", CLI.sample("resnet_mini.inputs.npz")])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("--json, --passes and --list-passes")
    func jsonAndPassSelection() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("m.onnx").path
        let json = try CLI.run(["optimize", CLI.sample("constant_weights.onnx"), "-o", out, "--passes", "freeze,eliminate-dead", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let report = try #require(object?["report"] as? [String: Any])
        let passes = try #require(report["passes"] as? [[String: Any]])
        #expect(passes.map { $0["pass"] as? String } == ["freeze", "eliminate-dead"])
        #expect((report["opsAfter"] as? [String: Int])?["Constant"] == nil)
        #expect((report["opsAfter"] as? [String: Int])?["Shape"] == 1)

        let list = try CLI.run(["optimize", "--list-passes"])
        #expect(list.status == 0 && list.stdout.contains("fold-batchnorm") && list.stdout.contains("deduplicate"))
    }

    @Test("bad arguments are clear errors and leave no file behind")
    func badArguments() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("m.onnx").path
        let unknown = try CLI.run(["optimize", CLI.sample("resnet_mini.onnx"), "-o", out, "--passes", "freeze,fold-all"])
        #expect(unknown.status != 0 && !unknown.crashed)
        #expect(unknown.stderr.contains("unknown pass 'fold-all'") && unknown.stderr.contains("fold-constants"))
        let noOutput = try CLI.run(["optimize", CLI.sample("resnet_mini.onnx")])
        #expect(noOutput.status != 0 && noOutput.stderr.contains("-o out.onnx"))
        let missing = try CLI.run(["optimize", folder.appendingPathComponent("nope.onnx").path, "-o", out])
        #expect(missing.status != 0 && missing.stderr.contains("nope.onnx: no such file"))
        let badShape = try CLI.run(["optimize", CLI.sample("resnet_mini.onnx"), "-o", out, "--input-shape", "image=1x3x8x8"])
        #expect(badShape.status != 0 && badShape.stderr.contains("'image' is not an input"))
        let broken = try CLI.run(["optimize", CLI.sample("bad/raw_data_length_mismatch.onnx"), "-o", out])
        #expect(broken.status != 0 && !broken.crashed && broken.stderr.contains("tensor 'w'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("count-flops --after-freeze counts the deployed model")
    func countAfterFreeze() throws {
        let before = try CLI.run(["count-flops", CLI.sample("resnet_mini.onnx"), "--json"])
        let after = try CLI.run(["count-flops", CLI.sample("resnet_mini.onnx"), "--json", "--after-freeze"])
        #expect(before.status == 0 && after.status == 0, "\(after.stderr)")
        func perOp(_ text: String) throws -> [String] {
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            return (object?["perOpType"] as? [[String: Any]] ?? []).compactMap { $0["opType"] as? String }
        }
        #expect(try perOp(before.stdout).contains("BatchNormalization"))
        #expect(try !perOp(after.stdout).contains("BatchNormalization"))
        #expect(after.stderr.contains("29 → 21 nodes"))
    }
}
