#!/usr/bin/env python3
"""Benchmarks the `.pare` mobile format against onnxruntime's `.ort` format, in the same run.

Models: the U-Net family (Samples/unet_thesis.onnx and the U-Net of Scripts/bench_runtime.py, at
more base widths when its builder takes one) and the ResNet-50-sized model of bench_runtime.py,
generated into bench-output/mobile/ (a folder of its own: the other benchmarks rewrite
bench-output/resnet50.onnx). For each model it measures:
  - file sizes: the ONNX file, onnxruntime's `.ort` file (`python -m
    onnxruntime.tools.convert_onnx_models_to_ort --optimization_style Fixed`, the style the tool
    recommends for the CPU provider, at its default optimization level "all" with the NCHWc
    transformer excluded), and `.pare` with float32, float16 (--fp16) and int8 (--int8-weights)
    weights, each without and with --compress zstd;
  - conversion: wall time of the whole `convert MODEL --to mobile -o OUT [--fp16|--int8-weights]
    [--compress zstd] --no-verify --json` process, and the stage times its JSON reports. The
    first conversion of each variant (untimed; it also warms the page cache) runs with the
    default verification, whose verdict is reported;
  - load, open to ready to run, page cache warm (every file is loaded once before timing):
      Pare: `loadMs` of `convert run OUT.pare --random-inputs --json` (it times ModelInput.load +
        Session(...), before any inference), one process per sample, median of --loads processes;
        every variant as loaded by default (each blob's CRC-32 checked at load), and the
        uncompressed ones also with `--defer-checksums` when convert has it ("deferred": the
        checks run after the run, as an app loading in O(graph) time does); and for fp32 the
        `reloadMs` of `convert run --reload N` (the median of N = --repeats further loads in one
        process);
      onnxruntime: `ort.InferenceSession(path, ort.SessionOptions(), providers=["CPUExecutionProvider"])`
        with default options (ORT_ENABLE_ALL, default threads, as users run it), timed in a child
        process: the first creation in the process (which also pays onnxruntime's one-time
        environment set-up) is reported apart, the median of the --repeats creations after it is
        the figure compared; for the .ort file and, for context, for the .onnx file. (Repeated
        loads take a median of 100 by default: a median of 7 was off by up to 40% on a shared
        machine.)
The convert binary is copied into bench-output/mobile/ first, so that a rebuild in the checkout
during the run cannot swap it. Every case is measured in --rounds rounds that alternate the
runtimes; the tables keep each case's best round (a transient load on a shared machine only ever
slows a round down).

Targets (from the issue): fp32 .pare no larger than the .ort file; an uncompressed fp32 .pare loads
at least 10× faster than onnxruntime creates a session from the .ort file, judged like against
like for the default load and the deferred one: the first load in a fresh process against
onnxruntime's first creation in its process, and Pare's repeated loads in one process against
onnxruntime's repeated creations; the ResNet-50-sized model converts (fp32) in under 2 seconds.
The exit status is 0 whether or not the targets are met.

Usage: bench_mobile.py path/to/convert [--rounds 3] [--loads 7] [--repeats 100] [--models unet_thesis,unet,resnet50]
       [--json]   (also write bench-output/bench-mobile.json)
(Scripts/bench-mobile builds convert and picks the project venv.)
"""
import argparse
import inspect
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "Scripts")
OUT = os.path.join(ROOT, "bench-output")
WORK = os.path.join(OUT, "mobile")
JSON_PATH = os.path.join(OUT, "bench-mobile.json")
SAMPLE_UNET = os.path.join(ROOT, "Samples", "unet_thesis.onnx")
UNET_WIDTHS = [32]  # extra base widths of bench_runtime's U-Net, when its builder takes one

SIZE_TARGET = 1.0  # fp32 .pare bytes / .ort bytes <= this
LOAD_TARGET = 10.0  # onnxruntime session ms / Pare load ms >= this
CONVERT_TARGET = 2.0  # seconds, ResNet-50-sized model, fp32
CONVERT_TARGET_MODEL = "resnet50"

# (name, convert flags); the first is the one the targets speak of.
VARIANTS = [
    ("fp32", []),
    ("fp32+zstd", ["--compress", "zstd"]),
    ("fp16", ["--fp16"]),
    ("fp16+zstd", ["--fp16", "--compress", "zstd"]),
    ("int8", ["--int8-weights"]),
    ("int8+zstd", ["--int8-weights", "--compress", "zstd"]),
]

sys.path.insert(0, SCRIPTS)
import bench_runtime  # noqa: E402  (stdlib only at import time; onnx is imported by its builders)


def log(message):
    print(f"bench-mobile: {message}", file=sys.stderr, flush=True)


def unet_takes_width():
    """True when bench_runtime.unet accepts a base width (today it builds 16 channels only)."""
    return len(inspect.signature(bench_runtime.unet).parameters) > 0


def available_models():
    names = ["unet_thesis", "unet"]
    if unet_takes_width():
        names += [f"unet-w{w}" for w in UNET_WIDTHS]
    return names + ["resnet50"]


def model_path(name):
    return SAMPLE_UNET if name == "unet_thesis" else os.path.join(WORK, f"{name}.onnx")


# ---------------------------------------------------------------------------------------------
# Children (onnx, numpy and onnxruntime stay out of the parent, which spawns every measured process).

def child_generate(names):
    import onnx
    os.makedirs(WORK, exist_ok=True)
    for name in names:
        if name == "unet_thesis":
            continue
        if name == "resnet50":
            model = bench_runtime.resnet50()
        elif name == "unet":
            model = bench_runtime.unet()
        elif name.startswith("unet-w"):
            model = bench_runtime.unet(int(name[len("unet-w"):]))
        else:
            raise SystemExit(f"unknown model {name}")
        onnx.checker.check_model(model)
        onnx.save(model, model_path(name))


def child_ort_load(path, count):
    """Creates a session from `path` 1 + count times; prints the first time and the others (ms)."""
    import onnxruntime as ort
    options = ort.SessionOptions()  # defaults, as users run it: ORT_ENABLE_ALL, default threads

    def create():
        start = time.perf_counter()
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        elapsed = (time.perf_counter() - start) * 1000
        del session
        return elapsed

    first = create()
    times = [create() for _ in range(count)]
    print(json.dumps({"first": first, "times": times, "version": ort.__version__}))


# ---------------------------------------------------------------------------------------------
# Parent.

def run_child(argv, check=True):
    """Runs a child to completion; returns (status, stdout, stderr, wall seconds, peak RSS MB).
    Output goes through temporary files so the child is reaped by wait4 (which reports its
    rusage) and never blocks on a full pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if check and code != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({code}):\n{stderr[-3000:]}")
    return code, stdout, stderr, wall, usage.ru_maxrss / 1024


def pare_path(name, variant):
    return os.path.join(WORK, f"{name}.{variant.replace('+', '-')}.pare")


def ort_path(name):
    return os.path.join(WORK, "ort", f"{name}.ort")


def convert_command(convert, name, variant, flags, verify):
    return ([convert, model_path(name), "--to", "mobile", "-o", pare_path(name, variant)] + flags
            + ([] if verify else ["--no-verify"]) + ["--json"])


def make_ort(name):
    """Converts the model to .ort with the tool's defaults (style Fixed); returns wall seconds."""
    os.makedirs(os.path.dirname(ort_path(name)), exist_ok=True)
    _, _, _, wall, _ = run_child([sys.executable, "-m", "onnxruntime.tools.convert_onnx_models_to_ort",
                                  "--optimization_style", "Fixed", "--output_dir", os.path.dirname(ort_path(name)),
                                  model_path(name)])
    if not os.path.exists(ort_path(name)):
        raise RuntimeError(f"convert_onnx_models_to_ort wrote no {ort_path(name)}")
    return wall


def verify_summary(stdout):
    """(passed, worst max abs error, lowest cosine similarity) from a conversion's --json."""
    try:
        summary = json.loads(stdout)
    except json.JSONDecodeError:
        return None, None, None
    outputs = (summary.get("verification") or {}).get("outputs", [])
    errors = [o.get("maxAbsoluteError") for o in outputs if isinstance(o.get("maxAbsoluteError"), (int, float))]
    cosines = [o.get("cosineSimilarity") for o in outputs if isinstance(o.get("cosineSimilarity"), (int, float))]
    return summary.get("passed"), max(errors) if errors else None, min(cosines) if cosines else None


def time_convert(convert, name, variant, flags):
    _, stdout, _, wall, rss = run_child(convert_command(convert, name, variant, flags, verify=False))
    summary = json.loads(stdout)
    return {"seconds": wall, "reported": summary.get("seconds"), "stages": summary.get("stageSeconds", {}),
            "fileBytes": summary.get("fileBytes"), "sourceBytes": summary.get("sourceBytes"), "rssMB": rss}


def load_cases(convert):
    """(label, variant, extra `convert run` flags) for every Pare load measured: each variant as
    `convert run` loads it by default (every blob's CRC-32 checked at load), and the uncompressed
    ones also with --defer-checksums when this convert has it (checks after the run, as an app
    that loads in O(graph) time does; zstd blobs are checked at load anyway, being decoded)."""
    _, help_text, _, _, _ = run_child([convert, "run", "--help"])
    defers = "--defer-checksums" in help_text
    cases = []
    for variant, flags in VARIANTS:
        cases.append((variant, variant, []))
        if defers and "--compress" not in flags:
            cases.append((f"{variant} deferred", variant, ["--defer-checksums"]))
    return cases


def pare_load(convert, path, flags=()):
    """loadMs of one `convert run` process (and its peak RSS)."""
    _, stdout, _, _, rss = run_child([convert, "run", path, "--random-inputs", "--json", *flags])
    return json.loads(stdout)["loadMs"], rss


def pare_reload(convert, path, count, flags=()):
    """reloadMs of one `convert run --reload COUNT` process: the median of COUNT loads after the
    first in the same process (warm, as onnxruntime's repeated session creations are)."""
    _, stdout, _, _, _ = run_child([convert, "run", path, "--random-inputs", "--json", "--reload", str(count), *flags])
    return json.loads(stdout).get("reloadMs")


def ort_load(path, count):
    _, stdout, _, _, _ = run_child([sys.executable, os.path.abspath(__file__), "--child-ort-load", path, str(count)])
    return json.loads(stdout)


def fmt_ms(x):
    return f"{x:.2f}" if x < 100 else f"{x:.1f}"


def print_table(title, header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(title)
    print(line(header))
    print("-" * len(line(header)))
    for row in rows:
        print(line(row))
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("convert", nargs="?")
    parser.add_argument("--rounds", type=int, default=3, help="measure each case this many times, keep the best")
    parser.add_argument("--loads", type=int, default=7,
                        help="Pare processes per round and variant (first loads; median)")
    parser.add_argument("--repeats", type=int, default=100,
                        help="repeated loads per round: Pare reloads in one process / onnxruntime creations after the first (median)")
    parser.add_argument("--models", default=None, help=f"comma-separated, from {available_models()}")
    parser.add_argument("--json", action="store_true", help=f"also write {os.path.relpath(JSON_PATH, ROOT)}")
    parser.add_argument("--child-generate", help=argparse.SUPPRESS)
    parser.add_argument("--child-ort-load", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_generate:
        return child_generate([n for n in args.child_generate.split(",") if n])
    if args.child_ort_load:
        return child_ort_load(args.child_ort_load[0], int(args.child_ort_load[1]))
    if not args.convert:
        parser.error("the path to convert is required")
    names = [n for n in (args.models or ",".join(available_models())).split(",") if n]
    unknown = [n for n in names if n not in available_models()]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {available_models()}"
                     + ("" if unet_takes_width() else " (bench_runtime.unet takes no width, so no unet-wN)"))
    rounds, loads, repeats = max(1, args.rounds), max(3, args.loads), max(3, args.repeats)
    # Measure a private copy: a rebuild in the shared checkout during the run then neither swaps
    # the binary between measurements nor fails them with "text file busy".
    os.makedirs(WORK, exist_ok=True)
    convert = os.path.join(WORK, "convert")
    shutil.copy2(args.convert, convert + ".tmp")
    os.replace(convert + ".tmp", convert)
    args.convert = convert
    cases = load_cases(convert)

    load_before = os.getloadavg()
    try:  # which sources the binary was built from (the checkout is shared; a dirty tree is noted)
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True).stdout.strip()
        source = f"{head}{' + uncommitted changes in Sources' if dirty else ''}"
    except OSError:
        source = "unknown"
    log(f"generating models into {os.path.relpath(WORK, ROOT)} …")
    run_child([sys.executable, os.path.abspath(__file__), "--child-generate", ",".join(names)])

    # Set-up, untimed: .ort files, a first (verified) conversion of every variant, one load of
    # every file so that the page cache is warm when the rounds start.
    setup = {}
    for name in names:
        log(f"{name}: .ort conversion, first conversions (verified) and warm-up loads …")
        entry = {"onnxBytes": os.path.getsize(model_path(name)), "ortToolSeconds": make_ort(name)}
        entry["ortBytes"] = os.path.getsize(ort_path(name))
        verdicts = {}
        for variant, flags in VARIANTS:
            code, stdout, stderr, _, _ = run_child(convert_command(args.convert, name, variant, flags, verify=True), check=False)
            if code not in (0, 1) or not os.path.exists(pare_path(name, variant)):
                raise RuntimeError(f"converting {name} ({variant}) failed ({code}):\n{stderr[-3000:]}")
            passed, max_abs, cosine = verify_summary(stdout)
            verdicts[variant] = {"passed": passed if code == 0 else False, "maxAbsoluteError": max_abs, "cosineSimilarity": cosine}
        for _, variant, flags in cases:
            pare_load(args.convert, pare_path(name, variant), flags)
        ort_load(ort_path(name), 1)
        ort_load(model_path(name), 1)
        entry["verification"] = verdicts
        setup[name] = entry

    # Rounds: every case once per round, Pare and onnxruntime alternating.
    samples = {name: {"convert": {v: [] for v, _ in VARIANTS}, "load": {label: [] for label, _, _ in cases},
                      "ort": [], "onnx": []} for name in names}
    ort_version = None
    for r in range(rounds):
        for name in names:
            log(f"round {r + 1}/{rounds}: {name} …")
            s = samples[name]
            for variant, flags in VARIANTS:
                s["convert"][variant].append(time_convert(args.convert, name, variant, flags))
            for label, variant, flags in cases:
                results = [pare_load(args.convert, pare_path(name, variant), flags) for _ in range(loads)]
                s["load"][label].append({"ms": [ms for ms, _ in results], "median": statistics.median(ms for ms, _ in results),
                                         "rssMB": max(rss for _, rss in results)})
                if label in ("fp32", "fp32 deferred"):
                    s.setdefault("reload", {}).setdefault(label, []).append(pare_reload(args.convert, pare_path(name, variant), repeats, flags))
                if label == "fp32":
                    result = ort_load(ort_path(name), repeats)
                    ort_version = result["version"]
                    s["ort"].append({"first": result["first"], "ms": result["times"], "median": statistics.median(result["times"])})
            result = ort_load(model_path(name), repeats)
            s["onnx"].append({"first": result["first"], "ms": result["times"], "median": statistics.median(result["times"])})

    # Best round of each case.
    load_after = os.getloadavg()
    report = {"rounds": rounds, "loads": loads, "repeats": repeats, "onnxruntime": ort_version, "cpus": os.cpu_count(), "source": source,
              "loadAverage": {"start": load_before, "end": load_after},
              "ortConversion": "convert_onnx_models_to_ort --optimization_style Fixed (default level 'all', NchwcTransformer excluded)",
              "models": {}}
    for name in names:
        s, e = samples[name], setup[name]
        sizes = {v: os.path.getsize(pare_path(name, v)) for v, _ in VARIANTS}
        convert_best = {v: min(s["convert"][v], key=lambda c: c["seconds"]) for v, _ in VARIANTS}
        load_best = {label: min(x["median"] for x in s["load"][label]) for label, _, _ in cases}
        report["models"][name] = {
            "onnx": os.path.relpath(model_path(name), ROOT), "onnxBytes": e["onnxBytes"], "ortBytes": e["ortBytes"],
            "pareBytes": sizes, "ortToolSeconds": e["ortToolSeconds"],
            "convertSeconds": {v: c["seconds"] for v, c in convert_best.items()},
            "convertBest": convert_best,
            "pareLoadMs": load_best,
            "pareReloadMs": {label: min(x for x in values if x is not None) for label, values in s.get("reload", {}).items()
                             if any(x is not None for x in values)},
            "pareLoadRssMB": {label: min(x["rssMB"] for x in s["load"][label]) for label, _, _ in cases},
            "ortSessionMs": min(x["median"] for x in s["ort"]),
            "ortFirstSessionMs": min(x["first"] for x in s["ort"]),
            "onnxSessionMs": min(x["median"] for x in s["onnx"]),
            "onnxFirstSessionMs": min(x["first"] for x in s["onnx"]),
            "verification": e["verification"],
            "samples": s,
        }

    models = report["models"]
    print()
    print(f".pare against onnxruntime {ort_version} (.ort: convert_onnx_models_to_ort --optimization_style Fixed,"
          f" its default level 'all'); best of {rounds} rounds")
    print(f"convert built from {source}; {os.cpu_count()} CPUs; 1-minute load average {load_before[0]:.2f} at the start,"
          f" {load_after[0]:.2f} at the end")
    print()
    header = ["model", "onnx", ".ort"] + [v for v, _ in VARIANTS] + ["fp32/.ort"]
    rows = [[n, m["onnxBytes"], m["ortBytes"]] + [m["pareBytes"][v] for v, _ in VARIANTS]
            + [f"{m['pareBytes']['fp32'] / m['ortBytes']:.3f}"] for n, m in models.items()]
    print_table("File size (bytes)", header, rows)

    header = ["model"] + [label for label, _, _ in cases]
    rows = [[n] + [fmt_ms(m["pareLoadMs"][label]) for label, _, _ in cases] for n, m in models.items()]
    print_table(f"Pare load, open to ready to run (ms; page cache warm): loadMs of `convert run OUT.pare --random-inputs`,"
                f" median of {loads} processes;\n'deferred': with --defer-checksums (blob CRCs checked after the run"
                f" instead of at load)", header, rows)

    compared = [label for label in ("fp32", "fp32 deferred") if label in load_best]
    reloaded = [label for label in compared if all(label in m["pareReloadMs"] for m in models.values())]
    header = (["model", ".ort", ".ort 1st", ".onnx", ".onnx 1st"] + [f"pare reload {label}" for label in reloaded]
              + [f"1st/1st {label}" for label in compared] + [f"reload {label}" for label in reloaded])
    rows = [[n, fmt_ms(m["ortSessionMs"]), fmt_ms(m["ortFirstSessionMs"]), fmt_ms(m["onnxSessionMs"]), fmt_ms(m["onnxFirstSessionMs"])]
            + [fmt_ms(m["pareReloadMs"][label]) for label in reloaded]
            + [f"{m['ortFirstSessionMs'] / m['pareLoadMs'][label]:.1f}" for label in compared]
            + [f"{m['ortSessionMs'] / m['pareReloadMs'][label]:.1f}" for label in reloaded] for n, m in models.items()]
    print_table(f"onnxruntime session creation (ms): InferenceSession(file, SessionOptions(), CPUExecutionProvider), median of"
                f" {repeats} creations in one\nprocess after its first; 1st: the first creation in the process (it also sets up"
                f" onnxruntime). Pare reload: reloadMs of `convert run --reload {repeats}`\n(median of {repeats} loads after the first in"
                f" one process). Ratios ort/pare: 1st/1st = first in a process on both sides; reload = repeated on both sides",
                header, rows)

    stage_names = []
    for m in models.values():
        for stage in m["convertBest"]["fp32"]["stages"]:
            if stage not in stage_names:
                stage_names.append(stage)
    header = ["model"] + [v for v, _ in VARIANTS] + [f"fp32 {stage}" for stage in stage_names] + [".ort tool"]
    rows = [[n] + [f"{m['convertSeconds'][v]:.3f}" for v, _ in VARIANTS]
            + [f"{m['convertBest']['fp32']['stages'].get(stage, 0):.3f}" for stage in stage_names]
            + [f"{m['ortToolSeconds']:.2f}"] for n, m in models.items()]
    print_table("Conversion, whole `convert MODEL --to mobile --no-verify` process (s); fp32 stages from its --json;"
                "\n.ort tool: one run of convert_onnx_models_to_ort (python process, for context)", header, rows)

    header = ["model"] + [v for v, _ in VARIANTS]
    def verdict(v):
        if v["passed"] is None:
            return "?"
        text = "pass" if v["passed"] else "FAIL"
        if v["maxAbsoluteError"] is not None:
            text += f" {v['maxAbsoluteError']:.1e}"
        if v["cosineSimilarity"] is not None:
            text += f" cos {v['cosineSimilarity']:.6f}"
        return text
    rows = [[n] + [verdict(m["verification"][v]) for v, _ in VARIANTS] for n, m in models.items()]
    print_table("Verification of the first conversion (convert's default check against the ONNX model):"
                "\nverdict, max abs error, lowest cosine similarity over the outputs", header, rows)

    targets = []
    print("Targets")
    for n, m in models.items():
        ratio = m["pareBytes"]["fp32"] / m["ortBytes"]
        met = ratio <= SIZE_TARGET
        targets.append({"model": n, "target": "fp32 .pare <= .ort", "value": ratio, "met": met})
        print(f"  {n:<12} size  fp32 .pare / .ort = {m['pareBytes']['fp32']} / {m['ortBytes']} = {ratio:.3f}"
              f"   (target <= {SIZE_TARGET:g}: {'met' if met else 'not met'})")
    # Like against like: the first load in a fresh process on both sides, and repeated loads in
    # one process on both sides.
    pairings = [("first in a process", compared, "pareLoadMs", "ortFirstSessionMs"),
                ("repeated in a process", reloaded, "pareReloadMs", "ortSessionMs")]
    for kind, labels, pare_key, ort_key in pairings:
        for label in labels:
            for n, m in models.items():
                pare, ort = m[pare_key][label], m[ort_key]
                ratio = ort / pare
                met = ratio >= LOAD_TARGET
                targets.append({"model": n, "target": f"load, {kind}: ort / pare {label} >= 10", "value": ratio, "met": met})
                print(f"  {n:<12} load, {kind}  ort .ort {fmt_ms(ort)} ms / pare {label} {fmt_ms(pare)} ms"
                      f" = {ratio:.1f}x   (target >= {LOAD_TARGET:g}x: {'met' if met else 'not met'})")
    if CONVERT_TARGET_MODEL in models:
        seconds = models[CONVERT_TARGET_MODEL]["convertSeconds"]["fp32"]
        met = seconds < CONVERT_TARGET
        targets.append({"model": CONVERT_TARGET_MODEL, "target": "fp32 conversion < 2 s", "value": seconds, "met": met})
        print(f"  {CONVERT_TARGET_MODEL:<12} convert fp32 {seconds:.3f} s   (target < {CONVERT_TARGET:g} s: {'met' if met else 'not met'})")
    else:
        print(f"  conversion target: not measured ({CONVERT_TARGET_MODEL} not in --models)")
    report["targets"] = targets

    if args.json:
        with open(JSON_PATH, "w") as f:
            json.dump(report, f, indent=1)
        print(f"\nwrote {os.path.relpath(JSON_PATH, ROOT)}")


if __name__ == "__main__":
    main()
