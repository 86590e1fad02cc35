//! Helpers shared by the integration tests: a raw tar writer that can express
//! hostile archives (tar::Builder refuses many of them), tree snapshots, and the
//! binary under test.
#![allow(dead_code)]

pub mod stores;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The binary under test.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("projectrestore").expect("binary");
    cmd.env_remove("PROJECTRESTORE_PASSPHRASE")
        .env_remove("PROJECTRESTORE_CRASH_AT")
        // No settings or default trust store of the machine running the tests.
        .env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"));
    cmd
}

/// Tests that crash the binary at a named step (PROJECTRESTORE_CRASH_AT) or force
/// its portable paths (PROJECTRESTORE_PORTABLE_FS) need a build with the test
/// hooks; without them those variables do nothing and the test would prove nothing.
pub fn require_test_hooks() {
    #[cfg(not(feature = "test-hooks"))]
    panic!("this test needs the binary's test hooks: run `cargo test --features test-hooks` (scripts/test.sh does)");
}

/// The binary as a child process that the test talks to while it runs (no
/// settings or default trust store of the machine running the tests).
pub fn child_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_projectrestore"));
    cmd.env_remove("PROJECTRESTORE_PASSPHRASE")
        .env_remove("PROJECTRESTORE_CRASH_AT")
        .env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"));
    cmd
}

/// Wait for `child`; a child still running after 60 s is killed and the test
/// fails with `hang` (a hang detector, not a timing).
pub fn wait_or_fail(child: &mut std::process::Child, hang: &str) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{hang}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The repository root (fixtures, keys).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes tar bytes header by header.
#[derive(Default)]
pub struct Tar {
    pub buf: Vec<u8>,
}

pub const REG: u8 = b'0';
pub const LNK: u8 = b'1';
pub const SYM: u8 = b'2';
pub const CHR: u8 = b'3';
pub const BLK: u8 = b'4';
pub const DIR: u8 = b'5';
pub const FIFO: u8 = b'6';
pub const PAX: u8 = b'x';
pub const GPAX: u8 = b'g';
pub const GNU_LONGNAME: u8 = b'L';
pub const GNU_LONGLINK: u8 = b'K';
pub const GNU_SPARSE: u8 = b'S';

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    field[..width].copy_from_slice(&s.as_bytes()[s.len() - width..]);
    field[width] = 0;
}

impl Tar {
    pub fn new() -> Self {
        Self::default()
    }

    /// One ustar header block.
    pub fn header(
        &mut self,
        name: &[u8],
        typeflag: u8,
        size: u64,
        link: &[u8],
        mode: u32,
    ) -> &mut Self {
        let mut h = [0u8; 512];
        h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], 1000);
        octal(&mut h[116..124], 1000);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], 1_700_000_000);
        h[156] = typeflag;
        h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[265..269].copy_from_slice(b"user");
        h[297..302].copy_from_slice(b"group");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        self.buf.extend_from_slice(&h);
        self
    }

    /// Data blocks, padded to 512.
    pub fn data(&mut self, data: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.buf.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.file_mode(name, data, 0o644)
    }

    pub fn file_mode(&mut self, name: &str, data: &[u8], mode: u32) -> &mut Self {
        self.header(name.as_bytes(), REG, data.len() as u64, b"", mode)
            .data(data)
    }

    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.header(name.as_bytes(), DIR, 0, b"", 0o755)
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.header(name.as_bytes(), SYM, 0, target.as_bytes(), 0o777)
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.header(name.as_bytes(), LNK, 0, target.as_bytes(), 0o644)
    }

    /// A PAX extended header ('x' or 'g') with these records.
    pub fn pax(&mut self, typeflag: u8, records: &[(&str, &[u8])]) -> &mut Self {
        let mut body = Vec::new();
        for (k, v) in records {
            let rest = k.len() + v.len() + 3; // space, '=', newline
            let mut len = rest + 1;
            while len != rest + len.to_string().len() {
                len = rest + len.to_string().len();
            }
            body.extend_from_slice(format!("{len} {k}=").as_bytes());
            body.extend_from_slice(v);
            body.push(b'\n');
        }
        self.header(b"././@PaxHeader", typeflag, body.len() as u64, b"", 0o644)
            .data(&body)
    }

    /// A GNU long-name ('L') or long-link ('K') header.
    pub fn gnu_long(&mut self, typeflag: u8, value: &[u8]) -> &mut Self {
        let mut v = value.to_vec();
        v.push(0);
        self.header(b"././@LongLink", typeflag, v.len() as u64, b"", 0o644)
            .data(&v)
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// End-of-archive (two zero blocks) padded to a 10 KiB record, as GNU tar does.
    pub fn finish(&mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&[0u8; 1024]);
        while !self.buf.len().is_multiple_of(10240) {
            self.buf.push(0);
        }
        std::mem::take(&mut self.buf)
    }
}

/// gzip-compress bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// zstd-compress bytes.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

/// What a tree holds: path → (kind, mode, content or link target). Symlinks are not followed.
pub type Snapshot = BTreeMap<String, (char, u32, Vec<u8>)>;

pub fn snapshot(root: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    if std::fs::symlink_metadata(root).is_err() {
        return out;
    }
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, p: &Path, out: &mut Snapshot) {
    let meta = std::fs::symlink_metadata(p).expect("stat");
    let rel = p
        .strip_prefix(root)
        .expect("prefix")
        .to_string_lossy()
        .into_owned();
    let mode = meta.permissions().mode() & 0o7777;
    if meta.file_type().is_symlink() {
        let t = std::fs::read_link(p).expect("readlink");
        out.insert(rel, ('l', 0, t.to_string_lossy().as_bytes().to_vec()));
    } else if meta.is_dir() {
        out.insert(rel, ('d', mode, Vec::new()));
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .expect("readdir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for e in entries {
            walk(root, &e, out);
        }
    } else {
        let data = std::fs::read(p).expect("read");
        // Long contents are compared by digest, so that a failure prints readably.
        let shown = if data.len() > 64 {
            use sha2::Digest;
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(&data))).into_bytes()
        } else {
            data
        };
        out.insert(rel, ('f', mode, shown));
    }
}

/// The names in a directory (not recursive).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A workspace: `parent/` holding `dest/` with a known old tree, and the archive file.
pub struct Scene {
    pub tmp: tempfile::TempDir,
    pub parent: PathBuf,
    pub dest: PathBuf,
}

impl Scene {
    /// A destination that a previous restore put there (so no --yes is needed) is
    /// simulated with --yes in each call; the old tree has two files.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let parent = tmp.path().join("parent");
        let dest = parent.join("dest");
        std::fs::create_dir_all(dest.join("old")).expect("mkdir");
        std::fs::write(dest.join("old/keep.txt"), b"the old tree\n").expect("write");
        std::fs::write(dest.join("top.txt"), b"top\n").expect("write");
        Scene { tmp, parent, dest }
    }

    /// Write an archive outside `parent`.
    pub fn archive(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, bytes).expect("write archive");
        p
    }

    /// The state directory's path.
    pub fn state(&self) -> PathBuf {
        self.parent.join(".dest.projectrestore")
    }

    /// Staging directories left in the state directory.
    pub fn leftover_staging(&self) -> Vec<String> {
        names(&self.state())
            .into_iter()
            .filter(|n| n.starts_with("staging"))
            .collect()
    }
}

/// Is `tool` on PATH? Under CI=true a missing tool is a failure, not a skip.
pub fn have_tool(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is required under CI=true but is not installed"
        );
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

/// The inode of a path (to tell trees apart).
pub fn inode(p: &Path) -> u64 {
    std::fs::symlink_metadata(p).map(|m| m.ino()).unwrap_or(0)
}

/// What a run of the binary gave.
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `restore ARCHIVE --to DEST --yes EXTRA…` with an empty standard input (no terminal).
pub fn restore(archive: &Path, dest: &Path, extra: &[&str]) -> Run {
    bin()
        .arg("restore")
        .arg(archive)
        .arg("--to")
        .arg(dest)
        .arg("--yes")
        .args(extra)
        .write_stdin("")
        .output()
        .expect("run the binary")
        .into()
}

/// `projectrestore ARGS…` in `cwd` (default: the test's), with `env` added and an
/// empty standard input (no terminal).
pub fn run_bin(cwd: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = bin();
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args)
        .write_stdin("")
        .output()
        .expect("run the binary")
        .into()
}

/// Run `script` with `sh -c` in `dir`; a failure panics with its stderr.
pub fn sh(script: &str, dir: &Path) {
    let out = std::process::Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tiny seeded generator (xorshift64) so that random tests are reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
