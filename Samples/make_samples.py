#!/usr/bin/env python3
"""Builds Pare's ONNX test fixtures, their reference data and their expected counts.

Run from the repository root:  python Samples/make_samples.py
Everything is written next to this file. Needs onnx, onnxruntime, numpy and (for the torch
exports) torch. The figures in counts.json follow docs/counting.md and are computed here,
independently of Pare's Swift code: by walking each graph with shapes from ONNX shape inference
(checked against the shapes onnxruntime actually produces), and, for the U-Nets, also from the
layer formulas alone.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
OPSET = 17
IR_VERSION = 8


# ---------------------------------------------------------------------------------------------
# Graph building
# ---------------------------------------------------------------------------------------------

class GraphBuilder:
    """Accumulates nodes and initializers; every layer helper returns its output name."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []
        self._counts = {}

    def fresh(self, prefix):
        n = self._counts.get(prefix, 0)
        self._counts[prefix] = n + 1
        return f"{prefix}_{n}"

    def const(self, prefix, array):
        name = self.fresh(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, outputs=None, **attrs):
        outputs = outputs or [self.fresh(op_type.lower())]
        self.nodes.append(helper.make_node(op_type, inputs, outputs,
                                           name=self.fresh("n_" + op_type), **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    # -- learned layers ------------------------------------------------------------------------

    def he_normal(self, shape, fan_in):
        return (self.rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(np.float32)

    def small(self, shape, scale=0.05):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def conv(self, x, cin, cout, k, stride=1, pad=None, group=1, bias=True, out=None):
        pad = k // 2 if pad is None else pad
        w = self.const("conv_w", self.he_normal((cout, cin // group, k, k), cin // group * k * k))
        inputs = [x, w] + ([self.const("conv_b", self.small((cout,)))] if bias else [])
        return self.op("Conv", inputs, [out] if out else None, kernel_shape=[k, k],
                       strides=[stride, stride], pads=[pad] * 4, group=group)

    def conv_transpose(self, x, cin, cout, k=2, stride=2):
        # Each output pixel of a k=stride transposed conv sees exactly one tap per input channel.
        w = self.const("convT_w", self.he_normal((cin, cout, k, k), cin))
        b = self.const("convT_b", self.small((cout,)))
        return self.op("ConvTranspose", [x, w, b], kernel_shape=[k, k], strides=[stride, stride])

    def batch_norm(self, x, c):
        # Non-trivial statistics so that a wrong BN implementation cannot pass by accident.
        gamma = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        beta = self.small((c,), 0.1)
        mean = self.small((c,), 0.1)
        var = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        names = [self.const(p, a) for p, a in
                 (("bn_gamma", gamma), ("bn_beta", beta), ("bn_mean", mean), ("bn_var", var))]
        return self.op("BatchNormalization", [x] + names, epsilon=1e-5)

    def gemm(self, x, k, n, out=None):
        w = self.const("fc_w", self.he_normal((n, k), k))
        b = self.const("fc_b", self.small((n,)))
        return self.op("Gemm", [x, w, b], [out] if out else None, transB=1)

    def relu(self, x):
        return self.op("Relu", [x])

    def model(self, name, inputs, outputs):
        """inputs/outputs: lists of (name, shape)."""
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
            initializer=self.initializers)
        return make_model(graph)


def point_to_external_data(tensor, location, offset, length):
    """Turns a TensorProto into a reference to `length` bytes at `offset` of file `location`."""
    tensor.ClearField("raw_data")
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        tensor.external_data.add(key=key, value=str(value))
    tensor.data_location = TensorProto.EXTERNAL


def make_model(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="pare-samples")
    model.ir_version = IR_VERSION
    return model


# ---------------------------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------------------------

def build_unet_thesis():
    """Compressed U-Net of the thesis: 2 poolings, base 8 channels, 1x3x320x480 -> 1x1x320x480."""
    g = GraphBuilder(seed=1)
    x, cin, skips = "input", 3, []
    widths = [8, 16, 32]

    def double_conv(x, cin, cout):
        x = g.relu(g.conv(x, cin, cout, 3))
        return g.relu(g.conv(x, cout, cout, 3))

    for c in widths[:-1]:
        x = double_conv(x, cin, c)
        skips.append((x, c))
        x = g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
        cin = c
    x = double_conv(x, cin, widths[-1])
    cin = widths[-1]
    for skip, c in reversed(skips):
        up = g.conv_transpose(x, cin, c)
        x = g.op("Concat", [skip, up], axis=1)
        x = double_conv(x, 2 * c, c)
        cin = c
    y = g.conv(x, cin, 1, 1)
    g.op("Sigmoid", [y], ["output"])
    return g.model("unet_thesis", [("input", [1, 3, 320, 480])], [("output", [1, 1, 320, 480])])


def build_resnet_mini():
    g = GraphBuilder(seed=2)

    def conv_bn(x, cin, cout, k, stride=1):
        return g.batch_norm(g.conv(x, cin, cout, k, stride, bias=False), cout)

    def basic_block(x, cin, cout, stride):
        y = g.relu(conv_bn(x, cin, cout, 3, stride))
        y = conv_bn(y, cout, cout, 3)
        shortcut = x if (cin == cout and stride == 1) else conv_bn(x, cin, cout, 1, stride)
        return g.relu(g.op("Add", [y, shortcut]))

    x = g.relu(conv_bn("input", 3, 16, 3))
    x = basic_block(x, 16, 16, 1)
    x = basic_block(x, 16, 32, 2)  # stride-2 block with 1x1 projection shortcut
    x = basic_block(x, 32, 32, 1)
    x = g.op("GlobalAveragePool", [x])
    x = g.op("Flatten", [x], axis=1)
    g.gemm(x, 32, 10, out="output")
    return g.model("resnet_mini", [("input", [1, 3, 64, 64])], [("output", [1, 10])])


def build_mobilenet_mini():
    g = GraphBuilder(seed=3)
    # ReLU6 as opset-11+ Clip with min/max inputs; one pair shared by every Clip, so the
    # "each constant counted once" rule of parameters matters here.
    lo = g.const("relu6_min", np.array(0.0, np.float32))
    hi = g.const("relu6_max", np.array(6.0, np.float32))

    def conv_bn(x, cin, cout, k, stride=1, group=1, act=True):
        y = g.batch_norm(g.conv(x, cin, cout, k, stride, group=group, bias=False), cout)
        return g.op("Clip", [y, lo, hi]) if act else y

    def inverted_residual(x, cin, cout, stride, expand):
        hidden = cin * expand
        y = conv_bn(x, cin, hidden, 1)
        y = conv_bn(y, hidden, hidden, 3, stride, group=hidden)  # depthwise
        y = conv_bn(y, hidden, cout, 1, act=False)               # linear bottleneck
        return g.op("Add", [x, y]) if (stride == 1 and cin == cout) else y

    x = conv_bn("input", 3, 16, 3, 2)
    x = inverted_residual(x, 16, 16, 1, 4)
    x = inverted_residual(x, 16, 24, 2, 4)
    x = inverted_residual(x, 24, 24, 1, 4)
    x = conv_bn(x, 24, 64, 1)
    x = g.op("GlobalAveragePool", [x])
    x = g.op("Flatten", [x], axis=1)
    g.gemm(x, 64, 10, out="output")
    return g.model("mobilenet_mini", [("input", [1, 3, 64, 64])], [("output", [1, 10])])


def build_bisenet_attention():
    """BiSeNet attention refinement module followed by a 1x1 classifier head."""
    g = GraphBuilder(seed=4)
    feat = g.relu(g.batch_norm(g.conv("input", 3, 32, 3, bias=False), 32))
    att = g.op("GlobalAveragePool", [feat])
    att = g.batch_norm(g.conv(att, 32, 32, 1, bias=False), 32)
    att = g.op("Sigmoid", [att])
    x = g.op("Mul", [feat, att])  # broadcast 1x32x1x1 over 1x32x64x96
    g.conv(x, 32, 2, 1, out="output")
    return g.model("bisenet_attention", [("input", [1, 3, 64, 96])], [("output", [1, 2, 64, 96])])


def build_convnext_block():
    g = GraphBuilder(seed=5)
    c = 32
    stem = g.conv("input", 3, c, 4, stride=4, pad=0)                 # 1x32x16x16
    x = g.conv(stem, c, c, 7, pad=3, group=c)                         # depthwise 7x7
    x = g.op("Transpose", [x], perm=[0, 2, 3, 1])                     # NHWC
    ln_scale = g.const("ln_scale", g.rng.uniform(0.5, 1.5, c).astype(np.float32))
    ln_bias = g.const("ln_bias", g.small((c,), 0.1))
    x = g.op("LayerNormalization", [x, ln_scale, ln_bias], axis=-1, epsilon=1e-6)
    x = g.op("Add", [g.op("MatMul", [x, g.const("pw1_w", g.he_normal((c, 4 * c), c))]),
                     g.const("pw1_b", g.small((4 * c,)))])
    # GELU exactly as exporters write it: x * 0.5 * (1 + erf(x / sqrt(2)))
    sqrt2 = g.const("gelu_sqrt2", np.array(math.sqrt(2.0), np.float32))
    one = g.const("gelu_one", np.array(1.0, np.float32))
    half = g.const("gelu_half", np.array(0.5, np.float32))
    erf = g.op("Add", [g.op("Erf", [g.op("Div", [x, sqrt2])]), one])
    x = g.op("Mul", [g.op("Mul", [x, erf]), half])
    x = g.op("Add", [g.op("MatMul", [x, g.const("pw2_w", g.he_normal((4 * c, c), 4 * c))]),
                     g.const("pw2_b", g.small((c,)))])
    x = g.op("Transpose", [x], perm=[0, 3, 1, 2])                     # back to NCHW
    x = g.op("Add", [stem, x])
    head = g.conv(x, c, 2, 1)
    scales = g.const("resize_scales", np.array([1, 1, 4, 4], np.float32))
    g.op("Resize", [head, "", scales], ["output"], mode="linear",
         coordinate_transformation_mode="half_pixel")
    return g.model("convnext_block", [("input", [1, 3, 64, 64])], [("output", [1, 2, 64, 64])])


def build_constant_weights():
    """Weights in Constant nodes (no initializers) and a Shape->Gather->Unsqueeze->Concat reshape."""
    g = GraphBuilder(seed=6)

    def constant(prefix, array):
        return g.op("Constant", [], [g.fresh(prefix)], value=numpy_helper.from_array(array))

    def conv(x, cin, cout):
        w = constant("c_conv_w", g.he_normal((cout, cin, 3, 3), cin * 9))
        b = constant("c_conv_b", g.small((cout,)))
        return g.relu(g.op("Conv", [x, w, b], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4))

    x = conv(conv("input", 3, 8), 8, 8)                               # 1x8x8x8
    batch = g.op("Gather", [g.op("Shape", [x]), constant("c_idx", np.array(0, np.int64))], axis=0)
    batch = g.op("Unsqueeze", [batch, constant("c_axes", np.array([0], np.int64))])
    shape = g.op("Concat", [batch, constant("c_minus1", np.array([-1], np.int64))], axis=0)
    x = g.op("Reshape", [x, shape])                                   # 1x512
    w = constant("c_fc_w", g.he_normal((10, 512), 512))
    b = constant("c_fc_b", g.small((10,)))
    g.op("Gemm", [x, w, b], ["output"], transB=1)
    return g.model("constant_weights", [("input", [1, 3, 32, 32])], [("output", [1, 10])])


def build_external_data(directory):
    """Small conv net whose initializers all live in weights.bin at 64-byte aligned offsets."""
    g = GraphBuilder(seed=7)
    x = g.relu(g.conv("input", 3, 8, 3))
    g.conv(x, 8, 4, 3, out="output")
    model = g.model("external_data", [("input", [1, 3, 32, 32])], [("output", [1, 4, 32, 32])])
    blob = bytearray()
    for tensor in model.graph.initializer:
        while len(blob) % 64:  # gaps between tensors: a reader must honour the offsets
            blob.append(0)
        offset, data = len(blob), tensor.raw_data
        blob += data
        point_to_external_data(tensor, "weights.bin", offset, len(data))
    directory.mkdir(exist_ok=True)
    (directory / "weights.bin").write_bytes(bytes(blob))
    return model


def build_bad_fixtures(directory):
    """Valid protobuf, semantically broken: a 4x4 MatMul weight with unusable data."""
    directory.mkdir(exist_ok=True)

    def matmul_model(weight):
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["input", "w"], ["output"])], "bad",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
            initializer=[weight])
        return make_model(graph)

    def external_weight(location):
        t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 4])
        point_to_external_data(t, location, 0, 64)
        return t

    short = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 4])
    short.raw_data = np.arange(15, dtype="<f4").tobytes()  # 60 bytes, 64 needed
    fixtures = {
        "escape_parent.onnx": external_weight("../outside.bin"),
        "escape_absolute.onnx": external_weight("/etc/passwd"),
        "missing_external_file.onnx": external_weight("does_not_exist.bin"),
        "raw_data_length_mismatch.onnx": short,
    }
    for name, weight in fixtures.items():
        # Written as raw bytes: onnx.save would try to resolve the external data.
        (directory / name).write_bytes(matmul_model(weight).SerializeToString())
    return sorted(fixtures)


def build_torch_models(directory):
    """Exports one small torch module at opsets 11, 13 and 17 with a dynamic batch axis."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)

    def conv_bn_relu(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU())

    class TorchSample(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = conv_bn_relu(3, 16)
            self.res = nn.Sequential(conv_bn_relu(16, 16),
                                     nn.Conv2d(16, 16, 3, padding=1, bias=False),
                                     nn.BatchNorm2d(16))
            self.pool = nn.MaxPool2d(2)
            self.down = conv_bn_relu(16, 32)
            self.head = nn.Conv2d(48, 2, 1)

        def forward(self, x):
            skip = self.stem(x)
            skip = F.relu(skip + self.res(skip))
            y = self.down(self.pool(skip))
            y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
            return self.head(torch.cat([skip, y], dim=1))

    model = TorchSample()
    with torch.no_grad():  # non-trivial BN statistics, like the hand-built models
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    dummy = torch.randn(1, 3, 64, 64)
    names = []
    for opset in (11, 13, 17):
        name = f"torch_opset{opset}.onnx"
        torch.onnx.export(model, (dummy,), str(directory / name), dynamo=False,
                          opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        names.append(name)
    return names


# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------

def static_input_shapes(model, batch=1):
    """Graph input shapes, with any symbolic dimension (the torch batch axis) set to `batch`."""
    inits = {t.name for t in model.graph.initializer}
    return {i.name: [d.dim_value if d.HasField("dim_value") else batch
                     for d in i.type.tensor_type.shape.dim]
            for i in model.graph.input if i.name not in inits}


def write_reference_data(path, seed, batch=1):
    """Random normal inputs and onnxruntime outputs, saved uncompressed with np.savez."""
    model = onnx.load(str(path), load_external_data=False)
    rng = np.random.default_rng(seed)
    inputs = {n: rng.standard_normal(s).astype(np.float32)
              for n, s in static_input_shapes(model, batch).items()}
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(names, inputs)))
    stem = path.with_suffix("")
    np.savez(f"{stem}.inputs.npz", **inputs)
    np.savez(f"{stem}.outputs.npz", **{k: v.astype(np.float32) for k, v in outputs.items()})
    return outputs


# ---------------------------------------------------------------------------------------------
# Counting, per docs/counting.md
# ---------------------------------------------------------------------------------------------

ELEMENTWISE = {
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Neg", "Abs", "Reciprocal", "Sqrt", "Exp", "Log",
    "Erf", "Tanh", "Sigmoid", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu",
    "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish", "Sin", "Cos", "Clip", "Where",
    "Floor", "Ceil", "Round", "Sign", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
    "Not", "And", "Or", "Xor",
}
VARIADIC = {"Sum", "Mean", "Max", "Min"}  # k inputs: k - 1 per output element
DATA_MOVEMENT = {
    "Reshape", "Transpose", "Concat", "Slice", "Gather", "Pad", "Split", "Flatten", "Squeeze",
    "Unsqueeze", "Cast", "Identity", "Dropout", "Shape", "Constant", "Expand", "Tile",
    "DepthToSpace", "SpaceToDepth",
}
PER_OUTPUT = {"BatchNormalization": 2, "LayerNormalization": 7, "InstanceNormalization": 7,
              "Softmax": 3, "LogSoftmax": 3}


def prod(values):
    return int(np.prod([int(v) for v in values], dtype=np.int64)) if len(values) else 1


def itemsize(elem_type):
    return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize


def is_float(elem_type):
    return elem_type == TensorProto.BFLOAT16 or \
        np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).kind == "f"


def constant_tensors(graph):
    """name -> (dims, elem_type) for initializers, sparse initializers and Constant nodes."""
    consts = {t.name: (list(t.dims), t.data_type) for t in graph.initializer}
    for s in graph.sparse_initializer:
        consts[s.values.name] = (list(s.dims), s.values.data_type)
    for node in graph.node:
        if node.op_type != "Constant":
            continue
        attr = node.attribute[0]
        if attr.name == "value":
            consts[node.output[0]] = (list(attr.t.dims), attr.t.data_type)
        elif attr.name in ("value_float", "value_int"):
            consts[node.output[0]] = ([], TensorProto.FLOAT if attr.name == "value_float"
                                      else TensorProto.INT64)
        elif attr.name in ("value_floats", "value_ints"):
            values = attr.floats if attr.name == "value_floats" else attr.ints
            consts[node.output[0]] = ([len(values)], TensorProto.FLOAT
                                      if attr.name == "value_floats" else TensorProto.INT64)
        else:
            raise ValueError(f"unsupported Constant attribute {attr.name}")
    return consts


def with_input_shapes(model, input_shapes):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for i in m.graph.input:
        if i.name in input_shapes:
            for d, v in zip(i.type.tensor_type.shape.dim, input_shapes[i.name]):
                d.Clear()
                d.dim_value = v
    return m


def tensor_types(model, input_shapes, model_dir):
    """name -> (shape, elem_type) of every non-constant tensor, from ONNX shape inference,
    cross-checked against what onnxruntime actually produces for the same input shapes."""
    m = with_input_shapes(model, input_shapes)
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    types = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + \
            list(inferred.graph.input):
        tt = vi.type.tensor_type
        if all(d.HasField("dim_value") for d in tt.shape.dim) and tt.HasField("shape"):
            types[vi.name] = ([d.dim_value for d in tt.shape.dim], tt.elem_type)

    observed = run_all_tensors(m, input_shapes, model_dir)
    for name, array in observed.items():
        want = (list(array.shape), helper.np_dtype_to_tensor_dtype(array.dtype))
        if name in types and types[name] != want:
            raise AssertionError(f"shape inference {types[name]} != onnxruntime {want} for {name}")
        types[name] = want
    return types


def run_all_tensors(model, input_shapes, model_dir):
    """Runs the model with every node output (but Constant outputs) exposed as a graph output."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    existing = {o.name for o in m.graph.output}
    for node in m.graph.node:
        if node.op_type == "Constant":
            continue
        for out in node.output:
            if out and out not in existing:
                m.graph.output.append(onnx.ValueInfoProto(name=out))
                existing.add(out)
    if any(t.data_location == TensorProto.EXTERNAL for t in m.graph.initializer):
        # Let onnxruntime resolve weights.bin relative to the original model's folder.
        onnx.load_external_data_for_model(m, str(model_dir))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(m.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {n: rng.standard_normal(s).astype(np.float32) for n, s in input_shapes.items()}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def node_cost(node, shape):
    """(macs, flops) of one node; `shape(name)` gives any tensor's shape. None: not counted."""
    op, ins = node.op_type, [i for i in node.input]
    has = lambda k: len(ins) > k and ins[k] != ""  # noqa: E731  optional input present
    out = shape(node.output[0])
    out_elems = prod(out)

    if op == "Conv":
        w = shape(ins[1])  # [Cout, Cin/group, k...]
        macs = prod(w[2:]) * w[1] * w[0] * out[0] * prod(out[2:])
        return macs, 2 * macs + (out_elems if has(2) else 0)
    if op == "ConvTranspose":
        x, w = shape(ins[0]), shape(ins[1])  # w: [Cin, Cout/group, k...]
        macs = prod(w[2:]) * w[0] * w[1] * x[0] * prod(x[2:])
        return macs, 2 * macs + (out_elems if has(2) else 0)
    if op == "Gemm":
        a = shape(ins[0])
        m_, k_ = (a[1], a[0]) if attr(node, "transA", 0) else (a[0], a[1])
        n_ = out[1]
        macs = m_ * k_ * n_
        return macs, 2 * macs + (out_elems if has(2) else 0)
    if op == "MatMul":
        a, b = shape(ins[0]), shape(ins[1])
        k_ = a[-1]
        m_ = a[-2] if len(a) > 1 else 1
        n_ = b[-1] if len(b) > 1 else 1
        batch = prod(np.broadcast_shapes(tuple(a[:-2]), tuple(b[:-2])))
        macs = batch * m_ * k_ * n_
        return macs, 2 * macs
    if op in ELEMENTWISE:
        return 0, out_elems
    if op in VARIADIC:
        return 0, (len([i for i in ins if i]) - 1) * out_elems
    if op in PER_OUTPUT:
        return 0, PER_OUTPUT[op] * out_elems
    if op in ("MaxPool", "AveragePool"):
        return 0, prod(attr(node, "kernel_shape")) * out_elems
    if op in ("GlobalAveragePool", "GlobalMaxPool") or op.startswith("Reduce"):
        return 0, prod(shape(ins[0]))
    if op in ("Resize", "Upsample"):
        mode = attr(node, "mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        resized = sum(1 for i, o in zip(shape(ins[0]), out) if i != o)
        per = {"nearest": 0, "linear": 2 * 2 ** resized, "cubic": 2 * 4 ** resized}[mode]
        return 0, per * out_elems
    if op in DATA_MOVEMENT:
        return 0, 0
    return None


def simulate_peak(steps, nbytes, graph_inputs, graph_outputs):
    """Peak of live activation bytes. steps: (inputs, outputs) per node in graph order, with
    constants already removed. A tensor lives from its producer (graph inputs: from the start)
    to its last consumer; the sum is taken after a node's outputs exist and before its dead
    inputs are freed. Graph outputs are never freed; a produced tensor nobody reads dies right
    after its own step."""
    last_use = {}
    for i, (ins, _) in enumerate(steps):
        for t in ins:
            last_use[t] = i
    live = set(graph_inputs)
    current = sum(nbytes[t] for t in live)
    peak = current
    for i, (ins, outs) in enumerate(steps):
        for t in outs:
            if t not in live:
                live.add(t)
                current += nbytes[t]
        peak = max(peak, current)
        for t in set(ins) | set(outs):
            if t in live and t not in graph_outputs and last_use.get(t, i) == i:
                live.remove(t)
                current -= nbytes[t]
    return peak


def count_model(model, input_shapes, model_dir):
    graph = model.graph
    assert not any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                   for n in graph.node for a in n.attribute), "subgraphs are not handled"
    consts = constant_tensors(graph)
    types = tensor_types(model, input_shapes, model_dir)
    shape = lambda name: consts[name][0] if name in consts else types[name][0]  # noqa: E731

    float_consts = {n for n, (_, t) in consts.items() if is_float(t)}
    parameters = sum(prod(consts[n][0]) for n in float_consts)
    weight_bytes = sum(prod(d) * itemsize(t) for d, t in consts.values())
    weights = {node.input[1] for node in graph.node
               if node.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul")
               and node.input[1] in consts}
    weight_parameters = sum(prod(consts[n][0]) for n in weights)

    macs = flops = 0
    per_op, not_counted = {}, set()
    for node in graph.node:
        cost = node_cost(node, shape)
        if cost is None:
            not_counted.add(node.op_type)
            cost = (0, 0)
        entry = per_op.setdefault(node.op_type,
                                  {"count": 0, "macs": 0, "flops": 0, "parameters": 0})
        entry["count"] += 1
        entry["macs"] += cost[0]
        entry["flops"] += cost[1]
        entry["parameters"] += sum(prod(consts[n][0]) for n in set(node.input) if n in float_consts)
        macs += cost[0]
        flops += cost[1]

    # Activation memory: every tensor that is not a constant.
    nbytes = {n: prod(s) * itemsize(t) for n, (s, t) in types.items()}
    steps = [([i for i in n.input if i and i not in consts],
              [o for o in n.output if o and o not in consts]) for n in graph.node]
    peak = simulate_peak(steps, nbytes, [n for n in input_shapes if n not in consts],
                         {o.name for o in graph.output})

    result = {
        "input_shapes": input_shapes,
        "parameters": parameters,
        "weight_parameters": weight_parameters,
        "weight_bytes": weight_bytes,
        "macs": macs,
        "flops": flops,
        "peak_activation_bytes": peak,
        "per_op_type": dict(sorted(per_op.items())),
    }
    if not_counted:
        result["not_counted"] = sorted(not_counted)
    return result


# ---------------------------------------------------------------------------------------------
# U-Net from the layer formulas alone (no ONNX graph)
# ---------------------------------------------------------------------------------------------

def unet_formula(in_ch, base, poolings, h, w, classes=1, convT_at_output_res=False):
    """Counts of the thesis-style U-Net straight from its layer list. Node order matches
    build_unet_thesis, so the activation peak can be simulated the same way.
    convT_at_output_res reproduces the thesis table's (4x too high) transposed-conv MACs."""
    per_op = {}
    steps, nbytes = [], {"input": in_ch * h * w * 4}
    totals = {"parameters": 0, "weight_parameters": 0, "macs": 0, "flops": 0}

    def layer(op, inputs, c, hh, ww, macs=0, flops=0, weights=0, params=0):
        name = f"t{len(steps)}"
        nbytes[name] = c * hh * ww * 4
        steps.append((inputs, [name]))
        e = per_op.setdefault(op, {"count": 0, "macs": 0, "flops": 0, "parameters": 0})
        e["count"] += 1
        for key, v in (("macs", macs), ("flops", flops), ("parameters", params)):
            e[key] += v
        for key, v in (("parameters", params), ("weight_parameters", weights),
                       ("macs", macs), ("flops", flops)):
            totals[key] += v
        return name

    def conv(x, cin, cout, k, hh, ww):
        kw = k * k * cin * cout
        macs = kw * hh * ww
        return layer("Conv", [x], cout, hh, ww, macs, 2 * macs + cout * hh * ww, kw, kw + cout)

    def relu(x, c, hh, ww):
        return layer("Relu", [x], c, hh, ww, flops=c * hh * ww)

    def double_conv(x, cin, cout, hh, ww):
        x = relu(conv(x, cin, cout, 3, hh, ww), cout, hh, ww)
        return relu(conv(x, cout, cout, 3, hh, ww), cout, hh, ww)

    x, cin, hh, ww, skips = "input", in_ch, h, w, []
    widths = [base * 2 ** i for i in range(poolings + 1)]
    for c in widths[:-1]:
        x = double_conv(x, cin, c, hh, ww)
        skips.append((x, c))
        hh, ww = hh // 2, ww // 2
        x = layer("MaxPool", [x], c, hh, ww, flops=4 * c * hh * ww)
        cin = c
    x = double_conv(x, cin, widths[-1], hh, ww)
    cin = widths[-1]
    for skip, c in reversed(skips):
        kw = 4 * cin * c  # 2x2 kernel
        macs = kw * (4 if convT_at_output_res else 1) * hh * ww
        hh, ww = hh * 2, ww * 2
        up = layer("ConvTranspose", [x], c, hh, ww, macs, 2 * macs + c * hh * ww, kw, kw + c)
        x = layer("Concat", [skip, up], 2 * c, hh, ww)
        x = double_conv(x, 2 * c, c, hh, ww)
        cin = c
    x = conv(x, cin, classes, 1, hh, ww)
    out = layer("Sigmoid", [x], classes, hh, ww, flops=classes * hh * ww)
    peak = simulate_peak(steps, nbytes, ["input"], {out})
    return {
        "input_shapes": {"input": [1, in_ch, h, w]},
        "parameters": totals["parameters"],
        "weight_parameters": totals["weight_parameters"],
        "weight_bytes": 4 * totals["parameters"],
        "macs": totals["macs"],
        "flops": totals["flops"],
        "peak_activation_bytes": peak,
        "per_op_type": dict(sorted(per_op.items())),
    }


def check_unet_formulas(graph_counts):
    """The formula code must agree with the graph walk on the thesis model and reproduce the
    published figures (31,024,896 weights, 112.89 G MACs) for the 4-pooling, 64-channel U-Net."""
    small = unet_formula(3, 8, 2, 320, 480)
    for key in small:
        assert small[key] == graph_counts[key], (key, small[key], graph_counts[key])

    big = unet_formula(3, 64, 4, 320, 480)
    thesis_macs = unet_formula(3, 64, 4, 320, 480, convT_at_output_res=True)["macs"]
    print(f"unet4_64 (formula): weight_parameters={big['weight_parameters']:,} "
          f"parameters={big['parameters']:,} macs={big['macs']:,} flops={big['flops']:,} "
          f"thesis-convention macs={thesis_macs:,}")
    assert big["weight_parameters"] == 31_024_896, big["weight_parameters"]
    assert round(big["macs"] / 1e9, 2) == 112.89, big["macs"]
    # Not asserted: counting.md quotes 128.07 G for this convention, the layer list gives
    # 127.99 G (the remaining 78.6 M is not explained by the transposed convolutions).
    big["macs_convtranspose_at_output_res"] = thesis_macs
    return big


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

def build_ir_features():
    """IR features the vision samples lack, written by onnx's own Python API rather than by Pare:
    an If with subgraphs that read outer-scope values, a model-local function, a sparse
    initializer, value_info, doc strings and metadata on model, graph and node."""
    rng = np.random.default_rng(7)
    dense = np.zeros((8, 8), np.float32)
    picks = rng.choice(64, 10, replace=False)
    dense.flat[picks] = rng.standard_normal(10).astype(np.float32)
    sparse = helper.make_sparse_tensor(
        numpy_helper.from_array(dense.flat[np.sort(picks)].astype(np.float32), "sparse_w"),
        numpy_helper.from_array(np.sort(picks).astype(np.int64), "sparse_w_indices"), [8, 8])
    domain = "com.pare.samples"
    # ScaledAdd(a, b) = a * a + b, as a model-local function.
    function = helper.make_function(
        domain, "SquareAdd", ["a", "b"], ["y"],
        [helper.make_node("Mul", ["a", "a"], ["sq"]), helper.make_node("Add", ["sq", "b"], ["y"])],
        opset_imports=[helper.make_opsetid("", OPSET)])
    then_branch = helper.make_graph(
        [helper.make_node("Relu", ["mixed"], ["then_out"])], "then_branch", [],
        [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, [1, 4, 8, 8])])
    else_branch = helper.make_graph(
        [helper.make_node("Neg", ["mixed"], ["else_out"])], "else_branch", [],
        [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, [1, 4, 8, 8])])
    nodes = [
        helper.make_node("MatMul", ["input", "sparse_w"], ["mixed"], name="sparse_matmul",
                         doc_string="multiplies by a sparse initializer"),
        helper.make_node("ReduceSum", ["input"], ["total"], keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"]),
        helper.make_node("If", ["positive"], ["branched"], then_branch=then_branch, else_branch=else_branch),
        helper.make_node("SquareAdd", ["branched", "input"], ["output"], domain=domain),
    ]
    nodes[0].metadata_props.add(key="note", value="node metadata survives")
    graph = helper.make_graph(
        nodes, "ir_features", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 8, 8])],
        [numpy_helper.from_array(np.array(0.0, np.float32), "zero")], doc_string="graph doc string",
        value_info=[helper.make_tensor_value_info("mixed", TensorProto.FLOAT, [1, 4, 8, 8])],
        sparse_initializer=[sparse])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(domain, 1)],
                              ir_version=IR_VERSION, functions=[function], doc_string="model doc string",
                              producer_name="make_samples.py")
    helper.set_model_props(model, {"purpose": "IR features round trip", "author": "Pare samples"})
    return model


def verify(path, max_bytes, full_check=True):
    """Checker, onnxruntime load and size limit for one written model."""
    onnx.checker.check_model(str(path), full_check=full_check)
    ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    size = path.stat().st_size
    assert size < max_bytes, f"{path.name} is {size} bytes"


def main():
    counts = {}
    builders = [
        ("unet_thesis.onnx", build_unet_thesis),
        ("resnet_mini.onnx", build_resnet_mini),
        ("mobilenet_mini.onnx", build_mobilenet_mini),
        ("bisenet_attention.onnx", build_bisenet_attention),
        ("convnext_block.onnx", build_convnext_block),
        ("constant_weights.onnx", build_constant_weights),
        ("external_data/model.onnx", lambda: build_external_data(HERE / "external_data")),
    ]
    for seed, (name, build) in enumerate(builders, start=100):
        path = HERE / name
        model = build()
        path.write_bytes(model.SerializeToString())
        verify(path, 2_000_000)
        write_reference_data(path, seed)
        counts[name] = count_model(model, static_input_shapes(model), path.parent)
        print(f"wrote {name}")

    # Not counted: its If and local function are beyond counts.json's graph walk.
    path = HERE / "ir_features.onnx"
    path.write_bytes(build_ir_features().SerializeToString())
    verify(path, 100_000, full_check=False)  # onnx's shape inference ignores sparse initializers
    write_reference_data(path, 150)
    print("wrote ir_features.onnx")

    bad = build_bad_fixtures(HERE / "bad")
    print("wrote bad/" + ", bad/".join(bad))

    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("torch is not importable: skipping torch_opset*.onnx", file=sys.stderr)
    if have_torch:
        for seed, name in enumerate(build_torch_models(HERE), start=200):
            path = HERE / name
            verify(path, 300_000)
            # Reference data at batch 2 exercises the dynamic batch axis; counts use batch 1.
            write_reference_data(path, seed, batch=2)
            model = onnx.load(str(path))
            counts[name] = count_model(model, static_input_shapes(model, 1), HERE)
            print(f"wrote {name}")

    counts["unet4_64 (formula)"] = check_unet_formulas(counts["unet_thesis.onnx"])
    (HERE / "counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    print("wrote counts.json")


if __name__ == "__main__":
    main()
