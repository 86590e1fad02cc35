//! Benchmark of the append-only log at scale (run by `bench/log.sh`):
//! builds a log of N entries through the library, then times single appends,
//! inclusion proofs and a full verification, and prints peak memory.
//!
//!     cargo run --release --example log_bench -- DIR [N]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use projectrestore::log::{self, note::SignerKey, Log, NewEntry};

fn entry(i: u64) -> NewEntry {
    let day = 1 + (i / 86_400) % 28;
    let secs = i % 86_400;
    NewEntry {
        sha256: format!(
            "{:064x}",
            u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        ),
        size: 1_000_000 + i,
        archive: format!(
            "2026-11-{day:02}_{:02}{:02}{:02}-app-daily.tar.zst.age",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        ),
        project: "app".into(),
        signers: vec!["minisign:7FAC16D288BD2D30".into()],
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: log_bench DIR [N]"));
    let n: u64 = args
        .next()
        .map(|s| s.parse().expect("N"))
        .unwrap_or(1_000_000);
    let key = SignerKey::generate("bench.example/log").unwrap();
    let time = "2026-11-24T12:00:00Z";
    let logdir = dir.join("log");
    if logdir.join("checkpoint").exists() {
        std::fs::remove_dir_all(&logdir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("log.key"), format!("{}\n", &*key.encode())).unwrap();
    std::fs::write(
        dir.join("log.vkey"),
        format!("{}\n", key.verifier().encode()),
    )
    .unwrap();
    log::init(&logdir, &key).unwrap();
    let log = Log::open(&logdir, Some(key.verifier())).unwrap();

    // Build: batches of 10,000 (one fsync round per batch).
    let t = Instant::now();
    let batch = 10_000u64;
    let mut i = 0;
    while i < n {
        let k = batch.min(n - i);
        let entries: Vec<NewEntry> = (i..i + k).map(entry).collect();
        log.append(&key, &entries, time).unwrap();
        i += k;
    }
    let build = t.elapsed().as_secs_f64();
    println!(
        "build\t{n} entries in {build:.1} s ({:.1} µs/entry, batches of {batch})",
        build * 1e6 / n as f64
    );

    // Single appends at size n: each reads the checkpoint, checks the tiles'
    // root, finds the end of entries.jsonl by bisection, writes, fsyncs, signs.
    let mut times = Vec::new();
    for j in 0..50 {
        let t = Instant::now();
        log.append(&key, &[entry(n + j)], time).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "append\tmedian {:.2} ms per single append at {} entries (50 runs)",
        median(times),
        n
    );

    // Proofs at random indices.
    let size = n + 50;
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut times = Vec::new();
    let mut lens = 0;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let idx = x % size;
        let t = Instant::now();
        let p = log.prove(idx).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        lens += p.audit_path.len();
    }
    println!(
        "prove\tmedian {:.3} ms per inclusion proof (200 random indices, {:.1} hashes each)",
        median(times),
        lens as f64 / 200.0
    );

    // Lookup by digest (a scan of entries.jsonl) and the full verification.
    let t = Instant::now();
    let cp = log.checkpoint().unwrap();
    let found = log.find(cp.checkpoint.size, &entry(n - 1).sha256).unwrap();
    assert!(found.is_some());
    println!(
        "lookup\t{:.0} ms to find the last entry by digest (scan)",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let r = log.verify(None).unwrap();
    println!(
        "verify\t{:.1} s to recompute and check all {} entries",
        t.elapsed().as_secs_f64(),
        r.size
    );
    let bytes = std::fs::metadata(logdir.join("entries.jsonl"))
        .unwrap()
        .len();
    println!("size\tentries.jsonl {:.0} MB", bytes as f64 / 1e6);
    println!(
        "memory\tpeak RSS {} MiB (this process, all of the above)",
        peak_rss_kib() / 1024
    );
}
