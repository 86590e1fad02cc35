//! docs/json.md (issue 16, item 10) against real output: the report's fields
//! from restore, restore --dry-run, preview, ls, verify with a log and verify
//! with warnings; the documents of plan, history, rollback, prune, recover,
//! list, audit, config and the log subcommands; and the event stream — for
//! each, every documented field appears, and nothing undocumented does.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

fn paths(v: &Value, pre: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if pre.is_empty() {
                    k.clone()
                } else {
                    format!("{pre}.{k}")
                };
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{pre}[]"), out);
            }
        }
        _ => {}
    }
}

/// The backticked field paths of the "### Fields of NAME" list.
fn documented(name: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("docs/json.md")).unwrap();
    let list = text
        .split(&format!("### Fields of {name}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("docs/json.md has no list of {name}"));
    let list = list.split("\n#").next().unwrap();
    let mut out = BTreeSet::new();
    for line in list.lines().filter(|l| l.starts_with("- `")) {
        let names = line.split(": ").next().unwrap();
        for (i, part) in names.split('`').enumerate() {
            if i % 2 == 1 {
                out.insert(part.to_string());
            }
        }
    }
    out
}

/// Every documented field of `name` was seen, and nothing else.
fn check(name: &str, seen: &BTreeSet<String>) {
    let doc = documented(name);
    let undocumented: Vec<_> = seen.difference(&doc).collect();
    let unseen: Vec<_> = doc.difference(seen).collect();
    assert!(
        undocumented.is_empty(),
        "{name}: fields printed but not in docs/json.md: {undocumented:?}"
    );
    assert!(
        unseen.is_empty(),
        "{name}: fields in docs/json.md that no run printed: {unseen:?}"
    );
}

/// The fields of one document.
fn fields(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    paths(v, "", &mut out);
    out
}

/// Any exit status: audit exits 4 when an archive fails, and says so in JSON.
fn json_any(dir: &std::path::Path, args: &[&str]) -> Value {
    let out = bin().current_dir(dir).args(args).output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn json(dir: &std::path::Path, args: &[&str]) -> Value {
    let out = bin().current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `--notify` to a loopback port nobody listens on (a delivery that fails
/// fast), with its signing secret in `dir`.
fn notify_args(dir: &std::path::Path) -> (String, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = dir.join("whsec.txt");
    std::fs::write(&secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").unwrap();
    (
        format!("webhook=http://127.0.0.1:{port}/hook"),
        secret.display().to_string(),
    )
}

#[test]
fn the_report_matches_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |p: &str| tmp.path().join(p).display().to_string();
    let demo = repo().join("fixtures/demo");
    let crypto = repo().join("fixtures/crypto");
    let signed = [
        "2026-11-24_120000-demo-initial.tar.gz.age",
        "--trust",
        "../../keys",
        "-i",
        "secret/demo-age-identity.txt",
    ];
    let mut seen = BTreeSet::new();
    let mut run = |dir: &std::path::Path, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        paths(&json(dir, &args), "", &mut seen);
    };
    let with = |head: &[&str], rest: &[&str]| -> Vec<String> {
        head.iter().chain(rest).map(|s| s.to_string()).collect()
    };
    run(
        &demo,
        with(
            &["restore"],
            &[&signed[..], &["--to", &t("app"), "--yes", "--json"]].concat(),
        ),
    );
    run(
        &demo,
        with(
            &["restore"],
            &[&signed[..], &["--to", &t("app2"), "--dry-run", "--json"]].concat(),
        ),
    );
    run(
        &demo,
        with(
            &[
                "preview",
                "2026-11-23_090000-demo-older.tar.gz",
                "--to",
                &t("app"),
                "--json",
            ],
            &[],
        ),
    );
    run(
        &demo,
        with(
            &["ls", "2026-11-23_090000-demo-older.tar.gz", "--json"],
            &[],
        ),
    );
    run(
        &demo,
        with(
            &[
                "restore",
                "2026-11-23_090000-demo-older.tar.gz",
                "README.md",
                "--to",
                &t("part"),
            ],
            &["--strip-components", "1", "--json"],
        ),
    );
    run(
        &demo,
        with(
            &[
                "verify",
                "2026-11-24_120000-demo-initial.tar.gz",
                "--require-anchored",
                "../log/log",
                "--log-vkey",
                "../log/log.vkey",
                "--allow-unsigned",
                "--json",
            ],
            &[],
        ),
    );
    run(
        &crypto,
        with(
            &[
                "verify",
                "data.tar.gz.x25519.age",
                "-i",
                "secret/age.txt",
                "--allow-unsigned",
                "--json",
            ],
            &[],
        ),
    );
    // `--notify` to a port nobody listens on: a failed delivery, reported.
    let (notify, secret) = notify_args(tmp.path());
    run(
        &demo,
        with(
            &["restore"],
            &[
                &signed[..],
                &["--to", &t("told"), "--yes", "--json", "--notify", &notify],
                &["--notify-secret-file", &secret],
            ]
            .concat(),
        ),
    );
    // `plan --json` is the report's `plan` document.
    let plan = json(
        &demo,
        &[
            "plan",
            "2026-11-24_120000-demo-initial.tar.gz.age",
            "--trust",
            "../../keys",
            "--to",
            &t("app"),
            "--json",
        ],
    );
    paths(&plan, "plan", &mut seen);
    check("the report", &seen);
}

#[test]
fn the_other_documents_match_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |p: &str| tmp.path().join(p).display().to_string();
    let demo = repo().join("fixtures/demo");
    let app = t("app");
    let restore = |archive: &str, extra: &[&str]| {
        let mut args = vec![
            "restore",
            archive,
            "--trust",
            "../../keys",
            "-i",
            "secret/demo-age-identity.txt",
            "--to",
            &app,
            "--yes",
            "--allow-unsigned",
            "--json",
        ];
        args.extend_from_slice(extra);
        json(&demo, &args);
    };
    restore("2026-11-23_090000-demo-older.tar.gz", &[]);
    restore("2026-11-24_120000-demo-initial.tar.gz.age", &[]);
    restore("2026-11-23_090000-demo-older.tar.gz", &[]);
    check(
        "`history`",
        &fields(&json(&demo, &["history", &app, "--json"])),
    );
    let (notify, secret) = notify_args(tmp.path());
    let told = [
        "--notify",
        notify.as_str(),
        "--notify-secret-file",
        secret.as_str(),
    ];
    check(
        "`rollback`",
        &fields(&json(
            &demo,
            &[&["rollback", &app, "--yes", "--json"][..], &told].concat(),
        )),
    );
    check(
        "`prune`",
        &fields(&json(&demo, &["prune", &app, "--keep", "1", "--json"])),
    );
    check(
        "`recover`",
        &fields(&json(
            &demo,
            &[&["recover", &app, "--json"][..], &told].concat(),
        )),
    );
    check(
        "`list`",
        &fields(&json(&demo, &["list", "--backup-dir", ".", "--json"])),
    );
    check(
        "`audit`",
        &fields(&json_any(
            &demo,
            &[
                "audit",
                "--backup-dir",
                ".",
                "--trust",
                "../../keys",
                "--log",
                "../log/log",
                "--log-vkey",
                "../log/log.vkey",
                "--allow-unsigned",
                "--json",
                "--notify",
                &notify,
                "--notify-secret-file",
                &secret,
            ],
        )),
    );
    check("`config`", &fields(&json(&demo, &["config", "--json"])));

    // The log subcommands, on a copy of the fixture log.
    let log = tmp.path().join("log");
    assert!(std::process::Command::new("cp")
        .arg("-R")
        .arg(repo().join("fixtures/log/log"))
        .arg(&log)
        .status()
        .unwrap()
        .success());
    let log = log.display().to_string();
    let vkey = repo().join("fixtures/log/log.vkey").display().to_string();
    let key = repo().join("fixtures/log/log.key").display().to_string();
    check(
        "`log verify`",
        &fields(&json(
            &demo,
            &["log", "verify", &log, "--vkey", &vkey, "--json"],
        )),
    );
    check(
        "`log prove`",
        &fields(&json(
            &demo,
            &[
                "log",
                "prove",
                &log,
                "2026-11-24_120000-demo-initial.tar.gz",
                "--json",
            ],
        )),
    );
    check(
        "`log show`",
        &fields(&json(&demo, &["log", "show", &log, "--json"])),
    );
    check(
        "`log append`",
        &fields(&json(
            &demo,
            &[
                "log",
                "append",
                &log,
                "2026-11-24_120000-demo-initial.tar.gz.age",
                "--key",
                &key,
                "--trust",
                "../../keys",
                "-i",
                "secret/demo-age-identity.txt",
                "--json",
            ],
        )),
    );
}

/// The event stream: each line's fields as `NAME.FIELD` (the `finished`
/// event's report is the report, checked above).
#[test]
fn the_events_match_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = repo().join("fixtures/demo");
    let dest = tmp.path().join("app").display().to_string();
    let mut seen = BTreeSet::new();
    let mut run = |n: usize, args: &[&str]| {
        let file = tmp.path().join(format!("events-{n}.jsonl"));
        let mut all: Vec<&str> = args.to_vec();
        let f = file.display().to_string();
        all.extend_from_slice(&["--to", &dest, "--yes", "--events", &f]);
        bin().current_dir(&demo).args(&all).output().unwrap();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["schema"], 1, "{line}");
            let m = v.as_object_mut().unwrap();
            m.remove("schema");
            let name = m.remove("event").unwrap().as_str().unwrap().to_string();
            if let Some(r) = m.get_mut("report") {
                *r = Value::Null;
            }
            seen.insert(name.clone());
            paths(&v, &name, &mut seen);
        }
    };
    let log = [
        "--require-anchored",
        "../log/log",
        "--log-vkey",
        "../log/log.vkey",
        "--allow-unsigned",
    ];
    // Anchored and unsigned (log, warning), then an older one (newest) that
    // prunes, then a signed one, then a refused one (failed).
    run(
        0,
        &[
            &["restore", "2026-11-24_120000-demo-initial.tar.gz"][..],
            &log,
        ]
        .concat(),
    );
    run(
        1,
        &[
            &["restore", "2026-11-23_090000-demo-older.tar.gz"][..],
            &log,
            &["--allow-older", "--keep", "0"],
        ]
        .concat(),
    );
    run(
        2,
        &[
            "restore",
            "2026-11-24_120000-demo-initial.tar.gz.age",
            "--trust",
            "../../keys",
            "-i",
            "secret/demo-age-identity.txt",
        ],
    );
    run(
        3,
        &[
            "restore",
            "2026-11-24_120000-demo-initial.tar.gz.age",
            "--trust",
            "../../keys",
        ],
    );
    // `resumed`: the demo archive from the S3 emulator, through a proxy that
    // cuts its first body after 100 bytes.
    match common::stores::emulators() {
        Some(e) => {
            let s3 = e.servers.iter().find(|s| s.kind == "s3").unwrap();
            let bucket = common::stores::bucket("events");
            s3.seed(&["mkbucket", &bucket]);
            let name = "2026-11-24_120000-demo-initial.tar.gz";
            s3.put(&bucket, &[(name, &demo.join(name))]);
            let p = common::stores::proxy(s3.addr, name, common::stores::Fault::CutAt(100), &[1]);
            let url = s3.url(&bucket, name);
            let (opts, env) = s3.access(&p.endpoint);
            let file = tmp.path().join("events-s3.jsonl");
            let f = file.display().to_string();
            let mut cmd = bin();
            cmd.args(["restore", &url, "--to", &dest, "--yes", "--events", &f]);
            for o in &opts {
                cmd.args(["--store-opt", o]);
            }
            for (k, v) in &env {
                cmd.env(k, v);
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            for line in std::fs::read_to_string(&file).unwrap().lines() {
                let mut v: Value = serde_json::from_str(line).unwrap();
                let m = v.as_object_mut().unwrap();
                m.remove("schema");
                let name = m.remove("event").unwrap().as_str().unwrap().to_string();
                if name == "resumed" {
                    seen.insert(name.clone());
                    paths(&v, &name, &mut seen);
                }
            }
        }
        // Outside CI without the emulators (common::stores says so): the
        // run that makes this event cannot be made here.
        None => seen.extend(["resumed", "resumed.offset", "resumed.reason"].map(String::from)),
    }
    check("events", &seen);
}
