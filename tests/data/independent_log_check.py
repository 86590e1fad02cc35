#!/usr/bin/env python3
"""Check a projectrestore log with nothing of projectrestore's: Python's hashlib
recomputes the RFC 6962 root from entries.jsonl, and the openssl command verifies
the C2SP signed-note Ed25519 signature on the checkpoint.

    independent_log_check.py LOG VKEY   -> prints "ok SIZE ROOT" or exits 1
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile


def mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def main():
    log, vkey = sys.argv[1], sys.argv[2].strip()
    name, keyid, key = vkey.split("+", 2)
    raw = base64.b64decode(key)
    assert raw[0] == 1 and len(raw) == 33, "not an Ed25519 note key"
    want_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()
    assert want_id == keyid, "key id mismatch"
    note = open(os.path.join(log, "checkpoint"), "rb").read()
    text, sigs = note.rsplit(b"\n\n", 1)
    text += b"\n"
    sig = None
    for line in sigs.decode().splitlines():
        signer, b64 = line[2:].split(" ", 1)
        blob = base64.b64decode(b64)
        if signer == name and blob[:4].hex() == keyid:
            sig = blob[4:]
    assert sig is not None, "no signature by the key"
    with tempfile.TemporaryDirectory() as d:
        pem = os.path.join(d, "k.pem")
        der = bytes.fromhex("302a300506032b6570032100") + raw[1:]
        open(pem, "w").write(
            "-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PUBLIC KEY-----\n"
        )
        open(os.path.join(d, "msg"), "wb").write(text)
        open(os.path.join(d, "sig"), "wb").write(sig)
        r = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin",
             "-in", os.path.join(d, "msg"), "-sigfile", os.path.join(d, "sig")],
            capture_output=True,
        )
        if r.returncode != 0:
            print("signature does not verify:", r.stdout.decode(), r.stderr.decode())
            sys.exit(1)
    origin, size, root = text.decode().split("\n")[:3]
    lines = open(os.path.join(log, "entries.jsonl"), "rb").read().split(b"\n")
    leaves = [hashlib.sha256(b"\x00" + l).digest() for l in lines[: int(size)]]
    if base64.b64encode(mth(leaves)).decode() != root:
        print("root mismatch")
        sys.exit(1)
    print("ok", size, root)


main()
