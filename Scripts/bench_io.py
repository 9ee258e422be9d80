#!/usr/bin/env python3
"""Benchmarks Pare's ONNX load+save against Python's onnx.load/onnx.save, in the same run.

Generates a ResNet-50-sized model (~100 MB, random weights, BatchNorm unfolded) into bench-output/,
then times, over several runs (median):
  - `convert model.onnx --to onnx -o out.onnx` as a whole process (load + validate + save),
  - `onnx.load` + `onnx.save` inside Python (import time excluded, which favours onnx),
  - the same Python job as a whole process,
  - `convert count-flops model.onnx` as a whole process,
and each one's peak RSS. Prints ratios Pare / onnx; ≤ 1.0 means Pare is at least as fast.
Usage: bench_io.py path/to/convert [--runs N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench-output")


def resnet50():
    """ResNet-50 v1.5 topology: bottlenecks [3, 4, 6, 3], 1000 classes, unfolded BatchNorm."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def const(prefix, array):
        n = name(prefix)
        inits.append(numpy_helper.from_array(array.astype(np.float32), n))
        return n

    def conv_bn(x, cin, cout, k, stride, relu=True):
        w = const("w", rng.normal(0, (2.0 / (cin * k * k)) ** 0.5, (cout, cin, k, k)))
        y = name("conv")
        nodes.append(helper.make_node("Conv", [x, w], [y], kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[k // 2] * 4))
        bn = [const("bn", a) for a in (rng.uniform(0.5, 1.5, cout), rng.normal(0, 0.1, cout),
                                       rng.normal(0, 0.1, cout), rng.uniform(0.5, 1.5, cout))]
        z = name("bn")
        nodes.append(helper.make_node("BatchNormalization", [y] + bn, [z]))
        if not relu:
            return z
        r = name("relu")
        nodes.append(helper.make_node("Relu", [z], [r]))
        return r

    x = conv_bn("input", 3, 64, 7, 2)
    p = name("pool")
    nodes.append(helper.make_node("MaxPool", [x], [p], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4))
    x, cin = p, 64
    for stage, (blocks, width) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
        for block in range(blocks):
            stride = 2 if block == 0 and stage > 0 else 1
            y = conv_bn(x, cin, width, 1, 1)
            y = conv_bn(y, width, width, 3, stride)
            y = conv_bn(y, width, width * 4, 1, 1, relu=False)
            shortcut = conv_bn(x, cin, width * 4, 1, stride, relu=False) if block == 0 else x
            s, r = name("add"), name("relu")
            nodes += [helper.make_node("Add", [y, shortcut], [s]), helper.make_node("Relu", [s], [r])]
            x, cin = r, width * 4
    g, f, out = name("gap"), name("flat"), "output"
    fc_w = const("fc_w", rng.normal(0, 0.01, (1000, 2048)))
    fc_b = const("fc_b", np.zeros(1000))
    nodes += [helper.make_node("GlobalAveragePool", [x], [g]), helper.make_node("Flatten", [g], [f]),
              helper.make_node("Gemm", [f, fc_w, fc_b], [out], transB=1)]
    graph = helper.make_graph(nodes, "resnet50", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 1000])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def run_process(args):
    """Wall seconds and peak RSS (bytes) of one child process.

    Linux carries a parent's RSS high-water mark into a forked child, so this process must stay
    small while children are measured: the model is generated in a subprocess and the in-process
    onnx timing runs last."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"bench-io: {' '.join(args)} failed with status {status}")
    return elapsed, usage.ru_maxrss * 1024


def median_of(runs, job):
    results = [job() for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("convert")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.generate:
        onnx.save(resnet50(), a.convert)
        return
    os.makedirs(OUT, exist_ok=True)
    model_path = os.path.join(OUT, "resnet50.onnx")
    if not os.path.exists(model_path):
        print("bench-io: generating ResNet-50-sized model", file=sys.stderr)
        subprocess.run([sys.executable, __file__, "--generate", model_path], check=True)
    size = os.path.getsize(model_path)
    pare_out, onnx_out = os.path.join(OUT, "resnet50.pare-out.onnx"), os.path.join(OUT, "resnet50.onnx-out.onnx")

    def in_process_onnx():
        start = time.perf_counter()
        onnx.save(onnx.load(model_path), onnx_out)
        return time.perf_counter() - start, 0

    script = f"import onnx; onnx.save(onnx.load({model_path!r}), {onnx_out!r})"
    run_process([a.convert, model_path, "--to", "onnx", "-o", pare_out])  # warm the page cache
    pare_t, pare_rss = median_of(a.runs, lambda: run_process([a.convert, model_path, "--to", "onnx", "-o", pare_out]))
    onnx_proc_t, onnx_rss = median_of(a.runs, lambda: run_process([sys.executable, "-c", script]))
    flops_t, flops_rss = median_of(a.runs, lambda: run_process([a.convert, "count-flops", model_path]))
    onnx_t, _ = median_of(a.runs, in_process_onnx)

    mb = 1e6
    print(f"model: {model_path} ({size / mb:.1f} MB), {a.runs} runs, medians")
    print(f"pare load+save (whole process):   {pare_t:.3f} s   peak RSS {pare_rss / mb:.0f} MB ({pare_rss / size:.2f}x file)")
    print(f"onnx load+save (in process):      {onnx_t:.3f} s")
    print(f"onnx load+save (whole process):   {onnx_proc_t:.3f} s   peak RSS {onnx_rss / mb:.0f} MB ({onnx_rss / size:.2f}x file)")
    print(f"ratio pare/onnx, in-process onnx: {pare_t / onnx_t:.2f}   (target <= 1.0)")
    print(f"ratio pare/onnx, whole processes: {pare_t / onnx_proc_t:.2f}")
    print(f"count-flops (whole process):      {flops_t:.3f} s   peak RSS {flops_rss / mb:.0f} MB   (target < 1 s)")


if __name__ == "__main__":
    main()
