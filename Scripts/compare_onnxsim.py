#!/usr/bin/env python3
"""Compares `convert optimize` with onnxsim on real torch exports and on every committed sample.

Models:
  - torchvision ResNet-18 and MobileNetV2 (1x3x224x224) and a DeepLabV3 head
    (`torchvision.models.segmentation.deeplabv3.DeepLabHead(960, 21)` on 1x960x28x28; its ASPP
    pooling branch interpolates back to the input size, which exports a Shape/Gather/... chain),
    each exported with the TorchScript exporter (`dynamo=False`), eval mode, random weights
    (`weights=None`, `torch.manual_seed(0)`) and `do_constant_folding=False`, so the exports keep
    what a real export leaves behind: BatchNormalization, shape-computing chains, Identity nodes.
    Every BatchNorm gets random running statistics and scales (fresh ones are an identity, which
    would hide a wrong fold); see randomize_batchnorm. Each model is exported at opset 11 with
    `keep_initializers_as_inputs=True` (the legacy export that lists every initializer as a graph
    input) and at opset 17 (the default export); the DeepLab head also at opset 17 with a dynamic
    batch axis (`*_dynbatch`, run at batch 2: the batch entry of its Shape chain stays unknown).
    Exports land in the git-ignored bench-output/optimize-comparison/, next to both tools'
    outputs.
  - every Samples/*.onnx and Samples/external_data/model.onnx (not Samples/bad/), run on the
    committed Samples/<name>.inputs.npz.

For each model it records the node count, total and per op type, of (a) the original,
(b) `onnxsim.simplify(model)` (Python API, default arguments; wall time of the call) and
(c) `convert optimize IN -o OUT` (a subprocess; wall time of the whole process). It then runs the
original and Pare's output in onnxruntime (CPUExecutionProvider, graph optimizations off, so the
figures judge Pare's rewrites, not onnxruntime's) on the same inputs: seeded random normal ones
(numpy seed 0; a dynamic dimension is 2) or the sample's .inputs.npz. onnxsim's output is run the
same way, for information only.

Checks (any failure makes the exit status 1):
  - `convert optimize` exits 0 and writes a loadable model;
  - every output matches the original's: same shape, and no element whose absolute error exceeds
    the floor 1e-5 has a relative error (|pare - orig| / |orig|) above 1e-4. `max_abs` is the
    largest absolute error, `max_rel` the largest relative error among elements above the floor;
    non-float outputs must be equal;
  - Pare's output has no BatchNormalization, Dropout or Identity node;
  - Pare's output has no more nodes than onnxsim's (`ops_above_onnxsim` lists the op types where
    Pare leaves more nodes than onnxsim, whatever the totals).
A model that fails to export, or that onnxsim cannot simplify, is reported as an error and also
fails the run.

Writes one JSON entry per model (plus the tool versions) to --out (default
docs/optimize-comparison.json), prints a table to stdout, progress to stderr. --skip-pare runs
everything but Pare (its fields are null), e.g. before `convert optimize` exists.

Dependencies (not the project's .venv: this needs torch), e.g.
    python3 -m venv /tmp/onnxsim-venv
    /tmp/onnxsim-venv/bin/pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu
    /tmp/onnxsim-venv/bin/pip install onnx onnxruntime onnxsim numpy
Usage (from anywhere; --out is relative to the repository root):
    swift build -c release --product convert
    /tmp/onnxsim-venv/bin/python Scripts/compare_onnxsim.py .build/release/convert
        [--out docs/optimize-comparison.json] [--models resnet18,samples,...]
        [--pare-args "--passes a,b"] [--skip-pare]
--models takes names or prefixes of names (`resnet18` selects every ResNet-18 variant;
`torch` every export, `samples` every sample); --list prints the names.
"""
import argparse
import collections
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "Samples")
WORK = os.path.join(ROOT, "bench-output", "optimize-comparison")
ABS_FLOOR = 1e-5
REL_TOL = 1e-4
LEFTOVER_OPS = ("BatchNormalization", "Dropout", "Identity")

# name -> (builder key, input shape, opset, keep_initializers_as_inputs, dynamic batch)
TORCH_MODELS = {
    "resnet18_opset11": ("resnet18", (1, 3, 224, 224), 11, True, False),
    "resnet18_opset17": ("resnet18", (1, 3, 224, 224), 17, False, False),
    "mobilenetv2_opset11": ("mobilenetv2", (1, 3, 224, 224), 11, True, False),
    "mobilenetv2_opset17": ("mobilenetv2", (1, 3, 224, 224), 17, False, False),
    "deeplabhead_opset11": ("deeplabhead", (1, 960, 28, 28), 11, True, False),
    "deeplabhead_opset17": ("deeplabhead", (1, 960, 28, 28), 17, False, False),
    "deeplabhead_opset17_dynbatch": ("deeplabhead", (1, 960, 28, 28), 17, False, True),
}
DESCRIPTIONS = {
    "resnet18": "torchvision.models.resnet18(weights=None)",
    "mobilenetv2": "torchvision.models.mobilenet_v2(weights=None)",
    "deeplabhead": "torchvision.models.segmentation.deeplabv3.DeepLabHead(960, 21)",
}


def rel(path):
    """A path relative to the repository root when it lies inside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def log(message):
    print(f"compare-onnxsim: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

def sample_models():
    """name -> (model path, inputs .npz path) for every committed sample with reference inputs."""
    found = {}
    paths = sorted(p for p in os.listdir(SAMPLES) if p.endswith(".onnx"))
    for p in paths:
        stem = p[:-len(".onnx")]
        found[f"samples_{stem}"] = (os.path.join(SAMPLES, p), os.path.join(SAMPLES, f"{stem}.inputs.npz"))
    ext = os.path.join(SAMPLES, "external_data")
    if os.path.exists(os.path.join(ext, "model.onnx")):
        found["samples_external_data"] = (os.path.join(ext, "model.onnx"), os.path.join(ext, "model.inputs.npz"))
    return {k: v for k, v in found.items() if os.path.exists(v[1])}


def select(names, wanted):
    if not wanted:
        return names
    chosen = []
    for name in names:
        for w in wanted:
            if (name == w or name.startswith(w + "_") or (w == "torch" and name in TORCH_MODELS)
                    or (w == "samples" and name.startswith("samples_"))):
                chosen.append(name)
                break
    unknown = [w for w in wanted if w not in ("torch", "samples")
               and not any(n == w or n.startswith(w + "_") for n in names)]
    if unknown:
        sys.exit(f"compare-onnxsim: unknown model(s) {', '.join(unknown)}; --list prints the names")
    return chosen


def randomize_batchnorm(model):
    """Gives every BatchNorm trained-looking statistics and scales. Fresh ones (mean 0, var 1,
    weight 1, bias 0) make BN an identity, so a wrong fold would go unnoticed, and they let
    MobileNetV2's activations fade to ~1e-9 at the output, below any error floor. The biases stay
    0: the exporter deduplicates value-equal initializers (opset 17 export only) and reads each
    duplicate through an Identity node, which is the Identity case a real export has."""
    import torch

    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def export_torch(name, path):
    """Exports one torch model; returns its description."""
    import torch
    import torchvision

    key, shape, opset, kiai, dynamic = TORCH_MODELS[name]
    torch.manual_seed(0)
    if key == "resnet18":
        model = torchvision.models.resnet18(weights=None)
    elif key == "mobilenetv2":
        model = torchvision.models.mobilenet_v2(weights=None)
    else:
        from torchvision.models.segmentation.deeplabv3 import DeepLabHead
        model = DeepLabHead(960, 21)
    randomize_batchnorm(model)
    model.eval()
    x = torch.randn(*shape)
    kwargs = {}
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (x,), path, dynamo=False, opset_version=opset, do_constant_folding=False,
                          keep_initializers_as_inputs=kiai, input_names=["input"], output_names=["output"],
                          **kwargs)
    return {
        "source": DESCRIPTIONS[key],
        "opset": opset,
        "keep_initializers_as_inputs": kiai,
        "dynamic_batch": dynamic,
        "export_input_shape": list(shape),
    }


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------

def op_histogram(model):
    """Top-level node count and per-op-type counts (domain-qualified outside the default domain)."""
    ops = collections.Counter(
        n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}" for n in model.graph.node)
    return len(model.graph.node), dict(sorted(ops.items()))


def real_inputs(model):
    """Graph inputs that are not initializers (a legacy export lists initializers as inputs)."""
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def random_inputs(model, seed=0, dynamic_dim=2):
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in real_inputs(model):
        t = i.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else dynamic_dim for d in t.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        if np.issubdtype(dtype, np.floating):
            feeds[i.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[i.name] = rng.integers(0, 4, shape).astype(dtype)
    return feeds


def run_ort(path, feeds):
    """Runs a model file on the CPU provider with graph optimizations off; name -> array, in
    graph-output order."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    wanted = {i.name for i in session.get_inputs()}
    results = session.run(names, {k: v for k, v in feeds.items() if k in wanted})
    return dict(zip(names, results))


def compare_outputs(reference, candidate):
    """Per output: max_abs, max_rel (among elements whose absolute error exceeds ABS_FLOOR), ok.
    Outputs are matched by name, or by position when the names differ."""
    result = {}
    if list(reference) != list(candidate):
        pairs = list(zip(reference, candidate)) if len(reference) == len(candidate) else []
    else:
        pairs = [(n, n) for n in reference]
    if not pairs:
        return {"error": f"outputs differ: {list(reference)} vs {list(candidate)}"}, False
    all_ok = True
    for ref_name, cand_name in pairs:
        ref, cand = np.asarray(reference[ref_name]), np.asarray(candidate[cand_name])
        entry = {"shape": list(ref.shape)}
        if cand_name != ref_name:
            entry["renamed_to"] = cand_name
        if ref.shape != cand.shape:
            entry.update(ok=False, error=f"shape {list(cand.shape)} instead of {list(ref.shape)}")
        elif not np.issubdtype(ref.dtype, np.floating):
            equal = bool(np.array_equal(ref, cand))
            entry.update(max_abs=0.0 if equal else None, max_rel=0.0 if equal else None, ok=equal)
        else:
            r, c = ref.astype(np.float64), cand.astype(np.float64)
            nan_mismatch = bool(np.any(np.isnan(r) != np.isnan(c)))
            both = ~(np.isnan(r) | np.isnan(c))
            diff = np.where(both, np.abs(r - c), 0.0)
            diff = np.where(np.isinf(r) & (r == c), 0.0, diff)
            max_abs = float(diff.max()) if diff.size else 0.0
            above = diff > ABS_FLOOR
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(above, diff / np.abs(r), 0.0)
            max_rel = float(rel.max()) if rel.size else 0.0
            ok = not nan_mismatch and max_rel <= REL_TOL
            entry.update(max_abs=max_abs, max_rel=max_rel, ok=ok)
            if nan_mismatch:
                entry["error"] = "NaN in one output but not the other"
        all_ok &= entry["ok"]
        result[cand_name if cand_name == ref_name else ref_name] = entry
    return result, all_ok


def worst(errors, key):
    values = [e.get(key) for e in errors.values() if isinstance(e, dict) and e.get(key) is not None]
    return max(values) if values else None


def run_onnxsim(src, out):
    import onnxsim

    model = onnx.load(src)
    start = time.perf_counter()
    simplified, check = onnxsim.simplify(model)
    seconds = time.perf_counter() - start
    onnx.save(simplified, out)
    return simplified, seconds, bool(check)


def has_optimize(convert):
    """True when `convert --help` lists an `optimize` subcommand."""
    try:
        text = subprocess.run([convert, "--help"], capture_output=True, text=True, timeout=60).stdout
    except OSError as e:
        sys.exit(f"compare-onnxsim: cannot run {convert}: {e}")
    return any(line.split()[:1] == ["optimize"] for line in text.splitlines())


def run_pare(convert, src, out, extra):
    args = [convert, "optimize", src, "-o", out] + extra
    if os.path.exists(out):
        os.remove(out)
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return args, proc, seconds


# ---------------------------------------------------------------------------------------------
# One model
# ---------------------------------------------------------------------------------------------

def measure(name, a, samples):
    entry = {"name": name}
    if name in TORCH_MODELS:
        src = os.path.join(WORK, f"{name}.onnx")
        log(f"{name}: exporting")
        try:
            entry.update(export_torch(name, src))
        except Exception as e:  # noqa: BLE001 - recorded, and fails the run
            entry["error"] = f"export failed: {type(e).__name__}: {e}"
            return entry
        entry["path"] = rel(src)
        feeds = random_inputs(onnx.load(src, load_external_data=False))
        entry["inputs"] = "numpy default_rng(0) standard normal, dynamic dims = 2"
    else:
        src, npz = samples[name]
        entry.update(source=rel(src), path=rel(src))
        with np.load(npz) as data:
            feeds = {k: data[k] for k in data.files}
        entry["inputs"] = rel(npz)
    entry["input_shapes"] = {k: list(v.shape) for k, v in feeds.items()}

    original = onnx.load(src)
    total, ops = op_histogram(original)
    entry["original"] = {
        "nodes": total, "per_op_type": ops,
        "graph_inputs": len(original.graph.input), "initializers": len(original.graph.initializer),
        "opset": next((o.version for o in original.opset_import if o.domain in ("", "ai.onnx")), None),
        "file_bytes": os.path.getsize(src),
    }
    entry.setdefault("opset", entry["original"]["opset"])
    del original

    log(f"{name}: onnxruntime on the original")
    try:
        reference = run_ort(src, feeds)
    except Exception as e:  # noqa: BLE001
        entry["error"] = f"onnxruntime cannot run the original: {type(e).__name__}: {e}"
        return entry

    sim_out = os.path.join(WORK, f"{name}.onnxsim.onnx")
    log(f"{name}: onnxsim")
    try:
        simplified, seconds, check = run_onnxsim(src, sim_out)
        total, ops = op_histogram(simplified)
        sim = {"nodes": total, "per_op_type": ops, "seconds": round(seconds, 4), "check": check,
               "removed_per_op_type": diff_ops(entry["original"]["per_op_type"], ops),
               "output": rel(sim_out)}
        del simplified
        sim_errors, sim_ok = compare_outputs(reference, run_ort(sim_out, feeds))
        sim.update(errors=sim_errors, outputs_match=sim_ok)
        entry["onnxsim"] = sim
    except Exception as e:  # noqa: BLE001
        entry["onnxsim"] = None
        entry["error"] = f"onnxsim failed: {type(e).__name__}: {e}"

    entry["pare"] = None
    if a.skip_pare:
        return entry
    pare_out = os.path.join(WORK, f"{name}.pare.onnx")
    log(f"{name}: convert optimize")
    args, proc, seconds = run_pare(a.convert, src, pare_out, a.pare_args)
    pare = {"command": [rel(x) if os.path.isabs(x) else x for x in args],
            "seconds": round(seconds, 4), "exit_status": proc.returncode,
            "output": rel(pare_out)}
    entry["pare"] = pare
    checks = {"ran": proc.returncode == 0 and os.path.exists(pare_out)}
    pare["checks"] = checks
    if not checks["ran"]:
        pare["stderr"] = proc.stderr[-4000:]
        return entry
    if proc.stdout.strip():
        pare["stdout"] = proc.stdout[-8000:]
    try:
        optimized = onnx.load(pare_out)
    except Exception as e:  # noqa: BLE001
        checks["loadable"] = False
        pare["error"] = f"onnx.load of Pare's output failed: {type(e).__name__}: {e}"
        return entry
    checks["loadable"] = True
    total, ops = op_histogram(optimized)
    del optimized
    pare.update(nodes=total, per_op_type=ops, removed_per_op_type=diff_ops(entry["original"]["per_op_type"], ops))
    pare["leftovers"] = {op: ops.get(op, 0) for op in LEFTOVER_OPS}
    checks["no_leftovers"] = not any(pare["leftovers"].values())
    sim = entry.get("onnxsim")
    if sim:
        pare["nodes_le_onnxsim"] = total <= sim["nodes"]
        pare["ops_above_onnxsim"] = {op: {"pare": n, "onnxsim": sim["per_op_type"].get(op, 0)}
                                     for op, n in ops.items() if n > sim["per_op_type"].get(op, 0)}
        checks["nodes_le_onnxsim"] = pare["nodes_le_onnxsim"]
    log(f"{name}: onnxruntime on Pare's output")
    try:
        errors, ok = compare_outputs(reference, run_ort(pare_out, feeds))
    except Exception as e:  # noqa: BLE001
        errors, ok = {"error": f"onnxruntime cannot run Pare's output: {type(e).__name__}: {e}"}, False
    pare.update(errors=errors)
    checks["outputs_match"] = ok
    return entry


def diff_ops(before, after):
    """op type -> nodes removed (negative: added)."""
    return {op: before.get(op, 0) - after.get(op, 0) for op in sorted(set(before) | set(after))
            if before.get(op, 0) != after.get(op, 0)}


def entry_ok(entry):
    if entry.get("error"):
        return False
    pare = entry.get("pare")
    return pare is None or all(pare["checks"].values())


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def print_table(entries):
    header = (f"{'model':<32} {'orig':>5} {'onnxsim':>7} {'pare':>5} {'sim s':>7} {'pare s':>7} "
              f"{'max abs':>9} {'max rel':>9} {'BN/Dr/Id':>8} {'<=sim':>5}  result")
    print(header)
    print("-" * len(header))
    for e in entries:
        sim, pare = e.get("onnxsim"), e.get("pare")
        orig = e.get("original", {}).get("nodes")
        left = le = "-"
        max_abs = max_rel = None
        if pare and "nodes" in pare:
            left = "/".join(str(pare["leftovers"][op]) for op in LEFTOVER_OPS)
            le = {True: "yes", False: "NO"}.get(pare.get("nodes_le_onnxsim"), "-")
            max_abs, max_rel = worst(pare["errors"], "max_abs"), worst(pare["errors"], "max_rel")
        if e.get("error"):
            result = "ERROR"
        elif pare is None:
            result = "(no pare)"
        else:
            failed = [k for k, v in pare["checks"].items() if not v]
            result = "ok" if not failed else "FAIL " + ",".join(failed)
        print(f"{e['name']:<32} {fmt(orig, 'd'):>5} {fmt(sim and sim['nodes'], 'd'):>7} "
              f"{fmt(pare and pare.get('nodes'), 'd'):>5} {fmt(sim and sim['seconds'], '.3f'):>7} "
              f"{fmt(pare and pare['seconds'], '.3f'):>7} {fmt(max_abs, '.2e'):>9} {fmt(max_rel, '.2e'):>9} "
              f"{left:>8} {le:>5}  {result}")
    print()
    for e in entries:
        sim, pare = e.get("onnxsim"), e.get("pare")
        lines = []
        if e.get("error"):
            lines.append(f"error: {e['error']}")
        if sim:
            removed = ", ".join(f"{op} {-n:+d}" for op, n in sim["removed_per_op_type"].items()) or "nothing"
            lines.append(f"onnxsim: {removed}; left {describe(sim['per_op_type'])}")
            if not sim["outputs_match"]:
                lines.append("onnxsim's output differs from the original (information only)")
        if pare and "nodes" in pare:
            removed = ", ".join(f"{op} {-n:+d}" for op, n in pare["removed_per_op_type"].items()) or "nothing"
            lines.append(f"pare:    {removed}")
            above = pare.get("ops_above_onnxsim")
            if above:
                lines.append("pare leaves more than onnxsim: "
                             + ", ".join(f"{op} {v['pare']} vs {v['onnxsim']}" for op, v in above.items()))
        elif pare and pare.get("error"):
            lines.append(f"pare: {pare['error'][:300]}")
        elif pare:
            lines.append(f"pare failed (status {pare['exit_status']}): {pare.get('stderr', '').strip()[-300:]}")
        if lines:
            print(f"{e['name']}:")
            for line in lines:
                print(f"  {line}")


def describe(ops):
    return " ".join(f"{op}:{n}" for op, n in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])))


def versions(a):
    found = {"python": platform.python_version()}
    for module in ("torch", "torchvision", "onnx", "onnxsim", "onnxruntime", "numpy"):
        try:
            found[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001
            found[module] = None
    if not a.skip_pare:
        proc = subprocess.run([a.convert, "--version"], capture_output=True, text=True)
        found["pare"] = proc.stdout.strip() or None
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("convert", nargs="?", help="path to Pare's convert binary (not needed with --skip-pare)")
    parser.add_argument("--out", default=None,
                        help="JSON output, relative to the repository root (default: docs/optimize-comparison.json for "
                             "a full run, bench-output/optimize-comparison/subset.json with --models or --skip-pare, so "
                             "a partial run never replaces the committed figures)")
    parser.add_argument("--models", nargs="+", default=[],
                        help="model names or prefixes, comma or space separated (default: all)")
    parser.add_argument("--pare-args", default="", help="extra arguments for `convert optimize`, one string")
    parser.add_argument("--skip-pare", action="store_true", help="leave Pare out (its fields are null)")
    parser.add_argument("--list", action="store_true", help="print the model names and exit")
    a = parser.parse_args()
    a.pare_args = shlex.split(a.pare_args)

    samples = sample_models()
    names = list(TORCH_MODELS) + list(samples)
    if a.list:
        print("\n".join(names))
        return
    wanted = [w for item in a.models for w in item.split(",") if w]
    names = select(names, wanted)
    if not a.skip_pare:
        if not a.convert:
            parser.error("the path to convert is required unless --skip-pare is given")
        a.convert = os.path.abspath(a.convert)
        if not has_optimize(a.convert):
            sys.exit(f"compare-onnxsim: {a.convert} has no `optimize` subcommand "
                     "(rebuild it: swift build -c release --product convert), or pass --skip-pare")
    os.makedirs(WORK, exist_ok=True)
    if a.out is None:
        partial = bool(wanted) or a.skip_pare or bool(a.pare_args)
        a.out = os.path.join(WORK, "subset.json") if partial else "docs/optimize-comparison.json"
    out = a.out if os.path.isabs(a.out) else os.path.join(ROOT, a.out)

    entries = []
    for name in names:
        entry = measure(name, a, samples)
        entry["ok"] = entry_ok(entry)
        entries.append(entry)

    document = {
        "generated_by": "Scripts/compare_onnxsim.py",
        "tolerance": {"abs_floor": ABS_FLOOR, "rel": REL_TOL,
                      "rule": "an element fails when |pare - orig| > abs_floor and |pare - orig| / |orig| > rel"},
        "onnxruntime": "CPUExecutionProvider, ORT_DISABLE_ALL, 1 thread",
        "versions": versions(a),
        "skip_pare": a.skip_pare,
        "models": entries,
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    log(f"wrote {rel(out)}")

    print_table(entries)
    failed = [e["name"] for e in entries if not e["ok"]]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        sys.exit(1)
    print(f"\nall {len(entries)} models passed" + (" (Pare skipped)" if a.skip_pare else ""))


if __name__ == "__main__":
    main()
