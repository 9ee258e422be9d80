#!/usr/bin/env python3
"""Cross-checks Pare's ONNX writer against onnxruntime, a runtime nobody here wrote.

For every sample model with reference data, `convert M.onnx --to onnx -o out.onnx` re-encodes it;
onnxruntime then runs the re-encoded file on the committed inputs and its outputs must be
bit-identical to the committed reference outputs (made by onnxruntime from the original file).
Then `convert optimize M.onnx -o opt.onnx` simplifies it, and onnxruntime's outputs for the
optimized file must match the references within 1e-4 relative (1e-5 absolute) error: folding
BatchNorms into weights changes float rounding, nothing else.

Then the lossy weight storage passes: `convert optimize M.onnx --passes <standard>,fp16-weights`
(and `...,int8-weights`), with the standard pass list read from `convert optimize --list-passes`.
onnxruntime must run the result, and its outputs must match Pare's own (`convert run` on the same
inputs) within 1e-4 relative (1e-5 absolute) error: both engines dequantize the same stored
weights, so they agree as closely as on the unquantized model. How far the stored model is from
the reference (max abs error for fp16, cosine similarity for int8) is printed, not checked here
(Tests/PassesTests/WeightStorageTests.swift bounds it).

Last, the mobile format: `convert M.onnx --to mobile` writes a .pare file (float32 weights, and
fp16 weights zstd-compressed), Scripts/pare_to_onnx.py, a reader written from docs/mobile-format.md,
turns it back into ONNX, and onnxruntime's outputs must match the references (check_mobile_format).

Then channel pruning: `convert prune-graph` (L1 at ratio 0.5 and 0, reconstruction on two models)
on every sample and on the torch exports in Samples/structures; onnx.checker's full check and
onnxruntime must accept each pruned model, with the original's output shapes, and at ratio 0 the
original's outputs.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Lossy passes `convert optimize` runs only when named; what they store weights as.
STORAGE_PASSES = {"fp16-weights": "float16", "int8-weights": "int8"}


def run_session(path, inputs, float_matmuls=False):
    options = ort.SessionOptions()
    if float_matmuls:
        # onnxruntime fuses DequantizeLinear → MatMul into MatMulNBits, by default at accuracy
        # level 4, which also quantizes the activations to int8; level 1 keeps them float32, so
        # only the stored weights are quantized, as in Pare.
        options.add_session_config_entry("session.qdq_matmulnbits_accuracy_level", "1")
    # Same graph optimizations as when the references were made, so results are comparable bit for bit.
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))


def compare(actual, expected, exact, label):
    problems = []
    for name, want in expected.items():
        got = actual.get(name)
        if got is None:
            problems.append(f"{label}: output '{name}' missing")
        elif got.shape != want.shape:
            problems.append(f"{label}: output '{name}' has shape {got.shape}, expected {want.shape}")
        elif exact and not np.array_equal(got, want):
            problems.append(f"{label}: output '{name}' differs (max abs diff {np.max(np.abs(got.astype(np.float64) - want))})")
        elif not exact and not np.allclose(got, want, rtol=1e-4, atol=1e-5):
            problems.append(f"{label}: output '{name}' differs beyond rtol 1e-4, atol 1e-5 "
                            f"(max abs diff {np.max(np.abs(got.astype(np.float64) - want))})")
    return problems


def standard_passes(convert):
    """The standard pipeline's passes, in order: --list-passes without the storage passes."""
    listing = subprocess.run([convert, "optimize", "--list-passes"], check=True, capture_output=True, text=True).stdout
    names = [line.split()[0] for line in listing.splitlines()[1:] if line.strip()]
    return [name for name in names if name not in STORAGE_PASSES]


def distance(actual, expected):
    """Max abs error relative to the reference's largest magnitude, and the lowest cosine similarity, over the outputs."""
    worst_error, worst_cosine = 0.0, 1.0
    for name, want in expected.items():
        a, b = actual[name].astype(np.float64).ravel(), want.astype(np.float64).ravel()
        worst_error = max(worst_error, float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-30))
        norms = np.linalg.norm(a) * np.linalg.norm(b)
        worst_cosine = min(worst_cosine, float(np.dot(a, b) / norms) if norms > 0 else float(np.array_equal(a, b)))
    return worst_error, worst_cosine


def check_storage(convert, model, passes, storage, inputs, expected, workdir):
    """Problems with `passes` + `storage` on `model`, and a line on what it stored and how close it stays."""
    stem = model[: -len(".onnx")]
    stored = os.path.join(workdir, f"{storage}-{os.path.basename(model)}")
    subprocess.run([convert, "optimize", model, "-o", stored, "--passes", ",".join(passes + [storage])], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pare_outputs = os.path.join(workdir, f"{storage}-{os.path.basename(stem)}.outputs.npz")
    subprocess.run([convert, "run", stored, "--inputs", stem + ".inputs.npz", "--outputs", pare_outputs], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pare = dict(np.load(pare_outputs))
    ort_outputs = run_session(stored, inputs, float_matmuls=True)
    problems = compare(ort_outputs, pare, False, f"{storage} (onnxruntime against Pare)")
    stored_type = getattr(onnx.TensorProto, STORAGE_PASSES[storage].upper())
    count = sum(1 for t in onnx.load(stored, load_external_data=False).graph.initializer if t.data_type == stored_type)
    error, cosine = distance(ort_outputs, expected)
    return problems, f"{storage}: {count} {STORAGE_PASSES[storage]} weights, error {error:.1e} of range, cosine {cosine:.5f}"


def check(convert, model, workdir, passes):
    stem = model[: -len(".onnx")]
    inputs = dict(np.load(stem + ".inputs.npz"))
    expected = dict(np.load(stem + ".outputs.npz"))
    out = os.path.join(workdir, os.path.basename(model))
    subprocess.run([convert, model, "--to", "onnx", "-o", out], check=True, stdout=subprocess.DEVNULL)
    problems = compare(run_session(out, inputs), expected, True, "re-encoded")
    optimized = os.path.join(workdir, "optimized-" + os.path.basename(model))
    subprocess.run([convert, "optimize", model, "-o", optimized], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    problems += compare(run_session(optimized, inputs), expected, False, "optimized")
    figures = []
    for storage in STORAGE_PASSES:
        storage_problems, line = check_storage(convert, model, passes, storage, inputs, expected, workdir)
        problems += storage_problems
        figures.append(line)
    return problems, figures


def check_mobile_format(convert, models):
    """The .pare writer against an independent reader: each sample is converted with
    `convert M.onnx --to mobile --no-verify` (float32 weights; and --fp16 --compress zstd when the
    Python module zstandard is there), read back into ONNX by Scripts/pare_to_onnx.py (written from
    docs/mobile-format.md, not from the Swift reader) and run by onnxruntime on the committed inputs.
    float32 must match the committed outputs within rtol 1e-4, atol 1e-5 (BatchNorm folding
    reorders arithmetic); fp16 within a max abs error of 1e-2 of each output's largest magnitude.
    Prints one line per model; returns the number of models that failed."""
    reader = os.path.join(ROOT, "Scripts", "pare_to_onnx.py")
    variants = [("float32", [])]
    try:
        import zstandard  # noqa: F401  (only pare_to_onnx.py uses it)
        variants.append(("fp16+zstd", ["--fp16", "--compress", "zstd"]))
    except ImportError:
        print("note: the Python module zstandard is missing: fp16+zstd .pare files are not checked", file=sys.stderr)

    def outputs_of(path, inputs):
        session = ort.InferenceSession(path, ort.SessionOptions(), providers=["CPUExecutionProvider"])
        return dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))

    def problems_with(label, got, expected):
        problems = []
        for name, want in expected.items():
            have = got.get(name)
            if have is None or have.shape != want.shape:
                problems.append(f"{label}: output '{name}' is {'missing' if have is None else f'shaped {have.shape}, not {want.shape}'}")
                continue
            error = float(np.max(np.abs(have.astype(np.float64) - want))) if want.size else 0.0
            if label == "float32":
                if not np.allclose(have, want, rtol=1e-4, atol=1e-5):
                    problems.append(f"float32: output '{name}' differs beyond rtol 1e-4, atol 1e-5 (max abs diff {error:.3g})")
            else:
                allowed = 1e-2 * (float(np.max(np.abs(want))) if want.size else 0.0)
                if not error <= allowed:
                    problems.append(f"{label}: output '{name}' max abs error {error:.3g} exceeds {allowed:.3g} (1e-2 of its range)")
        return problems

    failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for model in models:
            name = os.path.relpath(model, ROOT)
            stem = model[: -len(".onnx")]
            problems, notes = [], []
            try:
                inputs = dict(np.load(stem + ".inputs.npz"))
                expected = dict(np.load(stem + ".outputs.npz"))
                for label, flags in variants:
                    pare = os.path.join(workdir, f"{label}-{os.path.basename(stem)}.pare")
                    converted = subprocess.run([convert, model, "--to", "mobile", "-o", pare, "--no-verify", *flags],
                                               capture_output=True, text=True)
                    if converted.returncode != 0:
                        message = (converted.stderr.strip().splitlines() or ["no message"])[-1]
                        if os.path.basename(os.path.dirname(model)) == "external_data":
                            notes.append(f"{label}: skipped, does not convert ({message})")
                        else:
                            problems.append(f"{label}: convert --to mobile failed: {message}")
                        continue
                    decoded = pare + ".onnx"
                    read = subprocess.run([sys.executable, reader, pare, decoded], capture_output=True, text=True)
                    if read.returncode != 0:
                        problems.append(f"{label}: {read.stderr.strip() or 'pare_to_onnx.py failed'}")
                        continue
                    got = outputs_of(decoded, inputs)
                    found = problems_with(label, got, expected)
                    problems += found
                    if not found:
                        worst = max((float(np.max(np.abs(got[k].astype(np.float64) - v))) / max(float(np.max(np.abs(v))), 1e-30)
                                     for k, v in expected.items() if v.size), default=0.0)
                        notes.append(f"{label} {os.path.getsize(pare)} B, error {worst:.1e} of range")
            except Exception as error:  # a crash of convert, the reader or onnxruntime is a failure, reported by name
                problems.append(str(error))
            if problems:
                failed += 1
                print(f"FAIL {name}: .pare: {'; '.join(problems)}", file=sys.stderr)
            else:
                print(f"ok   {name}: .pare read by pare_to_onnx.py, same outputs in onnxruntime ({'; '.join(notes)})",
                      file=sys.stderr)
    print(f".pare through an independent reader: {len(models) - failed} passed, {failed} failed", file=sys.stderr)
    return failed


def check_pruning(convert, samples):
    """`convert prune-graph` on the Samples models and on the torch exports in Samples/structures
    (weights filled by structure_weights.materialize): every pruned model must pass onnx.checker's
    full check and run in onnxruntime with the original's output shapes; at ratio 0 its outputs
    must be the original's (onnxruntime on both)."""
    import onnx
    sys.path.insert(0, os.path.join(ROOT, "Samples", "structures"))
    sys.dont_write_bytecode = True  # no __pycache__ inside Samples
    import structure_weights

    failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        models = [(os.path.relpath(m, ROOT), m) for m in samples]
        for structure in sorted(glob.glob(os.path.join(ROOT, "Samples", "structures", "*.onnx"))):
            full = os.path.join(workdir, os.path.basename(structure))
            onnx.save(structure_weights.materialize(onnx.load(structure), seed=0), full)
            models.append((os.path.relpath(structure, ROOT) + " (seeded weights)", full))
        for label, model in models:
            runs = [("l1 0.5", ["--method", "l1"]), ("ratio 0", ["--method", "l1", "--ratio", "0"])]
            if "resnet18" in model or "unet_thesis" in model:
                runs.append(("reconstruct 0.5", ["--random-calibration", "3", "--samples-per-image", "8"]))
            try:
                reference = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
            except Exception as error:  # e.g. sparse initializers, which onnxruntime does not load
                print(f"skip prune-graph {label}: onnxruntime cannot load the original ({str(error).splitlines()[0][:120]})", file=sys.stderr)
                continue
            try:
                onnx.checker.check_model(onnx.load(model), full_check=True)
                full_check = True
            except Exception:  # the original fails onnx's own shape inference (sparse initializers)
                full_check = False
            try:
                feeds = {}
                for value in reference.get_inputs():
                    shape = [d if isinstance(d, int) else 1 for d in value.shape]
                    feeds[value.name] = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
                expected = reference.run(None, feeds)
                problems = []
                for run_label, flags in runs:
                    pruned = os.path.join(workdir, "pruned.onnx")
                    result = subprocess.run([convert, "prune-graph", model, "-o", pruned, *flags], capture_output=True, text=True)
                    if result.returncode != 0:
                        problems.append(f"{run_label}: prune-graph failed: {result.stderr.strip().splitlines()[-1:]}")
                        continue
                    onnx.checker.check_model(onnx.load(pruned), full_check=full_check)
                    actual = ort.InferenceSession(pruned, providers=["CPUExecutionProvider"]).run(None, feeds)
                    for a, e in zip(actual, expected):
                        if a.shape != e.shape:
                            problems.append(f"{run_label}: output shape {a.shape}, original {e.shape}")
                        elif run_label == "ratio 0" and not np.allclose(a, e, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(e).max()))):
                            problems.append(f"{run_label}: outputs differ by {float(np.abs(a - e).max())}")
                if problems:
                    failed += 1
                    print(f"FAIL prune-graph {label}: {'; '.join(problems)}", file=sys.stderr)
                else:
                    print(f"ok   prune-graph {label}: {', '.join(r for r, _ in runs)} load in onnxruntime with the original's shapes", file=sys.stderr)
            except Exception as error:  # a crash of convert or onnxruntime is a failure, reported by name
                failed += 1
                print(f"FAIL prune-graph {label}: {error}", file=sys.stderr)
    print(f"pruned models in onnxruntime: {len(models) - failed} passed, {failed} failed", file=sys.stderr)
    return failed


def check_crack_pruning(convert):
    """The trained crack U-Net (Samples/crack) pruned at ratio 0.5 with its 32 calibration images,
    scored in onnxruntime against the held-out ground-truth masks: `reconstruct` must stay within
    3 F1 points of the unpruned model and beat `l1`."""
    folder = os.path.join(ROOT, "Samples", "crack")
    model = os.path.join(folder, "crack_unet.onnx")
    images = np.load(os.path.join(folder, "crack_unet.inputs.npz"))["input"]
    masks = np.load(os.path.join(folder, "crack_unet.masks.npz"))["mask"].astype(bool)

    def f1(path):
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        predicted = session.run(None, {"input": images})[0] > 0.5
        tp, fp, fn = (predicted & masks).sum(), (predicted & ~masks).sum(), (~predicted & masks).sum()
        return 2 * tp / (2 * tp + fp + fn)

    scores = {"unpruned": f1(model)}
    with tempfile.TemporaryDirectory() as workdir:
        for method in ("reconstruct", "l1"):
            pruned = os.path.join(workdir, f"{method}.onnx")
            subprocess.run([convert, "prune-graph", model, "--method", method, "--ratio", "0.5",
                            "--calibration", os.path.join(folder, "crack_calibration.npz"), "-o", pruned],
                           check=True, capture_output=True)
            scores[method] = f1(pruned)
    summary = ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
    if scores["reconstruct"] >= scores["unpruned"] - 0.03 and scores["reconstruct"] > scores["l1"]:
        print(f"ok   prune-graph Samples/crack/crack_unet.onnx at ratio 0.5, held-out F1 in onnxruntime: {summary}", file=sys.stderr)
        return 0
    print(f"FAIL prune-graph Samples/crack/crack_unet.onnx at ratio 0.5, held-out F1 in onnxruntime: {summary}", file=sys.stderr)
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("convert", help="path to the convert binary (swift build --show-bin-path)/convert")
    convert = os.path.abspath(parser.parse_args().convert)
    passes = standard_passes(convert)
    models = sorted(
        m for m in glob.glob(os.path.join(ROOT, "Samples", "**", "*.onnx"), recursive=True)
        if os.path.exists(m[: -len(".onnx")] + ".outputs.npz")
    )
    passed = failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for model in models:
            name = os.path.relpath(model, ROOT)
            try:
                problems, figures = check(convert, model, workdir, passes)
            except Exception as error:  # a crash of convert or onnxruntime is a failure, reported by name
                problems, figures = [str(error)], []
            if problems:
                failed += 1
                print(f"FAIL {name}: {'; '.join(problems)}", file=sys.stderr)
            else:
                passed += 1
                print(f"ok   {name}: re-encoded by Pare, bit-identical outputs in onnxruntime; optimized, same outputs; "
                      f"weight storage, same outputs as Pare ({'; '.join(figures)})", file=sys.stderr)
    print(f"onnxruntime round trip: {passed} passed, {failed} failed", file=sys.stderr)
    pare_failed = check_mobile_format(convert, models)
    prune_failed = check_pruning(convert, models) + check_crack_pruning(convert)
    sys.exit(1 if failed or pare_failed or prune_failed or not passed else 0)


if __name__ == "__main__":
    main()
