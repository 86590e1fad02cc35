//! One test per attack: each hostile archive is restored over an existing tree and
//! must be refused with exit 5 (or 4 for verification), naming the entry, with the
//! destination byte-for-byte unchanged, no staging left behind, and nothing created
//! outside the destination's parent (the escape targets are checked by name).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

/// Restore `bytes` over the scene's old tree with `extra` flags.
fn attempt(scene: &Scene, bytes: &[u8], extra: &[&str]) -> Run {
    restore(&scene.archive("hostile.tar", bytes), &scene.dest, extra)
}

/// The common assertions: exit code, message, nothing changed, nothing escaped —
/// with the native extractor and with the Wasm sandbox, which must refuse the
/// same archive with the same exit code and the same rule.
fn refused_with(bytes: Vec<u8>, extra: &[&str], code: i32, message: &[&str]) {
    for mode in ["native", "wasm"] {
        let mut args = extra.to_vec();
        args.extend(["--sandbox", mode]);
        refused_by(&bytes, &args, code, message, mode);
    }
}

fn refused_by(bytes: &[u8], extra: &[&str], code: i32, message: &[&str], mode: &str) {
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let parent_before = names(&scene.parent);
    let out = attempt(&scene, bytes, extra);
    assert_eq!(out.code, code, "exit code ({mode}); stderr: {}", out.err);
    for m in message {
        assert!(
            out.err.contains(m),
            "stderr ({mode}) should mention {m:?}: {}",
            out.err
        );
    }
    assert_eq!(snapshot(&scene.dest), before, "destination changed");
    let mut allowed = parent_before.clone();
    allowed.push(".dest.projectrestore".into());
    allowed.sort();
    let now = names(&scene.parent);
    assert!(
        now == parent_before || now == allowed,
        "something was created beside the destination: {now:?}"
    );
    assert!(
        scene.leftover_staging().is_empty(),
        "staging left behind: {:?}",
        scene.leftover_staging()
    );
    for escaped in ["escaped", "escaped-dir"] {
        assert!(
            !scene.parent.join(escaped).exists() && !scene.tmp.path().join(escaped).exists(),
            "{escaped} was written outside"
        );
    }
}

fn refused(bytes: Vec<u8>, message: &[&str]) {
    refused_with(bytes, &[], 5, message);
}

#[test]
fn absolute_path() {
    let scene_tmp = tempfile::tempdir().unwrap();
    let target = scene_tmp.path().join("escaped");
    let t = Tar::new().file(target.to_str().unwrap(), b"x").finish();
    refused(t, &["escaped"]);
    assert!(!target.exists());
}

#[test]
fn dotdot_escape() {
    refused(
        Tar::new().file("../escaped", b"x").finish(),
        &["../escaped"],
    );
}

#[test]
fn dotdot_inside_path() {
    refused(
        Tar::new().dir("a/").file("a/../../escaped", b"x").finish(),
        &["escaped"],
    );
}

#[test]
fn dotdot_after_dot_prefix() {
    refused(Tar::new().file("./../escaped", b"x").finish(), &["escaped"]);
}

/// The ustar name is harmless; the PAX `path` record that overrides it escapes.
#[test]
fn dotdot_in_pax_path_override() {
    let t = Tar::new()
        .pax(PAX, &[("path", b"../escaped")])
        .file("harmless.txt", b"x")
        .finish();
    refused(t, &["escaped"]);
}

/// The same through a GNU long-name header.
#[test]
fn dotdot_in_gnu_long_name() {
    let t = Tar::new()
        .gnu_long(GNU_LONGNAME, b"../escaped")
        .file("harmless.txt", b"x")
        .finish();
    refused(t, &["escaped"]);
}

#[test]
fn symlink_pointing_outside() {
    refused(
        Tar::new().symlink("link", "../../escaped-dir").finish(),
        &["link"],
    );
}

#[test]
fn absolute_symlink() {
    refused(Tar::new().symlink("link", "/etc").finish(), &["link"]);
}

/// The classic: a symlink to a directory outside, then a file written "through" it.
#[test]
fn file_beneath_symlink() {
    let t = Tar::new()
        .dir("inside/")
        .symlink("link", "inside")
        .file("link/escaped", b"x")
        .finish();
    refused(t, &["link/escaped"]);
}

/// Each link looks harmless lexically, but `d/up` is the root, so `d/up/..` leaves it.
#[test]
fn symlink_chain_escape() {
    let t = Tar::new()
        .dir("d/")
        .symlink("d/up", "..")
        .symlink("esc", "d/up/..")
        .finish();
    refused(t, &["esc"]);
}

#[test]
fn hardlink_outside() {
    refused(
        Tar::new().hardlink("hl", "../../etc/passwd").finish(),
        &["hl"],
    );
}

#[test]
fn hardlink_to_missing_or_later_entry() {
    refused(
        Tar::new()
            .hardlink("hl", "later.txt")
            .file("later.txt", b"x")
            .finish(),
        &["hl"],
    );
}

#[test]
fn hardlink_to_symlink() {
    refused(
        Tar::new()
            .symlink("s", "x")
            .file("x", b"x")
            .hardlink("hl", "s")
            .finish(),
        &["hl"],
    );
}

#[test]
fn hardlink_to_directory() {
    refused(Tar::new().dir("d/").hardlink("hl", "d").finish(), &["hl"]);
}

#[test]
fn character_device() {
    refused(
        Tar::new().header(b"dev", CHR, 0, b"", 0o644).finish(),
        &["dev"],
    );
}

#[test]
fn block_device() {
    refused(
        Tar::new().header(b"dev", BLK, 0, b"", 0o644).finish(),
        &["dev"],
    );
}

#[test]
fn fifo() {
    refused(
        Tar::new().header(b"pipe", FIFO, 0, b"", 0o644).finish(),
        &["pipe"],
    );
}

#[test]
fn unknown_entry_type() {
    refused(
        Tar::new().header(b"odd", b'Z', 0, b"", 0o644).finish(),
        &["odd"],
    );
}

#[test]
fn gnu_sparse_refused_by_default() {
    refused(
        Tar::new()
            .header(b"sparse", GNU_SPARSE, 0, b"", 0o644)
            .finish(),
        &["sparse", "not supported", "without --sparse"],
    );
}

/// `--allow-sparse` is in the command-line contract but sparse extraction is not
/// implemented: the flag must not turn a refusal into a half-restored file, and the
/// message must not send the user round in a circle.
#[test]
fn gnu_sparse_refused_even_when_allowed() {
    let sparse = Tar::new()
        .header(b"sparse", GNU_SPARSE, 0, b"", 0o644)
        .finish();
    refused_with(
        sparse,
        &["--allow-sparse"],
        5,
        &["sparse", "even with --allow-sparse"],
    );
    let pax = Tar::new()
        .pax(
            PAX,
            &[("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0")],
        )
        .file("GNUSparseFile.0/f", b"x")
        .finish();
    refused_with(pax, &["--allow-sparse"], 5, &["even with --allow-sparse"]);
}

/// A PAX size that disagrees with the header lets two parsers see different files.
#[test]
fn pax_size_disagrees_with_header() {
    let t = Tar::new()
        .pax(PAX, &[("size", b"1024")])
        .file("f.txt", b"short")
        .finish();
    refused(t, &["f.txt"]);
}

#[test]
fn pax_headers_back_to_back() {
    let t = Tar::new()
        .pax(PAX, &[("path", b"a.txt")])
        .pax(PAX, &[("path", b"b.txt")])
        .file("c.txt", b"x")
        .finish();
    refused(t, &[]);
}

#[test]
fn duplicate_path() {
    refused(
        Tar::new()
            .file("a.txt", b"first")
            .file("a.txt", b"second")
            .finish(),
        &["a.txt"],
    );
}

#[test]
fn duplicate_after_normalisation() {
    refused(
        Tar::new()
            .file("a.txt", b"first")
            .file("./a.txt", b"second")
            .finish(),
        &["a.txt"],
    );
}

#[test]
fn duplicate_nfc_nfd() {
    let nfc = "caf\u{e9}.txt";
    let nfd = "cafe\u{301}.txt";
    refused(
        Tar::new().file(nfc, b"first").file(nfd, b"second").finish(),
        &["caf"],
    );
}

#[test]
fn control_characters_in_name() {
    let out = {
        let t = Tar::new().file("evil\x1b[2Jname", b"x").finish();
        let scene = Scene::new();
        attempt(&scene, &t, &[])
    };
    assert_eq!(out.code, 5, "{}", out.err);
    assert!(
        !out.err.contains('\x1b'),
        "the escape sequence reached the terminal: {:?}",
        out.err
    );
}

#[test]
fn nul_in_pax_path() {
    refused(
        Tar::new()
            .pax(PAX, &[("path", b"a\0b")])
            .file("x", b"x")
            .finish(),
        &[],
    );
}

#[test]
fn trailing_garbage_after_end_of_archive() {
    let mut t = Tar::new().file("a.txt", b"x").finish();
    t.extend_from_slice(b"garbage after the end");
    refused(t, &[]);
}

#[test]
fn missing_end_of_archive() {
    let mut t = Tar::new();
    t.file("a.txt", b"x");
    refused(t.buf.clone(), &[]);
}

#[test]
fn truncated_entry_data() {
    let mut t = Tar::new();
    t.header(b"big.txt", REG, 100_000, b"", 0o644)
        .raw(&[b'x'; 1000]);
    refused(t.buf.clone(), &[]);
}

#[test]
fn bytes_after_gzip_stream() {
    let mut gz = gzip(&Tar::new().file("a.txt", b"x").finish());
    gz.extend_from_slice(b"trailing");
    refused(gz, &[]);
}

#[test]
fn too_many_files() {
    let t = Tar::new()
        .file("a", b"1")
        .file("b", b"2")
        .file("c", b"3")
        .finish();
    refused_with(t, &["--max-files", "2"], 5, &["--max-files"]);
}

/// The declared size alone is over the limit: refused before any data is read.
#[test]
fn declared_size_over_max_bytes() {
    let mut t = Tar::new();
    t.header(b"huge.bin", REG, 5 << 30, b"", 0o644);
    refused_with(t.buf.clone(), &["--max-bytes", "1G"], 5, &["--max-bytes"]);
}

#[test]
fn too_deep() {
    let deep = vec!["d"; 40].join("/") + "/f";
    refused_with(
        Tar::new().file(&deep, b"x").finish(),
        &["--max-depth", "16"],
        5,
        &["--max-depth"],
    );
}

#[test]
fn name_too_long() {
    let long = "n".repeat(300);
    let t = Tar::new()
        .pax(PAX, &[("path", long.as_bytes())])
        .file("x", b"x")
        .finish();
    refused(t, &[]);
}

#[test]
fn oversized_pax_header() {
    let big = "c".repeat(100_000);
    let t = Tar::new()
        .pax(PAX, &[("comment", big.as_bytes())])
        .file("x", b"x")
        .finish();
    refused_with(t, &["--max-pax-size", "64K"], 5, &["--max-pax-size"]);
}

/// 32 MiB of zeros compress to a few KiB: over a ratio limit of 100 it is refused early.
#[test]
fn compression_bomb() {
    let mut t = Tar::new();
    t.header(b"zeros.bin", REG, 32 << 20, b"", 0o644)
        .data(&vec![0u8; 32 << 20]);
    let z = zstd(&t.finish());
    refused_with(z, &["--max-ratio", "100"], 5, &["ratio"]);
}

#[test]
fn not_an_archive() {
    refused(
        b"this is just text, not an archive at all".repeat(20),
        &["not tar"],
    );
}

#[test]
fn setuid_and_world_write_are_stripped() {
    let scene = Scene::new();
    let t = Tar::new()
        .file_mode("tool", b"#!/bin/sh\n", 0o4777)
        .finish();
    let out = attempt(&scene, &t, &[]);
    assert_eq!(out.code, 0, "{}", out.err);
    let snap = snapshot(&scene.dest);
    assert_eq!(snap["tool"].1, 0o755);
}

#[test]
fn keep_permissions_keeps_them() {
    let scene = Scene::new();
    let t = Tar::new()
        .file_mode("tool", b"#!/bin/sh\n", 0o2775)
        .finish();
    let out = attempt(&scene, &t, &["--keep-permissions"]);
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(snapshot(&scene.dest)["tool"].1, 0o2775);
}

#[test]
fn symlink_inside_the_tree_is_fine() {
    let scene = Scene::new();
    let t = Tar::new()
        .dir("docs/")
        .file("docs/a.txt", b"a")
        .symlink("latest", "docs/a.txt")
        .symlink("docs/up", "../docs")
        .finish();
    let out = attempt(&scene, &t, &[]);
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        std::fs::read_link(scene.dest.join("latest"))
            .unwrap()
            .to_str(),
        Some("docs/a.txt")
    );
}

/// An archive whose entries are all removed by --strip-components (or an empty
/// archive) would replace the project with nothing: refused, the tree left alone.
#[test]
fn nothing_left_after_strip_components() {
    let t = Tar::new().dir("top/").file("top/a.txt", b"a").finish();
    refused_with(t, &["--strip-components", "3"], 5, &["nothing to restore"]);
    refused_with(Tar::new().finish(), &[], 5, &["nothing to restore"]);
}

// Issue 14, item 14: names that are traversal or confusion on another platform.

/// `..\..\escaped` is a traversal on Windows even though Linux sees one name.
#[test]
fn backslash_dotdot_is_refused() {
    for name in ["..\\..\\escaped", "a\\..\\..\\escaped", "dir/..\\escaped"] {
        let t = Tar::new().file(name, b"x").finish();
        refused(t, &["backslash-separated '..'"]);
    }
}

/// Fullwidth full stops (U+FF0E), the one-dot leader (U+2024) and friends are
/// `.` or `..` after NFKC; a fullwidth solidus (U+FF0F) becomes `/`.
#[test]
fn names_that_normalise_to_dots_or_separators_are_refused() {
    for name in [
        "\u{ff0e}\u{ff0e}/escaped",
        "a/\u{ff0e}\u{ff0e}",
        "\u{2024}\u{2024}/escaped",
        "\u{2025}/escaped",
        "\u{ff0e}",
    ] {
        let t = Tar::new().file(name, b"x").finish();
        refused(t, &["normalises (NFKC) to '.' or '..'"]);
    }
    let t = Tar::new().file("a\u{ff0f}..\u{ff0f}escaped", b"x").finish();
    refused(t, &["normalises (NFKC) to one with a path separator"]);
}

/// Ordinary non-ASCII names still restore (the rule is not "ASCII only").
#[test]
fn ordinary_unicode_names_restore() {
    let scene = Scene::new();
    let t = Tar::new()
        .file("caf\u{e9}/\u{ff21}.txt", b"ok")
        .file("r\u{e9}sum\u{e9}\\notes.txt", b"ok")
        .finish();
    let out = attempt(&scene, &t, &[]);
    assert_eq!(out.code, 0, "{}", out.err);
}

// Issue 14, item 15: PAX records that change what an entry is.

#[test]
fn pax_records_that_redefine_the_entry_are_refused() {
    for (key, value) in [
        ("SCHILY.filetype", &b"blockdev"[..]),
        ("SCHILY.devmajor", b"8"),
        ("SCHILY.devminor", b"1"),
        ("SCHILY.realsize", b"1000000"),
        ("SUN.holesdata", b"0 10"),
        ("LIBARCHIVE.filetype", b"socket"),
        ("hdrcharset", b"BINARY"),
    ] {
        let t = Tar::new()
            .pax(PAX, &[(key, value)])
            .file("a.txt", b"x")
            .finish();
        refused(t, &["changes what the entry is", key]);
    }
}

/// Harmless PAX records are ignored: the entry restores.
#[test]
fn harmless_pax_records_are_ignored() {
    let scene = Scene::new();
    let t = Tar::new()
        .pax(
            PAX,
            &[
                ("atime", &b"1700000000.5"[..]),
                ("SCHILY.xattr.user.note", b"hi"),
                ("LIBARCHIVE.creationtime", b"1700000000"),
                ("hdrcharset", b"ISO-IR 10646 2000 UTF-8"),
                ("comment", b"made by a test"),
            ],
        )
        .file("a.txt", b"x")
        .finish();
    let out = attempt(&scene, &t, &[]);
    assert_eq!(out.code, 0, "{}", out.err);
}

/// A regular file or directory whose link field, PAX linkpath or device
/// numbers are set is not what its type says.
#[test]
fn link_and_device_fields_on_files_are_refused() {
    let t = Tar::new()
        .header(b"a.txt", REG, 0, b"elsewhere", 0o644)
        .finish();
    refused(t, &["with a link target"]);
    let t = Tar::new()
        .pax(PAX, &[("linkpath", &b"elsewhere"[..])])
        .file("a.txt", b"x")
        .finish();
    refused(t, &["with a link target"]);
    let mut t = Tar::new();
    t.header(b"d/", DIR, 0, b"", 0o755);
    // devmajor at offset 329 (ustar), octal; fix the checksum after.
    let n = t.buf.len() - 512;
    t.buf[n + 329..n + 336].copy_from_slice(b"0000010");
    t.buf[n + 148..n + 156].copy_from_slice(b"        ");
    let sum: u64 = t.buf[n..n + 512].iter().map(|b| u64::from(*b)).sum();
    t.buf[n + 148..n + 156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    refused(t.finish(), &["with device numbers"]);
}

/// The same records in a global header: other tools apply them to every entry.
#[test]
fn global_pax_records_that_redefine_entries_are_refused() {
    let t = Tar::new()
        .pax(GPAX, &[("SCHILY.filetype", &b"chardev"[..])])
        .file("a.txt", b"x")
        .finish();
    refused(t, &["global header sets SCHILY.filetype"]);
}

/// Symlink targets are paths too: the same cross-platform name rules.
#[test]
fn symlink_targets_that_are_traversal_elsewhere_are_refused() {
    for (target, why) in [
        ("..\\..\\escaped", "backslash-separated '..'"),
        (
            "\u{ff0e}\u{ff0e}/escaped",
            "normalises (NFKC) to '.' or '..'",
        ),
    ] {
        let t = Tar::new().symlink("link", target).finish();
        refused(t, &["the symlink target", why]);
    }
}
