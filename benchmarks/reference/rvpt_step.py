#!/usr/bin/env python3
"""PyTorch-eager reference of the RVPT step that Rvpt.Benchmarks times (benchmarks/compare.sh runs both).

The same work as RvptStepHarness in C#: a random-weight CLIP ViT-B/32 image tower (OpenAI's architecture:
conv1, class and positional embeddings, ln_pre, 12 pre-LN blocks with nn.MultiheadAttention and QuickGELU MLPs,
ln_post, proj), frozen; deep prompts D = 3, b = 50 (VPT-deep, fresh prompts per block, inserted after the class
token); per step: shared trunk (blocks 1..3, no grad), frozen branch (blocks 4..12, no grad, class tokens),
prompted branch (blocks 4..12 with prompts), L = CE(100 * cos(image, text) over 1000 classes) + 2 * mean cos(prompted
class tokens, frozen class tokens), backward into the prompts, SGD (lr 0.002, momentum 0.9, weight decay 5e-4).

  --what step|forward|matmul|epoch
                               the RVPT step, the plain no-grad forward, an n x n matmul (machine peak), or whole
                               epochs over a generated few-shot set (--classes x --shots images, made on demand like
                               Rvpt.Benchmarks' GeneratedImageSource) as a PyTorch user writes the loop: shuffle, load
                               and transform each batch (CoOp's random resized crop + flip with --augment, else resize
                               + centre crop; CLIP normalisation), step; no caching
  --dtype float32|bfloat16     bfloat16: --bf16 copy (default) keeps a bfloat16 copy of the frozen tower and casts the
                               float32 prompts per block, as Rvpt's mixed precision does; --bf16 autocast runs the
                               float32 model under torch.autocast("cpu", dtype=torch.bfloat16), the way a PyTorch user
                               writes mixed precision
Prints one JSON line (times, median, images/s, analytic GFLOP, GFLOP/s, peak RSS, and OpenBLAS's kernel (core) name).
Needs Debian's python3-torch (1.13) with libopenblas0-pthread, run with /usr/bin/python3. OpenBLAS picks its kernels
for the CPU unless OPENBLAS_CORETYPE forces a core: benchmarks/compare.sh unsets OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE for this script's runs (only there), and the JSON's "openblas_core" says which kernels ran.
"""
import argparse
import copy
import ctypes
import json
import math
import os
import random
import resource
import statistics
import time


DEFAULT_THREADS = 2


def _pin_openblas_threads():
    """Debian's PyTorch runs float32 GEMMs on OpenBLAS's own thread pool, which torch.set_num_threads does not size:
    without this, --threads 1 still multiplies on every core. It must be set before torch (and OpenBLAS) loads."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(pre.parse_known_args()[0].threads))


_pin_openblas_threads()
import torch  # noqa: E402  (after the OpenBLAS setting)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

WIDTH, LAYERS, HEADS, PATCH, IMAGE, EMBED = 768, 12, 12, 32, 224, 512
TOKENS = (IMAGE // PATCH) ** 2 + 1


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class OpenAILayerNorm(nn.LayerNorm):
    """OpenAI CLIP's LayerNorm (and Rvpt's ClipLayerNorm): computed in float32 whatever the input dtype."""

    def forward(self, x):
        return F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(), self.eps).type(x.dtype)


LAYER_NORM = nn.LayerNorm  # set from --layernorm before the model is built


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
        self.ln_1 = LAYER_NORM(WIDTH)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), QuickGELU(), nn.Linear(4 * WIDTH, WIDTH))
        self.ln_2 = LAYER_NORM(WIDTH)

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class VisionTower(nn.Module):
    def __init__(self):
        super().__init__()
        scale = WIDTH ** -0.5
        self.conv1 = nn.Conv2d(3, WIDTH, PATCH, stride=PATCH, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(WIDTH))
        self.positional_embedding = nn.Parameter(scale * torch.randn(TOKENS, WIDTH))
        self.ln_pre = LAYER_NORM(WIDTH)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_post = LAYER_NORM(WIDTH)
        self.proj = nn.Parameter(scale * torch.randn(WIDTH, EMBED))

    def embed(self, pixels):
        x = self.conv1(pixels.to(self.conv1.weight.dtype)).flatten(2).transpose(1, 2)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        return self.ln_pre(torch.cat([cls, x], 1) + self.positional_embedding.to(x.dtype))

    def pool(self, x):
        return self.ln_post(x[:, 0]) @ self.proj

    def forward(self, pixels):
        x = self.embed(pixels)
        for block in self.blocks:
            x = block(x)
        return self.pool(x)


def block_forward(t, w):
    return 24 * t * w * w + 4 * t * t * w


def block_backward(t, w):
    return 24 * t * w * w + 8 * t * t * w


def flops(what, batch, depth=3, prompts=50, classes=1000):
    """The analytic count of Rvpt.Benchmarks' StepFlops (matrix products only)."""
    embed_pool = 2 * (TOKENS - 1) * 3 * PATCH * PATCH * WIDTH + 2 * WIDTH * EMBED
    if what == "forward":
        return batch * (embed_pool + LAYERS * block_forward(TOKENS, WIDTH))
    n = LAYERS - depth
    per_image = (embed_pool + depth * block_forward(TOKENS, WIDTH) + n * block_forward(TOKENS, WIDTH)
                 + n * (block_forward(TOKENS + prompts, WIDTH) + block_backward(TOKENS + prompts, WIDTH))
                 + 2 * WIDTH * EMBED + 2 * 2 * EMBED * classes)
    return batch * per_image


class RvptStep:
    def __init__(self, dtype, bf16_mode, depth=3, b=50, classes=1000, alpha=2.0):
        torch.manual_seed(0)
        self.model = VisionTower().eval().requires_grad_(False)
        self.autocast = dtype == torch.bfloat16 and bf16_mode == "autocast"
        self.compute = copy.deepcopy(self.model).to(torch.bfloat16) if dtype == torch.bfloat16 and not self.autocast else self.model
        self.depth, self.b, self.alpha = depth, b, alpha
        self.prompts = nn.Parameter(0.02 * torch.randn(LAYERS - depth, b, WIDTH))
        self.text = F.normalize(torch.randn(classes, EMBED), dim=-1)
        self.opt = torch.optim.SGD([self.prompts], lr=0.002, momentum=0.9, weight_decay=5e-4)

    def _branches(self, images):
        m = self.compute
        with torch.no_grad():
            x = m.embed(images)
            for block in m.blocks[:self.depth]:
                x = block(x)
            f, frozen = x, []
            for block in m.blocks[self.depth:]:
                f = block(f)
                frozen.append(f[:, 0])
        h, tokens = x, []
        for i, block in enumerate(m.blocks[self.depth:]):
            p = self.prompts[i].to(h.dtype).unsqueeze(0).expand(h.shape[0], -1, -1)
            start = 1 if i == 0 else 1 + self.b
            h = block(torch.cat([h[:, :1], p, h[:, start:]], 1))
            tokens.append(h[:, 0])
        return m.pool(h), torch.stack(tokens, 1), torch.stack(frozen, 1)

    def step(self, images, labels):
        if self.autocast:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                features, tokens, frozen = self._branches(images)
        else:
            features, tokens, frozen = self._branches(images)
        logits = 100.0 * F.normalize(features.float(), dim=-1) @ self.text.t()
        ce = F.cross_entropy(logits, labels)
        fr = F.cosine_similarity(tokens.float(), frozen.float(), dim=2, eps=1e-8).mean()
        loss = ce + self.alpha * fr
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


def openblas_core():
    """The OpenBLAS kernel set in use (openblas_get_corename) of the BLAS library torch loaded, or None when that BLAS
    is not OpenBLAS (Debian's reference libblas3 is then the system BLAS: install libopenblas0-pthread)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class GeneratedShots:
    """classes x shots images of size x size uniform noise in [0, 1], image i of class i // shots, each from its own
    seed (nothing held in memory); transformed per batch as CoOp trains (random resized crop to 224, scale 0.08-1,
    ratio 3/4-4/3, bicubic antialiased, flip p = 0.5) or as CLIP evaluates (resize shorter side to 224, centre crop)."""

    def __init__(self, classes, shots, size, augment, seed=1):
        self.classes, self.shots, self.size, self.augment, self.seed = classes, shots, size, augment, seed
        self.mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
        self.std = torch.tensor(CLIP_STD).view(3, 1, 1)

    def __len__(self):
        return self.classes * self.shots

    def label(self, i):
        return i // self.shots

    def image(self, i, rng):
        g = torch.Generator().manual_seed(self.seed * 1000003 + i)
        x = torch.rand(3, self.size, self.size, generator=g)
        if self.augment:
            top, left, h, w = self._crop(rng)
            x = x[:, top:top + h, left:left + w]
            x = F.interpolate(x[None], size=(IMAGE, IMAGE), mode="bicubic", antialias=True, align_corners=False)[0]
            if rng.random() < 0.5:
                x = x.flip(-1)
        else:
            x = F.interpolate(x[None], size=(IMAGE, IMAGE), mode="bicubic", antialias=True, align_corners=False)[0] \
                if self.size != IMAGE else x
        return (x.clamp(0, 1) - self.mean) / self.std

    def _crop(self, rng):
        """torchvision's RandomResizedCrop.get_params (10 attempts, then the centre crop of the clamped ratio)."""
        area = self.size * self.size
        for _ in range(10):
            target = area * rng.uniform(0.08, 1.0)
            ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
            w, h = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
            if 0 < w <= self.size and 0 < h <= self.size:
                return rng.randint(0, self.size - h), rng.randint(0, self.size - w), h, w
        return 0, 0, self.size, self.size

    def batch(self, indices, rng):
        images = torch.stack([self.image(i, rng) for i in indices])
        return images, torch.tensor([self.label(i) for i in indices])


def run_epochs(args, dtype):
    """Whole epochs of the training loop; returns per-epoch wall times and the time spent preparing batches."""
    data = GeneratedShots(args.classes, args.shots, args.image_size, args.augment)
    rvpt = RvptStep(dtype, args.bf16, classes=args.classes)
    rng = random.Random(1)
    epochs, data_times = [], []
    for _ in range(args.epochs):
        order = list(range(len(data)))
        rng.shuffle(order)
        t0 = time.perf_counter()
        prepare = 0.0
        for start in range(0, len(order), args.batch):
            p0 = time.perf_counter()
            images, labels = data.batch(order[start:start + args.batch], rng)
            prepare += time.perf_counter() - p0
            rvpt.step(images, labels)
        epochs.append(time.perf_counter() - t0)
        data_times.append(prepare)
    return epochs, data_times, math.ceil(len(data) / args.batch), len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--what", choices=["step", "forward", "matmul", "epoch"], default="step")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--bf16", choices=["copy", "autocast"], default="copy")
    ap.add_argument("--layernorm", choices=["plain", "openai"], default="plain",
                    help="plain: nn.LayerNorm in the compute dtype; openai: float32 LayerNorm as OpenAI's CLIP and Rvpt compute it")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--n", type=int, default=2048, help="matmul size")
    ap.add_argument("--classes", type=int, default=100, help="epoch mode: classes (and of the cross-entropy)")
    ap.add_argument("--shots", type=int, default=16, help="epoch mode: images per class")
    ap.add_argument("--epochs", type=int, default=2, help="epoch mode: epochs")
    ap.add_argument("--image-size", type=int, default=224, help="epoch mode: stored image size")
    ap.add_argument("--augment", action="store_true", help="epoch mode: CoOp's random resized crop + flip")
    args = ap.parse_args()
    if args.bf16 == "autocast" and args.dtype == "bfloat16" and args.layernorm != "openai":
        ap.error("--bf16 autocast needs --layernorm openai: PyTorch 1.13's CPU autocast leaves layer_norm alone, so "
                 "nn.LayerNorm fails on bfloat16 input with float32 weights; OpenAI's CLIP LayerNorm computes in float32")
    global LAYER_NORM
    LAYER_NORM = OpenAILayerNorm if args.layernorm == "openai" else nn.LayerNorm
    torch.set_num_threads(args.threads)
    dtype = torch.bfloat16 if args.dtype == "bfloat16" else torch.float32
    framework = f"PyTorch {torch.__version__} eager"
    out = {"framework": framework, "what": args.what, "dtype": args.dtype, "threads": args.threads,
           "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "layernorm": args.layernorm,
           "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
           "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE", "unset"), "openblas_core": openblas_core()}
    if dtype == torch.bfloat16 and args.what in ("step", "epoch"):
        out["bf16_mode"] = args.bf16
    times = []
    if args.what == "matmul":
        g = torch.Generator().manual_seed(1)
        a = torch.randn(args.n, args.n, generator=g).to(dtype)
        b = torch.randn(args.n, args.n, generator=g).to(dtype)
        rates = []
        for i in range(args.steps + 1):
            t0 = time.perf_counter()
            a @ b
            if i > 0:
                rates.append(2.0 * args.n ** 3 / (time.perf_counter() - t0) / 1e9)
        out.update(n=args.n, gflop_per_s_best=max(rates), gflop_per_s_median=statistics.median(rates))
    elif args.what == "epoch":
        epochs, data_times, steps, images = run_epochs(args, dtype)
        after_first = statistics.mean(epochs[1:]) if len(epochs) > 1 else epochs[0]
        out.update(what="epoch augmented" if args.augment else "epoch", classes=args.classes, shots=args.shots, images=images,
                   batch=args.batch, steps_per_epoch=steps, augment=args.augment, device="cpu",
                   epoch_s=[round(t, 6) for t in epochs], data_s=[round(t, 6) for t in data_times],
                   epoch_after_first_s=after_first, step_after_first_s=after_first / steps)
    else:
        g = torch.Generator().manual_seed(7)
        images = torch.randn(args.batch, 3, IMAGE, IMAGE, generator=g)
        labels = torch.randint(0, 1000, (args.batch,), generator=g)
        if args.what == "forward":
            torch.manual_seed(0)
            model = VisionTower().eval().requires_grad_(False).to(dtype)
            images = images.to(dtype)
            for i in range(args.warmup + args.steps):
                t0 = time.perf_counter()
                with torch.no_grad():
                    model(images)
                if i >= args.warmup:
                    times.append(time.perf_counter() - t0)
        else:
            rvpt = RvptStep(dtype, args.bf16)
            for i in range(args.warmup + args.steps):
                t0 = time.perf_counter()
                rvpt.step(images, labels)
                if i >= args.warmup:
                    times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        total = flops(args.what, args.batch)
        out.update(batch=args.batch, device="cpu", times_s=[round(t, 6) for t in times], median_s=median,
                   images_per_s=args.batch / median, gflop=total / 1e9, gflop_per_s=total / 1e9 / median)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
