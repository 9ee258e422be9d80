#!/usr/bin/env python3
"""Benchmarks Pare's CPU runtime against onnxruntime on U-Net, ResNet-50 and MobileNetV2.

Generates the models with onnx.helper (random He-init weights; ResNet-50 and MobileNetV2 keep
BatchNormalization nodes like real exports) into bench-output/, then for each thread count:
  - Pare: `convert run MODEL --random-inputs --seed 1 --threads N --repeat R` (median latency
    from its `latency: …` line on stderr);
  - onnxruntime with ORT_ENABLE_ALL (as users run it) and with ORT_DISABLE_ALL (no graph
    fusion, like Pare today), median of R runs after warm-up;
  - the peak RSS of each, every runtime measured in a child process of its own (the parent stays
    small: Linux carries a parent's RSS high-water mark into forked children).
It also builds a conv-only model per network (every Conv/ConvTranspose of the network, each fed
by an input of its own) to report achieved convolution GFLOP/s for both runtimes, against the
machine's sgemm peak (numpy float32 2048×2048 matmul at the same thread count).

Each case is measured in --rounds rounds that alternate the runtimes; the table keeps each
runtime's best median (a transient load on a shared machine only ever slows a round down).

Usage: bench_runtime.py path/to/convert [--threads 1,2] [--runs 20] [--rounds 3]
       [--models unet,resnet50,mobilenetv2]
       [--per-layer]   (also time every distinct conv/pool/gemm layer alone, both runtimes)
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench-output")
MODELS = ["unet", "resnet50", "mobilenetv2"]
TARGET = 1.5
OPSET = 17


# ---------------------------------------------------------------------------------------------
# Model generation (runs in a child process: onnx and numpy stay out of the parent).

class Builder:
    """Accumulates nodes and He-initialized weights."""

    def __init__(self, seed):
        import numpy as np
        self.np = np
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.counter = 0

    def name(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, prefix, array):
        from onnx import numpy_helper
        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(self.np.asarray(array, dtype=self.np.float32), n))
        return n

    def node(self, op, inputs, prefix, **attrs):
        from onnx import helper
        y = self.name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [y], **attrs))
        return y

    def conv(self, x, cin, cout, k, stride=1, group=1, bias=False):
        w = self.const("w", self.rng.normal(0, (2.0 / (cin // group * k * k)) ** 0.5, (cout, cin // group, k, k)))
        inputs = [x, w] + ([self.const("b", self.rng.normal(0, 0.01, cout))] if bias else [])
        return self.node("Conv", inputs, "conv", kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=group)

    def bn(self, x, c):
        rng = self.rng
        params = [self.const("bn", a) for a in (rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c),
                                                rng.normal(0, 0.1, c), rng.uniform(0.5, 1.5, c))]
        return self.node("BatchNormalization", [x] + params, "bn")

    def relu(self, x):
        return self.node("Relu", [x], "relu")

    def relu6(self, x):
        return self.node("Clip", [x, self.const("lo", 0.0), self.const("hi", 6.0)], "relu6")

    def classifier(self, x, c, classes=1000):
        p = self.node("GlobalAveragePool", [x], "gap")
        f = self.node("Flatten", [p], "flat", axis=1)
        w = self.const("fc", self.rng.normal(0, (1.0 / c) ** 0.5, (classes, c)))
        return self.node("Gemm", [f, w, self.const("fcb", self.np.zeros(classes))], "fc", transB=1)

    def model(self, name, input_shape, output, output_shape):
        from onnx import TensorProto, helper
        graph = helper.make_graph(
            self.nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="pare-bench")
        m.ir_version = 8
        return m


def resnet50():
    """ResNet-50 v1.5 (stride in the 3×3 of each bottleneck), 1×3×224×224, BatchNorm unfolded."""
    b = Builder(0)

    def conv_bn(x, cin, cout, k, stride, relu=True):
        y = b.bn(b.conv(x, cin, cout, k, stride), cout)
        return b.relu(y) if relu else y

    x = conv_bn("input", 3, 64, 7, 2)
    x = b.node("MaxPool", [x], "pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    cin = 64
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            s = stride if i == 0 else 1
            y = conv_bn(x, cin, width, 1, 1)
            y = conv_bn(y, width, width, 3, s)
            y = conv_bn(y, width, width * 4, 1, 1, relu=False)
            shortcut = conv_bn(x, cin, width * 4, 1, s, relu=False) if i == 0 else x
            x = b.relu(b.node("Add", [y, shortcut], "add"))
            cin = width * 4
    return b.model("resnet50", [1, 3, 224, 224], b.classifier(x, cin), [1, 1000])


def mobilenetv2():
    """MobileNetV2 1.0 (inverted residuals, ReLU6 as Clip), 1×3×224×224, BatchNorm unfolded."""
    b = Builder(1)

    def conv_bn(x, cin, cout, k, stride=1, group=1, relu6=True):
        y = b.bn(b.conv(x, cin, cout, k, stride, group), cout)
        return b.relu6(y) if relu6 else y

    x = conv_bn("input", 3, 32, 3, 2)
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = conv_bn(x, cin, hidden, 1) if t != 1 else x
            y = conv_bn(y, hidden, hidden, 3, stride, group=hidden)
            y = conv_bn(y, hidden, c, 1, relu6=False)
            x = b.node("Add", [x, y], "add") if stride == 1 and cin == c else y
            cin = c
    x = conv_bn(x, cin, 1280, 1)
    return b.model("mobilenetv2", [1, 3, 224, 224], b.classifier(x, 1280), [1, 1000])


def unet():
    """U-Net: 4 poolings, 16 base channels, 3×3 conv (bias) + ReLU pairs, ConvTranspose 2×2/2
    upsampling, skip Concat, 1×1 head with Sigmoid; 1×3×320×480."""
    b = Builder(2)

    def double_conv(x, cin, cout):
        x = b.relu(b.conv(x, cin, cout, 3, bias=True))
        return b.relu(b.conv(x, cout, cout, 3, bias=True))

    skips, x, cin = [], "input", 3
    for level in range(4):
        c = 16 << level
        x = double_conv(x, cin, c)
        skips.append((x, c))
        x = b.node("MaxPool", [x], "pool", kernel_shape=[2, 2], strides=[2, 2])
        cin = c
    x = double_conv(x, cin, 256)
    cin = 256
    for skip, c in reversed(skips):
        w = b.const("up", b.rng.normal(0, (2.0 / (cin * 4)) ** 0.5, (cin, c, 2, 2)))
        up = b.node("ConvTranspose", [x, w, b.const("upb", b.np.zeros(c))], "up", kernel_shape=[2, 2], strides=[2, 2])
        x = double_conv(b.node("Concat", [up, skip], "cat", axis=1), 2 * c, c)
        cin = c
    head = b.conv(x, cin, 1, 1, bias=True)
    return b.model("unet", [1, 3, 320, 480], b.node("Sigmoid", [head], "prob"), [1, 1, 320, 480])


def conv_layers(model):
    """Conv/ConvTranspose/pool/Gemm nodes with their inferred input shapes, and MACs per conv."""
    import onnx
    from onnx import shape_inference
    inferred = shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output)}
    inits = {t.name: t for t in model.graph.initializer}
    layers = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose", "MaxPool", "GlobalAveragePool", "Gemm"):
            continue
        x = shapes[node.input[0]]
        y = shapes[node.output[0]]
        macs = 0
        if node.op_type in ("Conv", "ConvTranspose"):
            w = list(inits[node.input[1]].dims)
            k = w[2] * w[3]
            spatial = y[2] * y[3] if node.op_type == "Conv" else x[2] * x[3]
            macs = k * w[0] * w[1] * spatial
        elif node.op_type == "Gemm":
            w = list(inits[node.input[1]].dims)
            macs = w[0] * w[1]
        layers.append({"node": node, "input": x, "output": y, "macs": macs})
    return layers


def conv_only_model(model, name):
    """Every Conv and ConvTranspose of `model`, each fed by an input of its own and reduced by a
    GlobalAveragePool (so its output lives in the runtime's reused memory rather than in a fresh
    graph output every run): its run time is the network's convolution time plus one cheap
    pass over each conv output."""
    import onnx
    from onnx import TensorProto, helper
    layers = [l for l in conv_layers(model) if l["node"].op_type in ("Conv", "ConvTranspose")]
    inits = {t.name: t for t in model.graph.initializer}
    nodes, graph_inputs, graph_outputs, used = [], [], [], []
    for i, layer in enumerate(layers):
        node = layer["node"]
        x = f"x{i}"
        graph_inputs.append(helper.make_tensor_value_info(x, TensorProto.FLOAT, layer["input"]))
        y, p = f"y{i}", f"p{i}"
        graph_outputs.append(helper.make_tensor_value_info(p, TensorProto.FLOAT, layer["output"][:2] + [1, 1]))
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.ClearField("input")
        copy.input.extend([x] + list(node.input[1:]))
        copy.ClearField("output")
        copy.output.append(y)
        nodes.append(copy)
        nodes.append(helper.make_node("GlobalAveragePool", [y], [p]))
        used.extend(inits[n] for n in node.input[1:] if n in inits)
    graph = helper.make_graph(nodes, name, graph_inputs, graph_outputs, used)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="pare-bench")
    m.ir_version = 8
    return m, sum(l["macs"] for l in layers)


def layer_models(model, prefix):
    """One model per distinct conv/pool/gemm layer (by op, attributes and shapes), with the
    number of times the network runs it."""
    import onnx
    from onnx import TensorProto, helper
    inits = {t.name: t for t in model.graph.initializer}
    distinct = {}
    for layer in conv_layers(model):
        node = layer["node"]
        w = [list(inits[n].dims) for n in node.input[1:] if n in inits]
        key = (node.op_type, str(sorted((a.name, str(helper.get_attribute_value(a))) for a in node.attribute)),
               str(layer["input"]), str(w))
        if key in distinct:
            distinct[key]["count"] += 1
            continue
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.ClearField("input")
        copy.input.extend(["x"] + list(node.input[1:]))
        copy.ClearField("output")
        copy.output.append("y")
        graph = helper.make_graph(
            [copy], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, layer["input"])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, layer["output"])],
            [inits[n] for n in node.input[1:] if n in inits])
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="pare-bench")
        m.ir_version = 8
        path = os.path.join(OUT, f"{prefix}-layer{len(distinct):02d}.onnx")
        onnx.save(m, path)
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        describe = f"{node.op_type} {'x'.join(map(str, layer['input'][1:]))}"
        if w:
            describe += f" w{'x'.join(map(str, w[0]))}"
        if attrs.get("strides", [1])[0] != 1:
            describe += f" s{attrs['strides'][0]}"
        if attrs.get("group", 1) != 1:
            describe += f" g{attrs['group']}"
        distinct[key] = {"path": path, "count": 1, "macs": layer["macs"], "describe": describe}
    return list(distinct.values())


def child_generate(names, per_layer):
    import onnx
    os.makedirs(OUT, exist_ok=True)
    builders = {"unet": unet, "resnet50": resnet50, "mobilenetv2": mobilenetv2}
    manifest = {}
    for name in names:
        model = builders[name]()
        onnx.checker.check_model(model)
        path = os.path.join(OUT, f"{name}.onnx")
        onnx.save(model, path)
        conv_model, macs = conv_only_model(model, f"{name}-convs")
        conv_path = os.path.join(OUT, f"{name}-convs.onnx")
        onnx.save(conv_model, conv_path)
        entry = {"path": path, "convs": conv_path, "conv_macs": macs}
        if per_layer:
            entry["layers"] = layer_models(model, name)
        manifest[name] = entry
    json.dump(manifest, sys.stdout)


# ---------------------------------------------------------------------------------------------
# Timing children.

def child_ort(path, threads, runs, level):
    import numpy as np
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    feeds = {i.name: rng.uniform(-1, 1, i.shape).astype(np.float32) for i in session.get_inputs()}
    for _ in range(3):
        session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"median": statistics.median(times), "min": min(times)}))


def child_peak(threads):
    """Sustained float32 matmul GFLOP/s through numpy's BLAS (OPENBLAS_NUM_THREADS set by the parent)."""
    import numpy as np
    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    print(json.dumps({"gflops": 2 * n ** 3 / min(times) / 1e9}))


# ---------------------------------------------------------------------------------------------
# Parent: spawns children and measures their peak RSS.

def run_child(argv, env=None):
    """Runs a child to completion; returns (stdout, stderr, peak RSS in MB). Output goes through
    temporary files so the child is reaped by wait4 (which reports its rusage) and never blocks."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}):\n{stderr[-3000:]}")
    return stdout, stderr, usage.ru_maxrss / 1024


LATENCY = re.compile(r"latency: min ([0-9.]+) ms, median ([0-9.]+) ms over (\d+) runs")


def time_pare(convert, path, threads, runs):
    _, err, rss = run_child([convert, "run", path, "--random-inputs", "--seed", "1", "--threads", str(threads), "--repeat", str(runs)])
    match = LATENCY.search(err)
    if not match:
        raise RuntimeError(f"no latency line from convert run {path}:\n{err[-2000:]}")
    return float(match.group(2)), rss


def time_ort(path, threads, runs, level):
    out, _, rss = run_child([sys.executable, __file__, "--child-ort", path, str(threads), str(runs), level])
    return json.loads(out)["median"], rss


def sgemm_peak(threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out, _, _ = run_child([sys.executable, __file__, "--child-peak", str(threads)], env=env)
    return json.loads(out)["gflops"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("convert", nargs="?")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--rounds", type=int, default=3, help="measure each case this many times, keep the best median")
    parser.add_argument("--per-layer", action="store_true")
    parser.add_argument("--child-generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-ort", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--child-peak", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = [n for n in args.models.split(",") if n]
    if args.child_generate:
        return child_generate(names, args.per_layer)
    if args.child_ort:
        path, threads, runs, level = args.child_ort
        return child_ort(path, int(threads), int(runs), level)
    if args.child_peak:
        return child_peak(args.child_peak)
    if not args.convert:
        parser.error("the path to convert is required")
    unknown = set(names) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {MODELS}")
    runs = max(10, args.runs)
    threads = [int(t) for t in args.threads.split(",")]

    print(f"generating models into {OUT} …", file=sys.stderr)
    out, _, _ = run_child([sys.executable, __file__, "--child-generate", "--models", ",".join(names)]
                          + (["--per-layer"] if args.per_layer else []))
    manifest = json.loads(out)

    rows, conv_rows, layer_rows = [], [], []
    def best(measure, rounds):
        """The lowest median (and its peak RSS) over `rounds` measurements: on a shared machine a
        transient load only ever slows a round down."""
        return min((measure() for _ in range(rounds)), key=lambda result: result[0])

    rounds = max(1, args.rounds)
    for n in threads:
        peak = max(sgemm_peak(n) for _ in range(rounds))
        for name in names:
            entry = manifest[name]
            print(f"timing {name}, {n} thread(s) …", file=sys.stderr)
            # Rounds alternate the runtimes, so a load spike hits one round, not one runtime.
            results = {"pare": [], "all": [], "noopt": [], "pare_conv": [], "ort_conv": []}
            for _ in range(rounds):
                results["pare"].append(time_pare(args.convert, entry["path"], n, runs))
                results["all"].append(time_ort(entry["path"], n, runs, "ORT_ENABLE_ALL"))
                results["noopt"].append(time_ort(entry["path"], n, runs, "ORT_DISABLE_ALL"))
                results["pare_conv"].append(time_pare(args.convert, entry["convs"], n, runs))
                results["ort_conv"].append(time_ort(entry["convs"], n, runs, "ORT_DISABLE_ALL"))
            (pare_ms, pare_rss), (ort_ms, ort_rss), (raw_ms, raw_rss), (pare_conv, _), (ort_conv, _) = (
                min(results[key], key=lambda result: result[0]) for key in ("pare", "all", "noopt", "pare_conv", "ort_conv"))
            rows.append((name, n, pare_ms, ort_ms, raw_ms, pare_rss, ort_rss, raw_rss))
            gflop = 2 * entry["conv_macs"] / 1e9
            conv_rows.append((name, n, gflop, pare_conv, gflop / pare_conv * 1000, ort_conv, gflop / ort_conv * 1000, peak))
            for layer in entry.get("layers", []):
                p, _ = best(lambda: time_pare(args.convert, layer["path"], n, runs), rounds)
                o, _ = best(lambda: time_ort(layer["path"], n, runs, "ORT_DISABLE_ALL"), rounds)
                layer_rows.append((name, n, layer["describe"], layer["count"], p, o, 2 * layer["macs"] / 1e6))

    print()
    print("Latency (best of %d medians, ms) and peak RSS (MB); ratio = Pare / onnxruntime, target ≤ %.1f" % (rounds, TARGET))
    header = f"{'model':<12} {'thr':>3} {'pare ms':>9} {'ort ms':>9} {'ratio':>6} {'ort-noopt ms':>12} {'ratio':>6}" \
             f" {'pare MB':>8} {'ort MB':>7} {'noopt MB':>8}"
    print(header)
    print("-" * len(header))
    for name, n, p, o, r, prss, orss, rrss in rows:
        flag = "" if p / o <= TARGET else "  ✗"
        print(f"{name:<12} {n:>3} {p:>9.2f} {o:>9.2f} {p / o:>6.2f} {r:>12.2f} {p / r:>6.2f} {prss:>8.0f} {orss:>7.0f} {rrss:>8.0f}{flag}")
    print()
    print("Convolutions alone (every Conv/ConvTranspose of the network, each output reduced by a GlobalAveragePool;"
          " onnxruntime without graph optimizations)")
    header = f"{'model':<12} {'thr':>3} {'GFLOP':>7} {'pare ms':>9} {'GFLOP/s':>8} {'ort ms':>9} {'GFLOP/s':>8} {'sgemm peak':>10}"
    print(header)
    print("-" * len(header))
    for name, n, g, p, pg, o, og, peak in conv_rows:
        print(f"{name:<12} {n:>3} {g:>7.2f} {p:>9.2f} {pg:>8.1f} {o:>9.2f} {og:>8.1f} {peak:>10.1f}")
    print("(GFLOP = 2·MACs of direct convolution; Pare runs 3×3 stride-1 convs by Winograd F(2×2, 3×3), which\n"
          " multiplies 2.25× less, so its GFLOP/s can exceed what its BLAS reaches; sgemm peak: numpy float32 2048²)")
    if layer_rows:
        print()
        print("Per layer (ms per run; × = times the network runs it)")
        header = f"{'model':<12} {'thr':>3} {'layer':<36} {'×':>3} {'pare':>8} {'ort':>8} {'ratio':>6} {'MFLOP':>8}"
        print(header)
        print("-" * len(header))
        for name, n, describe, count, p, o, mflop in layer_rows:
            print(f"{name:<12} {n:>3} {describe:<36} {count:>3} {p:>8.3f} {o:>8.3f} {p / o:>6.2f} {mflop:>8.1f}")


if __name__ == "__main__":
    main()
