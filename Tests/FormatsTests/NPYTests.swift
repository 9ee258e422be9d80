import Foundation
import Graph
import Testing
@testable import Formats

/// `.npy` bytes with the given header dict text, padded the way numpy pads, and `payload` after.
func npyBytes(_ dict: String, payload: Data = Data(), version: UInt8 = 1) -> Data {
    var header = Array(dict.utf8)
    let lengthBytes = version == 1 ? 2 : 4
    let unpadded = 8 + lengthBytes + header.count + 1
    header += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64) + [0x0A]
    var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
    for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: header.count >> (8 * i))) }
    out.append(contentsOf: header)
    out.append(payload)
    return out
}

/// The error decoding `.npy` bytes gives, or nil when they decode.
func npyError(_ data: Data, name: String = "x") -> String? {
    formatError { () throws(FormatError) in _ = try NPY.decode(data, name: name, source: "x.npy") }
}

@Suite("NPY arrays")
struct NPYTests {
    static let roundTripTypes: [ElementType] = [
        .float16, .float32, .float64, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .bool,
        .complex64, .complex128,
    ]

    @Test("every dtype round-trips, data 64-byte aligned", arguments: roundTripTypes)
    func roundTrip(_ type: ElementType) throws {
        let shape = [2, 3]
        let width = type.bitWidth! / 8
        var bytes = Data((0..<(6 * width)).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) })
        if type == .bool { bytes = Data([1, 0, 1, 1, 0, 0]) }
        let tensor = Tensor(name: "a", elementType: type, shape: shape, storage: .bytes(bytes))
        let encoded = try NPY.encode(tensor)
        #expect((encoded.count - bytes.count) % 64 == 0)
        #expect(encoded[encoded.count - bytes.count - 1] == 0x0A)
        let decoded = try NPY.decode(encoded, name: "a", source: "a.npy")
        #expect(decoded == tensor)
    }

    @Test("numpy's header layout, byte for byte")
    func numpyHeader() throws {
        // np.save(f, np.zeros((1, 10), np.float32)) writes exactly this header.
        let tensor = Tensor(name: "z", shape: [1, 10], floats: Array(repeating: 0, count: 10))
        let encoded = try NPY.encode(tensor)
        let expected = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 10), }", payload: Data(count: 40))
        #expect(encoded == expected)
        #expect(encoded.count == 128 + 40)
    }

    @Test("scalars, vectors and empty arrays")
    func shapes() throws {
        for shape in [[], [5], [0], [0, 3], [2, 1, 1, 1, 2]] {
            let count = shape.reduce(1, *)
            let tensor = Tensor(name: "s", shape: shape, floats: (0..<count).map { Float($0) - 1.5 })
            let encoded = try NPY.encode(tensor)
            #expect(try NPY.decode(encoded, name: "s", source: "s.npy") == tensor)
        }
        let scalar = try NPY.encode(Tensor(name: "s", shape: [], floats: [3]))
        #expect(String(decoding: scalar.prefix(80), as: UTF8.self).contains("'shape': ()"))
        let vector = try NPY.encode(Tensor(name: "v", shape: [5], floats: [1, 2, 3, 4, 5]))
        #expect(String(decoding: vector.prefix(80), as: UTF8.self).contains("'shape': (5,)"))
    }

    @Test("header variants numpy and other writers produce")
    func headerVariants() throws {
        let four = Data([1, 0, 0, 0, 2, 0, 0, 0])
        let cases: [(String, UInt8, ElementType)] = [
            ("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 1, .int32),
            ("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 2, .int32),
            ("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 3, .int32),
            ("{'descr': '=i4', 'fortran_order': False, 'shape': (2,), }", 1, .int32),
            ("{'descr':'<u4','fortran_order':False,'shape':(2L,)}", 1, .uint32),
            ("{\"shape\": [2], \"descr\": \"<i4\", \"fortran_order\": False, \"extra\": None}", 1, .int32),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (8,), }", 1, .uint8),
            ("{'descr': '|i1', 'fortran_order': False, 'shape': (2, 4), }", 1, .int8),
            ("{'descr': '<i2', 'fortran_order': False, 'shape': (4,), }", 1, .int16),
        ]
        for (dict, version, type) in cases {
            let tensor = try NPY.decode(npyBytes(dict, payload: four, version: version), name: "t", source: "t.npy")
            #expect(tensor.elementType == type, "\(dict)")
            #expect(tensor.bytes == four, "\(dict)")
        }
    }

    @Test("big-endian data is swapped; bools are normalized to 0 and 1")
    func byteOrder() throws {
        let big = npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                           payload: Data([0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0]))
        #expect(try NPY.decode(big, name: "b", source: "b.npy").floatValues() == [1, -2])
        let bigInt = npyBytes("{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }",
                              payload: Data([0, 0, 0, 0, 0, 0, 1, 2]))
        #expect(try NPY.decode(bigInt, name: "b", source: "b.npy").int64Values() == [258])
        let bools = npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", payload: Data([0, 1, 7]))
        #expect(try NPY.decode(bools, name: "b", source: "b.npy").bytes == Data([0, 1, 1]))
    }

    @Test("malformed files are errors that name the file and the array")
    func malformed() throws {
        let floats = Data(count: 8)
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        let cases: [(Data, String)] = [
            (Data(), "x.npy: truncated"),
            (Data("PK\u{3}\u{4}hello world".utf8), "x.npy: not a .npy array (bad magic"),
            (Data([0x93, 0x4E, 0x55, 0x4D]), "x.npy: truncated"),
            (npyBytes(good, payload: floats).prefix(9), "x.npy: truncated: the header length field is missing"),
            (npyBytes(good, payload: floats).prefix(40), "x.npy: truncated: the header says it has 118 bytes"),
            (npyBytes(good, payload: floats, version: 4), "x.npy: .npy format version 4.0 is not supported"),
            (npyBytes("{'descr': '<f4', 'shape': (2,), }", payload: floats), "x.npy: header: missing 'fortran_order'"),
            (npyBytes("{'fortran_order': False}", payload: floats), "x.npy: header: missing 'descr', 'shape'"),
            (npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", payload: floats),
             "x.npy: array 'x' is stored in Fortran order"),
            (npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", payload: floats),
             "x.npy: array 'x': object arrays"),
            (npyBytes("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", payload: floats),
             "x.npy: array 'x': string arrays"),
            (npyBytes("{'descr': '<f3', 'fortran_order': False, 'shape': (2,), }", payload: floats),
             "x.npy: array 'x': dtype '<f3' is not supported"),
            (npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", payload: floats),
             "x.npy: header: structured dtypes"),
            (npyBytes(good, payload: Data(count: 7)),
             "x.npy: array 'x': truncated: shape [2] of <f4 needs 8 bytes of data, found 7"),
            (npyBytes(good, payload: Data(count: 9)), "x.npy: array 'x': 9 bytes of data, shape [2] of <f4 needs 8"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", payload: floats),
             "x.npy: header: 'shape' has a negative or too large dimension"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", payload: floats),
             "x.npy: header: 'shape' has a negative or too large dimension"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", payload: floats),
             "x.npy: array 'x': shape [4294967296, 4294967296] has too many elements"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }"),
             "x.npy: array 'x': shape [0, 4294967296, 4294967296] has too many elements"),
            (npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3037000499, 3037000499), }", payload: floats),
             "x.npy: array 'x': shape [3037000499, 3037000499] has too many bytes"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", payload: floats), "x.npy: header: "),
            (npyBytes("{'descr': '<f4', 'fortran_order': Fals, 'shape': (2,)}", payload: floats),
             "x.npy: header: unexpected character"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': 2}", payload: floats),
             "x.npy: header: 'shape' is not a tuple"),
            (npyBytes(String(repeating: "(", count: 5000), payload: floats), "x.npy: header: nested too deeply"),
            (npyBytes("[1, 2]", payload: floats), "x.npy: header: is not a dict"),
        ]
        for (data, expected) in cases {
            let message = npyError(data)
            #expect(message?.hasPrefix(expected) == true, "expected '\(expected)…', got \(message ?? "success")")
        }
    }

    @Test("every truncation of a .npy file is an error")
    func everyTruncation() throws {
        let encoded = try NPY.encode(Tensor(name: "t", shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]))
        for cut in 0..<encoded.count {
            #expect(npyError(encoded.prefix(cut)) != nil, "decoded a file cut to \(cut) bytes")
        }
    }

    @Test("files: read names the array after the file; write is atomic")
    func files() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("weights.npy")
        let tensor = Tensor(name: "anything", shape: [2, 2], floats: [1, 2, 3, 4])
        try NPY.write(tensor, to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["weights.npy"])
        var expected = tensor
        expected.name = "weights"
        #expect(try NPY.read(contentsOf: url) == expected)
        let missing = folder.appendingPathComponent("absent.npy")
        #expect(formatError { () throws(FormatError) in _ = try NPY.read(contentsOf: missing) } == "\(missing.path): no such file")
        let bfloat = Tensor(name: "b", elementType: .bfloat16, shape: [1], storage: .bytes(Data(count: 2)))
        #expect(formatError { () throws(FormatError) in _ = try NPY.encode(bfloat) }?.contains("bfloat16, which has no numpy dtype") == true)
    }
}
