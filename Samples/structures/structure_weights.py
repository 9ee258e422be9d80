#!/usr/bin/env python3
"""Turns a Pare "structure file" back into a runnable ONNX model with seeded random weights.

A structure file (see README.md next to this file) is a torch-exported graph whose large
initializers were removed and declared as graph inputs of the same name, element type and shape.
The first graph input is the real data input (`input`); every later input is a stripped weight.
`materialize` turns each of those back into an initializer, filled as follows. The rules are
applied in this order, and the first that matches wins:

1. BatchNormalization variance: the tensor is input 4 of a BatchNormalization node. It gets
   uniform(0.5, 1.5), so it is always positive.
2. He-normal weight: the tensor is input 1 (the weight) of a Conv, ConvTranspose, Gemm or MatMul
   node and has rank >= 2. It gets normal(0, std) with std = sqrt(2 / fan_in), where fan_in is:
     - Conv,          weight (Cout, Cin/g, k1, k2, ...):  dims[1] * prod(dims[2:])
     - ConvTranspose, weight (Cin, Cout/g, k1, k2, ...):  dims[0] * prod(dims[2:]) / group
     - Gemm,          B (K, N), or (N, K) if transB = 1:  dims[0], or dims[1] if transB = 1
     - MatMul,        B (..., K, N):                      dims[-2]
3. Bias: any other tensor of rank 1. It gets normal(0, 0.01).
4. Anything else gets normal(0, 0.1).

"The consumer" of a tensor is the first top-level node, in graph order, that reads it. Subgraphs
are not searched. A tensor with no consumer falls through to rule 3 or 4. Values are drawn in
float64 from one `numpy.random.default_rng(seed)`, one tensor after another in graph-input order,
and then cast to the declared element type. Only floating-point element types are supported.

Usage:  python structure_weights.py structure.onnx out.onnx [--seed N]
"""

import argparse
import math
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

HE_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def fan_in(node, dims):
    """The He-normal fan_in of `dims`, the weight (input 1) of `node` (rule 2 above)."""
    op = node.op_type
    if op == "Conv":
        return dims[1] * math.prod(dims[2:])
    if op == "ConvTranspose":
        return dims[0] * math.prod(dims[2:]) / _attr(node, "group", 1)
    if op == "Gemm":
        return dims[1] if _attr(node, "transB", 0) else dims[0]
    if op == "MatMul":
        return dims[-2]
    raise ValueError(f"no fan_in rule for {op}")


def init_rule(node, index, dims):
    """Returns (kind, parameter) for a tensor of shape `dims` read by `node` at input `index`.

    kind is "uniform" (parameter = (low, high)) or "normal" (parameter = std).
    `node` is None when nothing reads the tensor.
    """
    if node is not None and node.op_type == "BatchNormalization" and index == 4:
        return "uniform", (0.5, 1.5)
    if node is not None and node.op_type in HE_OPS and index == 1 and len(dims) >= 2:
        return "normal", math.sqrt(2.0 / fan_in(node, dims))
    if len(dims) == 1:
        return "normal", 0.01
    return "normal", 0.1


def first_consumers(graph):
    """Maps each tensor name to (node, input index) of its first reader in graph order."""
    consumers = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name and name not in consumers:
                consumers[name] = (node, i)
    return consumers


def materialize(model: onnx.ModelProto, seed: int) -> onnx.ModelProto:
    """A copy of `model` in which every graph input but the first is a seeded random initializer."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    rng = np.random.default_rng(seed)
    consumers = first_consumers(graph)
    keep, filled = [graph.input[0]], []
    for value in list(graph.input)[1:]:
        ttype = value.type.tensor_type
        dims = [d.dim_value for d in ttype.shape.dim]
        if any(not d.HasField("dim_value") for d in ttype.shape.dim):
            raise ValueError(f"input {value.name} has a symbolic dimension")
        dtype = helper.tensor_dtype_to_np_dtype(ttype.elem_type)
        if not np.issubdtype(dtype, np.floating):
            raise ValueError(f"input {value.name} is {dtype}; only float weights are supported")
        node, index = consumers.get(value.name, (None, None))
        kind, param = init_rule(node, index, dims)
        if kind == "uniform":
            data = rng.uniform(param[0], param[1], size=dims)
        else:
            data = rng.normal(0.0, param, size=dims)
        filled.append(numpy_helper.from_array(np.asarray(data, dtype=dtype), value.name))
    del graph.input[:]
    graph.input.extend(keep)
    graph.initializer.extend(filled)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("structure", help="structure file (.onnx) to read")
    parser.add_argument("output", help="where to write the runnable model")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    model = materialize(onnx.load(args.structure), args.seed)
    onnx.save(model, args.output)
    print(f"{args.output}: {len(model.graph.initializer)} initializers, "
          f"{model.ByteSize() / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
