//! Archives in object stores (S3, Azure Blob Storage, Google Cloud Storage),
//! against the real emulators on loopback: moto, Azurite and fake-gcs-server,
//! started by these tests (tests/common/stores.rs; scripts/test-servers.sh
//! installs them; under CI=true a missing one is a failure).
//!
//! Per store: a minisign-signed, age-encrypted `.tar.zst` and a gpg-signed
//! `.tar.gz` restore byte for byte as the same files restored from disk, with
//! the same report apart from where they came from; `--backup-dir URL/` picks
//! the newest projectclone archive under that prefix only; a tampered object,
//! an untrusted signer and an object replaced between the passes are exit 4
//! with the destination untouched. Then, through a proxy that breaks bodies:
//! cut at 1 MiB and at 90 %, and a body slower than 30 s in all, restore with
//! the resumes counted. Last, the failures: no credentials, a wrong secret, a
//! missing bucket, access denied — one clear message each, never the secret.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::stores::{self, Fault, Server};
use common::*;

/// The archives, made by the real tools once per test process.
struct Made {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    /// `2026-11-30_120000-proj-nightly.tar.zst.age` (+ `.minisig`).
    age: PathBuf,
    identity: PathBuf,
    /// A directory holding the minisign public key.
    trust: PathBuf,
    /// The same archive's signature by a key nobody trusts.
    untrusted_sig: PathBuf,
    /// Another validly signed archive (what an attacker re-uploads).
    other: PathBuf,
}

fn tools() -> bool {
    ["tar", "zstd", "age", "age-keygen", "minisign", "gpg"]
        .iter()
        .all(|t| have_tool(t))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A deterministic 3 MiB of noise (zstd cannot shrink it: the body is large).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn make_archive(dir: &Path, name: &str, seed: u64, recipient: &str, key: &Path) -> PathBuf {
    let proj = dir.join(format!("src-{seed}/proj"));
    std::fs::create_dir_all(proj.join("src")).unwrap();
    std::fs::write(
        proj.join("src/main.rs"),
        format!("fn main() {{ /* {seed} */ }}\n"),
    )
    .unwrap();
    std::fs::write(proj.join("README.md"), b"# proj\n").unwrap();
    std::fs::write(proj.join("data.bin"), noise(3 << 20, seed)).unwrap();
    let tar = dir.join(format!("{name}.tar"));
    run(Command::new("tar")
        .arg("-C")
        .arg(proj.parent().unwrap())
        .args(["-cf"])
        .arg(&tar)
        .arg("proj"));
    run(Command::new("zstd").args(["-q", "-f", "--rm"]).arg(&tar));
    let zst = dir.join(format!("{name}.tar.zst"));
    let age = dir.join(format!("{name}.tar.zst.age"));
    run(Command::new("age")
        .args(["-r", recipient, "-o"])
        .arg(&age)
        .arg(&zst));
    run(Command::new("minisign")
        .args(["-S", "-s"])
        .arg(key)
        .arg("-m")
        .arg(&age)
        .args(["-t", name]));
    age
}

fn made() -> Option<&'static Made> {
    static M: OnceLock<Option<Made>> = OnceLock::new();
    M.get_or_init(|| {
        if !tools() {
            return None;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let identity = dir.join("identity.txt");
        run(Command::new("age-keygen").arg("-o").arg(&identity));
        let text = std::fs::read_to_string(&identity).unwrap();
        let recipient = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap()
            .to_string();
        let trust = dir.join("trust");
        std::fs::create_dir(&trust).unwrap();
        for k in ["good", "bad"] {
            run(Command::new("minisign")
                .args(["-G", "-W", "-p"])
                .arg(dir.join(format!("{k}.pub")))
                .arg("-s")
                .arg(dir.join(format!("{k}.key"))));
        }
        std::fs::copy(dir.join("good.pub"), trust.join("good.pub")).unwrap();
        let good = dir.join("good.key");
        let age = make_archive(&dir, "2026-11-30_120000-proj-nightly", 1, &recipient, &good);
        let other = make_archive(&dir, "2026-11-29_120000-proj-other", 2, &recipient, &good);
        // The same archive signed by the untrusted key.
        let copy = dir.join("untrusted.tar.zst.age");
        std::fs::copy(&age, &copy).unwrap();
        run(Command::new("minisign")
            .args(["-S", "-s"])
            .arg(dir.join("bad.key"))
            .arg("-m")
            .arg(&copy));
        Some(Made {
            untrusted_sig: dir.join("untrusted.tar.zst.age.minisig"),
            _dir: tmp,
            dir,
            age,
            identity,
            trust,
            other,
        })
    })
    .as_ref()
}

fn sidecar(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(ext);
    PathBuf::from(s)
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The fixture's gpg-signed .tar.gz (fixtures/make-crypto.sh).
fn gpg_archive() -> (PathBuf, PathBuf, PathBuf) {
    let c = repo().join("fixtures/crypto");
    (
        c.join("data.tar.gz"),
        c.join("data.tar.gz.gpg-ed.sig"),
        c.join("trust"),
    )
}

struct Ctx {
    server: &'static Server,
    home: tempfile::TempDir,
}

fn ctx(kind: &str) -> Option<Ctx> {
    made()?;
    let e = stores::emulators()?;
    Some(Ctx {
        server: e.servers.iter().find(|s| s.kind == kind).unwrap(),
        home: tempfile::tempdir().unwrap(),
    })
}

impl Ctx {
    /// `projectrestore ARGS` reaching the store through `endpoint` (the
    /// server's own unless a proxy's is given).
    fn run(&self, args: &[&str], endpoint: Option<&str>) -> Run {
        let (opts, env) = self
            .server
            .access(endpoint.unwrap_or(&self.server.endpoint));
        let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        // Options go before a `--` if there is one; there never is here.
        for o in opts {
            full.push("--store-opt".into());
            full.push(o);
        }
        let a: Vec<&str> = full.iter().map(String::as_str).collect();
        let mut env: Vec<(String, String)> = env;
        env.push(("HOME".into(), self.home.path().display().to_string()));
        env.push((
            "XDG_CONFIG_HOME".into(),
            self.home.path().join("config").display().to_string(),
        ));
        let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_bin(None, &a, &e)
    }

    fn new_bucket(&self, prefix: &str) -> String {
        let b = stores::bucket(prefix);
        self.server.seed(&["mkbucket", &b]);
        b
    }
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.out, r.err))
}

/// The report with what differs by where the bytes came from taken out.
fn comparable(mut v: serde_json::Value, replace: &[(&str, &str)]) -> serde_json::Value {
    for k in [
        "archive",
        "source",
        "duration_ms",
        "destination",
        "generations",
        "filesystem",
        "replaced_generation",
        // Which extractor ran differs by design (checked by the caller).
        "extractor",
    ] {
        v.as_object_mut().unwrap().remove(k);
    }
    let mut text = v.to_string();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}

fn restores_like_a_local_file(kind: &str) {
    let Some(c) = ctx(kind) else { return };
    let m = made().unwrap();
    let b = c.new_bucket("same");
    let (gz, gz_sig, gz_trust) = gpg_archive();
    let age_name = name(&m.age);
    c.server.put(
        &b,
        &[
            (&age_name, &m.age),
            (&format!("{age_name}.minisig"), &sidecar(&m.age, ".minisig")),
            ("data.tar.gz", &gz),
            ("data.tar.gz.sig", &gz_sig),
        ],
    );
    // The local twin of the bucket: the same names side by side.
    let local = tempfile::tempdir().unwrap();
    std::fs::copy(&m.age, local.path().join(&age_name)).unwrap();
    std::fs::copy(
        sidecar(&m.age, ".minisig"),
        local.path().join(format!("{age_name}.minisig")),
    )
    .unwrap();
    std::fs::copy(&gz, local.path().join("data.tar.gz")).unwrap();
    std::fs::copy(&gz_sig, local.path().join("data.tar.gz.sig")).unwrap();
    let id = m.identity.display().to_string();
    let cases: [(&str, String, Vec<&str>); 2] = [
        (
            age_name.as_str(),
            m.trust.display().to_string(),
            vec!["-i", &id],
        ),
        ("data.tar.gz", gz_trust.display().to_string(), vec![]),
    ];
    for (key, trust, extra) in &cases {
        for mode in [&[][..], &["--single-pass"][..], &["--spool"][..]] {
            let scene = Scene::new();
            let remote_dest = scene.dest.clone();
            let local_dest = scene.tmp.path().join("local");
            let spool = scene.tmp.path().join("spool");
            std::fs::create_dir(&spool).unwrap();
            let spool_s = spool.display().to_string();
            let mode: Vec<&str> = if mode == ["--spool"] {
                vec!["--spool", &spool_s]
            } else {
                mode.to_vec()
            };
            let url = c.server.url(&b, key);
            let common_args = |src: &str, dest: &Path| -> Vec<String> {
                let mut a: Vec<String> = ["restore", src, "--to"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                a.push(dest.display().to_string());
                a.extend([
                    "--trust".to_string(),
                    trust.clone(),
                    "--json".into(),
                    "--yes".into(),
                ]);
                a.extend(extra.iter().map(|s| s.to_string()));
                a.extend(mode.iter().map(|s| s.to_string()));
                a
            };
            let ra = common_args(&url, &remote_dest);
            let remote = c.run(&ra.iter().map(String::as_str).collect::<Vec<_>>(), None);
            assert_eq!(
                remote.code, 0,
                "{kind} {key} {mode:?}: {}{}",
                remote.out, remote.err
            );
            let la = common_args(&local.path().join(key).display().to_string(), &local_dest);
            let la: Vec<&str> = la.iter().map(String::as_str).collect();
            // The local restore takes no store option: run it plainly.
            let lrun = run_bin(
                None,
                &la.iter()
                    .copied()
                    .filter(|a| *a != "--spool" && *a != spool_s)
                    .collect::<Vec<_>>(),
                &[("HOME", &c.home.path().display().to_string())],
            );
            assert_eq!(lrun.code, 0, "{kind} {key} local: {}", lrun.err);
            assert_eq!(
                snapshot(&remote_dest),
                snapshot(&local_dest),
                "{kind} {key} {mode:?}: the trees differ"
            );
            let rj = json(&remote);
            let lj = json(&lrun);
            let src = rj["source"].clone();
            assert_eq!(src["kind"], kind, "{src}");
            let want_read = if mode.contains(&"--spool") {
                "spool"
            } else if mode.contains(&"--single-pass") {
                "single-pass"
            } else {
                "verify-first"
            };
            assert_eq!(src["read"], want_read, "{src}");
            // A store's second read is proven only at the gate: its bytes are
            // parsed in the sandbox unless they were spooled to a private
            // file first; a local file verified first is parsed natively.
            let (remote_x, local_x) = match want_read {
                "spool" => ("native", "native"),
                "single-pass" => ("wasm", "wasm"),
                _ => ("wasm", "native"),
            };
            assert_eq!(
                rj["extractor"]["kind"], remote_x,
                "{kind} {key} {want_read}"
            );
            assert_eq!(
                lj["extractor"]["kind"], local_x,
                "{kind} {key} {want_read} local"
            );
            let size = rj["size"].as_u64().unwrap();
            let downloaded = src["downloaded_bytes"].as_u64().unwrap();
            let passes = if want_read == "verify-first" { 2 } else { 1 };
            assert_eq!(downloaded, passes * size, "{kind} {key} {want_read}: {src}");
            let bucket_prefix = format!("{kind}://{b}/");
            let local_prefix = format!("{}/", local.path().display());
            let rd = remote_dest.display().to_string();
            let ld = local_dest.display().to_string();
            let r = comparable(rj, &[(&bucket_prefix, ""), (&rd, "DEST")]);
            let l = comparable(lj, &[(&local_prefix, ""), (&ld, "DEST")]);
            assert_eq!(r, l, "{kind} {key} {want_read}: reports differ");
        }
    }
}

fn backup_dir_picks_the_newest(kind: &str) {
    let Some(c) = ctx(kind) else { return };
    let m = made().unwrap();
    let b = c.new_bucket("newest");
    let sig = sidecar(&m.age, ".minisig");
    let other_sig = sidecar(&m.other, ".minisig");
    let junk = m.dir.join("notes.txt");
    std::fs::write(&junk, b"not an archive").unwrap();
    c.server.put(
        &b,
        &[
            ("backups/2026-11-29_120000-proj-other.tar.zst.age", &m.other),
            (
                "backups/2026-11-29_120000-proj-other.tar.zst.age.minisig",
                &other_sig,
            ),
            ("backups/2026-11-30_120000-proj-nightly.tar.zst.age", &m.age),
            (
                "backups/2026-11-30_120000-proj-nightly.tar.zst.age.minisig",
                &sig,
            ),
            // Newer, but no archives: a sidecar alone, a log, a note.
            ("backups/2026-12-01_000000-proj-x.tar.zst.age.sha256", &junk),
            ("backups/backup_2026-12-01.log", &junk),
            ("backups/notes.txt", &junk),
            // Newer archives under other prefixes are not in this catalog.
            ("other/2027-01-01_000000-proj-newer.tar.zst.age", &m.other),
            (
                "backups/deeper/2028-01-01_000000-proj-deeper.tar.zst.age",
                &m.other,
            ),
            ("2029-01-01_000000-proj-root.tar.zst.age", &m.other),
        ],
    );
    let prefix = c.server.url(&b, "backups/");
    let list = c.run(&["list", "--backup-dir", &prefix, "--json"], None);
    assert_eq!(list.code, 0, "{}", list.err);
    let v = json(&list);
    let rows = v["archives"].as_array().cloned().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "2026-11-30_120000-proj-nightly.tar.zst.age",
            "2026-11-29_120000-proj-other.tar.zst.age"
        ],
        "{kind}: {v}"
    );
    assert_eq!(rows[0]["sidecars"], serde_json::json!(["minisig"]));
    assert_eq!(rows[0]["archive_time"], "2026-11-30T12:00:00");
    assert_eq!(
        rows[0]["size"].as_u64(),
        Some(std::fs::metadata(&m.age).unwrap().len())
    );
    let scene = Scene::new();
    let trust = m.trust.display().to_string();
    let id = m.identity.display().to_string();
    let dest = scene.dest.display().to_string();
    let r = c.run(
        &[
            "restore",
            "--backup-dir",
            &prefix,
            "--to",
            &dest,
            "--trust",
            &trust,
            "-i",
            &id,
            "--json",
            "--yes",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{kind}: {}{}", r.out, r.err);
    assert_eq!(
        json(&r)["archive"],
        c.server
            .url(&b, "backups/2026-11-30_120000-proj-nightly.tar.zst.age")
    );
    assert!(scene.dest.join("proj/src/main.rs").exists());
    // audit over the prefix: both archives are checked and pass.
    let a = c.run(
        &[
            "audit",
            "--backup-dir",
            &prefix,
            "--trust",
            &trust,
            "--json",
        ],
        None,
    );
    assert_eq!(a.code, 0, "{kind} audit: {}{}", a.out, a.err);
}

fn attacks_leave_the_destination_untouched(kind: &str) {
    let Some(c) = ctx(kind) else { return };
    let m = made().unwrap();
    let _serial = stores::serial();
    let b = c.new_bucket("attacks");
    let sig = sidecar(&m.age, ".minisig");
    let mut tampered = std::fs::read(&m.age).unwrap();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    let tampered_path = m.dir.join(format!("tampered-{kind}.age"));
    std::fs::write(&tampered_path, &tampered).unwrap();
    c.server.put(
        &b,
        &[
            ("tampered.tar.zst.age", &tampered_path),
            ("tampered.tar.zst.age.minisig", &sig),
            ("untrusted.tar.zst.age", &m.age),
            ("untrusted.tar.zst.age.minisig", &m.untrusted_sig),
            ("replaced.tar.zst.age", &m.age),
            ("replaced.tar.zst.age.minisig", &sig),
        ],
    );
    let trust = m.trust.display().to_string();
    let id = m.identity.display().to_string();
    let check = |key: &str, endpoint: Option<&str>, what: &str| {
        let scene = Scene::new();
        std::fs::create_dir_all(&scene.dest).unwrap();
        std::fs::write(scene.dest.join("keep.txt"), b"mine").unwrap();
        let before = snapshot(&scene.dest);
        let dest = scene.dest.display().to_string();
        let url = c.server.url(&b, key);
        let r = c.run(
            &[
                "restore", &url, "--to", &dest, "--trust", &trust, "-i", &id, "--yes",
            ],
            endpoint,
        );
        assert_eq!(r.code, 4, "{kind} {what}: {}{}", r.out, r.err);
        assert_eq!(
            snapshot(&scene.dest),
            before,
            "{kind} {what}: the destination changed"
        );
        r
    };
    check("tampered.tar.zst.age", None, "a tampered object");
    check("untrusted.tar.zst.age", None, "an untrusted signer");
    // Re-uploaded between the passes: just before pass 2's GET, another
    // (validly signed) archive takes the key. S3 and Azure refuse the GET's
    // If-Match (412); fake-gcs-server ignores If-Match, so there the refusal
    // comes from the ETag its answer carries, which this tool checks too: the
    // emulator cannot show that GCS itself honours the condition.
    let server = c.server.clone();
    let bucket = b.clone();
    let other = m.other.clone();
    let hook = Arc::new(move || server.put(&bucket, &[("replaced.tar.zst.age", &other)]));
    let p = stores::proxy(
        c.server.addr,
        "replaced.tar.zst.age",
        Fault::Before(hook),
        &[2],
    );
    let r = check(
        "replaced.tar.zst.age",
        Some(&p.endpoint),
        "an object replaced between the passes",
    );
    assert!(r.err.contains("replaced"), "{kind}: {}", r.err);
    assert!(p.gets.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}

macro_rules! per_store {
    ($($f:ident),*) => {
        mod s3 { $( #[test] fn $f() { super::$f("s3") } )* }
        mod azure { $( #[test] fn $f() { super::$f("az") } )* }
        mod gcs { $( #[test] fn $f() { super::$f("gs") } )* }
    };
}

per_store!(
    restores_like_a_local_file,
    backup_dir_picks_the_newest,
    attacks_leave_the_destination_untouched
);

/// Restore through a proxy that breaks the first GET of the archive; the
/// report counts the resumes and the tree is whole.
fn through_faults(fault: Fault, mode: &[&str]) -> serde_json::Value {
    let c = ctx("s3").unwrap();
    let m = made().unwrap();
    let b = c.new_bucket("resume");
    let key = name(&m.age);
    c.server.put(
        &b,
        &[
            (&key, &m.age),
            (&format!("{key}.minisig"), &sidecar(&m.age, ".minisig")),
        ],
    );
    let p = stores::proxy(c.server.addr, &key, fault, &[1]);
    let scene = Scene::new();
    let dest = scene.dest.display().to_string();
    let events = scene.tmp.path().join("events.jsonl");
    let ev = events.display().to_string();
    let trust = m.trust.display().to_string();
    let id = m.identity.display().to_string();
    let url = c.server.url(&b, &key);
    let mut args = vec![
        "restore", &url, "--to", &dest, "--trust", &trust, "-i", &id, "--json", "--yes",
        "--events", &ev,
    ];
    args.extend(mode);
    let r = c.run(&args, Some(&p.endpoint));
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(scene.dest.join("proj/data.bin").exists());
    assert_eq!(
        std::fs::read(scene.dest.join("proj/data.bin")).unwrap(),
        noise(3 << 20, 1)
    );
    let report = json(&r);
    let resumes = report["source"]["resumes"].as_array().unwrap().len();
    let lines = std::fs::read_to_string(&events).unwrap();
    let resumed_events = lines
        .lines()
        .filter(|l| l.contains("\"event\":\"resumed\""))
        .count();
    assert_eq!(resumed_events, resumes, "{lines}");
    report
}

#[test]
fn a_body_cut_at_1_mib_resumes() {
    if ctx("s3").is_none() {
        return;
    }
    let r = through_faults(Fault::CutAt(1 << 20), &[]);
    let resumes = r["source"]["resumes"].as_array().unwrap();
    assert_eq!(resumes.len(), 1, "{r}");
    assert_eq!(resumes[0]["offset"], 1 << 20, "{r}");
}

#[test]
fn a_body_cut_at_90_percent_resumes() {
    let Some(_) = ctx("s3") else { return };
    let size = std::fs::metadata(&made().unwrap().age).unwrap().len();
    let at = size * 9 / 10;
    let r = through_faults(Fault::CutAt(at), &["--single-pass"]);
    let resumes = r["source"]["resumes"].as_array().unwrap();
    assert_eq!(resumes.len(), 1, "{r}");
    assert_eq!(resumes[0]["offset"], at, "{r}");
    assert_eq!(r["source"]["downloaded_bytes"], size, "{r}");
}

/// A body that takes longer than 30 s in all (object_store's default
/// whole-request timeout), each piece well within the read timeout.
#[test]
fn a_body_slower_than_30_seconds_in_all_still_restores() {
    let Some(_) = ctx("s3") else { return };
    let size = std::fs::metadata(&made().unwrap().age).unwrap().len();
    let chunk = 96 * 1024;
    let every = Duration::from_millis(1000);
    let pieces = size.div_ceil(chunk as u64);
    assert!(
        pieces as u128 * every.as_millis() > 30_000,
        "{pieces} pieces"
    );
    let started = std::time::Instant::now();
    let r = through_faults(Fault::Trickle { chunk, every }, &["--single-pass"]);
    assert!(started.elapsed() > Duration::from_secs(30));
    assert_eq!(r["source"]["resumes"].as_array().unwrap().len(), 0, "{r}");
}

/// Every failure is one clear message naming the URL, with what to do, and
/// never the secret, whatever is printed.
#[test]
fn failures_are_clear_and_never_show_the_secret() {
    let Some(c) = ctx("s3") else { return };
    let m = made().unwrap();
    let b = c.new_bucket("fail");
    c.server.put(&b, &[("a.tar.zst.age", &m.age)]);
    let url = c.server.url(&b, "a.tar.zst.age");
    let secret = "s3cr3t-VALUE-never-shown-9f8e7d";
    let all = |r: &Run| format!("{}{}", r.out, r.err);
    // A missing bucket.
    let r = c.run(
        &[
            "verify",
            &c.server.url("no-such-bucket-here", "a.tar.zst.age"),
        ],
        None,
    );
    assert_eq!(r.code, 1, "{}", all(&r));
    assert!(
        r.err.contains("no such bucket: no-such-bucket-here"),
        "{}",
        r.err
    );
    assert!(r.err.contains("hint:"), "{}", r.err);
    // A missing key.
    let r = c.run(&["verify", &c.server.url(&b, "nothere.tar.gz")], None);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("no such object"), "{}", r.err);
    assert!(r.err.contains("list --backup-dir"), "{}", r.err);
    // No credentials at all: object_store falls back to a cloud metadata
    // service, which is not here.
    let r = run_bin(
        None,
        &[
            "verify",
            &url,
            "--store-opt",
            "aws_endpoint=http://127.0.0.1:1",
            "--store-opt",
            "aws_region=us-east-1",
        ],
        &[("HOME", &c.home.path().display().to_string())],
    );
    assert_eq!(r.code, 1, "{}", all(&r));
    assert!(r.err.contains("no credentials"), "{}", r.err);
    assert!(r.err.contains("AWS_ACCESS_KEY_ID"), "{}", r.err);
    // Plain http to a host that is not loopback is refused before any request.
    let r = run_bin(
        None,
        &[
            "verify",
            &url,
            "--store-opt",
            "aws_endpoint=http://192.0.2.10:9000",
            "--store-opt",
            &format!("aws_secret_access_key={secret}"),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}", all(&r));
    assert!(r.err.contains("plain http"), "{}", r.err);
    assert!(!all(&r).contains(secret));
    // A secret in a --store-opt that is misspelt: the echo redacts it.
    let r = run_bin(
        None,
        &[
            "verify",
            &url,
            "--store-opt",
            &format!("aws_secret_access_kee={secret}"),
        ],
        &[],
    );
    assert_ne!(r.code, 0);
    assert!(!all(&r).contains(secret), "{}", all(&r));
    // A query string (a SAS token) in the URL is refused without echoing it.
    let r = run_bin(
        None,
        &["verify", &format!("az://c/k?sv=1&sig={secret}")],
        &[],
    );
    assert_ne!(r.code, 0);
    assert!(!all(&r).contains(secret), "{}", all(&r));
    // Trust never comes from a bucket.
    let r = c.run(
        &["verify", &url, "--trust", &c.server.url(&b, "keys/")],
        None,
    );
    assert_eq!(r.code, 64, "{}", all(&r));
    assert!(r.err.contains("must be a local path"), "{}", r.err);
    // Nor a log, its key, a destination or the event file.
    for flag in [
        "--require-anchored",
        "--to",
        "--events",
        "--checksum",
        "--signature",
        "-i",
    ] {
        let remote = c.server.url(&b, "x");
        let dest = c.home.path().join("dest").display().to_string();
        let mut args = vec!["restore", &url, flag, &remote];
        if flag != "--to" {
            args.extend(["--to", &dest]);
        }
        let r = c.run(&args, None);
        assert_eq!(r.code, 64, "{flag}: {}", all(&r));
        assert!(r.err.contains("must be a local path"), "{flag}: {}", r.err);
    }
}

/// moto with authentication on: a wrong secret and a user without the right
/// to read are refused with their own messages, and the secret is never shown.
#[test]
fn a_wrong_secret_and_access_denied_are_told_apart() {
    let Some(c) = ctx("s3") else { return };
    let m = made().unwrap();
    let auth = stores::moto_with_auth();
    let out = auth.seed_iam(&m.age);
    let (reader_id, reader_secret, nobody_id, nobody_secret) = out;
    let url = format!("s3://{}/a.tar.zst.age", stores::AUTH_BUCKET);
    let endpoint = format!("aws_endpoint={}", auth.endpoint);
    let home = c.home.path().display().to_string();
    let verify = |id: &str, secret: &str| {
        run_bin(
            None,
            &[
                "verify",
                &url,
                "--store-opt",
                &endpoint,
                "--store-opt",
                "aws_region=us-east-1",
                "-i",
                &m.identity.display().to_string(),
            ],
            &[
                ("AWS_ACCESS_KEY_ID", id),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("HOME", &home),
            ],
        )
    };
    let ok = verify(&reader_id, &reader_secret);
    assert_eq!(ok.code, 0, "{}{}", ok.out, ok.err);
    let wrong = "WRONGsecretWRONGsecretWRONGsecret1234";
    let r = verify(&reader_id, wrong);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(
        r.err.contains("did not accept the credentials"),
        "{}",
        r.err
    );
    assert!(!r.err.contains(wrong) && !r.out.contains(wrong));
    let r = verify(&nobody_id, &nobody_secret);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.err.contains("access denied"), "{}", r.err);
    assert!(!r.err.contains(&nobody_secret) && !r.out.contains(&nobody_secret));
}

/// A store that accepts the connection and never answers does not hold a
/// Ctrl-C for its read timeout (30 s per attempt, three attempts): SIGINT
/// ends the run with exit 2 at once, the destination untouched.
#[test]
fn a_silent_store_does_not_hold_ctrl_c() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn); // read nothing, answer nothing
        }
    });
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let mut child = child_command()
        .args(["verify", "s3://bucket/a.tar.gz", "--store-opt"])
        .arg(format!("aws_endpoint=http://{addr}"))
        .args(["--store-opt", "aws_region=us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "testsecret")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    run(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let status = wait_or_fail(&mut child, "a silent store held SIGINT");
    assert_eq!(status.code(), Some(2));
    assert_eq!(snapshot(&scene.dest), before);
}

/// A `.projectrestore.rc` planted in the current directory cannot send the
/// store's requests (signed with the user's credentials) to its own server:
/// its `[store]` table is ignored, with a warning, unless the user's file
/// allows that directory.
#[test]
fn a_planted_project_file_cannot_choose_the_store_endpoint() {
    // Counts the connections it gets, and drops each at once.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let trap_addr = trap.local_addr().unwrap();
    let contacted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = Arc::clone(&contacted);
    std::thread::spawn(move || {
        for conn in trap.incoming() {
            drop(conn);
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let contacts = || contacted.load(std::sync::atomic::Ordering::SeqCst);
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().join("downloads");
    let config = work.path().join("config/projectrestore");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        cwd.join(".projectrestore.rc"),
        format!("[store]\naws_endpoint = \"http://{trap_addr}\"\n"),
    )
    .unwrap();
    let env = [
        ("HOME", work.path().display().to_string()),
        (
            "XDG_CONFIG_HOME",
            work.path().join("config").display().to_string(),
        ),
        ("AWS_ACCESS_KEY_ID", "AKIDUSER".into()),
        ("AWS_SECRET_ACCESS_KEY", "user-secret".into()),
        // Where the user's own requests go: nowhere that answers.
        ("AWS_ENDPOINT", "http://127.0.0.1:1".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_bin(Some(&cwd), &["verify", "s3://bucket/a.tar.gz"], &env);
    assert_ne!(r.code, 0);
    assert!(
        r.err.contains("store"),
        "the ignored key is named: {}",
        r.err
    );
    assert_eq!(
        contacts(),
        0,
        "the planted endpoint was contacted: {}",
        r.err
    );
    // Allowed by the user's file, the same project file is obeyed.
    std::fs::write(
        config.join("config.toml"),
        format!("allow_project_dirs = [\"{}\"]\n", cwd.display()),
    )
    .unwrap();
    let r = run_bin(Some(&cwd), &["verify", "s3://bucket/a.tar.gz"], &env);
    assert_ne!(r.code, 0);
    assert!(
        contacts() > 0,
        "an allowed project file is obeyed: {}",
        r.err
    );
}

/// A store that lies in pass 2 (another archive under the same ETag,
/// If-Match ignored) and then breaks the body, so that the pass check can
/// never finish: the verdict is that the archive could not be read again
/// (exit 4), never the parser's complaint about bytes nobody verified (here
/// an unsafe entry, exit 5), and nothing is written.
#[test]
fn a_lying_store_cannot_pass_off_its_bytes_as_the_archives() {
    let Some(m) = made() else { return };
    let genuine = std::fs::read(&m.age).unwrap();
    let mut evil = gzip(&Tar::new().file("../escape.txt", b"pwned").finish());
    evil.resize(genuine.len(), 0);
    let key = "2026-11-30_120000-proj-nightly.tar.zst.age";
    let endpoint = stores::lying_store(
        key,
        vec![genuine, evil],
        vec![None, Some(1 << 20)],
        vec![(
            format!("{key}.minisig"),
            std::fs::read(sidecar(&m.age, ".minisig")).unwrap(),
        )],
    );
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let r = run_bin(
        None,
        &[
            "restore",
            &format!("s3://b/{key}"),
            "--to",
            &scene.dest.display().to_string(),
            "--trust",
            &m.trust.display().to_string(),
            "-i",
            &m.identity.display().to_string(),
            "--yes",
            "--store-opt",
            &format!("aws_endpoint={endpoint}"),
            "--store-opt",
            "aws_region=us-east-1",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "testsecret"),
        ],
    );
    assert_eq!(r.code, 4, "{}{}", r.out, r.err);
    assert!(r.err.contains("changed"), "{}", r.err);
    assert_eq!(snapshot(&scene.dest), before);
    assert!(!scene.tmp.path().join("escape.txt").exists());
}

/// A store whose every answer but a HEAD is a 64 MiB body: an error to the
/// object's GET, a "listing" page to the list. object_store reads those
/// whole; the cap stops at 16 MiB with a sentence that says so.
fn huge_answer_store() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut w = conn;
                let mut first = String::new();
                if r.read_line(&mut first).is_err() {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                }
                let size = 64usize << 20;
                if first.starts_with("HEAD") {
                    let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"e\"\r\nLast-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n");
                    return;
                }
                let status = if first.contains("list-type=") {
                    "200 OK"
                } else {
                    "400 Bad Request"
                };
                let _ = write!(w, "HTTP/1.1 {status}\r\nContent-Length: {size}\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n");
                let chunk = vec![b'x'; 64 << 10];
                for _ in 0..(size / chunk.len()) {
                    if w.write_all(&chunk).is_err() {
                        return;
                    }
                }
            });
        }
    });
    endpoint
}

#[test]
fn a_huge_error_body_or_listing_page_is_refused_at_its_cap() {
    let endpoint = huge_answer_store();
    let opts = [
        "--store-opt".to_string(),
        format!("aws_endpoint={endpoint}"),
        "--store-opt".into(),
        "aws_region=us-east-1".into(),
    ];
    let env = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "testsecret"),
    ];
    let mut verify = vec![
        "verify".to_string(),
        "s3://b/a.tar".into(),
        "--allow-unsigned".into(),
    ];
    verify.extend(opts.iter().cloned());
    let mut list = vec!["list".to_string(), "--backup-dir".into(), "s3://b/".into()];
    list.extend(opts.iter().cloned());
    for args in [verify, list] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_bin(None, &args, &env);
        assert_eq!(r.code, 1, "{args:?}: {}{}", r.out, r.err);
        assert!(r.err.contains("larger than 16 MiB"), "{args:?}: {}", r.err);
    }
}
