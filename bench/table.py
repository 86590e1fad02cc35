#!/usr/bin/env python3
"""Print bench/run.sh's table from its rows file: name, hyperfine json, base KiB, ours KiB (tab-separated)."""
import json
import sys

head = ("case", "baseline s", "ours s", "ratio", "base MiB", "ours MiB")
print("{:<55} {:>10} {:>8} {:>6} {:>9} {:>9}".format(*head))
for line in open(sys.argv[1]):
    name, path, mb, mt = line.rstrip("\n").split("\t")
    r = {x["command"]: x for x in json.load(open(path))["results"]}
    b, t = r["baseline"]["median"], r["projectrestore"]["median"]
    mem = lambda k: "{:.1f}".format(int(k) / 1024) if k.isdigit() else "-"
    print("{:<55} {:>10.3f} {:>8.3f} {:>6.2f} {:>9} {:>9}".format(name, b, t, t / b, mem(mb), mem(mt)))
