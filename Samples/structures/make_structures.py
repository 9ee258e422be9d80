#!/usr/bin/env python3
"""Builds Pare's "structure files": torch exports of real architectures with the weights stripped.

Run from the repository root:  /work/tools/venv/bin/python Samples/structures/make_structures.py
Needs torch, torchvision, onnx, onnxruntime and numpy. See README.md next to this file.

For each model this script:
  1. builds it with torch.manual_seed(0) and weights=None, redraws its BatchNorm statistics and
     biases (see trained_looking), and, in eval mode, exports it with the
     TorchScript exporter (dynamo=False, opset 13, constant folding on, batch fixed at 1). The
     input is named `input` and the output `output`.
  2. strips it: every initializer with more than STRIP_ABOVE elements is removed from the
     initializer list (and from value_info) and declared as a graph input of the same name,
     element type and shape. These inputs come after `input`, in initializer order. Smaller
     initializers stay as they are. It then saves the result here as <name>.onnx and runs
     onnx.checker on it.
  3. verifies it. Putting the original initializers back must reproduce the torch export's
     output exactly. materialize() (structure_weights.py) with seed 0 must give a model that
     onnxruntime runs, with finite outputs that are not all equal.
It prints the op-type counts, the graph inputs and the file sizes.
"""

import collections
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torchvision
from onnx import helper

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # keep __pycache__ out of Samples/structures
sys.path.insert(0, str(HERE))
import structure_weights  # noqa: E402

OPSET = 13
STRIP_ABOVE = 64  # initializers with more elements than this become graph inputs


class MainOutput(torch.nn.Module):
    """Returns only result['out'] of a torchvision segmentation model (which returns a dict)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def deeplabv3_mobilenet():
    from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large
    return MainOutput(deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None,
                                                   num_classes=2, aux_loss=False))


MODELS = [
    ("resnet18", lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224)),
    ("resnet50", lambda: torchvision.models.resnet50(weights=None), (1, 3, 224, 224)),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(weights=None), (1, 3, 224, 224)),
    ("deeplabv3_mobilenet", deeplabv3_mobilenet, (1, 3, 128, 128)),
]


def trained_looking(model):
    """Gives `model` the parameter statistics of a trained network, so that its export has the
    structure a trained model's export has.

    At torchvision's initialisation every BatchNorm has weight 1, bias 0, mean 0 and variance 1,
    and most conv biases are 0. After the exporter folds BN into the convs, many bias vectors are
    then equal (all zeros). The exporter deduplicates equal initializers, so convs end up sharing
    one bias through Identity nodes, which a trained model's export never has. This redraws BN
    statistics and biases from the torch generator (seeded in export), as in make_samples.py.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
            elif isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and m.bias is not None:
                m.bias.normal_(0, 0.01)
    return model


def export(build, shape):
    torch.manual_seed(0)
    model = trained_looking(build()).eval()
    dummy = torch.randn(*shape)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(model, (dummy,), str(path), dynamo=False, opset_version=OPSET,
                              do_constant_folding=True, input_names=["input"],
                              output_names=["output"])
        return onnx.load(str(path))


def strip(model):
    """The structure file of `model`: large initializers turned into graph inputs."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    assert [i.name for i in graph.input] == ["input"], [i.name for i in graph.input]
    small, stripped = [], []
    for init in graph.initializer:
        (stripped if math.prod(init.dims) > STRIP_ABOVE else small).append(init)
    names = {init.name for init in stripped}
    del graph.initializer[:]
    graph.initializer.extend(small)
    graph.input.extend(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
                       for init in stripped)
    kept_info = [v for v in graph.value_info if v.name not in names]
    del graph.value_info[:]
    graph.value_info.extend(kept_info)
    return out, stripped


def run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def op_counts(model):
    return dict(sorted(collections.Counter(n.op_type for n in model.graph.node).items()))


def describe_shape(value):
    return "x".join(str(d.dim_value) for d in value.type.tensor_type.shape.dim)


def main():
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, opset {OPSET}")
    rng = np.random.default_rng(0)
    summary = []
    for name, build, shape in MODELS:
        full = export(build, shape)
        counts = op_counts(full)
        for op in ("BatchNormalization", "Identity"):
            if op in counts:
                print(f"WARNING: {name} has {counts[op]} {op} nodes")
        big_constants = [n.output[0] for n in full.graph.node if n.op_type == "Constant"
                         and math.prod(helper.get_attribute_value(n.attribute[0]).dims)
                         > STRIP_ABOVE]
        if big_constants:
            print(f"WARNING: {name} has large Constant nodes (not stripped): {big_constants}")

        structure, stripped = strip(full)
        path = HERE / f"{name}.onnx"
        onnx.save(structure, str(path))
        onnx.checker.check_model(str(path), full_check=True)

        # Verification 1: the original weights put back reproduce the export exactly.
        x = rng.standard_normal(shape).astype(np.float32)
        restored = onnx.ModelProto()
        restored.CopyFrom(structure)
        del restored.graph.input[1:]
        restored.graph.initializer.extend(stripped)
        expected = run(full, x)
        assert np.array_equal(run(restored, x), expected), f"{name}: restored model differs"

        # Verification 2: seeded random weights give a runnable model with a non-trivial output.
        y = run(structure_weights.materialize(onnx.load(str(path)), seed=0), x)
        assert y.shape == expected.shape, (y.shape, expected.shape)
        assert np.isfinite(y).all() and y.std() > 0, f"{name}: degenerate output"

        size = path.stat().st_size
        print(f"\n== {name}.onnx: {size} bytes ({size / 1024:.1f} KiB); full export "
              f"{full.ByteSize() / 1e6:.1f} MB; {len(stripped)} initializers stripped "
              f"({sum(math.prod(i.dims) for i in stripped)} elements), "
              f"{len(structure.graph.initializer)} kept")
        print(f"   materialized (seed 0): output {list(y.shape)}, std {y.std():.4g}, "
              f"mean {y.mean():.4g}, |max| {np.abs(y).max():.4g}")
        print(f"   nodes {len(full.graph.node)}: "
              + ", ".join(f"{op} {n}" for op, n in counts.items()))
        print("   inputs: " + ", ".join(f"{v.name} {describe_shape(v)}"
                                       for v in structure.graph.input))
        print("   kept initializers: " + ", ".join(
            f"{i.name} {list(i.dims)} {helper.tensor_dtype_to_np_dtype(i.data_type)}"
            for i in structure.graph.initializer))
        summary.append((name, size, counts))
    assert all(size < 200 * 1024 for _, size, _ in summary), "a structure file is >= 200 KiB"
    return 0


if __name__ == "__main__":
    sys.exit(main())
