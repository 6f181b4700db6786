#!/usr/bin/python3
"""Golden values for Rvpt's AutoAugment, from torchvision's own code on uint8 tensors.

CleanCLIP's in-modality image view is torchvision.transforms.AutoAugment() (policy IMAGENET, interpolation NEAREST,
fill None; nishadsinghi/CleanCLIP utils/augment_image.py, used by src/data.py). This script takes two small seeded
uint8 images (3 x 24 x 24 and 3 x 16 x 28) and writes, into autoaugment.safetensors next to it:

* every op of torchvision.transforms.autoaugment._apply_op on the square image at several bins (both signs for signed
  ops), and the geometric ops and Sharpness (its border) on the non-square one, with the magnitude each was given
  (the metadata "cases": key, image, op, magnitude);
* AutoContrast and Equalize on an image with a flat and a two-valued channel (their degenerate branches);
* the magnitude tables of _augmentation_space(10, (H, W)) for both sizes, TranslateX's row for every width 1..256
  (torch.linspace's float32 rounding varies with the end point), and the ImageNet, CIFAR10 and SVHN policies;
* AutoAugment().forward on the 16 x 28 image for each of the 25 ImageNet sub-policies, with get_params replaced by
  saved draws (the sub-policy, two probabilities from torch.rand, two signs), so the C# test feeds the same draws.

Run with Debian's python3-torch / python3-torchvision (see README.md):

    /usr/bin/python3 tests/Rvpt.Tests/Golden/make_autoaugment_golden.py
"""
import json
import os
import sys

import torch
import torchvision
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import AutoAugment, AutoAugmentPolicy, _apply_op

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Rvpt.Backdoor.Tests", "Golden"))
sys.dont_write_bytecode = True  # no __pycache__ next to make_golden.py
from make_golden import save  # noqa: E402  (the house safetensors writer)

BINS = 10
SIGNED_BINS = {"square": (2, 9), "wide": (2, 5, 9)}
WIDE_OPS = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Sharpness")  # the ops the image's shape matters to
POSTERIZE_BINS = (0, 2, 4, 6, 8)  # 8, 7, 6, 5, 4 bits
SOLARIZE_BINS = (0, 3, 5, 9)  # thresholds 255, 170, 113.33, 0


def test_image(gen, height, width):
    """A uint8 image with structure: per-channel ramps plus noise, each channel in its own sub-range of [0, 255]."""
    ys = torch.linspace(0, 1, height).view(height, 1)
    xs = torch.linspace(0, 1, width).view(1, width)
    ramps = torch.stack([xs * 0.8 + ys * 0.2, ys * 0.7 + (1 - xs) * 0.3, (xs - ys).abs()])
    noise = torch.rand(3, height, width, generator=gen)
    low = torch.tensor([20.0, 5.0, 60.0]).view(3, 1, 1)
    span = torch.tensor([190.0, 240.0, 120.0]).view(3, 1, 1)
    return (low + span * (0.7 * ramps + 0.3 * noise ** 2)).round().clamp(0, 255).to(torch.uint8)


def flat_image(gen):
    """Channel 0 constant, channel 1 two values, channel 2 noise: the degenerate branches of AutoContrast/Equalize."""
    image = torch.empty(3, 8, 8, dtype=torch.uint8)
    image[0] = 77
    image[1] = 10
    image[1, :2] = 200
    image[2] = torch.randint(0, 256, (8, 8), generator=gen, dtype=torch.uint8)
    return image


def apply(img, op, magnitude):
    return _apply_op(img, op, magnitude, interpolation=InterpolationMode.NEAREST, fill=None)


def main():
    gen = torch.Generator().manual_seed(20240611)
    images = {"square": test_image(gen, 24, 24), "wide": test_image(gen, 16, 28), "flat": flat_image(gen)}
    out = dict(images)
    cases = []
    aa = AutoAugment()  # the defaults CleanCLIP uses: IMAGENET, NEAREST, fill None
    ops = list(aa._augmentation_space(BINS, (32, 32)).keys())

    for name in ("square", "wide"):
        img = images[name]
        space = aa._augmentation_space(BINS, tuple(img.shape[-2:]))
        for op, (magnitudes, signed) in space.items():
            if name == "wide" and op not in WIDE_OPS:
                continue
            if magnitudes.ndim == 0:
                runs = [(None, 1)]
            elif signed:
                runs = [(b, s) for b in SIGNED_BINS[name] for s in (1, -1)]
            else:
                runs = [(b, 1) for b in (POSTERIZE_BINS if op == "Posterize" else SOLARIZE_BINS)]
            for b, sign in runs:
                magnitude = 0.0 if b is None else float(magnitudes[b].item()) * sign
                key = f"{name}_{op}" + ("" if b is None else f"_bin{b}_{'neg' if sign < 0 else 'pos'}")
                out[key] = apply(img, op, magnitude)
                cases.append([key, name, op, repr(magnitude)])
        table = torch.zeros(len(ops), BINS, dtype=torch.float64)
        for i, op in enumerate(ops):
            magnitudes, _ = space[op]
            if magnitudes.ndim:
                table[i] = magnitudes.to(torch.float64)
        out[f"table_{name}"] = table
    out["translate_by_width"] = torch.stack(
        [aa._augmentation_space(BINS, (1, w))["TranslateX"][0] for w in range(1, 257)]).to(torch.float64)
    for op in ("AutoContrast", "Equalize"):
        key = f"flat_{op}"
        out[key] = apply(images["flat"], op, 0.0)
        cases.append([key, "flat", op, repr(0.0)])

    signed = [op for op, (_, s) in aa._augmentation_space(BINS, (32, 32)).items() if s]
    for policy in AutoAugmentPolicy:
        rows = aa._get_policies(policy)
        # [25, 2, 3]: op index (into "ops"), probability, bin (-1 for None).
        out[f"policy_{policy.value}"] = torch.tensor(
            [[[ops.index(op), p, -1 if b is None else b] for op, p, b in row] for row in rows], dtype=torch.float64)

    # The forward pass with saved draws for each ImageNet sub-policy.
    draws = []
    for i in range(25):
        probs = torch.rand(2, generator=gen)
        signs = torch.randint(2, (2,), generator=gen)
        draws.append([float(i), float(probs[0]), float(probs[1]), float(signs[0]), float(signs[1])])
        aa.get_params = lambda n, i=i, probs=probs, signs=signs: (i, probs, signs)
        out[f"forward_{i}"] = aa(images["wide"])
    out["forward_draws"] = torch.tensor(draws, dtype=torch.float64)  # sub-policy, prob 1, prob 2, sign 1, sign 2

    metadata = {"ops": json.dumps(ops), "signed": json.dumps(signed), "cases": json.dumps(cases),
                "torch": torch.__version__, "torchvision": torchvision.__version__}
    save("autoaugment.safetensors", out, metadata, directory=HERE)
    print("torch", torch.__version__, "torchvision", torchvision.__version__, len(cases), "cases")


if __name__ == "__main__":
    main()
