#!/usr/bin/env python3
"""Writes the JPEG golden files of Rvpt.Clip.Tests (see README.md beside this script).

Two synthetic photos (64 x 48 and the odd 61 x 45: gradients, soft noise, saturated shapes with hard edges) are
saved by Pillow as JPEG in every combination of chroma subsampling (4:4:4, 4:2:2, 4:2:0), quality (75, 95) and
baseline/progressive coding. A few more files cover what Pillow's encoder does not write: libjpeg-turbo's cjpeg
(Debian's libjpeg-turbo-progs) makes restart markers (baseline and progressive), 4:4:0 and 4:1:1 subsampling, and
Pillow writes a grayscale JPEG. For each file the golden safetensors file holds

  decoded_<stem>  uint8 [H, W, 3]   Image.open(file).convert('RGB')  (Pillow -> libjpeg-turbo)
  clip32_<stem>   float32 [3, 32, 32]  OpenAI CLIP's preprocess (clip/clip.py _transform) with n_px = 32, run by
                                       torchvision on Image.open(file)

Run with Debian's packages (python3-pil, python3-torch, python3-torchvision, python3-numpy, libjpeg-turbo-progs):
    /usr/bin/python3 generate_jpeg_golden.py
It rewrites every file in this folder except itself and README.md, and prints the versions used.
"""

import json
import os
import struct
import subprocess
import sys

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image, features
from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [(64, 48), (61, 45)]
SUBSAMPLING = {"444": 0, "422": 1, "420": 2}  # Pillow's `subsampling` values
QUALITIES = [75, 95]
PREPROCESS_SIZE = 32
# cjpeg-made files: stem suffix -> cjpeg options (applied to the 61 x 45 photo).
CJPEG_FILES = {
    "420_q90_restart": ["-quality", "90", "-sample", "2x2", "-restart", "3B"],
    "420_q90_progressive_restart": ["-quality", "90", "-sample", "2x2", "-progressive", "-restart", "2B"],
    "440_q90_baseline": ["-quality", "90", "-sample", "1x2"],
    "411_q90_baseline": ["-quality", "90", "-sample", "4x1"],
}
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def photo(width, height, seed):
    """A small 'natural' picture: smooth colour gradients, soft noise, and saturated shapes with sharp edges
    (sharp chroma edges are where chroma upsampling shows)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 40 + 180 * x / (width - 1)
    g = 30 + 150 * y / (height - 1) + 20 * np.sin(x / 5.0)
    b = 120 + 90 * np.cos((x + 2 * y) / 11.0)
    img = np.stack([r, g, b], axis=-1)
    # Soft noise (texture) plus fine grain.
    coarse = rng.normal(0, 18, size=(height // 4 + 2, width // 4 + 2, 3))
    coarse = np.kron(coarse, np.ones((4, 4, 1)))[:height, :width]
    img += coarse + rng.normal(0, 6, size=img.shape)
    # A red disc, a blue bar, a green triangle and a dark diagonal edge.
    cx, cy, rad = 0.3 * width, 0.4 * height, 0.22 * height
    img[(x - cx) ** 2 + (y - cy) ** 2 < rad ** 2] = (230, 25, 30)
    img[(x > 0.6 * width) & (x < 0.85 * width) & (y > 0.15 * height) & (y < 0.35 * height)] = (20, 40, 235)
    img[(y > 0.6 * height) & (x - 0.55 * width > 0.7 * (height - y))] = (25, 210, 40)
    img[y > 1.4 * x + 0.75 * height] *= 0.25
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def clip_preprocess(n_px):
    """clip/clip.py _transform(n_px) of github.com/openai/CLIP."""
    return Compose([
        Resize(n_px, interpolation=InterpolationMode.BICUBIC),
        CenterCrop(n_px),
        lambda image: image.convert("RGB"),
        ToTensor(),
        Normalize(CLIP_MEAN, CLIP_STD),
    ])


def add_expectations(path, stem, preprocess, tensors, names):
    """Pillow's decoded RGB pixels and torchvision's CLIP preprocessing of the file at `path`."""
    with Image.open(path) as image:
        tensors[f"decoded_{stem}"] = np.asarray(image.convert("RGB"))
    with Image.open(path) as image:
        tensors[f"clip{PREPROCESS_SIZE}_{stem}"] = preprocess(image).numpy().astype(np.float32)
    names.append(stem)


def write_safetensors(path, tensors, metadata):
    """Minimal safetensors writer: JSON header (8-byte little-endian length) then the raw little-endian data."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype(np.uint8): "U8", np.dtype(np.float32): "F32"}[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # keep every tensor 8-byte aligned
    temp = path + ".tmp"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(temp, path)


def main():
    if not features.check_feature("libjpeg_turbo"):
        sys.exit("Pillow is not built with libjpeg-turbo; use Debian's python3-pil.")
    torch.set_num_threads(1)
    preprocess = clip_preprocess(PREPROCESS_SIZE)
    tensors, names = {}, []
    for seed, (width, height) in enumerate(SIZES):
        source = photo(width, height, seed=13 + seed)
        for sub_name, sub in SUBSAMPLING.items():
            for quality in QUALITIES:
                for progressive in (False, True):
                    stem = f"photo{width}x{height}_{sub_name}_q{quality}_{'progressive' if progressive else 'baseline'}"
                    path = os.path.join(HERE, stem + ".jpg")
                    source.save(path, "JPEG", quality=quality, subsampling=sub, progressive=progressive)
                    add_expectations(path, stem, preprocess, tensors, names)

    # Restart markers and other sampling layouts, written by cjpeg from a PPM of the odd-sized photo.
    width, height = SIZES[1]
    ppm = os.path.join(HERE, "source.ppm.tmp")
    photo(width, height, seed=14).save(ppm, "PPM")
    try:
        for suffix, options in CJPEG_FILES.items():
            stem = f"photo{width}x{height}_{suffix}"
            path = os.path.join(HERE, stem + ".jpg")
            subprocess.run(["cjpeg", *options, "-outfile", path, ppm], check=True)
            add_expectations(path, stem, preprocess, tensors, names)
    finally:
        os.remove(ppm)

    # Grayscale: decoded as "L", then convert('RGB') repeats the level.
    width, height = SIZES[0]
    stem = f"photo{width}x{height}_gray_q90_baseline"
    path = os.path.join(HERE, stem + ".jpg")
    photo(width, height, seed=13).convert("L").save(path, "JPEG", quality=90)
    add_expectations(path, stem, preprocess, tensors, names)
    versions = {
        "pillow": PIL.__version__,
        "libjpeg": str(features.version("jpg")),
        "libjpeg_turbo": str(features.check_feature("libjpeg_turbo")),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "cjpeg": subprocess.run(["cjpeg", "-version"], capture_output=True, text=True).stderr.strip(),
    }
    write_safetensors(os.path.join(HERE, "jpeg_golden.safetensors"), tensors,
                      {"files": json.dumps(names), "preprocess_size": str(PREPROCESS_SIZE), **versions})
    print(json.dumps(versions))
    print(f"{len(names)} files")


if __name__ == "__main__":
    main()
