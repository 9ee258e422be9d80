import Foundation
import Testing

@Suite struct CLITests {
    @Test func countFlopsPrintsTotalsAndJSON() throws {
        let text = try CLI.run(["count-flops", CLI.sample("unet_thesis.onnx")])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("MACs:"))
        #expect(text.stdout.contains("FLOPs:"))
        #expect(text.stdout.contains("ConvTranspose"))

        let json = try CLI.run(["count-flops", CLI.sample("unet_thesis.onnx"), "--json", "--per-node"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["macs"] as? Int == 958_464_000)
        #expect((object["nodes"] as? [Any])?.isEmpty == false)
    }

    @Test func inputShapeOverridesTheDeclaredShape() throws {
        let half = try CLI.run(["count-flops", CLI.sample("unet_thesis.onnx"), "--input-shape", "input=1x3x160x240", "--json"])
        #expect(half.status == 0, "\(half.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(half.stdout.utf8)) as? [String: Any])
        #expect(object["macs"] as? Int == 958_464_000 / 4)

        let unnamed = try CLI.run(["count-flops", CLI.sample("unet_thesis.onnx"), "--input-shape", "1x3x160x240", "--json"])
        #expect(unnamed.stdout == half.stdout)
    }

    @Test func badInputShapesAreClearErrors() throws {
        let wrongName = try CLI.run(["count-flops", CLI.sample("unet_thesis.onnx"), "--input-shape", "image=1x3x8x8"])
        #expect(wrongName.status != 0 && !wrongName.crashed)
        #expect(wrongName.stderr.contains("image") && wrongName.stderr.contains("input"))

        let wrongRank = try CLI.run(["count-flops", CLI.sample("unet_thesis.onnx"), "--input-shape", "input=3x8x8"])
        #expect(wrongRank.status != 0 && !wrongRank.crashed)
        #expect(wrongRank.stderr.contains("input"))

        let garbage = try CLI.run(["count-flops", CLI.sample("unet_thesis.onnx"), "--input-shape", "input=1xAx8x8"])
        #expect(garbage.status != 0 && garbage.stderr.contains("1xAx8x8"))
    }

    @Test func linkNamedCountFlopsActsAsTheSubcommand() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let link = folder.appendingPathComponent("count-flops")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: CLI.executable)
        let viaLink = try CLI.run([CLI.sample("resnet_mini.onnx"), "--json"], executable: link)
        let direct = try CLI.run(["count-flops", CLI.sample("resnet_mini.onnx"), "--json"])
        #expect(viaLink.status == 0, "\(viaLink.stderr)")
        #expect(viaLink.stdout == direct.stdout)

        let prune = folder.appendingPathComponent("prune-graph")
        try FileManager.default.createSymbolicLink(at: prune, withDestinationURL: CLI.executable)
        let pruned = try CLI.run([CLI.sample("resnet_mini.onnx"), "--dry-run"], executable: prune)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("groups prunable"))
    }

    @Test func toOnnxReencodesAndLeavesNoTemporaryFiles() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.onnx").path
        let result = try CLI.run([CLI.sample("convnext_block.onnx"), "--to", "onnx", "-o", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.onnx"])
        let again = try CLI.run(["count-flops", out, "--json"])
        let original = try CLI.run(["count-flops", CLI.sample("convnext_block.onnx"), "--json"])
        #expect(again.stdout == original.stdout)
    }

    @Test func inspectSummarizesTheModel() throws {
        let result = try CLI.run(["inspect", CLI.sample("mobilenet_mini.onnx")])
        #expect(result.status == 0, "\(result.stderr)")
        for expected in ["inputs:", "input: float32[1×3×64×64]", "opsets:", "Conv", "parameters:"] {
            #expect(result.stdout.contains(expected), "missing \(expected)")
        }
        let json = try CLI.run(["inspect", CLI.sample("mobilenet_mini.onnx"), "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["parameters"] as? Int == 16_220)
    }

    @Test(arguments: ["bad/escape_parent.onnx", "bad/escape_absolute.onnx", "bad/raw_data_length_mismatch.onnx",
                      "bad/missing_external_file.onnx", "does/not/exist.onnx"])
    func badFilesFailCleanlyNamingTheFile(relative: String) throws {
        for command in [["inspect"], ["count-flops"], []] {
            var arguments = command + [CLI.sample(relative)]
            if command.isEmpty { arguments += ["--to", "onnx", "-o", "/tmp/pare-never-written.onnx"] }
            let result = try CLI.run(arguments)
            #expect(result.status != 0 && !result.crashed, "\(arguments)")
            #expect(result.stderr.contains((relative as NSString).lastPathComponent), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pare-never-written.onnx"))
    }

    @Test func emptyAndRandomFilesFailCleanly() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        var generator = SystemRandomNumberGenerator()
        let random = folder.appendingPathComponent("random.onnx")
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: random)
        for file in [empty, random] {
            let result = try CLI.run(["count-flops", file.path])
            #expect(result.status != 0 && !result.crashed)
            #expect(result.stderr.contains(file.lastPathComponent), "\(result.stderr)")
        }
    }
}
