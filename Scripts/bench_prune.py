#!/usr/bin/env python3
"""Benchmarks `convert prune-graph` on a U-Net and a ResNet-50, with Torch-Pruning's magnitude
pruner on the same architectures in the same run as the anchor.

Models (random He-init weights, from bench_runtime.py's builders, written to bench-output/):
  - U-Net: 4 poolings, 16 base channels, 1×3×320×480;
  - ResNet-50 v1.5, 1×3×224×224, BatchNorm unfolded.
For each model, at ratio 0.5 (half of each prunable group's channels) on 2 threads:
  - Pare `reconstruct` with 32 calibration samples (`--random-calibration 32 --held-out 0`) and
    Pare `l1` (no data): wall time and peak RSS of the process, and the report's split of the time
    (forward passes, statistics, channel selection, least squares);
  - Torch-Pruning's MagnitudePruner (L1 filter norms, no calibration data and no re-fit, like
    Pare's `l1`), when --torch-python points at an interpreter with torch, torchvision and
    torch-pruning (pip install torch torchvision torch-pruning): the time of building its
    dependency graph and pruning, the child's wall time and peak RSS (torch's import included).
Every tool runs in a child process of its own, so each peak RSS is its own.

Usage: bench_prune.py path/to/convert [--models unet,resnet50] [--threads 2]
       [--torch-python /path/to/python]
The U-Net target (issue: under 60 s on 2 cores) is printed with the measured ratio.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_runtime  # noqa: E402  (the model builders and the child-process runner)

OUT = bench_runtime.OUT
TARGET_SECONDS = {"unet": 60.0}
SAMPLES = 32


def child_generate(names):
    import onnx
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        path = os.path.join(OUT, f"prune-{name}.onnx")
        if not os.path.exists(path):
            onnx.save(getattr(bench_runtime, name)(), path)


def child_torch(name, threads):
    """Torch-Pruning's magnitude pruner at ratio 0.5 on the same architecture; prints JSON."""
    import torch
    import torch.nn as nn
    import torch_pruning as tp
    torch.set_num_threads(threads)
    if name == "unet":
        class Double(nn.Sequential):
            def __init__(self, cin, cout):
                super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())

        class UNet(nn.Module):
            def __init__(self):
                super().__init__()
                widths = [16, 32, 64, 128]
                self.down = nn.ModuleList([Double(c_in, c) for c_in, c in zip([3] + widths, widths)])
                self.bottom = Double(128, 256)
                self.up = nn.ModuleList([nn.ConvTranspose2d(2 * c, c, 2, stride=2) for c in reversed(widths)])
                self.dec = nn.ModuleList([Double(2 * c, c) for c in reversed(widths)])
                self.head = nn.Conv2d(16, 1, 1)

            def forward(self, x):
                skips = []
                for block in self.down:
                    x = block(x)
                    skips.append(x)
                    x = nn.functional.max_pool2d(x, 2)
                x = self.bottom(x)
                for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
                    x = dec(torch.cat([up(x), skip], 1))
                return torch.sigmoid(self.head(x))

        model, shape = UNet().eval(), (1, 3, 320, 480)
        ignored = [model.head]
    else:
        import torchvision
        model, shape = torchvision.models.resnet50().eval(), (1, 3, 224, 224)
        ignored = [model.fc]
    example = torch.randn(*shape)
    macs_before, params_before = tp.utils.count_ops_and_params(model, example)
    start = time.perf_counter()
    pruner = tp.pruner.MagnitudePruner(model, example, importance=tp.importance.MagnitudeImportance(p=1),
                                       pruning_ratio=0.5, ignored_layers=ignored)
    pruner.step()
    seconds = time.perf_counter() - start
    macs_after, params_after = tp.utils.count_ops_and_params(model, example)
    with torch.no_grad():
        model(example)  # the pruned model still runs
    print(json.dumps({"seconds": seconds, "macs": [int(macs_before), int(macs_after)],
                      "params": [int(params_before), int(params_after)], "version": tp.__version__}))


def run_pare(convert, path, method, threads):
    output = os.path.join(OUT, f"pruned-{method}-{os.path.basename(path)}")
    argv = [convert, "prune-graph", path, "--ratio", "0.5", "--method", method, "--threads", str(threads),
            "--json", "-o", output]
    if method != "l1":
        argv += ["--random-calibration", str(SAMPLES), "--held-out", "0"]
    start = time.perf_counter()
    stdout, _, peak = bench_runtime.run_child(argv)
    return time.perf_counter() - start, peak, json.loads(stdout)


def run_torch(python, name, threads):
    start = time.perf_counter()
    stdout, _, peak = bench_runtime.run_child([python, os.path.abspath(__file__), "--child-torch", name, "--threads", str(threads)])
    return time.perf_counter() - start, peak, json.loads(stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("convert", nargs="?")
    parser.add_argument("--models", default="unet,resnet50")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torch-python", help="an interpreter with torch, torchvision and torch-pruning")
    parser.add_argument("--child-torch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_torch:
        return child_torch(args.child_torch, args.threads)
    if not args.convert:
        parser.error("the path to convert is required")
    names = args.models.split(",")
    bench_runtime.run_child([sys.executable, "-c", f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
                                                   f"import bench_prune; bench_prune.child_generate({names!r})"])
    rows = []
    for name in names:
        path = os.path.join(OUT, f"prune-{name}.onnx")
        for method in ("reconstruct", "l1"):
            print(f"bench-prune: Pare {method} on {name}…", file=sys.stderr)
            wall, peak, report = run_pare(os.path.abspath(args.convert), path, method, args.threads)
            t = report["timings"]
            split = (f"forward {t['forwardPasses']:.1f} s, statistics {t['statistics']:.1f} s, "
                     f"selection {t['selection']:.1f} s, least squares {t['leastSquares']:.1f} s") if method != "l1" else "-"
            rows.append((name, f"Pare {method}", wall, peak, report["macsBefore"], report["macsAfter"], split))
        if args.torch_python:
            print(f"bench-prune: Torch-Pruning magnitude on {name}…", file=sys.stderr)
            try:
                wall, peak, result = run_torch(args.torch_python, name, args.threads)
                rows.append((name, f"Torch-Pruning {result['version']} magnitude", wall, peak, result["macs"][0], result["macs"][1],
                             f"graph + prune {result['seconds']:.1f} s"))
            except RuntimeError as error:
                print(f"bench-prune: Torch-Pruning failed on {name}: {str(error).splitlines()[0]}", file=sys.stderr)

    print(f"{'model':<9} {'tool':<34} {'wall s':>7} {'peak MB':>8} {'MACs before → after':>28}  where the time went")
    for name, tool, wall, peak, before, after, split in rows:
        print(f"{name:<9} {tool:<34} {wall:>7.1f} {peak:>8.0f} {before / 1e9:>11.2f} G → {after / 1e9:>6.2f} G ({before / after:.2f}×)  {split}")
    for name in names:
        pare = next(r for r in rows if r[0] == name and r[1] == "Pare reconstruct")
        torch_row = next((r for r in rows if r[0] == name and r[1].startswith("Torch-Pruning")), None)
        if torch_row:
            print(f"{name}: Pare reconstruct / Torch-Pruning magnitude wall time {pare[2] / torch_row[2]:.2f}×, "
                  f"peak memory {pare[3] / torch_row[3]:.2f}×")
        if name in TARGET_SECONDS:
            verdict = "met" if pare[2] <= TARGET_SECONDS[name] else "MISSED"
            print(f"{name}: target under {TARGET_SECONDS[name]:.0f} s on {args.threads} threads: {pare[2]:.1f} s "
                  f"({pare[2] / TARGET_SECONDS[name]:.2f}× the budget), {verdict}")


if __name__ == "__main__":
    main()
