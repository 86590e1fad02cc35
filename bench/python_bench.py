#!/usr/bin/env python3
"""Paired runs of `projectrestore restore` and `projectrestore.restore()` on the
same archive (bench/python.sh builds both and runs this in the wheel's venv)."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def sh(cmd: str) -> None:
    subprocess.run(cmd, shell=True, check=True)


def dataset(base: Path) -> Path:
    """The project archive of bench/run.sh (made here the same way if missing)."""
    work = base / "project"
    keys = work / "keys"
    if (work / "a.tar.zst.age.minisig").exists() and (keys / "trust/minisign.pub").exists():
        return work
    work.mkdir(parents=True, exist_ok=True)
    (keys / "trust").mkdir(parents=True, exist_ok=True)
    if not (work / "project").exists():
        sh(f"python3 '{REPO}/bench/make_dataset.py' project '{work}/project.tmp'")
        (work / "project.tmp").rename(work / "project")
    sh(f"tar -C '{work}' -cf - project | zstd -q -3 -T0 -o '{work}/a.tar.zst'")
    sh(f"age-keygen -o '{keys}/age.txt' 2>/dev/null")
    sh(f"age -r \"$(age-keygen -y '{keys}/age.txt')\" -o '{work}/a.tar.zst.age' '{work}/a.tar.zst'")
    sh(f"minisign -G -W -f -p '{keys}/minisign.pub' -s '{keys}/minisign.key' >/dev/null")
    sh(f"minisign -S -s '{keys}/minisign.key' -m '{work}/a.tar.zst.age' >/dev/null")
    shutil.copy(keys / "minisign.pub", keys / "trust/minisign.pub")
    sh(f"cd '{work}' && sha256sum a.tar.zst.age > a.tar.zst.age.sha256")
    return work


def timed(cmd: list[str], out: Path) -> tuple[float, int]:
    for p in (out / "dest", out / ".dest.projectrestore"):
        shutil.rmtree(p, ignore_errors=True)
    t = out / "time.txt"
    subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(t), *cmd], check=True,
                   stdout=subprocess.DEVNULL)
    wall, rss = t.read_text().split()
    return float(wall), int(rss)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    work = dataset(Path(os.environ.get("BENCH_DIR", "/tmp/projectrestore-bench")))
    out = Path(tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    archive, trust, ident = work / "a.tar.zst.age", work / "keys/trust", work / "keys/age.txt"
    dest = out / "dest"
    cli = [a.bin, "restore", str(archive), "--to", str(dest), "--trust", str(trust),
           "-i", str(ident), "--yes", "-q"]
    call_time = out / "call.txt"
    py = [sys.executable, "-c",
          "import sys, time, projectrestore; t = time.perf_counter(); "
          "projectrestore.restore(sys.argv[1], sys.argv[2], trust=[sys.argv[3]], "
          "identities=[sys.argv[4]], yes=True); "
          "open(sys.argv[5], 'w').write(str(time.perf_counter() - t))",
          str(archive), str(dest), str(trust), str(ident), str(call_time)]
    timed(cli, out)  # warm the page cache
    ratios, walls_cli, walls_py, rss_cli, rss_py = [], [], [], [], []
    calls, call_ratios = [], []
    for i in range(a.pairs):
        order = [("cli", cli), ("py", py)] if i % 2 == 0 else [("py", py), ("cli", cli)]
        got = {}
        for name, cmd in order:
            got[name] = timed(cmd, out)
        walls_cli.append(got["cli"][0])
        walls_py.append(got["py"][0])
        rss_cli.append(got["cli"][1])
        rss_py.append(got["py"][1])
        ratios.append(got["py"][0] / got["cli"][0])
        calls.append(float(call_time.read_text()))
        call_ratios.append(calls[-1] / got["cli"][0])
    shutil.rmtree(out, ignore_errors=True)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"projectrestore.restore() vs the CLI, {archive.stat().st_size >> 20} MiB archive, "
          f"{a.pairs} pairs, {cpu}, {os.cpu_count()} cores")
    print(f"  CLI      median wall {statistics.median(walls_cli):.3f} s, peak RSS {max(rss_cli) / 1024:.1f} MiB")
    print(f"  Python   median wall {statistics.median(walls_py):.3f} s, peak RSS {max(rss_py) / 1024:.1f} MiB")
    r = statistics.median(ratios)
    c = statistics.median(call_ratios)
    print(f"  restore() call alone: median {statistics.median(calls):.3f} s "
          f"(the rest is starting Python and importing the module)")
    print(f"  ratio, restore() call / CLI process   {c:.3f} (pairs: "
          f"{', '.join(f'{x:.3f}' for x in call_ratios)}); goal <= 1.02: "
          f"{'met' if c <= 1.02 else 'MISSED'}")
    print(f"  ratio, python process / CLI process   {r:.3f} (pairs: "
          f"{', '.join(f'{x:.3f}' for x in ratios)})")


if __name__ == "__main__":
    main()
