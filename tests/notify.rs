//! Notifications against a real receiver on loopback (tests/servers/receiver.py):
//! every Standard Webhooks delivery is checked by the published Python
//! `standardwebhooks` library (which also rejects the same delivery with its
//! body tampered or its timestamp stale), Slack messages by `slack_sdk`'s own
//! models. Then delivery under trouble — 503 with Retry-After, 410, a refused
//! connection, a receiver that never answers — never changes the exit code or
//! the tree, and stays within its budget. Secrets and URLs appear nowhere.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::stores::servers_dir;
use common::{bin, repo, snapshot, Scene};
use serde_json::Value;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The receiver, killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
    record: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// `None` (a skip) when the test servers are not installed, outside CI.
    fn start(extra: &[&str]) -> Option<Receiver> {
        let python = servers_dir().join("venv/bin/python");
        let have = python.exists()
            && Command::new(&python)
                .args(["-c", "import standardwebhooks, slack_sdk"])
                .status()
                .is_ok_and(|s| s.success());
        if !have {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the notification receiver needs standardwebhooks and slack_sdk under CI=true: run scripts/test-servers.sh"
            );
            eprintln!(
                "skipping: standardwebhooks/slack_sdk not installed (scripts/test-servers.sh)"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("record.jsonl");
        let mut child = Command::new("setpriv")
            .args(["--pdeathsig", "KILL", "--"])
            .arg(&python)
            .arg(repo().join("tests/servers/receiver.py"))
            .args(["--secret", SECRET, "--record"])
            .arg(&record)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap();
        Some(Receiver {
            child,
            port,
            record,
            _dir: dir,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn crypto(name: &str) -> PathBuf {
    repo().join("fixtures/crypto").join(name)
}

struct Out {
    code: i32,
    out: String,
    err: String,
    took: Duration,
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>], cwd: Option<&Path>) -> Out {
    let mut cmd = bin();
    for a in args {
        cmd.arg(a);
    }
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let start = Instant::now();
    let o = cmd.write_stdin("").output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
        took: start.elapsed(),
    }
}

fn secret_file(dir: &Path) -> PathBuf {
    let p = dir.join("whsec.txt");
    std::fs::write(&p, format!("{SECRET}\n")).unwrap();
    p
}

/// A signed restore of data.tar.gz into `scene.dest` told to `target`.
fn restore(scene: &Scene, archive: &Path, target: &str, extra: &[&str]) -> Out {
    let secret = secret_file(scene.tmp.path());
    let trust = crypto("trust");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"restore",
        &archive,
        &"--to",
        &scene.dest,
        &"--trust",
        &trust,
        &"--yes",
        &"--json",
        &"--notify",
        &target,
        &"--notify-secret-file",
        &secret,
    ];
    for e in extra {
        args.push(e);
    }
    run(&args, None)
}

/// A signed copy of data.tar.gz (with its minisign sidecar) in `dir`, maybe tampered.
fn archive(dir: &Path, tamper: bool) -> PathBuf {
    let a = dir.join("2026-11-24_120000-app-daily.tar.gz");
    let mut bytes = std::fs::read(crypto("data.tar.gz")).unwrap();
    if tamper {
        let n = bytes.len() / 2;
        bytes[n] ^= 1;
    }
    std::fs::write(&a, bytes).unwrap();
    std::fs::copy(
        crypto("data.tar.gz.minisig"),
        dir.join("2026-11-24_120000-app-daily.tar.gz.minisig"),
    )
    .unwrap();
    a
}

fn body(r: &Value) -> Value {
    serde_json::from_str(r["body"].as_str().unwrap()).unwrap()
}

#[test]
fn a_restore_and_a_failure_are_each_one_verified_delivery() {
    let Some(rx) = Receiver::start(&[]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let r = restore(&scene, &a, &format!("webhook={}", rx.url("/hook")), &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let recs = rx.records();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let d = &recs[0];
    assert_eq!(d["verified"], true, "{d}");
    assert_eq!(d["tamper_rejected"], true, "the signature covers the body");
    assert_eq!(d["stale_rejected"], true, "the timestamp is checked");
    assert!(d["headers"]["webhook-id"]
        .as_str()
        .unwrap()
        .starts_with("msg_"));
    let b = body(d);
    assert_eq!(b["type"], "restore.succeeded");
    assert!(b["timestamp"].as_str().unwrap().ends_with('Z'));
    let data = &b["data"];
    for k in [
        "id",
        "archive",
        "sha256",
        "size",
        "signers",
        "threshold",
        "destination",
        "entries",
        "bytes",
        "duration_ms",
        "host",
        "version",
        "warnings",
    ] {
        assert!(!data[k].is_null(), "data.{k} missing: {data}");
    }
    assert_eq!(data["signers"][0]["scheme"], "minisign");
    assert_eq!(data["destination"], scene.dest.display().to_string());
    assert!(
        data.get("entries_list").is_none() && !b.to_string().contains("main.rs"),
        "no file lists"
    );
    let report: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(report["notifications"][0]["status"], "delivered");
    assert_eq!(report["notifications"][0]["attempts"], 1);
    assert_eq!(
        report["notifications"][0]["target"],
        format!("webhook 127.0.0.1:{}", rx.port)
    );

    // A failure: one verified delivery that says what failed and what to do.
    let scene2 = Scene::new();
    let before = snapshot(&scene2.dest);
    let bad = archive(scene2.tmp.path(), true);
    let r = restore(&scene2, &bad, &format!("webhook={}", rx.url("/hook")), &[]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert_eq!(snapshot(&scene2.dest), before);
    let recs = rx.records();
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(recs[1]["verified"], true);
    let b = body(&recs[1]);
    assert_eq!(b["type"], "restore.failed");
    assert_eq!(b["data"]["exit_code"], 4);
    assert_eq!(b["data"]["stage"], "verification");
    assert!(b["data"]["message"].as_str().unwrap().contains("signature"));
    assert!(!b["data"]["hint"].is_null());
    for out in [&r.out, &r.err] {
        assert!(!out.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    }
}

#[test]
fn a_503_with_retry_after_is_retried_under_the_same_id_and_410_is_not() {
    let Some(rx) = Receiver::start(&["--script", "503:1,204"]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let r = restore(&scene, &a, &format!("webhook={}", rx.url("/hook")), &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let recs = rx.records();
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(
        recs[0]["headers"]["webhook-id"],
        recs[1]["headers"]["webhook-id"]
    );
    assert!(recs[1]["verified"] == true);
    let gap = recs[1]["time"].as_f64().unwrap() - recs[0]["time"].as_f64().unwrap();
    assert!(gap >= 0.95, "Retry-After: 1 was honoured ({gap} s)");
    let report: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(report["notifications"][0]["attempts"], 2);
    assert_eq!(report["notifications"][0]["status"], "delivered");

    // A Retry-After beyond the budget ends the tries, and never overflows.
    let Some(far) = Receiver::start(&["--script", "503:18446744073709551615"]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let r = restore(&scene, &a, &format!("webhook={}", far.url("/hook")), &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!r.err.contains("internal error"), "{}", r.err);
    let report: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(report["notifications"][0]["attempts"], 1);
    assert_eq!(report["notifications"][0]["status"], "failed");

    let Some(gone) = Receiver::start(&["--script", "410"]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let r = restore(&scene, &a, &format!("webhook={}", gone.url("/hook")), &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(gone.records().len(), 1);
    let report: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(report["notifications"][0]["status"], "gone");
    assert_eq!(report["notifications"][0]["attempts"], 1);
    assert!(
        r.err.contains("warning:") && r.err.contains("not delivered"),
        "{}",
        r.err
    );
}

#[test]
fn a_refused_or_silent_receiver_changes_nothing_and_stays_within_the_budget() {
    // Refused: a port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let plain = {
        let s = Scene::new();
        let a2 = archive(s.tmp.path(), false);
        let r = run(
            &[
                &"restore",
                &a2,
                &"--to",
                &s.dest,
                &"--trust",
                &crypto("trust"),
                &"--yes",
            ],
            None,
        );
        assert_eq!(r.code, 0, "{}", r.err);
        (snapshot(&s.dest), r.took)
    };
    let r = restore(
        &scene,
        &a,
        &format!("webhook=http://127.0.0.1:{closed}/hook"),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(snapshot(&scene.dest), plain.0);
    let report: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(report["notifications"][0]["status"], "failed");
    assert_eq!(report["notifications"][0]["attempts"], 3);
    assert!(r.took < Duration::from_secs(31) + plain.1, "{:?}", r.took);

    // Silent: accepts and never answers.
    let Some(rx) = Receiver::start(&["--hang"]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    // `restore.started` and the outcome share one budget.
    let r = restore(
        &scene,
        &a,
        &format!("webhook={}", rx.url("/hook")),
        &["--notify-on", "started,succeeded"],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(snapshot(&scene.dest), plain.0);
    assert!(
        r.took < Duration::from_secs(31) + plain.1,
        "the budget is 30 s: {:?} (the restore alone {:?})",
        r.took,
        plain.1
    );
    let report: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(report["notifications"][0]["status"], "failed");
    assert_eq!(report["notifications"][1]["status"], "failed");
    eprintln!(
        "a silent receiver cost {:?} over the restore's {:?}",
        r.took.saturating_sub(plain.1),
        plain.1
    );
}

#[test]
fn slack_and_discord_messages_parse_and_no_url_or_secret_is_shown() {
    let Some(rx) = Receiver::start(&[]) else {
        return;
    };
    let slack = rx.url("/slack/T000/B000/XOXSECRETSLACKTOKEN");
    let discord = rx.url("/api/webhooks/1234/DISCORDSECRETTOKEN");
    let dir = tempfile::tempdir().unwrap();
    let slack_file = dir.path().join("slack.url");
    std::fs::write(&slack_file, format!("{slack}\n")).unwrap();
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let r = restore(
        &scene,
        &a,
        &format!("slack=file:{}", slack_file.display()),
        &["--notify", &format!("discord={discord}")],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    // A failure with a long message: Discord's limits hold.
    let scene2 = Scene::new();
    let long = scene2.tmp.path().join(format!(
        "2026-11-24_120000-{}-daily.tar.gz",
        "x".repeat(200)
    ));
    std::fs::copy(crypto("data.tar.gz"), &long).unwrap();
    let r2 = restore(
        &scene2,
        &long,
        &format!("slack=file:{}", slack_file.display()),
        &["--notify", &format!("discord={discord}")],
    );
    assert_eq!(r2.code, 4, "{}", r2.err);
    let recs = rx.records();
    assert_eq!(recs.len(), 4, "{recs:?}");
    for rec in &recs {
        let b = body(rec);
        if rec["path"].as_str().unwrap().starts_with("/slack") {
            assert_eq!(rec["slack_valid"], true, "{rec}");
            assert!(!b["text"].as_str().unwrap().is_empty());
        } else {
            assert_eq!(rec["query"], "wait=true");
            assert!(b["content"].as_str().unwrap().chars().count() <= 2000);
            let embeds = b["embeds"].as_array().unwrap();
            assert!(!embeds.is_empty() && embeds.len() <= 10);
            for e in embeds {
                assert!(e["title"].as_str().unwrap().chars().count() <= 256);
                for f in e["fields"].as_array().unwrap() {
                    assert!(f["name"].as_str().unwrap().chars().count() <= 256);
                    assert!(f["value"].as_str().unwrap().chars().count() <= 1024);
                }
            }
            assert_eq!(b["allowed_mentions"]["parse"], serde_json::json!([]));
        }
    }
    let failed = recs
        .iter()
        .map(body)
        .find(|b| b["content"].as_str().is_some_and(|c| c.contains("FAILED")));
    assert!(failed.is_some(), "the failure was told to Discord");
    let history = run(&[&"history", &scene.dest, &"--json"], None);
    for text in [&r.out, &r.err, &r2.out, &r2.err, &history.out, &history.err] {
        for secret in [
            "XOXSECRETSLACKTOKEN",
            "DISCORDSECRETTOKEN",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "/slack/T000",
        ] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
    }
    let report: Value = serde_json::from_str(&r.out).unwrap();
    let targets: Vec<&str> = report["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            format!("slack 127.0.0.1:{}", rx.port),
            format!("discord 127.0.0.1:{}", rx.port)
        ]
    );
}

#[test]
fn healthchecks_gets_start_success_and_fail() {
    let Some(rx) = Receiver::start(&[]) else {
        return;
    };
    let hc = format!("healthchecks={}", rx.url("/ping/abc-123"));
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let r = restore(
        &scene,
        &a,
        &hc,
        &["--notify-on", "started,succeeded,failed"],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let scene2 = Scene::new();
    let bad = archive(scene2.tmp.path(), true);
    let r = restore(&scene2, &bad, &hc, &["--notify-on", "succeeded,failed"]);
    assert_eq!(r.code, 4, "{}", r.err);
    let paths: Vec<String> = rx
        .records()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    // In order: the start before the success, then the failure.
    assert_eq!(
        paths,
        ["/ping/abc-123/start", "/ping/abc-123", "/ping/abc-123/fail"]
    );
    let fail = rx
        .records()
        .into_iter()
        .find(|r| r["path"] == "/ping/abc-123/fail")
        .unwrap();
    assert!(fail["body"].as_str().unwrap().contains("What to do:"));
}

#[test]
fn dry_runs_are_silent_unless_asked_and_bad_targets_stop_before_anything() {
    let Some(rx) = Receiver::start(&[]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let target = format!("webhook={}", rx.url("/hook"));
    let r = restore(&scene, &a, &target, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(rx.records().len(), 0);
    let r = restore(
        &scene,
        &a,
        &target,
        &["--dry-run", "--notify-on", "succeeded,dry-run"],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(rx.records().len(), 1);
    let told = body(&rx.records()[0]);
    assert_eq!(told["data"]["dry_run"], true, "a dry run says so: {told}");
    // http:// to anything but loopback, a webhook without its secret, an
    // unknown event: usage errors before anything is read or written.
    let fresh = scene.tmp.path().join("never");
    let trust = crypto("trust");
    let hook = rx.url("/hook");
    let cases: Vec<Vec<String>> = vec![
        vec!["--notify".into(), "http://example.com/hook".into()],
        vec!["--notify".into(), hook.clone()],
        vec![
            "--notify".into(),
            format!("slack={hook}"),
            "--notify-on".into(),
            "nonsense".into(),
        ],
    ];
    // A secret given where its file was meant, a URL where a file was meant:
    // refused without echoing either.
    let leaks: [(Vec<String>, &str); 2] = [
        (
            vec![
                "--notify".into(),
                format!("slack={hook}"),
                "--notify-secret-file".into(),
                SECRET.into(),
            ],
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
        (
            vec![
                "--notify".into(),
                "slack=file:https://hooks.slack.com/services/T/B/SECRETZ".into(),
            ],
            "SECRETZ",
        ),
    ];
    for (extra, secret) in &leaks {
        let mut full: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
            &"restore", &a, &"--to", &fresh, &"--trust", &trust, &"--json",
        ];
        for e in extra {
            full.push(e);
        }
        let r = run(&full, None);
        assert_eq!(r.code, 64, "{}", r.err);
        assert!(
            !r.out.contains(secret) && !r.err.contains(secret),
            "{}{}",
            r.out,
            r.err
        );
    }
    for extra in &cases {
        let mut full: Vec<&dyn AsRef<std::ffi::OsStr>> =
            vec![&"restore", &a, &"--to", &fresh, &"--trust", &trust];
        for e in extra {
            full.push(e);
        }
        let r = run(&full, None);
        assert_eq!(r.code, 64, "{extra:?}: {}", r.err);
        assert!(!fresh.exists());
    }
    assert_eq!(rx.records().len(), 1);
}

#[test]
fn a_planted_project_file_cannot_add_a_target() {
    let Some(rx) = Receiver::start(&[]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let cwd = scene.tmp.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(
        cwd.join(".projectrestore.rc"),
        format!(
            "[[notify]]\nkind = \"slack\"\nurl = \"{}\"\n",
            rx.url("/slack/planted")
        ),
    )
    .unwrap();
    let r = run(
        &[
            &"restore",
            &a,
            &"--to",
            &scene.dest,
            &"--trust",
            &crypto("trust"),
            &"--yes",
        ],
        Some(&cwd),
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err.contains("notify"),
        "the ignored key is named: {}",
        r.err
    );
    assert_eq!(rx.records().len(), 0, "a planted project file told someone");
}

#[test]
fn the_user_settings_name_targets_and_audit_and_rollback_are_told() {
    let Some(rx) = Receiver::start(&[]) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("projectrestore");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("hook.url"), format!("{}\n", rx.url("/hook"))).unwrap();
    std::fs::write(cfg.join("hook.secret"), format!("{SECRET}\n")).unwrap();
    std::fs::write(
        cfg.join("config.toml"),
        "[[notify]]\nurl_file = \"hook.url\"\nsecret_file = \"hook.secret\"\nevents = [\"audit.failed\", \"rollback.succeeded\"]\n",
    )
    .unwrap();
    let with_settings = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut cmd = bin();
        cmd.env("XDG_CONFIG_HOME", home.path());
        for a in args {
            cmd.arg(a);
        }
        let o = cmd.write_stdin("").output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // An audit of a directory with an unsigned archive and a trust store: failed, told.
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path(), false);
    std::fs::copy(
        crypto("data.tar.gz"),
        dir.path().join("2026-11-25_120000-app-daily.tar.gz"),
    )
    .unwrap();
    let (code, err) = with_settings(&[
        &"audit",
        &"--backup-dir",
        &dir.path(),
        &"--trust",
        &crypto("trust"),
    ]);
    assert_eq!(code, 4, "{err}");
    // A restore, then another, then a rollback: only the rollback is told.
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    for _ in 0..2 {
        let (code, err) = with_settings(&[
            &"restore",
            &a,
            &"--to",
            &scene.dest,
            &"--trust",
            &crypto("trust"),
            &"--yes",
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, err) = with_settings(&[&"rollback", &scene.dest, &"--yes"]);
    assert_eq!(code, 0, "{err}");
    let types: Vec<String> = rx
        .records()
        .iter()
        .map(|r| {
            assert_eq!(r["verified"], true);
            body(r)["type"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(types, ["audit.failed", "rollback.succeeded"]);
    let audit = body(&rx.records()[0]);
    assert_eq!(audit["data"]["failed"], 1);
}

/// Ctrl-C or SIGTERM while a silent receiver holds a delivery: the process
/// ends within a second or two, with the restore's own exit code.
#[test]
fn a_signal_ends_the_wait_for_a_silent_receiver() {
    let Some(rx) = Receiver::start(&["--hang"]) else {
        return;
    };
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let secret = secret_file(scene.tmp.path());
    let exe = assert_cmd::cargo::cargo_bin("projectrestore");
    let mut child = Command::new(exe)
        .arg("restore")
        .arg(&a)
        .arg("--to")
        .arg(&scene.dest)
        .arg("--trust")
        .arg(crypto("trust"))
        .args(["--yes", "-q", "--notify"])
        .arg(format!("webhook={}", rx.url("/hook")))
        .arg("--notify-secret-file")
        .arg(&secret)
        .env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the receiver holds the delivery.
    let start = Instant::now();
    while rx.records().is_empty() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!rx.records().is_empty(), "the delivery never arrived");
    let signalled = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(4),
        "the wait went on {:?} after SIGTERM",
        signalled.elapsed()
    );
    assert_eq!(status.code(), Some(0), "the restore had succeeded");
    assert!(scene.dest.join("proj/src/main.rs").exists());
}

/// A proxy from the environment is not used: a notification goes where its
/// URL says (a proxy would see the URL and could answer for the receiver).
#[test]
fn proxies_from_the_environment_are_not_used() {
    let Some(rx) = Receiver::start(&[]) else {
        return;
    };
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let scene = Scene::new();
    let a = archive(scene.tmp.path(), false);
    let secret = secret_file(scene.tmp.path());
    let mut cmd = bin();
    for k in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(k, &proxy_url);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    let o = cmd
        .arg("restore")
        .arg(&a)
        .arg("--to")
        .arg(&scene.dest)
        .arg("--trust")
        .arg(crypto("trust"))
        .args(["--yes", "--json", "--notify"])
        .arg(format!("webhook={}", rx.url("/hook")))
        .arg("--notify-secret-file")
        .arg(&secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(proxy.accept().is_err(), "the proxy was contacted");
    assert_eq!(rx.records().len(), 1, "the receiver was not");
}
