#!/usr/bin/env python3
"""Writes clip-bpe-49408.txt.gz, the BPE vocabulary bundled into Rvpt.Clip (see README.md here).

Usage (standard library only):  python3 make_bundled_vocabulary.py [fixtures/clip-tiny folder]
The folder defaults to ../shared/fixtures/clip-tiny beside the repository; it holds OpenAI CLIP's vocabulary in
Hugging Face form (vocab.json + merges.txt), made from OpenAI's bpe_simple_vocab_16e6.txt.gz (MIT licence).

Only the merges are stored: CLIP's vocab.json follows from them (openai/CLIP clip/simple_tokenizer.py:
the 256 byte symbols of bytes_to_unicode, the same with "</w>", one token per merge, then <|startoftext|> and
<|endoftext|>). The script checks that rule against vocab.json before writing, so nothing is lost.
"""
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
OUT = os.path.join(HERE, "clip-bpe-49408.txt.gz")


def bytes_to_unicode():
    """simple_tokenizer.bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n, in this order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "fixtures", "clip-tiny")
    with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
        merges_text = f.read()
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)

    lines = merges_text.split("\n")
    assert lines[0].startswith("#version"), "merges.txt should start with its #version line"
    merges = [line for line in lines[1:] if line]
    symbols = bytes_to_unicode()
    rebuilt = symbols + [s + "</w>" for s in symbols] + ["".join(m.split(" ")) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    expected = {token: i for i, token in enumerate(rebuilt)}
    if expected != vocab:
        sys.exit("vocab.json does not follow from merges.txt by CLIP's rule; not writing the resource")

    data = merges_text.encode("utf-8")
    with open(OUT, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{OUT}: {len(merges)} merges, {len(vocab)} tokens, {os.path.getsize(OUT)} bytes (from {len(data)})")


if __name__ == "__main__":
    main()
