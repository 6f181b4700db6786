#!/usr/bin/python3
"""Golden values for Rvpt.Backdoor's triggers, perturbations and losses.

Each function restates, at a small image size, the arithmetic of the authors' published code (cited per function).
Every random draw is saved next to the result, so the C# tests feed the same draws through an internal seam and
compare the arithmetic exactly. Run with Debian's python3-torch / python3-torchvision (see README.md):

    /usr/bin/python3 tests/Rvpt.Backdoor.Tests/Golden/make_golden.py
"""
import json
import os
import random
import struct

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}


def save(name, tensors, metadata=None, directory=HERE):
    """Writes a safetensors file (the format is a JSON header and raw little-endian data) into directory."""
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def to_pil_round_trip(image):
    """torchvision's ToPILImage then ToTensor on a float image: mul(255).byte() (libtorch's cast) and / 255."""
    return image.mul(255).byte().float().div(255)


def badnets_random(gen):
    # CleanCLIP backdoor/utils.py apply_trigger, patch_type 'random', patch_location 'random', at H = W = 16, patch 4:
    # noise = image.mean((1, 2), keepdim=True) + torch.randn((3, p, p)); top-left = random.randint(0, H - 1 - p) per axis.
    h, p, n = 16, 4, 2
    images = torch.rand(n, 3, h, h, generator=gen)
    noise = torch.randn(n, 3, p, p, generator=gen)
    rng = random.Random(5)
    positions = torch.tensor([[rng.randint(0, h - 1 - p), rng.randint(0, h - 1 - p)] for _ in range(n)], dtype=torch.int64)
    raw = images.clone()
    for i in range(n):
        image = raw[i]
        patch = image.mean((1, 2), keepdim=True) + noise[i]
        y, x = positions[i].tolist()
        image[:, y:y + p, x:x + p] = patch
    save("badnets_random.safetensors", {
        "images": images, "noise": noise, "positions": positions,
        "expected_uint8": to_pil_round_trip(raw), "expected_clamped": raw.clamp(0, 1),
    })


def blended_fresh_noise(gen):
    # CleanCLIP backdoor/utils.py, patch_type 'blended', patch_location 'blended': a fresh torch.rand((3, 224, 224)) per
    # image, image = clip(0.2 * noise + 0.8 * image, 0, 1). Here at 16 px.
    n, h = 2, 16
    images = torch.rand(n, 3, h, h, generator=gen)
    noise = torch.rand(n, 3, h, h, generator=gen)
    expected = torch.clip((0.2 * noise) + (0.8 * images), 0, 1)
    save("blended.safetensors", {"images": images, "noise": noise, "expected": expected})


def wanet_grid(ins, input_height, s=1.0, grid_rescale=1.0):
    # CleanCLIP backdoor/utils.py, patch_type 'warped' (after WaNet's original code): the normalised control grid is
    # upsampled bicubically (align_corners) to the input height, and the sampling grid is
    # clamp((identity + s * noise_grid / input_height) * grid_rescale, -1, 1).
    noise_grid = F.interpolate(ins, size=input_height, mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    array1d = torch.linspace(-1, 1, steps=input_height)
    x, y = torch.meshgrid(array1d, array1d, indexing="ij")
    identity_grid = torch.stack((y, x), 2)[None, ...]
    grid = torch.clamp((identity_grid + s * noise_grid / input_height) * grid_rescale, -1, 1)
    return noise_grid, grid


def wanet(gen):
    h, n = 16, 2
    images = torch.rand(n, 3, h, h, generator=gen)
    out = {"images": images}
    for k in (h, 4):  # k = input height, as the paper's k = 224 at 224; and WaNet's CIFAR default k = 4
        ins = torch.rand(1, 2, k, k, generator=gen) * 2 - 1
        ins = ins / torch.mean(torch.abs(ins))
        noise_grid, grid = wanet_grid(ins, h)
        warped = F.grid_sample(images, grid.repeat(n, 1, 1, 1), align_corners=True)
        out[f"control_k{k}"] = ins
        out[f"noise_grid_k{k}"] = noise_grid
        out[f"grid_k{k}"] = grid
        out[f"expected_k{k}"] = warped
        if k == h:
            # The attacker's saved grid, written the way CleanCLIP writes noise_grid_k=224_s=1_...pt (torch.save).
            torch.save(noise_grid, os.path.join(HERE, f"noise_grid_k={k}_s=1_inputheight={h}_gridrescale=1.pt"))
    save("wanet.safetensors", out)


def blur_and_jitter(gen):
    # Perturbation resistivity: torchvision GaussianBlur(kernel_size=3, sigma) at a fixed sigma, and ColorJitter's
    # brightness and hue applied in the order torch.randperm gave (torchvision ColorJitter.forward).
    images = torch.rand(2, 3, 12, 12, generator=gen)
    out = {"images": images}
    for sigma in (5.0, 5.0 ** 0.5):
        out[f"blur_sigma{sigma:.4f}"] = TF.gaussian_blur(images, [3, 3], [sigma, sigma])
    b, hue = 1.3, -0.21
    out["jitter_brightness_then_hue"] = TF.adjust_hue(TF.adjust_brightness(images, b), hue)
    out["jitter_hue_then_brightness"] = TF.adjust_brightness(TF.adjust_hue(images, hue), b)
    save("perturbations.safetensors", out, {"brightness": str(b), "hue": str(hue)})


def cleanclip_loss(gen):
    # CleanCLIP src/train.py get_loss with --inmodal: crossmodal = (CE(L_it) + CE(L_ti)) / 2 and
    # inmodal = (CE(L_i,i') + CE(L_t,t')) / 2, one direction each, over normalised embeddings.
    n, d = 5, 8
    e = {k: F.normalize(torch.randn(n, d, generator=gen), dim=-1) for k in ("image", "image_aug", "text", "text_aug")}
    logit_scale = torch.tensor(2.3)
    scale = logit_scale.exp()
    ce = torch.nn.CrossEntropyLoss()
    target = torch.arange(n)
    l_it = scale * e["image"] @ e["text"].t()
    crossmodal = (ce(l_it, target) + ce(l_it.t(), target)) / 2
    inmodal = (ce(scale * e["image"] @ e["image_aug"].t(), target) + ce(scale * e["text"] @ e["text_aug"].t(), target)) / 2
    save("cleanclip_loss.safetensors", {**e, "logit_scale": logit_scale, "crossmodal": crossmodal, "inmodal": inmodal})


def badclip_objective(gen):
    # BadCLIP src/embeding_optimize_patch.py get_loss for a run named *_tnature_pos_neg_..._500: the CLIP loss of the
    # patched images against their (natural target) captions, (CE(L) + CE(L^T)) / 2, plus
    # nn.TripletMarginLoss(margin=1.0)(patched, positives, clean) * 500 on the normalised embeddings.
    n, d = 4, 8
    anchor = F.normalize(torch.randn(n, d, generator=gen), dim=-1)
    text = F.normalize(torch.randn(n, d, generator=gen), dim=-1)
    positive = F.normalize(torch.randn(n, d, generator=gen), dim=-1)
    negative = F.normalize(torch.randn(n, d, generator=gen), dim=-1)
    logit_scale = torch.tensor(4.6052)
    logits = logit_scale.exp() * anchor @ text.t()
    target = torch.arange(n)
    contrastive = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
    triplet = torch.nn.TripletMarginLoss(margin=1.0)(anchor, positive, negative) * 500
    save("badclip_objective.safetensors", {"anchor": anchor, "text": text, "positive": positive, "negative": negative,
                                           "logit_scale": logit_scale, "contrastive": contrastive, "triplet": triplet})


if __name__ == "__main__":
    g = torch.Generator().manual_seed(20240601)
    badnets_random(g)
    blended_fresh_noise(g)
    wanet(g)
    blur_and_jitter(g)
    cleanclip_loss(g)
    badclip_objective(g)
    print("torch", torch.__version__, "numpy", np.__version__)
