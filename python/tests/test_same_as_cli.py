"""restore() of archives signed by the real minisign, gpg, ssh-keygen and
signify and encrypted by the real age and gpg (fixtures/make-crypto.sh,
fixtures/make-demo.sh) gives the same tree and the same to_dict() as the
CLI's --json."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

import projectrestore
from conftest import CRYPTO, DEMO, REPO, normalized, run_cli, tree

TRUST = CRYPTO / "trust"

CASES = [
    # (archive, options as CLI flags, the same as keyword arguments)
    ("data.tar.gz", ["--signature", CRYPTO / "data.tar.gz.minisig"],
     {"signatures": [CRYPTO / "data.tar.gz.minisig"]}),
    ("data.tar.gz", ["--signature", CRYPTO / "data.tar.gz.gpg-ed.sig"],
     {"signatures": [CRYPTO / "data.tar.gz.gpg-ed.sig"]}),
    ("data.tar.gz", ["--signature", CRYPTO / "data.tar.gz.gpg-rsa.sig"],
     {"signatures": [CRYPTO / "data.tar.gz.gpg-rsa.sig"]}),
    ("data.tar.gz", ["--signature", CRYPTO / "data.tar.gz.ssh.sig"],
     {"signatures": [CRYPTO / "data.tar.gz.ssh.sig"]}),
    ("data.tar.gz", ["--signature", CRYPTO / "data.tar.gz.signify.sig"],
     {"signatures": [CRYPTO / "data.tar.gz.signify.sig"]}),
    ("data.tar.gz.x25519.age", ["--allow-unsigned", "-i", CRYPTO / "secret/age.txt"],
     {"allow_unsigned": True, "identities": [CRYPTO / "secret/age.txt"]}),
    ("data.tar.gz.cv25519.gpg", ["--allow-unsigned", "-i", CRYPTO / "secret/gpg-enc25519.asc"],
     {"allow_unsigned": True, "identities": [CRYPTO / "secret/gpg-enc25519.asc"]}),
    ("data.tar.gz.x25519.age", ["--signature", CRYPTO / "data.tar.gz.x25519.age.minisig",
                                "-i", CRYPTO / "secret/age.txt"],
     {"signatures": [CRYPTO / "data.tar.gz.x25519.age.minisig"],
      "identities": [CRYPTO / "secret/age.txt"]}),
]


@pytest.mark.parametrize("archive,flags,kwargs", CASES, ids=[f"{c[0]}+{c[1][1]}" for c in CASES])
def test_restore_matches_the_cli(tmp_path: Path, archive: str, flags: List[object],
                                 kwargs: dict) -> None:
    a = CRYPTO / archive
    code, doc, err = run_cli("restore", a, "--to", tmp_path / "cli", "--trust", TRUST, *flags)
    assert code == 0, err
    r = projectrestore.restore(a, tmp_path / "py", trust=[TRUST], **kwargs)
    assert tree(tmp_path / "py") == tree(tmp_path / "cli")
    assert normalized(r.to_dict()) == normalized(doc)
    assert r.destination == str(tmp_path / "py")
    assert r.trust_store["origin"] == "argument (trust=)"
    if "signatures" in kwargs:
        assert r.verified and len(r.signers) == 1


def test_the_demo_backup_with_sidecars(tmp_path: Path) -> None:
    """minisign sidecar + .sha256 sidecar + age, strip_components: the README's main job."""
    a = DEMO / "2026-11-24_120000-demo-initial.tar.gz.age"
    ident = DEMO / "secret/demo-age-identity.txt"
    code, doc, err = run_cli("restore", a, "--to", tmp_path / "cli", "--trust", REPO / "keys",
                             "-i", ident, "--strip-components", "1")
    assert code == 0, err
    r = projectrestore.restore(str(a), str(tmp_path / "py"), trust=REPO / "keys",
                               identities=ident, strip_components=1)
    assert tree(tmp_path / "py") == tree(tmp_path / "cli")
    assert normalized(r.to_dict()) == normalized(doc)
    assert r.checksum["matched"] is True
    assert r.signers == ["minisign:7FAC16D288BD2D30"]
    assert r.summary["files"] == 6
    assert "Report(" in repr(r)


def test_verify_preview_plan_and_ls_match_the_cli(tmp_path: Path) -> None:
    a = CRYPTO / "data.tar.gz"
    sig = CRYPTO / "data.tar.gz.minisig"
    code, doc, err = run_cli("verify", a, "--trust", TRUST, "--signature", sig)
    assert code == 0, err
    assert normalized(projectrestore.verify(a, trust=[TRUST], signatures=[sig]).to_dict()) \
        == normalized(doc)
    code, doc, err = run_cli("ls", a, "--trust", TRUST, "--signature", sig)
    assert code == 0, err
    listed = projectrestore.ls(a, trust=[TRUST], signatures=[sig])
    assert normalized(listed.to_dict()) == normalized(doc)
    assert listed.entries
    dest = tmp_path / "dest"
    projectrestore.restore(a, dest, trust=[TRUST], signatures=[sig])
    code, doc, err = run_cli("preview", a, "--to", dest, "--trust", TRUST, "--signature", sig,
                             "--diff")
    assert code == 0, err
    p = projectrestore.preview(a, dest, trust=[TRUST], signatures=[sig], diff=True)
    assert normalized(p.to_dict()) == normalized(doc)
    assert p.added == [] and p.removed == [] and p.modified == []
    code, doc, err = run_cli("plan", a, "--to", dest, "--trust", TRUST, "--signature", sig)
    assert code == 0, err
    pl = projectrestore.plan(a, dest, trust=[TRUST], signatures=[sig])
    assert normalized(pl.to_dict()) == normalized(doc)


def test_history_rollback_prune_and_recover(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    older = DEMO / "2026-11-23_090000-demo-older.tar.gz"
    newer = DEMO / "2026-11-24_120000-demo-initial.tar.gz.age"
    projectrestore.restore(older, dest, allow_unsigned=True)
    projectrestore.restore(newer, dest, trust=REPO / "keys",
                           identities=DEMO / "secret/demo-age-identity.txt")
    h = projectrestore.history(dest)
    code, doc, err = run_cli("history", dest)
    assert code == 0, err
    assert h.to_dict() == doc
    assert h.current is not None and h.current.archive == str(newer)
    (gen,) = h.generations
    assert gen.number == 1 and gen.archive == str(older)
    rb = projectrestore.rollback(dest, generation=1)
    assert rb.from_generation == gen.id
    assert projectrestore.history(dest).current.archive == str(older)  # type: ignore[union-attr]
    pr = projectrestore.prune(dest, keep=0)
    assert pr.removed == 1 and pr.kept == 0
    rec = projectrestore.recover(dest)
    code, doc, err = run_cli("recover", dest)
    assert code == 0, err
    assert rec.to_dict() == doc
    assert rec.swap == "none" and rec.removed_staging == 0


def test_list_backups_matches_the_cli() -> None:
    code, doc, err = run_cli("list", "--backup-dir", DEMO)
    assert code == 0, err
    found = projectrestore.list_backups(DEMO)
    assert [b.to_dict() for b in found] == doc["archives"]
    assert found[0].name.startswith("2026-11-24_120000-demo-initial")


def test_the_log(tmp_path: Path) -> None:
    log = tmp_path / "log"
    key = tmp_path / "log.key"
    binary = str(run_cli.__globals__["cli_binary"]())
    import subprocess

    subprocess.run([binary, "log", "keygen", "--origin", "example.org/log", "--output", key],
                   check=True, capture_output=True)
    subprocess.run([binary, "log", "init", log, "--key", key], check=True, capture_output=True)
    a = CRYPTO / "data.tar.gz"
    appended = projectrestore.log_append(log, a, key=key, trust=[TRUST],
                                         signatures=[CRYPTO / "data.tar.gz.minisig"],
                                         project="demo")
    assert appended.appended and appended.index == 0
    v = projectrestore.log_verify(log)
    code, doc, err = run_cli("log", "verify", log)
    assert code == 0, err
    assert v.to_dict() == doc and v.size == 1
    proof = projectrestore.log_prove(log, a, tlog_proof=tmp_path / "a.tlog-proof")
    code, doc, err = run_cli("log", "prove", log, a)
    assert code == 0, err
    assert proof.to_dict() == doc
    assert (tmp_path / "a.tlog-proof").exists()
    # --require-anchored through the library: the archive is in the log.
    r = projectrestore.verify(a, trust=[TRUST], signatures=[CRYPTO / "data.tar.gz.minisig"],
                              require_anchored=log, project="demo")
    assert r.log is not None


def test_the_installed_wheel_is_tested() -> None:
    """Not the source tree: python/projectrestore has no extension module."""
    assert "site-packages" in projectrestore.__file__, projectrestore.__file__


def test_the_newest_backup_of_a_directory(tmp_path: Path) -> None:
    r = projectrestore.restore(None, tmp_path / "d", backup_dir=DEMO, pattern="*.tar.gz.age",
                               trust=REPO / "keys",
                               identities=DEMO / "secret/demo-age-identity.txt")
    assert r.archive.endswith("2026-11-24_120000-demo-initial.tar.gz.age")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no archive matching"):
        projectrestore.restore(None, tmp_path / "e", backup_dir=empty)
    # A malformed bucket URL is no missing file.
    with pytest.raises(projectrestore.ProjectRestoreError) as info:
        projectrestore.restore("s3:///no-bucket", tmp_path / "f", allow_unsigned=True)
    assert not isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize("mode", ["auto", "wasm", "native"])
def test_the_sandbox_choice_is_the_clis(tmp_path: Path, mode: str) -> None:
    """sandbox= is --sandbox: an unsigned archive is parsed in the Wasm sandbox
    unless native is asked for, with the same tree either way."""
    a = DEMO / "2026-11-23_090000-demo-older.tar.gz"
    code, doc, err = run_cli("restore", a, "--to", tmp_path / "cli", "--allow-unsigned",
                             "--sandbox", mode)
    assert code == 0, err
    r = projectrestore.restore(a, tmp_path / "py", allow_unsigned=True, sandbox=mode)
    assert tree(tmp_path / "py") == tree(tmp_path / "cli")
    want = "native" if mode == "native" else "wasm"
    assert r.to_dict()["extractor"]["kind"] == want == doc["extractor"]["kind"]
    with pytest.raises(projectrestore.UsageError):
        projectrestore.restore(a, tmp_path / "bad", allow_unsigned=True, sandbox="off")
