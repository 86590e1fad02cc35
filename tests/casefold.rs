//! Case-insensitive destinations, on a real exFAT file system (FUSE, made by the
//! test as root: this kernel has neither vfat nor ext4 casefold), and names a
//! file system cannot hold. Under CI=true a failure to set up exFAT fails the
//! test; elsewhere, without root or the tools, it is skipped with a message.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{snapshot, Tar};

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn sh(cmd: &str, args: &[&str]) -> Result<String, String> {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A 64 MiB exFAT image on a loop device, mounted with exfat-fuse; unmounted and
/// detached on drop, also when the test fails.
struct ExFat {
    _tmp: tempfile::TempDir,
    mnt: PathBuf,
    loopdev: Option<String>,
    mounted: bool,
}

impl ExFat {
    fn setup() -> Option<ExFat> {
        if !rustix::process::geteuid().is_root() {
            assert!(!ci(), "CI=true: the exFAT tests must run as root");
            eprintln!("skipping: mounting exFAT needs root");
            return None;
        }
        match Self::try_setup() {
            Ok(x) => Some(x),
            Err(e) => {
                assert!(!ci(), "CI=true: could not set up exFAT: {e}");
                eprintln!("skipping: could not set up exFAT: {e}");
                None
            }
        }
    }

    fn try_setup() -> Result<ExFat, String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let img = tmp.path().join("exfat.img");
        let mnt = tmp.path().join("mnt");
        std::fs::create_dir(&mnt).map_err(|e| e.to_string())?;
        let mut me = ExFat {
            _tmp: tmp,
            mnt: mnt.clone(),
            loopdev: None,
            mounted: false,
        };
        let img_s = img.to_str().unwrap();
        sh("truncate", &["-s", "64M", img_s])?;
        sh("mkfs.exfat", &[img_s])?;
        me.loopdev = Some(sh("losetup", &["-f", "--show", img_s])?);
        sh(
            "mount.exfat-fuse",
            &[me.loopdev.as_deref().unwrap(), mnt.to_str().unwrap()],
        )?;
        me.mounted = true;
        Ok(me)
    }
}

impl Drop for ExFat {
    fn drop(&mut self) {
        if self.mounted && sh("umount", &[self.mnt.to_str().unwrap()]).is_err() {
            let _ = sh("umount", &["-l", self.mnt.to_str().unwrap()]);
        }
        if let Some(l) = &self.loopdev {
            let _ = sh("losetup", &["-d", l]);
        }
    }
}

fn archive(dir: &Path, name: &str, t: &mut Tar) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, common::gzip(&t.finish())).unwrap();
    p
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap()
}

#[test]
fn exfat_folds_case_keeps_no_modes_and_cannot_swap() {
    let Some(fs) = ExFat::setup() else { return };
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let dest = fs.mnt.join("project");

    // A first restore: the mode warning, the probe's findings in the report.
    let first = archive(
        w,
        "first.tar.gz",
        Tar::new()
            .dir("src/")
            .file("README", b"one\n")
            .file("src/main.py", b"print(1)\n"),
    );
    let r = common::restore(&first, &dest, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r.out);
    assert_eq!(v["filesystem"]["folds_case"], true);
    assert_eq!(v["filesystem"]["keeps_modes"], false);
    assert!(
        v["warnings"]
            .to_string()
            .contains("does not keep permission bits"),
        "{}",
        v["warnings"]
    );
    let before = snapshot(&dest);
    let state = fs.mnt.join(".project.projectrestore");

    // README and readme: refused before anything is written, naming both.
    let case = archive(
        w,
        "case.tar.gz",
        Tar::new()
            .file("README", b"upper\n")
            .file("readme", b"lower\n"),
    );
    let r = common::restore(&case, &dest, &[]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(
        r.err
            .contains("readme and README are one name on this case-insensitive file system"),
        "{}",
        r.err
    );
    assert_eq!(snapshot(&dest), before);
    assert!(common::names(&state)
        .iter()
        .all(|n| !n.starts_with("staging")));

    // A directory A/ and a symlink a.
    let dir_link = archive(
        w,
        "dirlink.tar.gz",
        Tar::new().dir("A/").file("A/x", b"x").symlink("a", "A/x"),
    );
    let r = common::restore(&dir_link, &dest, &[]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(r.err.contains("a and A are one name"), "{}", r.err);
    assert_eq!(snapshot(&dest), before);

    // Nested: src/Main.py beside src/main.py, and a parent differing only in case.
    let nested = archive(
        w,
        "nested.tar.gz",
        Tar::new()
            .file("src/main.py", b"1")
            .file("SRC/other.py", b"2"),
    );
    let r = common::restore(&nested, &dest, &[]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(r.err.contains("SRC and src are one name"), "{}", r.err);

    // NFC and NFD spellings of é: one name everywhere (refused on every file system).
    let nfd = archive(
        w,
        "nfd.tar.gz",
        Tar::new()
            .file("caf\u{e9}", b"nfc")
            .file("cafe\u{301}", b"nfd"),
    );
    let r = common::restore(&nfd, &dest, &[]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert_eq!(snapshot(&dest), before);

    // A symlink cannot be created here (ENOSYS): exit 5 naming it, nothing lost.
    let link = archive(
        w,
        "link.tar.gz",
        Tar::new()
            .file("README", b"two\n")
            .symlink("latest", "README"),
    );
    let r = common::restore(&link, &dest, &[]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(
        r.err.contains("entry latest cannot be created here"),
        "{}",
        r.err
    );
    assert_eq!(snapshot(&dest), before);

    // A second restore: renameat2(RENAME_EXCHANGE) is EINVAL on exFAT, so the
    // journaled two-rename swap does the work; the old tree is kept.
    let second = archive(w, "second.tar.gz", Tar::new().file("README", b"two\n"));
    let r = common::restore(&second, &dest, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(json(&r.out)["replaced_generation"].is_string());
    assert_eq!(std::fs::read(dest.join("README")).unwrap(), b"two\n");
    // And back.
    let r = common::bin()
        .args(["rollback", dest.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read(dest.join("README")).unwrap(), b"one\n");
    assert_eq!(
        std::fs::read(dest.join("src/main.py")).unwrap(),
        b"print(1)\n"
    );
}

#[test]
fn case_collisions_stay_legal_on_case_sensitive_file_systems() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let case = archive(
        w,
        "case.tar.gz",
        Tar::new()
            .file("README", b"upper\n")
            .file("readme", b"lower\n"),
    );
    let dest = w.join("dest");
    let r = common::restore(&case, &dest, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(json(&r.out)["filesystem"]["folds_case"], false);
    assert_eq!(std::fs::read(dest.join("readme")).unwrap(), b"lower\n");
    assert_eq!(std::fs::read(dest.join("README")).unwrap(), b"upper\n");
}

#[test]
fn a_name_longer_than_the_file_system_allows_is_exit_5() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let long = "n".repeat(300);
    let a = archive(
        w,
        "long.tar.gz",
        Tar::new()
            .file("ok", b"1")
            .pax(b'x', &[("path", long.as_bytes())])
            .file("short", b"2"),
    );
    let dest = w.join("dest");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("keep"), b"old").unwrap();
    let before = snapshot(&dest);
    // Our own limit first (255 bytes by default)…
    let r = common::restore(&a, &dest, &[]);
    assert_eq!(r.code, 5, "{}", r.err);
    // …and past it, the file system's NAME_MAX (255 on ext4 and tmpfs), named.
    let r = common::restore(&a, &dest, &["--max-name-length", "1000"]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(
        r.err
            .contains(&format!("entry {long} cannot be created here")),
        "{}",
        r.err
    );
    assert_eq!(snapshot(&dest), before);
}
