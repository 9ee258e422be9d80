#!/usr/bin/env python3
"""Cross-checks Pare's ONNX writer against onnxruntime, a runtime nobody here wrote.

For every sample model with reference data, `convert M.onnx --to onnx -o out.onnx` re-encodes it;
onnxruntime then runs the re-encoded file on the committed inputs and its outputs must be
bit-identical to the committed reference outputs (made by onnxruntime from the original file).
Then `convert optimize M.onnx -o opt.onnx` simplifies it, and onnxruntime's outputs for the
optimized file must match the references within 1e-4 relative (1e-5 absolute) error: folding
BatchNorms into weights changes float rounding, nothing else.
Usage: check_onnxruntime.py path/to/convert
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_session(path, inputs):
    options = ort.SessionOptions()
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


def check(convert, model, workdir):
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
    return problems


def main():
    convert = os.path.abspath(sys.argv[1])
    models = sorted(
        m for m in glob.glob(os.path.join(ROOT, "Samples", "**", "*.onnx"), recursive=True)
        if os.path.exists(m[: -len(".onnx")] + ".outputs.npz")
    )
    passed = failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for model in models:
            name = os.path.relpath(model, ROOT)
            try:
                problems = check(convert, model, workdir)
            except Exception as error:  # a crash of convert or onnxruntime is a failure, reported by name
                problems = [str(error)]
            if problems:
                failed += 1
                print(f"FAIL {name}: {'; '.join(problems)}", file=sys.stderr)
            else:
                passed += 1
                print(f"ok   {name}: re-encoded by Pare, bit-identical outputs in onnxruntime; optimized, same outputs",
                      file=sys.stderr)
    print(f"onnxruntime round trip: {passed} passed, {failed} failed", file=sys.stderr)
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
