#!/usr/bin/env python3
"""Trains a small crack-segmentation U-Net on synthetic images and exports it for Pare's tests.

Run from the repository root:  python Samples/crack/make_crack_unet.py  (about 2 minutes on 2 cores)
Everything is written next to this file. Needs torch, onnx, onnxruntime and numpy. Pare's tests
never run this script; they only read what it writes:

  crack_unet.onnx          the trained U-Net, opset 13, input [batch,1,128,192] -> sigmoid output
  crack_unet.inputs.npz    20 held-out images (`input`, float32), named like the other samples'
                           reference inputs so the onnxruntime checks pick the model up
  crack_unet.masks.npz     their ground-truth masks (`mask`, uint8 0/1)
  crack_calibration.npz    32 further images (`input`, float32), no masks
  crack_unet.outputs.npz   onnxruntime CPU output for the 20 held-out images (`output`, float32)
  crack_unet.json          held-out F1/IoU/precision/recall, parameter count, training time, seeds

The images are synthetic: a concrete-like textured surface with thin dark random cracks. Training,
held-out and calibration images come from three separate random streams, so they never overlap.
Everything is seeded (numpy Generators, torch.manual_seed, two torch threads); only the recorded
timings change from run to run.
"""

import json
import math
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
H, W = 128, 192
SEED = 2024
THREADS = 2
N_TRAIN, N_HELDOUT, N_CALIBRATION = 3000, 20, 32
CROP_H, CROP_W, BATCH = 64, 64, 16
ITERATIONS = 2000
LR = 3e-3
THRESHOLD = 0.5


def rng_for(stream):
    """One independent numpy Generator per use: 0 train, 1 held-out, 2 calibration, 3 batches."""
    return np.random.default_rng([SEED, stream])


# ---------------------------------------------------------------------------------------------
# Synthetic crack images
# ---------------------------------------------------------------------------------------------

def upsample(grid, h, w):
    """Bilinear upsampling of a small 2-D grid to h x w (pixel centres, edges clamped)."""
    gh, gw = grid.shape
    ys = np.clip((np.arange(h) + 0.5) * gh / h - 0.5, 0, gh - 1)
    xs = np.clip((np.arange(w) + 0.5) * gw / w - 0.5, 0, gw - 1)
    y0 = np.minimum(np.floor(ys).astype(int), gh - 2)
    x0 = np.minimum(np.floor(xs).astype(int), gw - 2)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    g00, g01 = grid[y0][:, x0], grid[y0][:, x0 + 1]
    g10, g11 = grid[y0 + 1][:, x0], grid[y0 + 1][:, x0 + 1]
    return (g00 * (1 - fx) + g01 * fx) * (1 - fy) + (g10 * (1 - fx) + g11 * fx) * fy


def smooth_noise_1d(rng, n, knots):
    """Smooth random curve of length n with about `knots` wiggles, roughly unit amplitude."""
    k = rng.standard_normal(knots + 2)
    return np.interp(np.linspace(0, knots + 1, n), np.arange(knots + 2), k)


def background(rng):
    """Concrete-like surface: low-frequency noise, blotches and pores around a random level."""
    level = rng.uniform(0.35, 0.75)
    contrast = rng.uniform(0.5, 1.5)
    img = np.full((H, W), level)
    for k, (gh, gw) in enumerate([(3, 4), (5, 7), (9, 13), (17, 25), (33, 49)]):
        img += contrast * 0.07 * 0.65 ** k * upsample(rng.standard_normal((gh, gw)), H, W)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    for _ in range(rng.integers(0, 6)):  # stains: soft rotated ellipses, lighter or darker
        cy, cx = rng.uniform(0, H), rng.uniform(0, W)
        sy, sx, a = rng.uniform(3, 25), rng.uniform(3, 25), rng.uniform(0, math.pi)
        u = (yy - cy) * math.cos(a) + (xx - cx) * math.sin(a)
        v = -(yy - cy) * math.sin(a) + (xx - cx) * math.cos(a)
        img += rng.choice([-1, 1]) * rng.uniform(0.03, 0.12) * np.exp(-0.5 * ((u / sy) ** 2 +
                                                                              (v / sx) ** 2))
    n = rng.integers(0, 40)  # pores: small dark dots, the main distractor for a crack detector
    if n:
        py, px = rng.uniform(0, H, n), rng.uniform(0, W, n)
        r, d = rng.uniform(0.6, 1.8, n), rng.uniform(0.08, 0.35, n)
        depth = np.zeros((H, W))
        for i in range(n):
            y0, y1 = max(int(py[i] - 3), 0), min(int(py[i] + 4), H)
            x0, x1 = max(int(px[i] - 3), 0), min(int(px[i] + 4), W)
            dist = np.hypot(yy[y0:y1, x0:x1] - py[i], xx[y0:y1, x0:x1] - px[i])
            depth[y0:y1, x0:x1] = np.maximum(depth[y0:y1, x0:x1],
                                             d[i] * np.clip(1.5 - dist / r[i], 0, 1))
        img *= 1 - depth
    return img, contrast


def crack_walk(rng, length, start, angle):
    """Points of a jagged random walk with 0.5 px steps, stopped once it leaves the image."""
    pts, omega, jitter = [], 0.0, 0.0
    y, x = start
    for _ in range(int(length / 0.5)):
        pts.append((y, x))
        omega = 0.95 * omega + rng.normal(0, 0.004)  # slow bend of the heading
        jitter = 0.85 * jitter + rng.normal(0, 0.12)  # short zigzags around it
        angle += omega
        y, x = y + 0.5 * math.sin(angle + jitter), x + 0.5 * math.cos(angle + jitter)
        if not (-2 <= y <= H + 1 and -2 <= x <= W + 1):
            break
    return np.array(pts)


def stamp(depth, mask, pts, radius, dark):
    """Marks every pixel within `radius` (per point) of the path, plus the nearest pixel."""
    off = np.arange(-2, 3)
    dy, dx = np.meshgrid(off, off, indexing="ij")
    cy = np.rint(pts[:, 0])[:, None] + dy.ravel()[None]
    cx = np.rint(pts[:, 1])[:, None] + dx.ravel()[None]
    dist = np.hypot(cy - pts[:, :1], cx - pts[:, 1:])
    r = radius[:, None]
    hit = (dist <= r) | ((dy.ravel() == 0) & (dx.ravel() == 0))[None]
    hit &= (cy >= 0) & (cy < H) & (cx >= 0) & (cx < W)
    val = (dark[:, None] * (1 - 0.35 * dist / np.maximum(r, 0.71)))
    iy, ix, v = cy[hit].astype(int), cx[hit].astype(int), val[hit]
    np.maximum.at(depth, (iy, ix), v)
    mask[iy, ix] = 1


def add_crack(rng, depth, mask, faint, start=None, angle=None, length=None, r0=None, d0=None):
    if start is None:
        if rng.random() < 0.5:  # from an edge, heading inwards
            side = rng.integers(4)
            start = [(0, rng.uniform(0, W)), (H - 1, rng.uniform(0, W)),
                     (rng.uniform(0, H), 0), (rng.uniform(0, H), W - 1)][side]
            angle = [math.pi / 2, -math.pi / 2, 0.0, math.pi][side] + rng.uniform(-0.8, 0.8)
        else:
            start = (rng.uniform(10, H - 10), rng.uniform(10, W - 10))
            angle = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(60, 260)
        r0 = rng.uniform(0.5, 0.8) if faint else rng.uniform(0.5, 1.45)
        d0 = rng.uniform(0.15, 0.25) if faint else rng.uniform(0.25, 0.6)
    pts = crack_walk(rng, length, start, angle)
    if len(pts) < 4:
        return
    n = len(pts)
    radius = np.clip(r0 + 0.35 * smooth_noise_1d(rng, n, max(n // 60, 1)), 0.5, 1.5)
    radius[-min(n // 4, 20):] = np.minimum(radius[-min(n // 4, 20):], 0.6)  # tapered tail
    dark = np.clip(d0 * (1 + 0.25 * smooth_noise_1d(rng, n, max(n // 40, 1))), 0.1, 0.8)
    stamp(depth, mask, pts, radius, dark)
    if length > 80 and rng.random() < 0.4:  # a branch leaving at 20-60 degrees
        i = rng.integers(n // 5, n * 4 // 5)
        a = math.atan2(pts[i + 1, 0] - pts[i - 1, 0], pts[i + 1, 1] - pts[i - 1, 1])
        add_crack(rng, depth, mask, faint, start=tuple(pts[i]),
                  angle=a + rng.choice([-1, 1]) * rng.uniform(0.35, 1.05),
                  length=rng.uniform(0.2, 0.5) * length, r0=max(r0 - 0.3, 0.5), d0=0.85 * d0)


def crack_image(rng):
    """One (image, mask) pair: float32 in [0,1] on multiples of 1/255, uint8 0/1 mask."""
    img, contrast = background(rng)
    depth, mask = np.zeros((H, W)), np.zeros((H, W), np.uint8)
    u = rng.random()
    count = 0 if u < 0.1 else 1 if u < 0.5 else 2 if u < 0.8 else 3
    for _ in range(count):
        add_crack(rng, depth, mask, faint=rng.random() < 0.2)
    img = img * (1 - depth)
    img += rng.normal(0, rng.uniform(0.008, 0.03) * contrast ** 0.5, (H, W))  # fine grain
    img = np.rint(np.clip(img, 0, 1) * 255) / 255
    return img.astype(np.float32), mask


def crack_set(stream, n):
    rng = rng_for(stream)
    pairs = [crack_image(rng) for _ in range(n)]
    return (np.stack([p[0] for p in pairs])[:, None], np.stack([p[1] for p in pairs])[:, None])


# ---------------------------------------------------------------------------------------------
# The U-Net
# ---------------------------------------------------------------------------------------------

def double_conv(cin, cout):
    """(3x3 Conv + BatchNorm + ReLU) twice; the exporter folds each BN into its Conv."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class CrackUNet(nn.Module):
    """2 poolings, 16/32/64 channels, ConvTranspose upsampling, Concat skips, sigmoid output."""

    def __init__(self):
        super().__init__()
        self.enc1, self.enc2 = double_conv(1, 16), double_conv(16, 32)
        self.bottleneck = double_conv(32, 64)
        self.pool = nn.MaxPool2d(2)
        self.up2, self.dec2 = nn.ConvTranspose2d(64, 32, 2, stride=2), double_conv(64, 32)
        self.up1, self.dec1 = nn.ConvTranspose2d(32, 16, 2, stride=2), double_conv(32, 16)
        self.head = nn.Conv2d(16, 1, 1)

    def logits(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(self.pool(s1))
        y = self.bottleneck(self.pool(s2))
        y = self.dec2(torch.cat([s2, self.up2(y)], dim=1))
        y = self.dec1(torch.cat([s1, self.up1(y)], dim=1))
        return self.head(y)

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


def loss_fn(logits, target):
    """BCE plus soft Dice over the whole batch: cracks are thin and cover ~1% of the pixels."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    dice = (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    return bce + 1 - dice


def train(images, masks):
    rng = rng_for(3)
    model = CrackUNet().to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=ITERATIONS,
                                                pct_start=0.1)
    model.train()
    start = time.time()
    for it in range(ITERATIONS):
        idx = rng.integers(0, len(images), BATCH)
        ys, xs = rng.integers(0, H - CROP_H + 1, BATCH), rng.integers(0, W - CROP_W + 1, BATCH)
        flips = rng.integers(0, 2, (BATCH, 2))
        xb, yb = [], []
        for i, y0, x0, (fv, fh) in zip(idx, ys, xs, flips):
            a = images[i, :, y0:y0 + CROP_H, x0:x0 + CROP_W]
            m = masks[i, :, y0:y0 + CROP_H, x0:x0 + CROP_W]
            if fv:
                a, m = a[:, ::-1], m[:, ::-1]
            if fh:
                a, m = a[:, :, ::-1], m[:, :, ::-1]
            xb.append(a)
            yb.append(m)
        xb = torch.from_numpy(np.stack(xb)).to(memory_format=torch.channels_last)
        yb = torch.from_numpy(np.stack(yb).astype(np.float32))
        loss = loss_fn(model.logits(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 250 == 0 or it == ITERATIONS - 1:
            print(f"  iteration {it:5d}  loss {loss.item():.4f}  {time.time() - start:6.1f} s",
                  flush=True)
    model.eval()
    return model.to(memory_format=torch.contiguous_format)


def scores(prob, mask):
    """Pixel scores over all images at once, prediction = prob > THRESHOLD."""
    pred, gt = prob > THRESHOLD, mask.astype(bool)
    tp, fp, fn = int((pred & gt).sum()), int((pred & ~gt).sum()), int((~pred & gt).sum())
    return {"f1": 2 * tp / (2 * tp + fp + fn), "iou": tp / (tp + fp + fn),
            "precision": tp / (tp + fp), "recall": tp / (tp + fn), "tp": tp, "fp": fp, "fn": fn}


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

def main():
    start = time.time()
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    torch.set_flush_denormal(True)  # late in training, denormals made each step ~5x slower

    t = time.time()
    train_x, train_y = crack_set(0, N_TRAIN)
    heldout_x, heldout_y = crack_set(1, N_HELDOUT)
    calibration_x, _ = crack_set(2, N_CALIBRATION)
    generation_seconds = time.time() - t
    print(f"generated {N_TRAIN} training, {N_HELDOUT} held-out and {N_CALIBRATION} calibration "
          f"images in {generation_seconds:.1f} s (crack pixels: {train_y.mean():.2%} of training)")

    t = time.time()
    model = train(train_x, train_y)
    training_seconds = time.time() - t
    print(f"trained {ITERATIONS} iterations in {training_seconds:.1f} s")
    with torch.no_grad():
        torch_prob = model(torch.from_numpy(heldout_x)).numpy()
    torch_scores = scores(torch_prob, heldout_y)

    onnx_path = HERE / "crack_unet.onnx"
    torch.onnx.export(model, (torch.from_numpy(heldout_x[:1]),), str(onnx_path), dynamo=False,
                      opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    onnx_model = onnx.load(str(onnx_path))
    onnx.checker.check_model(onnx_model, full_check=True)
    onnx_parameters = sum(int(np.prod(i.dims)) for i in onnx_model.graph.initializer)
    ops = sorted({n.op_type for n in onnx_model.graph.node})

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    prob = session.run(["output"], {"input": heldout_x})[0].astype(np.float32)
    single = np.concatenate([session.run(["output"], {"input": heldout_x[i:i + 1]})[0]
                             for i in range(N_HELDOUT)])
    assert prob.shape == (N_HELDOUT, 1, H, W) and single.shape == prob.shape
    batch_gap = float(np.abs(single - prob).max())
    torch_gap = float(np.abs(torch_prob - prob).max())
    assert batch_gap < 1e-4 and torch_gap < 1e-4, (batch_gap, torch_gap)
    heldout_scores = scores(prob, heldout_y)

    np.savez_compressed(HERE / "crack_unet.inputs.npz", input=heldout_x)
    np.savez_compressed(HERE / "crack_unet.masks.npz", mask=heldout_y)
    np.savez_compressed(HERE / "crack_calibration.npz", input=calibration_x)
    np.savez_compressed(HERE / "crack_unet.outputs.npz", output=prob)

    report = {
        "model": "crack_unet.onnx",
        "heldout": {"images": N_HELDOUT, "threshold": THRESHOLD, "rule": "output > threshold",
                    **{k: round(v, 4) if isinstance(v, float) else v
                       for k, v in heldout_scores.items()}},
        "heldout_torch_f1": round(torch_scores["f1"], 4),
        "max_abs_diff": {"torch_vs_onnxruntime": torch_gap,
                         "onnxruntime_batch1_vs_batch20": batch_gap},
        "parameters": {"torch": sum(p.numel() for p in model.parameters()),
                       "onnx_initializers": onnx_parameters},
        "onnx_ops": ops,
        "opset": 13,
        "image_size": [H, W],
        "seeds": {"numpy_default_rng": {"train": [SEED, 0], "heldout": [SEED, 1],
                                        "calibration": [SEED, 2], "batches": [SEED, 3]},
                  "torch_manual_seed": SEED, "torch_threads": THREADS},
        "training": {"images": N_TRAIN, "iterations": ITERATIONS, "batch": BATCH,
                     "crop": [CROP_H, CROP_W], "flips": True, "optimizer": "Adam, one-cycle",
                     "max_lr": LR, "loss": "BCE + soft Dice",
                     "crack_pixel_fraction": round(float(train_y.mean()), 5)},
        "seconds": {"generation": round(generation_seconds, 1),
                    "training": round(training_seconds, 1),
                    "total": round(time.time() - start, 1)},
        "versions": {"torch": torch.__version__, "onnx": onnx.__version__,
                     "onnxruntime": ort.__version__, "numpy": np.__version__},
    }
    (HERE / "crack_unet.json").write_text(json.dumps(report, indent=2) + "\n")
    s = heldout_scores
    print(f"held-out (onnxruntime, {N_HELDOUT} images, threshold {THRESHOLD}): F1 {s['f1']:.4f}  "
          f"IoU {s['iou']:.4f}  precision {s['precision']:.4f}  recall {s['recall']:.4f}")
    print(f"parameters: {report['parameters']}; ops: {', '.join(ops)}")
    print(f"total {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
