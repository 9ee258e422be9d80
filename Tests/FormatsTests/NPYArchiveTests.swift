import Foundation
import Graph
import Testing
@testable import Formats

/// The error decoding `.npz` bytes gives, or nil when they decode.
func npzError(_ data: Data, source: String = "a.npz") -> String? {
    formatError { () throws(FormatError) in _ = try NPZ.decode(data, source: source) }
}

@Suite("NPZ archives")
struct NPYArchiveTests {
    static let sampleArchives = [
        "unet_thesis", "resnet_mini", "mobilenet_mini", "bisenet_attention", "convnext_block",
        "constant_weights", "ir_features", "torch_opset11", "torch_opset13", "torch_opset17",
    ].flatMap { ["\($0).inputs.npz", "\($0).outputs.npz"] }

    /// What `np.savez` wrote into the samples, as shapes (the models' README gives them).
    @Test("numpy-written sample archives read, with zip64 local headers")
    func samples() throws {
        for name in Self.sampleArchives {
            let tensors = try NPZ.read(contentsOf: try #require(Fixtures.existing(name), "missing \(name)"))
            #expect(tensors.count == 1, "\(name)")
            #expect(tensors.first?.name == (name.contains(".inputs.") ? "input" : "output"), "\(name)")
            #expect(tensors.first?.elementType == .float32, "\(name)")
        }
        let unet = try NPZ.read(contentsOf: Fixtures.url("unet_thesis.inputs.npz"))
        #expect(unet[0].shape == [1, 3, 320, 480])
        #expect(try NPZ.read(contentsOf: Fixtures.url("unet_thesis.outputs.npz"))[0].shape == [1, 1, 320, 480])
        #expect(try NPZ.read(contentsOf: Fixtures.url("torch_opset11.outputs.npz"))[0].shape == [2, 2, 64, 64])
        #expect(try NPZ.read(contentsOf: Fixtures.url("resnet_mini.outputs.npz"))[0].shape == [1, 10])
    }

    static let mixed: [Tensor] = [
        Tensor(name: "input", shape: [2, 3], floats: [1, -2, 3.5, 0, 1e-8, 7]),
        Tensor(name: "ids", shape: [4], int64s: [1, -1, Int64.max, Int64.min]),
        Tensor(name: "scalar", shape: [], floats: [42]),
        Tensor(name: "mask", elementType: .bool, shape: [3], storage: .bytes(Data([1, 0, 1]))),
        Tensor(name: "empty", shape: [0, 4], floats: []),
        Tensor(name: "nested/name ü", elementType: .uint8, shape: [2], storage: .bytes(Data([0, 255]))),
    ]

    @Test("write and read back, plain and zip64", arguments: [false, true])
    func roundTrip(_ zip64: Bool) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("arrays.npz")
        try NPZ.write(Self.mixed, to: url, forceZip64: zip64)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["arrays.npz"])
        #expect(try NPZ.read(contentsOf: url) == Self.mixed)
        if !zip64 { #expect(try Data(contentsOf: url) == NPZ.encode(Self.mixed)) }
    }

    @Test("writing is deterministic and refuses duplicate names and types numpy lacks")
    func writeRules() throws {
        #expect(try NPZ.encode(Self.mixed) == NPZ.encode(Self.mixed))
        let twice = [Self.mixed[0], Self.mixed[0]]
        #expect(formatError { () throws(FormatError) in _ = try NPZ.encode(twice) }?.contains("two arrays are called 'input'") == true)
        let odd = Tensor(name: "q", elementType: .float8e4m3fn, shape: [1], storage: .bytes(Data([0])))
        #expect(formatError { () throws(FormatError) in _ = try NPZ.encode([odd]) }?.contains("'q' is float8e4m3fn") == true)
        #expect(try NPZ.decode(NPZ.encode([]), source: "empty.npz").isEmpty)
    }

    /// np.savez_compressed-style entries made with Python's zipfile: `stored_blocks` deflated at
    /// level 0 (stored blocks), `ramp` at level 9 (dynamic Huffman), `tiny` (fixed Huffman).
    static let compressed = Data(base64Encoded: """
        UEsDBBQAAAAIAAAAIQD3EJ+IhQEAAIABAAARAAAAc3RvcmVkX2Jsb2Nrcy5ucHkBgAF//pNOVU1QWQEAdgB7J2Rlc2NyJzogJzxmNCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICg2NCwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKbL8APn9GB7698iM/39XWPaEhCb/9Irk+eemmP+Zzcj/+JzS/Vfmhv+qOH79uRSk9Ts0UwOwKYL4Dep+/4HU7v49UC78Y8qG+PcHSPhRxhT+XngO+RuiuPzNKKr8h+bM+0klnP4WJwD34VT6/MvZrvwpb6r7VemE+KzuBvx8yVr7iCyO+23QKP5rPWz5p87U+UGEnv3C5BL6eskg/wCi/Pw8pob9ByME/pUWsPwYESD+6Zoc+frqgvmyguj+/6fo/+ZvmP1JVqD+R+rY+L6qav/rzkbu+Dig/B+mkv3BNyj4YF9w+2y8yPy2Rl79XZSm/cXTfvhK8lb+bo94/A+j9vlBLAwQUAAAACAAAACEAK2vQUhcEAABAEwAACAAAAHJhbXAubnB5nddFlBYEFAZQurubnxxigKEHGLq7QUoYYBAQiRka6e5SQunuUOmQ7rAAFQSlQVGURkI857ph6be5532Lt33nzazXtG6DFtGj9Y02KKhjRFSHyKDSgaCwLqFBwYGgTj0ie0eGd2/bI7JjxL99tfBuURFv+qjO4T0j3sx5ioQEB4qG5A0ODA78zySIJtEZgzEZi7EZh3EZj/H538KETMTETMKkTMbkTMGUTMXUTMO0TMf0zMCMzMTMzMKsDDAbszMHczIXczOIeZiX+ZifwSzAgizEEBZmERZlMRZnCZZkKEuxNMswjGVZjuVZgRVZiZVZhVVZjdVZgzVZi7VZh3VZj/XZgA3ZiI3ZhE3ZjM35DluwJVuxNdvwXbZlO4azPTuwIyPYie+xM7uwK99nN37A7uzBnuzFSEaxN/uwL/uxPwdwIAfxQw7mEA7lMA7nCI7kKI7mGI7lOI7nBE7kJE7mFE7lNE7nDM7kR/yYszibcziXn/BTzuN8LuBCLuJiLuFSLuNyruBKruJqruFaruN6buBGbuJmfsbP+QW3cCu3cTt3cCd3cTf3cC+/5D7u5wEe5CEe5hEe5TEe5wme5Cme5hme5Vf8mt/wW37HczzPC/yeP/BHXuQl/sTLvMKf+Quv8hqv8wZv8hZv8w7v8lf+xnv8nX/wPv/kX3zAh3zEx3zCp3zG5/ybL/iSr/j6rcMfnTEYk7EYm3EYl/EYnwmYkImYmEmYlMmYnCmYkqmYmmmYlumYnhmYkZmYmVmYlQFmY3bmYE7mYm4GMQ/zMh/zM5gFWJCFGMLCLMKiLMbiLMGSDGUplmYZhrEsy7E8K7AiK7Eyq7Aqq7E6a7Ama7E267Au67E+G7AhG7Exm7Apm7E532ELtmQrtmYbvsu2bMdwtmcHdmQEO/E9dmYXduX77MYP2J092JO9GMko9mYf9mU/9ucADuQgfsjBHMKhHMbhHMGRHMXRHMOxHMfxnMCJnMTJnMKpnMbpnMGZ/IgfcxZncw7n8hN+ynmczwVcyEVczCVcymVczhVcyVVczTVcy3Vczw3cyE3czM/4Ob/gFm7lNm7nDu7kLu7mHu7ll9zH/TzAgzzEwzzCozzG4zzBkzzF0zzDs/yKX/MbfsvveI7neYHf8wf+yIu8xJ94mVf4M3/hVV7jdd7gTd7ibd7hXf7K33iPv/MP3uef/IsP+JCP+JhP+JTP+Jx/8wVf8hVfv/XwR2cMxmQsxmYcxmU8xmcCJmQiJmYSJmUyJmcKpmQqpmYapmU6pmcGZmQmZmYWZmWA2ZidOZiTuZibQczDvMzH/AxmARZkIYawMIuwKIuxOEuwJENZiqVZhmEsy3IszwqsyEqszCqsymqszhqsyVqszTqsy3qszwZsyEZszCZsymZszn8AUEsDBBQAAAAIAAAAIQAWk4y7RwAAAIMAAAAIAAAAdGlueS5ucHmb7BfqGxDJyFDGUK2eklqcXKRupaBek2SorqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOpo6CrUKFAAuRgZGAFBLAQIUAxQAAAAIAAAAIQD3EJ+IhQEAAIABAAARAAAAAAAAAAAAAACAAQAAAABzdG9yZWRfYmxvY2tzLm5weVBLAQIUAxQAAAAIAAAAIQAra9BSFwQAAEATAAAIAAAAAAAAAAAAAACAAbQBAAByYW1wLm5weVBLAQIUAxQAAAAIAAAAIQAWk4y7RwAAAIMAAAAIAAAAAAAAAAAAAACAAfEFAAB0aW55Lm5weVBLBQYAAAAAAwADAKsAAABeBgAAAAA=
        """, options: .ignoreUnknownCharacters)!

    @Test("deflated entries (np.savez_compressed) are inflated: stored, fixed and dynamic blocks")
    func deflated() throws {
        let tensors = try NPZ.decode(Self.compressed, source: "c.npz")
        #expect(tensors.map(\.name) == ["stored_blocks", "ramp", "tiny"])
        let normal = try #require(tensors[0].floatValues())
        #expect(normal.count == 64)
        #expect(normal.prefix(4) == [0.1257302165031433, -0.13210485875606537, 0.6404226422309875, 0.10490011423826218])
        #expect(tensors[1].shape == [20, 30] && tensors[1].int64Values() == (0..<600).map { Int64($0) })
        #expect(tensors[2].elementType == .bool && tensors[2].bytes == Data([1, 0, 1]))
    }

    @Test("every truncation of an archive is an error", arguments: ["resnet_mini.outputs.npz", "compressed"])
    func everyTruncation(_ name: String) throws {
        let data = name == "compressed" ? Self.compressed : try Data(contentsOf: Fixtures.url(name))
        for cut in 0..<data.count {
            let message = npzError(data.prefix(cut))
            #expect(message?.hasPrefix("a.npz: ") == true, "cut to \(cut) bytes: \(message ?? "decoded")")
        }
    }

    @Test("flipped bytes never crash; flips in array data are caught", arguments: ["resnet_mini.outputs.npz", "compressed"])
    func byteFlips(_ name: String) throws {
        let data = name == "compressed" ? Self.compressed : try Data(contentsOf: Fixtures.url(name))
        let original = try NPZ.decode(data, source: "a.npz")
        for position in 0..<data.count {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var flipped = data
                flipped[position] ^= mask
                // A flip in a timestamp or attribute field changes nothing; anything else that still
                // decodes must decode to the same arrays (names and data are covered by the CRC or
                // the central directory).
                if let tensors = try? NPZ.decode(flipped, source: "a.npz") {
                    #expect(tensors.map(\.bytes) == original.map(\.bytes), "flip \(mask) at \(position) changed the data silently")
                }
            }
        }
    }

    @Test("flipped bytes in a large archive", arguments: [0, 1, 7, 30, 40, 64, 100, 500, 100_000, -60, -30, -22, -10, -1])
    func largeArchiveFlips(_ position: Int) throws {
        var data = try Data(contentsOf: Fixtures.url("unet_thesis.inputs.npz"))
        let index = position >= 0 ? position : data.count + position
        data[index] ^= 0x55
        if let tensors = try? NPZ.decode(data, source: "a.npz") {
            let original = try NPZ.read(contentsOf: Fixtures.url("unet_thesis.inputs.npz"))
            #expect(tensors == original)
        }
    }

    @Test("malformed archives name the archive and the entry")
    func malformed() throws {
        let resnet = try Data(contentsOf: Fixtures.url("resnet_mini.outputs.npz"))
        func patched(_ offset: Int, _ bytes: [UInt8], in data: Data = resnet) -> Data {
            var copy = data
            for (i, byte) in bytes.enumerated() { copy[offset + i] = byte }
            return copy
        }
        let centralEntry = resnet.count - 22 - 56  // one central entry of 46 + 10 name bytes
        let end = resnet.count - 22
        let cases: [(Data, String)] = [
            (Data("hello, this is not a zip archive at all".utf8), "a.npz: not an .npz archive (bad magic"),
            (Data(), "a.npz: not an .npz archive"),
            (patched(end + 16, [0xF0, 0, 0, 0]), "a.npz: the central directory (offset 240, 56 bytes) lies outside"),
            (patched(end + 8, [0x40, 0, 0x40, 0]), "a.npz: the central directory claims 64 entries"),
            (patched(end + 10, [0, 0]), "a.npz: the end-of-directory record disagrees with itself"),
            (patched(end + 8, [0, 0, 0, 0]), "a.npz: the central directory has 56 bytes after its 0 entries"),
            (patched(centralEntry, [0x50, 0x4B, 9, 9]), "a.npz: central directory entry 0 at offset"),
            (patched(centralEntry + 42, [0x10, 0, 0, 0]), "a.npz: entry 'output.npy': no local header at offset 16"),
            (patched(centralEntry + 20, [0xA9, 0, 0, 0]), "a.npz: entry 'output.npy': stored entry with 169 bytes stored"),
            (patched(centralEntry + 20, [0xA8, 0, 1, 0] + [0xA8, 0, 1, 0]), "a.npz: entry 'output.npy': truncated"),
            (patched(centralEntry + 10, [12, 0]), "a.npz: entry 'output.npy' uses zip compression method 12"),
            (patched(centralEntry + 8, [1, 0]), "a.npz: entry 'output.npy' is encrypted"),
            (patched(centralEntry + 10, [8, 0]), "a.npz: entry 'output.npy': compressed data is corrupt"),
            (patched(centralEntry + 16, [0, 0, 0, 0]), "a.npz: entry 'output.npy': CRC-32 mismatch (stored 0x00000000"),
            (patched(0xE0, [0x7C, 0xE3, 0xB2, 0xC1]), "a.npz: entry 'output.npy': CRC-32 mismatch"),
            (patched(centralEntry + 46 + 7, [0x74, 0x78, 0x74]), "a.npz: entry 'output.txt' is not a .npy array"),
            (patched(end + 4, [1, 0]), "a.npz: multi-part zip archives are not supported"),
            (patched(end + 8, [0xFF, 0xFF, 0xFF, 0xFF]), "a.npz: zip64 archive without a zip64 end-of-directory locator"),
        ]
        for (data, expected) in cases {
            let message = npzError(data)
            #expect(message?.hasPrefix(expected) == true, "expected '\(expected)…', got \(message ?? "success")")
        }
        let twice = try NPZ.encode([Tensor(name: "a", shape: [1], floats: [1]), Tensor(name: "b", shape: [1], floats: [2])])
        var renamed = twice
        // Rename 'b.npy' to 'a.npy' in both its local and central headers.
        for offset in 0..<(renamed.count - 4) where renamed[offset] == UInt8(ascii: "b") && renamed[offset + 1] == UInt8(ascii: ".") {
            renamed[offset] = UInt8(ascii: "a")
        }
        #expect(npzError(renamed)?.hasPrefix("a.npz: entry 'a.npy': the archive holds array 'a' twice") == true)
        let inner = npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", payload: Data(count: 4))
        var archive = try NPZ.encode([Tensor(name: "w", shape: [1], floats: [0])])
        // Swap in a Fortran-ordered header of the same length (the CRC is patched to match).
        let start = try #require(archive.firstRange(of: Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59])))
        archive.replaceSubrange(start.lowerBound..<(start.lowerBound + inner.count), with: inner)
        let crc = CRC32.checksum(inner)
        for offset in [14, archive.count - 22 - 51 + 16] {
            for i in 0..<4 { archive[offset + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        }
        #expect(npzError(archive)?.hasPrefix("a.npz: entry 'w.npy': array 'w' is stored in Fortran order") == true)
    }
}
