import Foundation

/// A DEFLATE (RFC 1951) decoder for the compressed entries of zip archives, such as those
/// `np.savez_compressed` writes; Foundation offers no public zlib API on Linux.
///
/// It follows Mark Adler's `puff.c`: canonical Huffman codes decoded bit by bit, every code and
/// distance checked, and the output never allowed past the size the archive declares, so
/// corrupt or hostile data is an error, never a crash or an unbounded allocation.
enum Inflate {
    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Inflates raw DEFLATE `data`, which must decode to exactly `expectedSize` bytes.
    static func decompress(_ data: Data, expectedSize: Int) throws(Failure) -> Data {
        // DEFLATE cannot expand data more than 1032-fold; a larger declared size is corrupt, and
        // must not become an allocation.
        guard expectedSize <= data.count.multipliedReportingOverflow(by: 1032).partialValue + 64 else {
            throw Failure("\(data.count) compressed bytes cannot inflate to the \(expectedSize) the archive declares")
        }
        var output = [UInt8](repeating: 0, count: expectedSize)
        // withUnsafeBytes is not typed-throws, so the failure travels out as a Result.
        let result: Result<Int, Failure> = data.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                var state = State(input: input, output: out)
                do throws(Failure) {
                    try state.run()
                } catch {
                    return .failure(error)
                }
                return .success(state.outputCount)
            }
        }
        let written = try result.get()
        guard written == expectedSize else {
            throw Failure("inflated to \(written) bytes, the archive says \(expectedSize)")
        }
        return Data(output)
    }

    /// A canonical Huffman code: how many codes have each length, and the symbols in code order.
    struct Huffman {
        var count = [Int](repeating: 0, count: 16)
        var symbol: [Int]

        /// Builds the code from each symbol's length (0 = unused). Returns the code and how many
        /// codes are left unused: 0 for a complete code, more for an incomplete one.
        static func make(_ lengths: ArraySlice<Int>) throws(Failure) -> (Huffman, Int) {
            var code = Huffman(symbol: [Int](repeating: 0, count: lengths.count))
            for length in lengths { code.count[length] += 1 }
            if code.count[0] == lengths.count { return (code, 0) }  // no codes: complete, but decodes nothing
            var left = 1
            for length in 1..<16 {
                left <<= 1
                left -= code.count[length]
                if left < 0 { throw Failure("over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + code.count[length] }
            for (symbol, length) in lengths.enumerated() where length != 0 {
                code.symbol[offsets[length]] = symbol
                offsets[length] += 1
            }
            return (code, left)
        }
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    static let fixed: (lengths: Huffman, distances: Huffman) = {
        var lengths = [Int](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        // The fixed codes are valid by construction.
        let literal = (try? Huffman.make(lengths[...]))!.0
        let distance = (try? Huffman.make([Int](repeating: 5, count: 30)[...]))!.0
        return (literal, distance)
    }()

    struct State {
        let input: UnsafeRawBufferPointer
        let output: UnsafeMutableBufferPointer<UInt8>
        var inputCount = 0
        var outputCount = 0
        var bitBuffer = 0
        var bitCount = 0

        init(input: UnsafeRawBufferPointer, output: UnsafeMutableBufferPointer<UInt8>) {
            self.input = input
            self.output = output
        }

        mutating func bits(_ need: Int) throws(Failure) -> Int {
            var value = bitBuffer
            while bitCount < need {
                guard inputCount < input.count else { throw Failure("the compressed data ends early") }
                value |= Int(input[inputCount]) << bitCount
                inputCount += 1
                bitCount += 8
            }
            bitBuffer = value >> need
            bitCount -= need
            return value & ((1 << need) - 1)
        }

        mutating func run() throws(Failure) {
            var last = 0
            repeat {
                last = try bits(1)
                switch try bits(2) {
                case 0: try stored()
                case 1: try codes(Inflate.fixed.lengths, Inflate.fixed.distances)
                case 2: try dynamic()
                default: throw Failure("invalid block type 3")
                }
            } while last == 0
        }

        mutating func stored() throws(Failure) {
            bitBuffer = 0
            bitCount = 0
            guard inputCount + 4 <= input.count else { throw Failure("the compressed data ends early") }
            let length = Int(input[inputCount]) | Int(input[inputCount + 1]) << 8
            let complement = Int(input[inputCount + 2]) | Int(input[inputCount + 3]) << 8
            inputCount += 4
            guard length == ~complement & 0xFFFF else { throw Failure("a stored block's length check fails") }
            guard inputCount + length <= input.count else { throw Failure("the compressed data ends early") }
            guard outputCount + length <= output.count else { throw Failure("more data than the archive declares") }
            for i in 0..<length { output[outputCount + i] = input[inputCount + i] }
            inputCount += length
            outputCount += length
        }

        mutating func decode(_ code: Huffman) throws(Failure) -> Int {
            var bits = 0, first = 0, index = 0
            for length in 1..<16 {
                bits |= try self.bits(1)
                let count = code.count[length]
                if bits - count < first { return code.symbol[index + (bits - first)] }
                index += count
                first += count
                first <<= 1
                bits <<= 1
            }
            throw Failure("an invalid Huffman code")
        }

        mutating func codes(_ lengths: Huffman, _ distances: Huffman) throws(Failure) {
            while true {
                let symbol = try decode(lengths)
                if symbol < 256 {
                    guard outputCount < output.count else { throw Failure("more data than the archive declares") }
                    output[outputCount] = UInt8(symbol)
                    outputCount += 1
                } else if symbol == 256 {
                    return
                } else {
                    let lengthSymbol = symbol - 257
                    guard lengthSymbol < 29 else { throw Failure("an invalid length code") }
                    let length = Inflate.lengthBase[lengthSymbol] + (try bits(Inflate.lengthExtra[lengthSymbol]))
                    let distanceSymbol = try decode(distances)
                    guard distanceSymbol < 30 else { throw Failure("an invalid distance code") }
                    let distance = Inflate.distanceBase[distanceSymbol] + (try bits(Inflate.distanceExtra[distanceSymbol]))
                    guard distance <= outputCount else { throw Failure("a distance reaches before the start of the data") }
                    guard outputCount + length <= output.count else { throw Failure("more data than the archive declares") }
                    // Byte by byte: the source may overlap what is being written.
                    for _ in 0..<length {
                        output[outputCount] = output[outputCount - distance]
                        outputCount += 1
                    }
                }
            }
        }

        mutating func dynamic() throws(Failure) {
            let literalCount = try bits(5) + 257
            let distanceCount = try bits(5) + 1
            let codeCount = try bits(4) + 4
            guard literalCount <= 286, distanceCount <= 30 else { throw Failure("too many length or distance codes") }
            var lengths = [Int](repeating: 0, count: 320)
            for i in 0..<codeCount { lengths[Inflate.codeLengthOrder[i]] = try bits(3) }
            let (lengthCode, unused) = try Huffman.make(lengths[0..<19])
            guard unused == 0 else { throw Failure("an incomplete code-length code") }
            var index = 0
            while index < literalCount + distanceCount {
                var symbol = try decode(lengthCode)
                if symbol < 16 {
                    lengths[index] = symbol
                    index += 1
                    continue
                }
                var repeated = 0
                if symbol == 16 {
                    guard index > 0 else { throw Failure("a repeat with no previous length") }
                    repeated = lengths[index - 1]
                    symbol = 3 + (try bits(2))
                } else if symbol == 17 {
                    symbol = 3 + (try bits(3))
                } else {
                    symbol = 11 + (try bits(7))
                }
                guard index + symbol <= literalCount + distanceCount else { throw Failure("too many code lengths") }
                for _ in 0..<symbol {
                    lengths[index] = repeated
                    index += 1
                }
            }
            guard lengths[256] != 0 else { throw Failure("no end-of-block code") }
            let (literal, literalUnused) = try Huffman.make(lengths[0..<literalCount])
            // An incomplete code is allowed only when every code it has is one bit long (puff's rule).
            if literalUnused > 0 && literalCount != literal.count[0] + literal.count[1] { throw Failure("an incomplete literal/length code") }
            let (distance, distanceUnused) = try Huffman.make(lengths[literalCount..<(literalCount + distanceCount)])
            if distanceUnused > 0 && distanceCount != distance.count[0] + distance.count[1] { throw Failure("an incomplete distance code") }
            try codes(literal, distance)
        }
    }
}
