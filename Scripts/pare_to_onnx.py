#!/usr/bin/env python3
"""Reads a .pare file and writes the equivalent ONNX model.

An independent reader of Pare's mobile format, written from docs/mobile-format.md rather than from
the Swift reader, so that the specification (and the Swift writer) are checked by a second
implementation. It makes every check the specification asks of a reader (magic, version, lengths,
CRC-32s, bounds, padding, signatures) and fails with a message naming the section and field.

Usage: pare_to_onnx.py in.pare out.onnx

Needs the onnx package (and numpy, which it uses); files with zstd-compressed tensors also need the
`zstandard` module.
"""
import struct
import sys
import zlib

import onnx
from onnx import AttributeProto, GraphProto, ModelProto, NodeProto, SparseTensorProto, TensorProto, TypeProto

MAGIC = b"\x89PARE\r\n\x1a"
MAJOR_VERSION = 1
MINOR_VERSION = 0
HEADER_SIZE = 32
ENTRY_SIZE = 32
MAX_SECTIONS = 256
ALIGNMENT = 64
MAX_RANK = 64
MAX_DEPTH = 64
MAX_DIM = 2**31 - 1
MAX_ELEMENTS = (2**31 - 1) * 64
REQUIRED = 1

KNOWN_SECTIONS = ("META", "STRS", "TENS", "GRPH", "DATA")

# Storage bits per element, by ONNX TensorProto.DataType number; 8 (string) has no raw encoding.
BITS = {1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64,
        15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2, 27: 6, 28: 6}
STRING_TYPE = 8

# Op codes 1...N (docs/mobile-format.md, "Op codes").
OPS = """
Abs Acos Acosh Add AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh Attention AveragePool
BatchNormalization Bernoulli BitCast BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Cast
CastLike CausalConvWithState Ceil Celu CenterCropPad Clip Col2Im Compress Concat ConcatFromSequence Constant
ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh CumProd CumSum DFT DeformConv DepthToSpace
DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor
GRU Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater
GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow HardSigmoid HardSwish Hardmax Identity
If ImageDecoder InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual
LinearAttention Log LogSoftmax Loop LpNormalization LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool
MaxUnpool Mean MeanVarianceNormalization MelWeightMatrix Min Mish Mod Mul Multinomial Neg
NegativeLogLikelihoodLoss NonMaxSuppression NonZero Not OneHot Optional OptionalGetElement OptionalHasElement
Or PRelu Pad Pow QLinearConv QLinearMatMul QuantizeLinear RMSNormalization RNN RandomNormal RandomNormalLike
RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax
ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare RegexFullMatch Relu Reshape Resize ReverseSequence
RoiAlign RotaryEmbedding Round STFT Scan Scatter ScatterElements ScatterND Selu SequenceAt SequenceConstruct
SequenceEmpty SequenceErase SequenceInsert SequenceLength SequenceMap Shape Shrink Sigmoid Sign Sin Sinh Size
Slice Softmax SoftmaxCrossEntropyLoss Softplus Softsign SpaceToDepth Split SplitToSequence Sqrt Squeeze
StringConcat StringNormalizer StringSplit Sub Sum Swish Tan Tanh TensorScatter TfIdfVectorizer
ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Upsample Where Xor
""".split()
assert len(OPS) == 202

PRODUCER_KEY = "pare.producer"


class PareError(Exception):
    pass


class Cursor:
    """Reads the primitives of the encoding from bytes [start, end) of the file."""

    def __init__(self, data, start, end, context):
        self.data, self.pos, self.end, self.context = data, start, end, context

    def fail(self, message):
        return PareError(f"{self.context}: {message}")

    @property
    def remaining(self):
        return self.end - self.pos

    def take(self, n):
        if n > self.remaining:
            raise self.fail(f"truncated: needs {n} bytes at offset {self.pos}, {self.remaining} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def f32(self):
        return struct.unpack("<f", self.take(4))[0]

    def varint(self):
        result = 0
        for i in range(10):
            b = self.take(1)[0]
            if i == 9 and b > 1:
                raise self.fail("varint overflows 64 bits")
            result |= (b & 0x7F) << (7 * i)
            if b < 0x80:
                return result
        raise self.fail("varint longer than 10 bytes")

    def svarint(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def count(self, what, limit):
        v = self.varint()
        if v > limit:
            raise self.fail(f"{what} {v} exceeds {limit}")
        return v

    def items(self, what, minimum_bytes=1):
        """A count of items that each take at least `minimum_bytes` bytes: bounded by what is left."""
        return self.count(what, self.remaining // minimum_bytes)

    def expect_end(self):
        if self.pos != self.end:
            raise self.fail(f"{self.end - self.pos} bytes left over at its end")


class PareReader:
    def __init__(self, data, verify_tensor_data=True):
        self.data = data
        self.verify_tensor_data = verify_tensor_data
        self.strings = []
        self.tensors = []  # TensorProto per table entry
        self.sections = {}

    # -- header and section table --------------------------------------------------------------

    def read_header(self):
        data = self.data
        size = len(data)
        if size >= len(MAGIC) and data[:8] != MAGIC:
            raise PareError("not a .pare file (wrong magic bytes)")
        if size < HEADER_SIZE:
            raise PareError(f"truncated: {size} bytes, a .pare header needs {HEADER_SIZE}")
        major, minor, _flags, declared, count, crc = struct.unpack_from("<HHIQII", data, 8)
        if major != MAJOR_VERSION:
            raise PareError(f"format version {major}.{minor}; this reader reads {MAJOR_VERSION}.x (up to {MAJOR_VERSION}.{MINOR_VERSION})")
        self.version = (major, minor)
        if declared != size:
            raise PareError(f"header: file length {declared}, but the file has {size} bytes")
        if count > MAX_SECTIONS:
            raise PareError(f"header: {count} sections, more than {MAX_SECTIONS}")
        table_end = HEADER_SIZE + count * ENTRY_SIZE
        if table_end > size:
            raise PareError(f"truncated: the section table ends at {table_end}, past the file's {size} bytes")
        if zlib.crc32(data[HEADER_SIZE:table_end], zlib.crc32(data[:28])) != crc:
            raise PareError("header checksum mismatch")

        covered = [(0, table_end)]
        for i in range(count):
            kind, flags, offset, length, section_crc, _reserved = struct.unpack_from("<4sIQQII", data, HEADER_SIZE + i * ENTRY_SIZE)
            tag = kind.decode("latin-1") if all(0x20 <= b < 0x7F for b in kind) else f"0x{int.from_bytes(kind, 'little'):08X}"
            if offset < table_end or offset > size or length > size - offset:
                raise PareError(f"section {tag}: offset {offset}, length {length} outside {table_end}..<{size}")
            start, end = offset, offset + length
            if length and any(s < end and start < e for s, e in covered if e > s):
                raise PareError(f"section {tag}: bytes {start}..<{end} overlap another section")
            covered.append((start, end))
            known = tag in KNOWN_SECTIONS
            if not known and flags & REQUIRED:
                raise PareError(f"section {tag} is required but unknown to this reader")
            if known:
                if tag in self.sections:
                    raise PareError(f"section {tag} appears twice")
                self.sections[tag] = (start, end)
            if tag != "DATA" and zlib.crc32(data[start:end]) != section_crc:
                raise PareError(f"section {tag}: checksum mismatch")
        for tag in KNOWN_SECTIONS:
            if tag not in self.sections:
                raise PareError(f"section {tag} is missing")
        if self.sections["DATA"][0] % ALIGNMENT:
            raise PareError(f"section DATA starts at {self.sections['DATA'][0]}, not a multiple of {ALIGNMENT}")
        self.covered = [r for r in covered if r != self.sections["DATA"]]

    def cursor(self, tag):
        start, end = self.sections[tag]
        return Cursor(self.data, start, end, f"section {tag}")

    # -- strings and tensors ---------------------------------------------------------------------

    def read_strings(self):
        c = self.cursor("STRS")
        for _ in range(c.items("string count")):
            n = c.count("string length", c.remaining)
            self.strings.append(bytes(c.take(n)))
        c.expect_end()
        if not self.strings or self.strings[0] != b"":
            raise c.fail("string 0 must be the empty string")

    def string(self, c):
        i = c.varint()
        if i >= len(self.strings):
            raise c.fail(f"string index {i} is past the string table's {len(self.strings)} entries")
        return self.strings[i]

    def text(self, c):
        return self.string(c).decode("utf-8", errors="replace")

    def element_type(self, c, allow_undefined=False):
        t = c.varint()
        if not (allow_undefined and t == 0) and t != STRING_TYPE and t not in BITS:
            raise c.fail(f"unknown element type {t}")
        return t

    def shape(self, c):
        rank = c.count("rank", min(MAX_RANK, c.remaining))
        dims, total = [], 1
        for _ in range(rank):
            d = c.count("dimension", MAX_DIM)
            total *= d
            if total > MAX_ELEMENTS:
                raise c.fail(f"shape {dims + [d]} holds too many elements")
            dims.append(d)
        return dims

    def read_tensors(self):
        c = self.cursor("TENS")
        data_start, data_end = self.sections["DATA"]
        data_length = data_end - data_start
        blobs = []
        checks = []  # (name, start, end, crc, compressed, decoded size, proto)
        for index in range(c.items("tensor count", 4)):
            c.context = f"section TENS, tensor {index}"
            name = self.text(c)
            c.context = f"section TENS, tensor '{name}'"
            elem = self.element_type(c)
            dims = self.shape(c)
            elements = 1
            for d in dims:
                elements *= d
            t = TensorProto(data_type=elem, dims=dims)
            set_text(t, "name", name)
            encoding = c.varint()
            if encoding == 1:  # strings
                if elem != STRING_TYPE:
                    raise c.fail(f"string encoding for element type {elem}")
                n = c.items("string count")
                if n != elements:
                    raise c.fail(f"shape {dims} needs {elements} strings, the entry has {n}")
                t.string_data.extend(self.string(c) for _ in range(n))
            elif encoding == 0:  # raw
                if elem == STRING_TYPE:
                    raise c.fail("a string tensor has no raw encoding")
                expected = (elements * BITS[elem] + 7) // 8
                compression = c.varint()
                if compression not in (0, 1):
                    raise c.fail(f"unknown compression {compression}")
                offset = c.count("blob offset", data_length)
                length = c.count("blob length", data_length - offset)
                crc = c.u32()
                if offset % ALIGNMENT:
                    raise c.fail(f"blob offset {offset} is not a multiple of {ALIGNMENT}")
                if compression == 0 and length != expected:
                    raise c.fail(f"blob holds {length} bytes, shape {dims} needs {expected}")
                start, end = data_start + offset, data_start + offset + length
                if length and any(s < end and start < e for s, e in blobs):
                    raise c.fail(f"blob {start}..<{end} overlaps another blob")
                blobs.append((start, end))
                checks.append((name, start, end, crc, compression == 1, expected, t))
            else:
                raise c.fail(f"unknown encoding {encoding}")
            self.tensors.append(t)
        c.context = "section TENS"
        c.expect_end()

        for name, start, end, crc, compressed, expected, t in checks:
            blob = self.data[start:end]
            if (compressed or self.verify_tensor_data) and zlib.crc32(blob) != crc:
                raise PareError(f"tensor '{name}': data checksum mismatch")
            t.raw_data = zstd_decode(bytes(blob), expected, name) if compressed else bytes(blob)
        self.covered += blobs

    def check_padding(self):
        """Bytes outside the header, the section table, the sections and the blobs must be zero."""
        position = 0
        for start, end in sorted(self.covered) + [(len(self.data), len(self.data))]:
            if start > position:
                gap = bytes(self.data[position:start])
                first = len(gap) - len(gap.lstrip(b"\0"))  # index of the first nonzero byte
                if first < len(gap):
                    raise PareError(f"padding byte at offset {position + first} is not zero")
            position = max(position, end)

    def tensor(self, c):
        i = c.varint()
        if i >= len(self.tensors):
            raise c.fail(f"tensor index {i} is past the tensor table's {len(self.tensors)} entries")
        copy = TensorProto()
        copy.CopyFrom(self.tensors[i])
        return copy

    # -- graph ---------------------------------------------------------------------------------

    def read_graph(self):
        c = self.cursor("GRPH")
        ir_version = c.varint()
        opsets = []
        for _ in range(c.items("opset count", 2)):
            domain = self.text(c)
            opsets.append(onnx.helper.make_opsetid(domain, c.varint()))
        graph = self.graph(c, 0)
        c.context = "section GRPH"
        c.expect_end()
        return ir_version, opsets, graph

    def graph(self, c, depth):
        if depth >= MAX_DEPTH:
            raise c.fail(f"subgraphs nested deeper than {MAX_DEPTH}")
        g = GraphProto()
        set_text(g, "name", self.text(c))
        context = "section GRPH" if depth == 0 else f"section GRPH, subgraph '{g.name}'"
        c.context = context
        g.input.extend(self.value(c) for _ in range(c.items("input count", 2)))
        g.output.extend(self.value(c) for _ in range(c.items("output count", 2)))
        g.initializer.extend(self.tensor(c) for _ in range(c.items("initializer count")))
        g.sparse_initializer.extend(self.sparse(c) for _ in range(c.items("sparse initializer count", 3)))
        for index in range(c.items("node count", 5)):
            c.context = f"{context}, node {index}"
            g.node.append(self.node(c, depth))
            c.context = context
        return g

    def node(self, c, depth):
        code = c.varint()
        n = NodeProto()
        if code == 0:
            set_text(n, "domain", self.text(c))
            n.op_type = self.text(c)
        elif code <= len(OPS):
            n.op_type = OPS[code - 1]
        else:
            raise c.fail(f"op code {code} is unknown to this reader (it knows 1...{len(OPS)})")
        set_text(n, "name", self.text(c))
        n.input.extend(self.text(c) for _ in range(c.items("input count")))
        n.output.extend(self.text(c) for _ in range(c.items("output count")))
        for _ in range(c.items("attribute count", 3)):
            n.attribute.append(self.attribute(c, depth))
        return n

    def attribute(self, c, depth):
        a = AttributeProto(name=self.text(c))
        kind = c.varint()
        if kind == 1:
            a.f = c.f32()
        elif kind == 2:
            a.i = c.svarint()
        elif kind == 3:
            a.s = self.string(c)
        elif kind == 4:
            a.t.CopyFrom(self.tensor(c))
        elif kind == 5:
            a.g.CopyFrom(self.graph(c, depth + 1))
        elif kind == 6:
            a.floats.extend(c.f32() for _ in range(c.items("list length", 4)))
        elif kind == 7:
            a.ints.extend(c.svarint() for _ in range(c.items("list length")))
        elif kind == 8:
            a.strings.extend(self.string(c) for _ in range(c.items("list length")))
        elif kind == 9:
            a.tensors.extend(self.tensor(c) for _ in range(c.items("list length")))
        elif kind == 10:
            a.graphs.extend(self.graph(c, depth + 1) for _ in range(c.items("list length", 6)))
        elif kind == 11:
            a.sparse_tensor.CopyFrom(self.sparse(c))
        elif kind == 12:
            a.sparse_tensors.extend(self.sparse(c) for _ in range(c.items("list length", 3)))
        elif kind == 13:
            a.tp.CopyFrom(self.required_type(c))
        elif kind == 14:
            a.type_protos.extend(self.required_type(c) for _ in range(c.items("list length")))
        else:
            raise c.fail(f"attribute '{a.name}' has unknown kind {kind}")
        a.type = kind  # ONNX AttributeProto.AttributeType numbering
        return a

    def sparse(self, c):
        s = SparseTensorProto()
        s.values.CopyFrom(self.tensor(c))
        s.indices.CopyFrom(self.tensor(c))
        s.dims.extend(self.shape(c))
        return s

    def value(self, c):
        name = self.text(c)
        v = onnx.ValueInfoProto(name=name)
        t = self.type(c)
        if t is not None:
            v.type.CopyFrom(t)
        return v

    def required_type(self, c):
        t = self.type(c)
        if t is None:
            raise c.fail("a type is missing")
        return t

    def type(self, c):
        tag = c.varint()
        if tag == 0:
            return None
        if tag == 1:
            t = TypeProto()
            t.tensor_type.elem_type = self.element_type(c, allow_undefined=True)
            rank_plus_one = c.count("rank", min(MAX_RANK + 1, c.remaining + 1))
            if rank_plus_one:
                t.tensor_type.shape.SetInParent()  # rank 0 (a scalar) still has a shape
                for _ in range(rank_plus_one - 1):
                    d = c.varint()
                    dim = t.tensor_type.shape.dim.add()
                    if d == 1:
                        dim.dim_param = self.text(c)
                    elif d >= 2:
                        if d - 2 > MAX_DIM:
                            raise c.fail(f"dimension {d - 2} is too large")
                        dim.dim_value = d - 2
            return t
        if tag == 2:
            try:
                return TypeProto.FromString(self.string(c))
            except Exception as error:
                raise c.fail(f"opaque type is not an ONNX TypeProto ({error})")
        raise c.fail(f"unknown type tag {tag}")

    # -- metadata ------------------------------------------------------------------------------

    def read_metadata(self, graph):
        c = self.cursor("META")
        entries = []
        for _ in range(c.items("entry count", 2)):
            key = self.text(c)
            entries.append((key, self.text(c)))
        inputs = [self.value(c) for _ in range(c.items("input count", 2))]
        outputs = [self.value(c) for _ in range(c.items("output count", 2))]
        c.expect_end()
        constant = {t.name for t in graph.initializer} | {s.values.name for s in graph.sparse_initializer}
        runtime_inputs = [v for v in graph.input if v.name not in constant]
        if inputs != runtime_inputs or outputs != list(graph.output):
            raise c.fail("the input/output signatures differ from the graph's inputs and outputs")
        return entries

    # -- the whole file ------------------------------------------------------------------------

    def read(self):
        self.read_header()
        self.read_strings()
        self.read_tensors()
        self.check_padding()
        ir_version, opsets, graph = self.read_graph()
        entries = self.read_metadata(graph)
        check_graph(graph, set())

        model = ModelProto(ir_version=ir_version, graph=graph)
        model.opset_import.extend(opsets)
        producer = next((value for key, value in entries if key == PRODUCER_KEY), None)
        if producer is not None:  # "Pare 0.1.0": name and version, split at the first space
            name, _, version = producer.partition(" ")
            set_text(model, "producer_name", name)
            set_text(model, "producer_version", version)
        for key, value in entries:
            if key != PRODUCER_KEY:
                model.metadata_props.add(key=key, value=value)
        return model


def set_text(message, field, value):
    """Sets an optional string field only when non-empty, as ONNX writers do (the value is the same)."""
    if value:
        setattr(message, field, value)


def zstd_decode(blob, expected, name):
    try:
        import zstandard
    except ImportError:
        raise PareError(f"tensor '{name}' is zstd-compressed; install the Python module 'zstandard' to read it")
    try:
        declared = zstandard.frame_content_size(blob)
    except zstandard.ZstdError:
        raise PareError(f"tensor '{name}': not a zstd frame")
    if declared < 0:
        raise PareError(f"tensor '{name}': zstd frame does not record its content size")
    if declared != expected:
        raise PareError(f"tensor '{name}': zstd frame holds {declared} bytes, expected {expected}")
    try:
        out = zstandard.ZstdDecompressor().decompress(blob, max_output_size=expected, allow_extra_data=False)
    except zstandard.ZstdError as error:
        raise PareError(f"tensor '{name}': zstd: {error}")
    if len(out) != expected:
        raise PareError(f"tensor '{name}': zstd frame decoded to {len(out)} bytes, expected {expected}")
    return out


def check_graph(graph, outer):
    """Each value defined once; every node input, subgraph read and graph output defined."""
    defined = set()

    def define(name, what):
        if name and name in defined:
            raise PareError(f"graph '{graph.name}': '{name}' is defined twice (again by {what})")
        if name:
            defined.add(name)

    for t in graph.initializer:
        define(t.name, "an initializer")
    for s in graph.sparse_initializer:
        define(s.values.name, "a sparse initializer")
    seen_inputs = set()
    for v in graph.input:
        if v.name in seen_inputs:
            raise PareError(f"graph '{graph.name}': input '{v.name}' is listed twice")
        seen_inputs.add(v.name)
        if v.name not in defined:  # an input may repeat an initializer's name (its default)
            define(v.name, "a graph input")
    for n in graph.node:
        for o in n.output:
            define(o, f"node '{n.name or n.op_type}'")
    visible = outer | defined
    for n in graph.node:
        for i in n.input:
            if i and i not in visible:
                raise PareError(f"graph '{graph.name}': node '{n.name or n.op_type}' reads '{i}', which nothing defines")
        for g in subgraphs(n):
            check_graph(g, visible)
    for o in graph.output:
        if o.name not in visible:
            raise PareError(f"graph '{graph.name}': output '{o.name}' is not defined")
    check_acyclic(graph)


def subgraphs(node):
    for a in node.attribute:
        if a.type == AttributeProto.GRAPH:
            yield a.g
        elif a.type == AttributeProto.GRAPHS:
            yield from a.graphs


def outer_reads(graph):
    """Names a subgraph's nodes (and theirs) read that the subgraph does not define itself."""
    defined = {t.name for t in graph.initializer} | {s.values.name for s in graph.sparse_initializer}
    defined |= {v.name for v in graph.input} | {o for n in graph.node for o in n.output}
    reads = set()
    for n in graph.node:
        reads.update(i for i in n.input if i)
        for g in subgraphs(n):
            reads |= outer_reads(g)
    reads.update(o.name for o in graph.output)
    return reads - defined


def check_acyclic(graph):
    """The nodes can be ordered so that each comes after the producers of what it reads (any order
    in the file is accepted; Pare writes them in topological order)."""
    producer = {o: i for i, n in enumerate(graph.node) for o in n.output if o}
    waiting, consumers = [0] * len(graph.node), {}
    for i, n in enumerate(graph.node):
        reads = {x for x in n.input if x}
        for g in subgraphs(n):
            reads |= outer_reads(g)
        for x in reads:
            if x in producer:
                waiting[i] += 1
                consumers.setdefault(producer[x], []).append(i)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    placed = 0
    while ready:
        i = ready.pop()
        placed += 1
        for j in consumers.get(i, []):
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
    if placed < len(graph.node):
        stuck = [graph.node[i].name or graph.node[i].op_type for i, w in enumerate(waiting) if w > 0]
        raise PareError(f"graph '{graph.name}': the nodes form a cycle through {', '.join(stuck)}")


def read_pare(path, verify_tensor_data=True):
    with open(path, "rb") as f:
        data = memoryview(f.read())
    return PareReader(data, verify_tensor_data).read()


def main():
    if len(sys.argv) != 3:
        print("usage: pare_to_onnx.py in.pare out.onnx", file=sys.stderr)
        sys.exit(2)
    try:
        model = read_pare(sys.argv[1])
    except PareError as error:
        print(f"pare_to_onnx: {sys.argv[1]}: {error}", file=sys.stderr)
        sys.exit(1)
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
