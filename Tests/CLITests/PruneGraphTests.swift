import Foundation
import Testing

/// `convert prune-graph` end to end: a run with calibration data, the report, and bad input.
@Suite("prune-graph")
struct PruneGraphTests {
    @Test("prunes with calibration data, reports per group on stdout and progress on stderr, writes --report")
    func prunesAndReports() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("pruned.onnx").path
        let report = folder.appendingPathComponent("report.json").path
        // The samples' input file holds one sample, which then verifies nothing: held out is 0 of 1.
        let result = try CLI.run(["prune-graph", CLI.sample("resnet_mini.onnx"), "--calibration", CLI.sample("resnet_mini.inputs.npz"),
                                  "--ratio", "0.5", "--samples-per-image", "8", "-o", output, "--report", report])
        #expect(result.status == 0, "\(result.stderr)")
        for expected in ["wrote:", "parameters:", "MACs:", "least squares"] {
            #expect(result.stdout.contains(expected), "missing '\(expected)' in\n\(result.stdout)")
        }
        #expect(result.stderr.contains("prune-graph: [1/5]"), "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let before = try #require(json?["parametersBefore"] as? Int), after = try #require(json?["parametersAfter"] as? Int)
        #expect(after < before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["pruned.onnx", "report.json"])

        let counted = try CLI.run(["count-flops", output])
        #expect(counted.status == 0, "\(counted.stderr)")
    }

    @Test("--target-macs reaches the MAC target; --skip takes a plain node name")
    func targetMACs() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("pruned.onnx").path
        let result = try CLI.run(["prune-graph", CLI.sample("unet_thesis.onnx"), "--target-macs", "0.5", "--method", "l1",
                                  "--skip", "n_Conv_0", "--json", "-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("by filter L1 norm for --target-macs"), "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let before = try #require(json?["macsBefore"] as? Int), after = try #require(json?["macsAfter"] as? Int)
        #expect(json?["targetMACs"] as? Double == 0.5)
        #expect(Double(after) <= 0.5 * Double(before) && Double(after) > 0.4 * Double(before), "\(before) → \(after)")
        let groups = try #require(json?["groups"] as? [[String: Any]])
        let skipped = try #require(groups.first { ($0["producers"] as? [String])?.contains { $0.hasPrefix("n_Conv_0 ") } == true })
        #expect(skipped["channelsAfter"] as? Int == skipped["channelsBefore"] as? Int)
    }

    @Test("bad arguments and calibration data are refused with a message, and no output is written")
    func badInput() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("pruned.onnx").path
        let model = CLI.sample("resnet_mini.onnx")
        let cases: [([String], String)] = [
            (["--ratio", "1.5", "-o", output], "--ratio must be in [0, 1)"),
            (["--ratio-for", "n_Conv_1", "-o", output], "--ratio-for takes name=ratio"),
            ([], "missing the output file"),
            (["--calibration", CLI.sample("unet_thesis.inputs.npz"), "-o", output], "unet_thesis.inputs.npz"),
            (["--calibration", CLI.sample("resnet_mini.inputs.npz"), "--random-calibration", "2", "-o", output], "not both"),
            (["--ratio-for", "nowhere=0.3", "--method", "l1", "-o", output], "no channel group has a layer or value named 'nowhere'"),
            (["--method", "magnitude", "-o", output], "magnitude"),
            (["--target-macs", "1.2", "-o", output], "--target-macs is the fraction of the MACs to keep"),
            (["--target-macs", "0.5", "--ratio", "0.3", "-o", output], "give --ratio or --target-macs, not both"),
            (["--target-macs", "0.001", "--method", "l1", "-o", output], "--target-macs cannot be reached"),
        ]
        for (arguments, message) in cases {
            let result = try CLI.run(["prune-graph", model] + arguments)
            #expect(result.status != 0, "\(arguments) succeeded")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }
}
