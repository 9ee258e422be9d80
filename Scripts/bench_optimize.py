#!/usr/bin/env python3
"""Benchmarks `convert optimize` against onnxsim (onnx-simplifier), in the same run.

Uses the ResNet-50-sized model of Scripts/bench_io.py (~100 MB, random weights, 53 unfolded
BatchNormalization nodes; generated into bench-output/resnet50.onnx when missing), then times,
over several runs (median):
  - `convert optimize model.onnx -o out.onnx` as a whole process,
  - `onnxsim.simplify(onnx.load(IN))` + `onnx.save` as a whole process (`python -c ...`, the way
    people run it from a script),
  - `onnxsim.simplify` alone inside Python (load, save and import time excluded, which favours
    onnxsim),
and the peak RSS of both processes. Prints the ratio onnxsim / Pare (target >= 5x), the node
counts of both outputs (target: Pare <= onnxsim) and whether Pare's output computes what the
original computes in onnxruntime (random input; an element fails when its absolute error exceeds
1e-5 and its relative error 1e-4).

onnxsim is not part of the project venv: when it cannot be imported, this installs it into the
running interpreter's environment (`python -m pip install onnxsim`, pinning the onnx already
installed so pip leaves it alone). When `convert` has no `optimize` subcommand yet, the onnxsim
figures are still measured and printed, and the exit status is 1.
Usage: bench_optimize.py path/to/convert [--runs N] [--pare-args "--passes a,b"]
(Scripts/bench-optimize builds convert and picks the project venv.)
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench-output")
BENCH_IO = os.path.join(ROOT, "Scripts", "bench_io.py")
TARGET_RATIO = 5.0
ABS_FLOOR, REL_TOL = 1e-5, 1e-4


def log(message):
    print(f"bench-optimize: {message}", file=sys.stderr, flush=True)


def ensure_onnxsim():
    """Imports onnxsim, installing it into this interpreter's environment first if needed."""
    import importlib

    try:
        importlib.import_module("onnxsim")
        return
    except ImportError:
        pass
    import onnx

    log(f"onnxsim is not installed in {sys.prefix}; installing it "
        f"(pip install onnxsim, keeping onnx=={onnx.__version__})")
    status = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             "onnxsim", f"onnx=={onnx.__version__}"], stdout=sys.stderr).returncode
    if status != 0:
        sys.exit(f"bench-optimize: pip install onnxsim failed (status {status}); "
                 f"install it into {sys.prefix} by hand and rerun")
    importlib.invalidate_caches()
    try:
        importlib.import_module("onnxsim")
    except ImportError as e:
        sys.exit(f"bench-optimize: onnxsim was installed but does not import: {e}")


def has_optimize(convert):
    """True when `convert --help` lists an `optimize` subcommand."""
    try:
        text = subprocess.run([convert, "--help"], capture_output=True, text=True, timeout=60).stdout
    except OSError as e:
        sys.exit(f"bench-optimize: cannot run {convert}: {e}")
    return any(line.split()[:1] == ["optimize"] for line in text.splitlines())


def run_process(args):
    """Wall seconds and peak RSS (bytes) of one child process.

    Linux carries a parent's RSS high-water mark into a forked child, so this process must stay
    small while children are measured: the model is generated in a subprocess, and the
    in-process onnxsim timing, node counts and onnxruntime check run last."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"bench-optimize: {' '.join(args)} failed with status {status}")
    return elapsed, usage.ru_maxrss * 1024


def writing_afresh(output, args):
    """A job that times `args` after deleting `output` (untimed), so that every run writes a new
    file: replacing a 100 MB file whose pages are cached makes the kernel free them inside the
    timed process, a cost of the previous run rather than of the tool. Both tools get the same."""
    def job():
        if os.path.exists(output):
            os.remove(output)
        return run_process(args)
    return job


def median_of(runs, job):
    results = [job() for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def node_count(path):
    import onnx

    return len(onnx.load(path, load_external_data=False).graph.node)


def max_errors(model_path, candidate_path):
    """(max abs error, max rel error among elements above the abs floor) over all outputs."""
    import numpy as np
    import onnxruntime as ort

    def run(path, feeds=None):
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.log_severity_level = 3
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        if feeds is None:
            rng = np.random.default_rng(0)
            feeds = {i.name: rng.standard_normal([d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)
                     for i in session.get_inputs()}
        return feeds, session.run(None, feeds)

    feeds, reference = run(model_path)
    _, candidate = run(candidate_path, feeds)
    max_abs = max_rel = 0.0
    for r, c in zip(reference, candidate):
        if r.shape != c.shape:
            return float("inf"), float("inf")
        diff = np.abs(r.astype(np.float64) - c.astype(np.float64))
        max_abs = max(max_abs, float(diff.max()))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(diff > ABS_FLOOR, diff / np.abs(r.astype(np.float64)), 0.0)
        max_rel = max(max_rel, float(rel.max()))
    return max_abs, max_rel


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("convert")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pare-args", default="", help="extra arguments for `convert optimize`, one string")
    a = parser.parse_args()
    ensure_onnxsim()
    os.makedirs(OUT, exist_ok=True)
    model_path = os.path.join(OUT, "resnet50.onnx")
    if not os.path.exists(model_path):
        log("generating ResNet-50-sized model (Scripts/bench_io.py --generate)")
        subprocess.run([sys.executable, BENCH_IO, "--generate", model_path], check=True)
    size = os.path.getsize(model_path)
    pare_out = os.path.join(OUT, "resnet50.pare-optimized.onnx")
    sim_out = os.path.join(OUT, "resnet50.onnxsim.onnx")

    pare_cmd = [a.convert, "optimize", model_path, "-o", pare_out] + shlex.split(a.pare_args)
    pare_ok = has_optimize(a.convert)
    if pare_ok:
        log(f"timing convert optimize, {a.runs} runs")
        run_process(pare_cmd)  # warm the page cache
        pare_t, pare_rss = median_of(a.runs, writing_afresh(pare_out, pare_cmd))
    else:
        log(f"{a.convert} has no `optimize` subcommand yet: measuring onnxsim only")

    log(f"timing onnxsim (whole process), {a.runs} runs")
    script = (f"import onnx, onnxsim; m, _ = onnxsim.simplify(onnx.load({model_path!r})); "
              f"onnx.save(m, {sim_out!r})")
    sim_proc_t, sim_rss = median_of(a.runs, writing_afresh(sim_out, [sys.executable, "-c", script]))

    log(f"timing onnxsim.simplify (in process), {a.runs} runs")
    import onnx
    import onnxsim

    model = onnx.load(model_path)

    def in_process_simplify():
        start = time.perf_counter()
        onnxsim.simplify(model)
        return time.perf_counter() - start, 0

    sim_t, _ = median_of(a.runs, in_process_simplify)

    original_nodes, sim_nodes = node_count(model_path), node_count(sim_out)
    mb = 1e6
    print(f"model: {model_path} ({size / mb:.1f} MB, {original_nodes} nodes), {a.runs} runs, medians")
    print(f"onnxsim {onnxsim.__version__}, onnx {onnx.__version__}, python {sys.version.split()[0]}")
    print(f"onnxsim (whole process):       {sim_proc_t:.3f} s   peak RSS {sim_rss / mb:.0f} MB "
          f"({sim_rss / size:.2f}x file)   {sim_nodes} nodes")
    print(f"onnxsim.simplify (in process): {sim_t:.3f} s")
    if not pare_ok:
        print(f"pare optimize:                 unavailable ({a.convert} has no `optimize` subcommand)")
        sys.exit(1)
    pare_nodes = node_count(pare_out)
    max_abs, max_rel = max_errors(model_path, pare_out)
    ratio = sim_proc_t / pare_t
    print(f"pare optimize (whole process): {pare_t:.3f} s   peak RSS {pare_rss / mb:.0f} MB "
          f"({pare_rss / size:.2f}x file)   {pare_nodes} nodes")
    print(f"ratio onnxsim/pare, whole processes:    {ratio:.1f}x   (target >= {TARGET_RATIO:.0f}x: "
          f"{'met' if ratio >= TARGET_RATIO else 'MISSED'})")
    print(f"ratio onnxsim in process/pare process:  {sim_t / pare_t:.1f}x")
    print(f"nodes pare/onnxsim: {pare_nodes}/{sim_nodes}   (target pare <= onnxsim: "
          f"{'met' if pare_nodes <= sim_nodes else 'MISSED'})")
    match = max_rel <= REL_TOL
    print(f"pare output vs original (onnxruntime): max abs {max_abs:.2e}, max rel {max_rel:.2e} "
          f"{'ok' if match else 'MISMATCH'}")
    if not match:
        sys.exit(1)


if __name__ == "__main__":
    main()
