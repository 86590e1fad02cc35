#!/usr/bin/env python3
"""Deterministic benchmark datasets.

    make_dataset.py project DIR [--files N] [--mib M]   a typical project: N files, about M MiB,
                                                         source-like text (compressible) and some binaries
    make_dataset.py small DIR [--files N]               N small files (default 100,000)
    make_dataset.py big DIR [--mib M]                   one large file (default 2048 MiB)

The same arguments always give the same bytes (seeded), so runs on different days compare.
"""
import argparse
import os
import random

WORDS = (
    "fn let mut match impl struct enum return self use pub mod crate where async await "
    "def class import from for while if else elif try except with yield lambda None True "
    "const static unsafe loop break continue trait type dyn Box Vec String Option Result "
    "the of and to in is that it for on as with was at by an be this are from or have"
).split()


def text_blob(rng, size):
    out = []
    n = 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) + "\n"
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]


def project(root, files, mib):
    rng = random.Random(20261124)
    total = mib << 20
    avg = total // files
    dirs = [os.path.join(root, f"pkg{i:03d}", f"mod{j:02d}") for i in range(100) for j in range(10)]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    # A pool of text to slice from keeps generation fast while staying realistic.
    pool = text_blob(rng, 8 << 20)
    for i in range(files):
        d = dirs[i % len(dirs)]
        size = max(0, int(rng.expovariate(1 / avg)))
        if i % 10 == 0:
            data = rng.randbytes(size)
            name = f"asset{i:06d}.bin"
        else:
            start = rng.randrange(0, len(pool) - 1)
            data = (pool[start:] + pool)[:size]
            name = f"file{i:06d}.rs"
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def small(root, files):
    rng = random.Random(7)
    for i in range(files):
        d = os.path.join(root, f"d{i // 1000:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:06d}.txt"), "wb") as f:
            f.write(text_blob(rng, rng.randint(0, 200)))


def big(root, mib):
    rng = random.Random(11)
    os.makedirs(root, exist_ok=True)
    chunk = rng.randbytes(1 << 20)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        for i in range(mib):
            f.write(chunk[i % 997:] + chunk[: i % 997])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["project", "small", "big"])
    p.add_argument("dir")
    p.add_argument("--files", type=int)
    p.add_argument("--mib", type=int)
    a = p.parse_args()
    if a.kind == "project":
        project(a.dir, a.files or 20000, a.mib or 1024)
    elif a.kind == "small":
        small(a.dir, a.files or 100000)
    else:
        big(a.dir, a.mib or 2048)


if __name__ == "__main__":
    main()
