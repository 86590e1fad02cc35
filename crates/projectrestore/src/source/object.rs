//! Archives in object stores: S3 (and S3-compatible stores: Backblaze B2,
//! Cloudflare R2, MinIO), Google Cloud Storage and Azure Blob Storage, through
//! the `object_store` crate.
//!
//! - An object is a [`Source`]: `open` asks for its size and ETag (HEAD), then
//!   streams its body; `reopen` (pass 2 of verify-first) asks for the same
//!   version with `If-Match` (and the version id where the store has one), and
//!   checks the ETag the store answers with, so a store that ignores the
//!   condition is caught too. The pass check still proves the bytes.
//! - Sidecars (`KEY.minisig`, `.sig`, `.asc`, `.sha256`) are sibling objects,
//!   read with the same size caps as sidecar files. Trust stores, identities,
//!   log keys and the log never come from a store (the command line refuses
//!   URLs for them).
//! - A bucket prefix is a [`Catalog`](crate::discover::Catalog): `list`,
//!   `audit` and "the newest backup" work on it as on a directory.
//! - The client is async: one current-thread tokio runtime per store, driven by
//!   whichever thread reads (the pipeline's reading thread), so the rest of the
//!   pipeline stays synchronous and its memory flat.
//! - No whole-request timeout (object_store's 30 s default would end a large
//!   download): a connect timeout and a read timeout instead. object_store's own
//!   retries are off; a broken body resumes here, from the byte where it broke,
//!   pinned with `If-Match`, a bounded number of times, each resume recorded in
//!   the [`Transfer`] (the report and the `resumed` events show them).
//! - Messages name the URL and never a credential: every value that could be
//!   a secret is replaced by `[redacted]`, and query strings are cut from URLs.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt,
    RetryConfig,
};

use super::{Capabilities, Opened, Pin, Sibling, Source, SourceError, Transfer};
use crate::discover::{Backup, Catalog};

/// Largest answer read whole: a listing page or an error body (object_store
/// collects those into memory; a hostile store could send gigabytes). The
/// object's own bytes stream, uncapped, through the bounded pipe.
const MAX_ANSWER: usize = 16 << 20;

/// object_store's reqwest client, with [`MAX_ANSWER`] on every answer but an
/// object's bytes (a successful GET that is not a listing).
#[derive(Debug)]
struct CappedConnector;

impl object_store::client::HttpConnector for CappedConnector {
    fn connect(
        &self,
        options: &ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        let inner = object_store::client::ReqwestConnector::default().connect(options)?;
        Ok(object_store::client::HttpClient::new(Capped(inner)))
    }
}

#[derive(Debug)]
struct Capped(object_store::client::HttpClient);

#[async_trait::async_trait]
impl object_store::client::HttpService for Capped {
    async fn call(
        &self,
        req: object_store::client::HttpRequest,
    ) -> Result<object_store::client::HttpResponse, object_store::client::HttpError> {
        use http_body_util::BodyExt as _;
        use object_store::client::{HttpError, HttpErrorKind, HttpResponse, HttpResponseBody};
        let query = req.uri().query().unwrap_or_default();
        let listing = query.contains("list-type=") || query.contains("comp=list");
        let get = req.method() == "GET";
        let resp = self.0.execute(req).await?;
        if get && resp.status().is_success() && !listing {
            return Ok(resp);
        }
        let (parts, body) = resp.into_parts();
        let capped = http_body_util::Limited::new(body, MAX_ANSWER).map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                return HttpError::new(
                    HttpErrorKind::Decode,
                    io::Error::other(format!(
                        "the store's answer (a listing page or an error) is larger than {} MiB: refused",
                        MAX_ANSWER >> 20
                    )),
                );
            }
            // The body's own failure, as it was.
            match e.downcast::<HttpError>() {
                Ok(inner) => *inner,
                Err(other) => HttpError::new_boxed(HttpErrorKind::Unknown, other),
            }
        });
        Ok(HttpResponse::from_parts(
            parts,
            HttpResponseBody::new(capped),
        ))
    }
}

/// The backups in `dir`: a bucket prefix (`s3://B/backups/`; a URL without
/// the trailing `/` is taken as the prefix it names) or a local directory.
pub fn catalog(
    dir: &std::path::Path,
    opts: &StoreOptions,
) -> Result<Box<dyn Catalog>, SourceError> {
    match dir.to_str().and_then(StoreUrl::parse) {
        Some(url) => {
            let mut url = url?;
            if !url.is_prefix() {
                url.key.push('/');
            }
            Ok(Box::new(ObjectCatalog::new(&url, opts)?))
        }
        None => Ok(Box::new(crate::discover::DirCatalog::new(dir))),
    }
}

/// The input `arg` names: an object (`s3://B/KEY`), `-` (standard input) or a file.
pub fn input(arg: &std::ffi::OsStr, opts: &StoreOptions) -> Result<super::Input, SourceError> {
    match arg.to_str().and_then(StoreUrl::parse) {
        Some(url) => Ok(super::Input::Source(Arc::new(ObjectSource::new(
            &url?, opts,
        )?))),
        None => Ok(super::Input::from_arg(std::path::Path::new(arg))),
    }
}

/// Which store a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    S3,
    Gcs,
    Azure,
}

impl Kind {
    /// The URL scheme this tool writes for it.
    pub fn scheme(self) -> &'static str {
        match self {
            Kind::S3 => "s3",
            Kind::Gcs => "gs",
            Kind::Azure => "az",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::S3 => "S3",
            Kind::Gcs => "Google Cloud Storage",
            Kind::Azure => "Azure Blob Storage",
        }
    }
}

/// `s3://BUCKET/KEY`, `gs://BUCKET/KEY`, `az://CONTAINER/KEY` (or `azure://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    pub kind: Kind,
    pub bucket: String,
    /// The key (an object) or prefix (ends with `/`, or empty: the bucket root).
    pub key: String,
}

pub use super::is_store_url;

fn scheme_of(arg: &str) -> Option<(Kind, &str)> {
    let (scheme, rest) = arg.split_once("://")?;
    let kind = match scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => Kind::S3,
        "gs" | "gcs" => Kind::Gcs,
        "az" | "azure" => Kind::Azure,
        _ => return None,
    };
    Some((kind, rest))
}

impl StoreUrl {
    /// Parse a store URL; `None` when `arg` is not one (a local path).
    pub fn parse(arg: &str) -> Option<Result<StoreUrl, SourceError>> {
        let (kind, rest) = scheme_of(arg)?;
        let bad = |why: &str| {
            Some(Err(SourceError::NotFound(format!(
                "{}: {why}",
                crate::report::escape(&redact_url(arg))
            ))))
        };
        if rest.contains(['?', '#']) {
            // A SAS token or a signature in the URL would be printed in every
            // message and report: credentials go in --store-opt or the environment.
            return bad("a store URL takes no query string; give credentials with --store-opt KEY=VALUE or the environment");
        }
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return bad("no bucket (write s3://BUCKET/KEY)");
        }
        if bucket.contains('@') {
            return bad("give the account with --store-opt (e.g. azure_storage_account_name=NAME), not in the URL");
        }
        Some(Ok(StoreUrl {
            kind,
            bucket: bucket.to_string(),
            key: key.to_string(),
        }))
    }

    /// `s3://bucket/key`.
    pub fn display(&self) -> String {
        format!("{}://{}/{}", self.kind.scheme(), self.bucket, self.key)
    }

    /// Is it a prefix (a "directory") rather than an object?
    pub fn is_prefix(&self) -> bool {
        self.key.is_empty() || self.key.ends_with('/')
    }

    fn object_key(&self) -> Result<Key, SourceError> {
        Key::parse(&self.key).map_err(|e| {
            SourceError::NotFound(format!(
                "{}: not an object key: {e}",
                crate::report::escape(&self.display())
            ))
        })
    }

    fn prefix_key(&self) -> Result<Option<Key>, SourceError> {
        let trimmed = self.key.trim_end_matches('/');
        if trimmed.is_empty() {
            return Ok(None);
        }
        Key::parse(trimmed).map(Some).map_err(|e| {
            SourceError::NotFound(format!(
                "{}: not a prefix: {e}",
                crate::report::escape(&self.display())
            ))
        })
    }
}

/// `--store-opt KEY=VALUE` options (and the `[store]` table of the settings),
/// in the order given; later ones win. Passed to object_store's builders as
/// their configuration keys, on top of the standard environment variables.
#[derive(Clone, Default)]
pub struct StoreOptions {
    pub options: Vec<(String, String)>,
    /// The environment the builders read (`AWS_*`, `GOOGLE_*`, `AZURE_*`,
    /// `AZURITE_BLOB_STORAGE_URL`), as the front end passes it
    /// ([`StoreOptions::store_vars`]); empty: none. (object_store itself reads
    /// `AZURITE_BLOB_STORAGE_URL` for its emulator mode.)
    pub env: Vec<(String, String)>,
}

impl std::fmt::Debug for StoreOptions {
    /// Keys only: values may be credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.options.iter().map(|(k, _)| k))
            .finish()
    }
}

impl StoreOptions {
    /// Parse one `KEY=VALUE`.
    pub fn push_arg(&mut self, arg: &str) -> Result<(), String> {
        // What was given is never echoed: a pasted secret has no `=` of its own.
        let (k, v) = arg.split_once('=').ok_or_else(|| {
            "--store-opt takes KEY=VALUE (e.g. aws_endpoint=https://s3.example.com); what was given has no = (not shown: it may be a secret)".to_string()
        })?;
        let k = k.trim();
        if k.is_empty() {
            return Err("--store-opt: the key before = is empty".into());
        }
        self.options.push((k.to_ascii_lowercase(), v.to_string()));
        Ok(())
    }

    fn env_vars(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    /// The variables of `vars` an object store reads (`AWS_*`, `GOOGLE_*`,
    /// `AZURE_*`, `AZURITE_*`, `OBJECT_STORE_*`): what a front end passes as
    /// [`StoreOptions::env`] (the library reads no environment itself).
    pub fn store_vars(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
        vars.into_iter()
            .filter(|(k, _)| {
                ["AWS_", "GOOGLE_", "AZURE_", "AZURITE_", "OBJECT_STORE_"]
                    .iter()
                    .any(|p| k.starts_with(p))
            })
            .collect()
    }
}

/// Key names whose values are secrets (matched in lower case, anywhere in the name).
const SECRET_WORDS: [&str; 8] = [
    "secret",
    "key",
    "token",
    "sas",
    "password",
    "signature",
    "credential",
    "service_account",
];

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| k.contains(w)) && !k.ends_with("_id") && !k.contains("key_id")
        || k.contains("secret")
}

/// A URL with its query string (a SAS token, a presigned signature) and
/// its user information (`user:password@`) cut off.
fn redact_url(s: &str) -> String {
    let s = match s.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => format!("{scheme}://[redacted]@{}", &rest[at + 1..]),
                None => s.to_string(),
            }
        }
        None => s.to_string(),
    };
    match s.split_once('?') {
        Some((base, _)) => format!("{base}?[redacted]"),
        None => s,
    }
}

/// Credentials by their shape, wherever they appear (a server may echo a
/// request back): the value after `Bearer `, `Signature=`, `Credential=`,
/// `sig=`, a session-token header, and anything shaped like a JWT.
fn redact_tokens(text: &str) -> String {
    const MARKERS: [&str; 9] = [
        "Bearer ",
        "bearer ",
        "SharedKey ",
        "Signature=",
        "Credential=",
        "sig=",
        "X-Amz-Security-Token=",
        "x-amz-security-token: ",
        "x-amz-security-token\": \"",
    ];
    let token = |c: char| c.is_ascii_alphanumeric() || "+/=._~%-:".contains(c);
    // Each marker in one pass that copies into a new string: linear in the
    // text, however many markers a hostile error body repeats.
    let mut out = text.to_string();
    for m in MARKERS {
        let mut next = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(m) {
            let (before, after) = rest.split_at(i + m.len());
            next.push_str(before);
            let len = after.find(|c: char| !token(c)).unwrap_or(after.len());
            if len > 0 {
                next.push_str("[redacted]");
            }
            rest = &after[len..];
        }
        next.push_str(rest);
        out = next;
    }
    // JWTs: base64url `{"` ... two dots.
    let mut cleaned = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("eyJ") {
        let (before, after) = rest.split_at(i);
        cleaned.push_str(before);
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .unwrap_or(after.len());
        if after[..len].matches('.').count() >= 2 && len > 20 {
            cleaned.push_str("[redacted]");
        } else {
            cleaned.push_str(&after[..len.max(3)]);
        }
        rest = &after[len.max(3)..];
    }
    cleaned.push_str(rest);
    cleaned
}

/// Replaces every secret the store was given, and every URL's query string,
/// in text that is about to be shown.
#[derive(Clone, Default)]
struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    fn new(opts: &[(String, String)]) -> Self {
        let mut secrets: Vec<String> = opts
            .iter()
            .filter(|(k, v)| is_secret_key(k) && v.len() >= 4)
            .map(|(_, v)| v.clone())
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { secrets }
    }

    fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "[redacted]");
        }
        out = redact_tokens(&out);
        // Query strings of URLs in the text: `?` up to the next space or quote.
        let mut cleaned = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find("://") {
            let (before, after) = rest.split_at(i);
            cleaned.push_str(before);
            let end = after
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ','))
                .unwrap_or(after.len());
            cleaned.push_str(&redact_url(&after[..end]));
            rest = &after[end..];
        }
        cleaned.push_str(rest);
        // A server's error body may be as long as it likes: a message keeps
        // its start (cut after the secrets are gone, so none is cut in half).
        const MAX: usize = 1000;
        if cleaned.len() > MAX {
            let mut cut = MAX;
            while !cleaned.is_char_boundary(cut) {
                cut -= 1;
            }
            cleaned.truncate(cut);
            cleaned.push_str(" [...]");
        }
        crate::report::escape(&cleaned)
    }
}

/// How long a connection may take to open, and a body may go without a byte.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts in a row that bring no byte before a download gives up.
const MAX_STALLED: u32 = 6;
/// Bytes that must arrive between two stalls for the download to count as
/// going on (so a byte now and then cannot reset the count of stalls).
const PROGRESS: u64 = 1 << 20;
/// Resumes in all (each one after some progress), so a store that breaks
/// every body after a few bytes cannot keep a restore going for ever.
const MAX_RESUMES: usize = 1000;

/// A store client and the runtime that drives it.
pub struct Store {
    rt: tokio::runtime::Runtime,
    store: Arc<dyn ObjectStore>,
    /// The same client, for listings a page at a time (bounded).
    pages: Arc<dyn PaginatedListStore>,
    url: StoreUrl,
    redact: Redactor,
    /// The run's cancellation flag, once a run watches this store: every wait
    /// on the network looks at it several times a second.
    cancel: std::sync::OnceLock<super::Cancel>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("url", &self.url).finish()
    }
}

fn truthy(v: Option<String>) -> bool {
    v.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

impl Store {
    /// A client for the bucket of `url`, configured from the environment and
    /// `opts` (no request is made yet).
    pub fn new(url: &StoreUrl, opts: &StoreOptions) -> Result<Arc<Store>, SourceError> {
        let env = opts.env_vars();
        let mut all = env.clone();
        all.extend(opts.options.iter().cloned());
        let redact = Redactor::new(&all);
        let shown = url.display();
        let fail = |what: String, hint: &str| SourceError::Store {
            url: crate::report::escape(&shown),
            message: redact.clean(&what),
            hint: hint.to_string(),
        };
        let client = ClientOptions::new()
            .with_timeout_disabled()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_read_timeout(READ_TIMEOUT);
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 0,
            retry_timeout: Duration::from_secs(60),
        };
        let unknown = |k: &str| {
            // Named only when it looks like a key: base64 before a `=` may be a secret.
            let named = k.len() <= 64
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let shown = if named {
                k
            } else {
                "(a key not shown: it may be a secret)"
            };
            fail(
                format!("--store-opt {shown}: not a {} option", url.kind.name()),
                "the keys are object_store's configuration keys (README, Object stores), e.g. aws_endpoint, aws_region, google_service_account, azure_storage_account_name",
            )
        };
        // Each builder the same way: the environment's keys, then the bucket,
        // the client settings, then --store-opt (an unknown key is an error);
        // plain http only to loopback (allowed for it here) or where the user
        // allowed it, checked before the store is built and so before any request.
        macro_rules! build {
            ($builder:expr, $K:ty, $bucket:ident, $endpoint:expr, $hint:expr) => {{
                let mut b = $builder;
                for (k, v) in &env {
                    if let Ok(key) = k.to_ascii_lowercase().parse::<$K>() {
                        b = b.with_config(key, v);
                    }
                }
                b = b
                    .$bucket(&url.bucket)
                    .with_client_options(client)
                    .with_http_connector(CappedConnector)
                    .with_retry(retry);
                for (k, v) in &opts.options {
                    b = b.with_config(k.parse::<$K>().map_err(|_| unknown(k))?, v);
                }
                let endpoint: Option<String> = $endpoint(&b);
                let allow_key = <$K>::Client(object_store::ClientConfigKey::AllowHttp);
                let mut allow = truthy(b.get_config_value(&allow_key));
                if let Some(e) = endpoint.as_deref() {
                    // Judged as parsed (an endpoint object_store would take
                    // apart otherwise, or not at all), never by its spelling.
                    let parsed = url::Url::parse(e)
                        .ok()
                        .filter(|u| e == e.trim() && u.has_host() && matches!(u.scheme(), "http" | "https"));
                    let Some(parsed) = parsed else {
                        return Err(fail(
                            format!("the endpoint {} is not an http(s) URL", redact_url(e)),
                            "give it as https://HOST[:PORT] (--store-opt)",
                        ));
                    };
                    if parsed.scheme() == "http" {
                        if crate::source::is_loopback(&parsed) {
                            b = b.with_config(allow_key, "true");
                            allow = true;
                        }
                        if !allow {
                            return Err(fail(
                                format!("the endpoint {} is plain http: anyone on the network could read and change what is sent", redact_url(e)),
                                match url.kind {
                                    Kind::S3 => "use https, or pass --store-opt aws_allow_http=true if this network is yours",
                                    Kind::Gcs => "use https, or pass --store-opt allow_http=true if this network is yours",
                                    Kind::Azure => "use https, or pass --store-opt azure_allow_http=true if this network is yours",
                                },
                            ));
                        }
                    }
                }
                let store = Arc::new(b.build().map_err(|e| fail(e.to_string(), $hint))?);
                let pages: Arc<dyn PaginatedListStore> = store.clone();
                let store: Arc<dyn ObjectStore> = store;
                (store, pages)
            }};
        }
        let (store, pages) = match url.kind {
            Kind::S3 => {
                use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey as K};
                build!(
                    AmazonS3Builder::new(),
                    K,
                    with_bucket_name,
                    |b: &AmazonS3Builder| b.get_config_value(&K::Endpoint),
                    "check --store-opt and the AWS_* variables"
                )
            }
            Kind::Gcs => {
                use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey as K};
                build!(
                    GoogleCloudStorageBuilder::new(),
                    K,
                    with_bucket_name,
                    |b: &GoogleCloudStorageBuilder| b.get_config_value(&K::BaseUrl),
                    "check --store-opt and the GOOGLE_* variables"
                )
            }
            Kind::Azure => {
                use object_store::azure::{AzureConfigKey as K, MicrosoftAzureBuilder};
                build!(
                    MicrosoftAzureBuilder::new(),
                    K,
                    with_container_name,
                    |b: &MicrosoftAzureBuilder| {
                        if truthy(b.get_config_value(&K::UseEmulator)) {
                            // object_store reads this variable itself (and allows http for it).
                            Some(
                                env.iter()
                                    .find(|(k, _)| k == "AZURITE_BLOB_STORAGE_URL")
                                    .map(|(_, v)| v.clone())
                                    .unwrap_or_else(|| "http://127.0.0.1:10000".into()),
                            )
                        } else {
                            b.get_config_value(&K::Endpoint)
                        }
                    },
                    "check --store-opt and the AZURE_* variables (an account name: azure_storage_account_name)"
                )
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the network client: {e}"), ""))?;
        Ok(Arc::new(Store {
            rt,
            store,
            pages,
            url: url.clone(),
            redact,
            cancel: std::sync::OnceLock::new(),
        }))
    }

    /// Drive `fut` to its end, or stop within a fifth of a second once the
    /// run is cancelled (a silent server would otherwise hold a Ctrl-C for
    /// the whole read timeout).
    fn wait<F: std::future::Future>(&self, fut: F) -> Result<F::Output, super::Cancelled> {
        let cancel = self.cancel.get();
        self.rt.block_on(async {
            let mut fut = std::pin::pin!(fut);
            loop {
                match tokio::time::timeout(Duration::from_millis(200), &mut fut).await {
                    Ok(v) => return Ok(v),
                    Err(_) if cancel.is_some_and(super::Cancel::is_set) => {
                        return Err(super::Cancelled)
                    }
                    Err(_) => {}
                }
            }
        })
    }

    /// Sleep `d`, or less once the run is cancelled.
    fn pause(&self, d: Duration) -> Result<(), super::Cancelled> {
        // Made inside the runtime (a timer needs its context).
        self.wait(async move { tokio::time::sleep(d).await })
    }

    fn interrupted(&self, what: &str) -> SourceError {
        SourceError::Io {
            path: crate::report::escape(what),
            source: io::Error::other(super::Cancelled),
        }
    }

    fn shown(&self, key: &Key) -> String {
        format!("{}://{}/{}", self.url.kind.scheme(), self.url.bucket, key)
    }

    /// An object_store error as a message naming `what`, with what to do.
    fn error(&self, what: &str, e: object_store::Error) -> SourceError {
        use object_store::Error as E;
        // The message is made of raw text, then redacted and escaped once.
        let (message, hint) = match &e {
            E::NotFound { .. } => {
                let parent = what.rsplit_once('/').map_or(what, |(p, _)| p);
                (
                    format!("no such object: {what}"),
                    format!(
                        "list what is there with `projectrestore list --backup-dir {}/`",
                        crate::report::escape(parent)
                    ),
                )
            }
            E::PermissionDenied { .. } => (
                format!("access denied to {what}: the credentials were accepted, but may not read it"),
                "check which credentials were used (`projectrestore config`) and that they may read this bucket".into(),
            ),
            E::Unauthenticated { .. } => (
                format!("the store did not accept the credentials for {what}"),
                self.credentials_hint().into(),
            ),
            E::InvalidPath { .. } => (
                format!("{what}: the store named a key this tool cannot address (an empty part, `.` or `..`, or a control character): {}", error_chain(&e)),
                "give a narrower prefix, or name the archive itself".into(),
            ),
            E::Precondition { .. } => (
                format!("{what} was replaced while it was being read"),
                "run again; if it keeps changing, something is writing to the bucket".into(),
            ),
            _ if ["169.254.169.254", "metadata.google.internal", "instance metadata"]
                .iter()
                .any(|w| error_chain(&e).contains(w)) =>
            {
                // No credentials anywhere: object_store fell back to a cloud
                // machine's metadata service, which is not here.
                (
                    format!("no credentials for {what}: none in the environment or --store-opt, and no cloud metadata service answered"),
                    self.credentials_hint().into(),
                )
            }
            _ => (
                format!("cannot read {what}: {}", error_chain(&e)),
                self.credentials_hint().into(),
            ),
        };
        SourceError::Store {
            url: crate::report::escape(what),
            message: self.redact.clean(&message),
            hint,
        }
    }

    fn credentials_hint(&self) -> &'static str {
        match self.url.kind {
            Kind::S3 => "credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE files) and --store-opt; the endpoint from --store-opt aws_endpoint=URL (B2, R2, MinIO)",
            Kind::Gcs => "credentials come from GOOGLE_SERVICE_ACCOUNT / GOOGLE_APPLICATION_CREDENTIALS and --store-opt",
            Kind::Azure => "credentials come from AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY (or a SAS or token) and --store-opt",
        }
    }

    /// HEAD, with a clear message for a missing bucket.
    fn head(&self, key: &Key) -> Result<ObjectMeta, SourceError> {
        let shown = self.shown(key);
        let mut stalled = 0;
        loop {
            let headed = self
                .wait(self.store.head(key))
                .map_err(|_| self.interrupted(&shown))?;
            match headed {
                Ok(m) => return Ok(m),
                Err(object_store::Error::NotFound { .. }) => {
                    // Is it the object or the whole bucket that is missing?
                    // One page of the bucket's listing is enough to tell.
                    let listed = self
                        .wait(self.store.list(None).next())
                        .map_err(|_| self.interrupted(&shown))?;
                    let bucket_gone = matches!(&listed, Some(Err(e))
                        if bucket_missing(e) || matches!(e, object_store::Error::NotFound { .. }));
                    if bucket_gone {
                        return Err(SourceError::Store {
                            url: crate::report::escape(&shown),
                            message: format!(
                                "no such bucket: {}",
                                crate::report::escape(&self.url.bucket)
                            ),
                            hint: "check the bucket's name, and the endpoint or region it lives in (--store-opt)".into(),
                        });
                    }
                    return Err(self.error(
                        &shown,
                        object_store::Error::NotFound {
                            path: key.to_string(),
                            source: "HEAD".into(),
                        },
                    ));
                }
                Err(e) if transient(&e) && stalled < 2 => {
                    stalled += 1;
                    self.pause(backoff(stalled))
                        .map_err(|_| self.interrupted(&shown))?;
                }
                Err(
                    e @ (object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }),
                ) => {
                    // A HEAD answer has no body to say why: ask for one byte,
                    // whose refusal says whether the credentials or the
                    // permissions are wrong.
                    let why = self
                        .get(
                            key,
                            GetOptions {
                                range: Some(GetRange::Bounded(0..1)),
                                ..Default::default()
                            },
                        )
                        .map_err(|_| self.interrupted(&shown))?
                        .err()
                        .map(|e| error_chain(&e))
                        .unwrap_or_default();
                    let bad_credentials = [
                        "SignatureDoesNotMatch",
                        "InvalidAccessKeyId",
                        "AuthenticationFailed",
                        "InvalidAuthenticationInfo",
                        "invalid_grant",
                    ]
                    .iter()
                    .any(|w| why.contains(w));
                    if bad_credentials {
                        return Err(SourceError::Store {
                            url: crate::report::escape(&shown),
                            message: format!(
                                "the store did not accept the credentials for {} (a wrong secret, or a key it does not know)",
                                crate::report::escape(&shown)
                            ),
                            hint: self.credentials_hint().into(),
                        });
                    }
                    return Err(self.error(&shown, e));
                }
                Err(e) => return Err(self.error(&shown, e)),
            }
        }
    }

    fn get(
        &self,
        key: &Key,
        opts: GetOptions,
    ) -> Result<object_store::Result<object_store::GetResult>, super::Cancelled> {
        self.wait(self.store.get_opts(key, opts))
    }
}

/// Worth trying again: the network or the server, not the request. A
/// status the server answered with is worth another try only for 5xx, 408
/// and 429; object_store names no other way to read it than its message.
fn transient(e: &object_store::Error) -> bool {
    if !matches!(e, object_store::Error::Generic { .. }) {
        return false;
    }
    let text = error_chain(e);
    // object_store's own complaints about an answer (a partial response that
    // is not one, a Content-Range that does not fit) are the store's, not the network's.
    const ANSWER_REFUSED: [&str; 4] = [
        "Received non-partial response",
        "Content-Range header",
        "CONTENT_RANGE",
        "Requested ",
    ];
    if ANSWER_REFUSED.iter().any(|w| text.contains(w)) {
        return false;
    }
    let status = text
        .find("status code: ")
        .and_then(|i| text.get(i + 13..i + 16))
        .and_then(|s| s.parse::<u16>().ok());
    status.is_none_or(|s| s >= 500 || s == 408 || s == 429)
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.min(5)).min(Duration::from_secs(8))
}

/// An error and its causes, in one line (reqwest hides the useful part in a
/// source); an XML or JSON error body is cut down to its code and message.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = crate::explain::one_line(e);
    let tag = |t: &str| -> Option<String> {
        let open = format!("<{t}>");
        let start = out.find(&open)? + open.len();
        let len = out[start..].find(&format!("</{t}>"))?;
        Some(out[start..start + len].to_string())
    };
    let (code, message) = (tag("Code"), tag("Message"));
    if let Some(i) = out.find(": <?xml").or_else(|| out.find(": <Error")) {
        out.truncate(i);
        if let Some(c) = code {
            out.push_str(&format!(": {c}"));
            if let Some(m) = message {
                out.push_str(&format!(" ({m})"));
            }
        }
    }
    out
}

/// Does this error say the bucket (or container) itself is missing?
fn bucket_missing(e: &object_store::Error) -> bool {
    let text = error_chain(e);
    [
        "NoSuchBucket",
        "ContainerNotFound",
        "bucket does not exist",
        "container does not exist",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// One object in a store.
#[derive(Debug)]
pub struct ObjectSource {
    store: Arc<Store>,
    key: Key,
    shown: String,
    transfer: Arc<Transfer>,
    /// HEAD's answer, asked once.
    meta: std::sync::OnceLock<ObjectMeta>,
}

impl ObjectSource {
    /// The object `url` names (not a prefix).
    pub fn new(url: &StoreUrl, opts: &StoreOptions) -> Result<Self, SourceError> {
        if url.is_prefix() {
            return Err(SourceError::NotFound(format!(
                "{} is a prefix, not an archive: give the archive's key, or pass the prefix as --backup-dir to restore the newest",
                crate::report::escape(&url.display())
            )));
        }
        let key = url.object_key()?;
        Ok(Self::in_store(Store::new(url, opts)?, key))
    }

    fn in_store(store: Arc<Store>, key: Key) -> Self {
        ObjectSource {
            shown: store.shown(&key),
            store,
            key,
            transfer: Arc::default(),
            meta: std::sync::OnceLock::new(),
        }
    }

    fn meta(&self) -> Result<ObjectMeta, SourceError> {
        if let Some(meta) = self.meta.get() {
            return Ok(meta.clone());
        }
        let meta = self.store.head(&self.key)?;
        Ok(self.meta.get_or_init(|| meta).clone())
    }

    fn reader(&self, meta: &ObjectMeta) -> Result<Opened, SourceError> {
        let mut reader = ObjectReader {
            store: Arc::clone(&self.store),
            key: self.key.clone(),
            shown: self.shown.clone(),
            e_tag: meta.e_tag.clone(),
            version: meta.version.clone(),
            size: meta.size,
            offset: 0,
            stream: None,
            buf: Bytes::new(),
            stalled: 0,
            since_stall: 0,
            transfer: Arc::clone(&self.transfer),
        };
        // The first request now, so that a refusal (a replaced object, access
        // denied) is an error of the open, before any phase begins.
        reader.start().map_err(|e| match e.into_inner() {
            Some(inner) => match inner.downcast::<SourceError>() {
                Ok(s) => *s,
                Err(other) => SourceError::Io {
                    path: self.shown.clone(),
                    source: io::Error::other(other),
                },
            },
            None => SourceError::NotFound(self.shown.clone()),
        })?;
        let pin = meta.e_tag.as_ref().map(|t| {
            Pin(format!(
                "etag:{t}{}",
                meta.version
                    .as_deref()
                    .map(|v| format!(" version:{v}"))
                    .unwrap_or_default()
            ))
        });
        Ok(Opened {
            reader: Box::new(reader),
            size: Some(meta.size),
            pin,
        })
    }
}

impl Source for ObjectSource {
    fn display(&self) -> String {
        self.shown.clone()
    }

    fn file_name(&self) -> Option<String> {
        self.key.filename().map(str::to_string)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            rereadable: true,
            size_known: true,
            siblings: true,
        }
    }

    fn kind(&self) -> &'static str {
        self.store.url.kind.scheme()
    }

    fn transfer(&self) -> Option<Arc<Transfer>> {
        Some(Arc::clone(&self.transfer))
    }

    fn watch(&self, cancel: &super::Cancel) {
        let _ = self.store.cancel.set(cancel.clone());
    }

    fn open(&self) -> Result<Opened, SourceError> {
        let meta = self.meta()?;
        self.reader(&meta)
    }

    fn reopen(&self, pin: &Pin) -> Result<Opened, SourceError> {
        // The same version as pass 1: the GET carries If-Match (and the
        // version id) and its answer's ETag is checked ([`ObjectReader::start`]).
        let meta = self.meta()?;
        let opened = self.reader(&meta).map_err(|e| match e {
            SourceError::Replaced(_) => SourceError::Changed(self.shown.clone()),
            e => e,
        })?;
        if opened.pin.as_ref() != Some(pin) {
            return Err(SourceError::Changed(self.shown.clone()));
        }
        Ok(opened)
    }

    fn sibling(&self, suffix: &str, max: u64) -> Result<Option<Sibling>, SourceError> {
        // `KEY.minisig`: the suffix joins the last part of the key.
        let Ok(key) = Key::parse(format!("{}{suffix}", self.key.as_ref())) else {
            return Ok(None);
        };
        let shown = self.store.shown(&key);
        // A sidecar that is not there, or that these credentials may not
        // read (S3 answers 403 for a missing key without ListBucket), is no
        // sidecar: that can only take a signature or checksum away, which the
        // gate then refuses where one is required.
        let cancelled = |_| self.store.interrupted(&shown);
        let meta = match self
            .store
            .wait(self.store.store.head(&key))
            .map_err(cancelled)?
        {
            Ok(m) => m,
            Err(
                object_store::Error::NotFound { .. } | object_store::Error::PermissionDenied { .. },
            ) => return Ok(None),
            Err(e) => return Err(self.store.error(&shown, e)),
        };

        if meta.size > max {
            return Err(SourceError::TooLarge { path: shown, max });
        }
        let opts = GetOptions {
            if_match: meta.e_tag.clone(),
            ..Default::default()
        };
        let result = self
            .store
            .get(&key, opts)
            .map_err(cancelled)?
            .map_err(|e| self.store.error(&shown, e))?;
        let mut stream = result.into_stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = self.store.wait(stream.next()).map_err(cancelled)? {
            let chunk = chunk.map_err(|e| self.store.error(&shown, e))?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > max {
                return Err(SourceError::TooLarge { path: shown, max });
            }
        }
        Ok(Some(Sibling { name: shown, bytes }))
    }
}

/// The body of one object, resumed where it broke.
struct ObjectReader {
    store: Arc<Store>,
    key: Key,
    shown: String,
    e_tag: Option<String>,
    version: Option<String>,
    size: u64,
    offset: u64,
    stream: Option<BoxStream<'static, object_store::Result<Bytes>>>,
    buf: Bytes,
    stalled: u32,
    /// Bytes since the last stall: only [`PROGRESS`] of them count as progress.
    since_stall: u64,
    transfer: Arc<Transfer>,
}

impl ObjectReader {
    fn fatal(&self, e: SourceError) -> io::Error {
        io::Error::other(e)
    }

    /// Ask for the body from `offset`, pinned to the version HEAD saw.
    fn start(&mut self) -> io::Result<()> {
        loop {
            let opts = GetOptions {
                if_match: self.e_tag.clone(),
                version: self.version.clone(),
                range: (self.offset > 0).then_some(GetRange::Offset(self.offset)),
                ..Default::default()
            };
            match self.store.get(&self.key, opts).map_err(io::Error::other)? {
                Ok(r) => {
                    // The store may ignore If-Match (some emulators do): its answer
                    // names the version it sent.
                    if self.e_tag.is_some() && r.meta.e_tag.is_some() && r.meta.e_tag != self.e_tag
                    {
                        return Err(io::Error::other(SourceError::Replaced(format!(
                            "{} was replaced while it was being read (the store answered with another ETag: it ignored If-Match)",
                            crate::report::escape(&self.shown)
                        ))));
                    }
                    if r.meta.size != self.size {
                        return Err(io::Error::other(SourceError::Replaced(format!(
                            "{} is {} bytes now, not the {} HEAD said",
                            crate::report::escape(&self.shown),
                            r.meta.size,
                            self.size
                        ))));
                    }
                    if r.range.start != self.offset {
                        return Err(self.fatal(SourceError::NotFound(format!(
                            "{}: the store sent bytes from {} when asked for {}",
                            crate::report::escape(&self.shown),
                            r.range.start,
                            self.offset
                        ))));
                    }
                    self.stream = Some(r.into_stream());
                    return Ok(());
                }
                // HEAD found it: gone or another version now.
                Err(object_store::Error::Precondition { .. })
                | Err(object_store::Error::NotFound { .. }) => {
                    return Err(io::Error::other(SourceError::Replaced(format!(
                        "{} was replaced or removed while it was being read",
                        crate::report::escape(&self.shown)
                    ))));
                }
                // An answer that does not fit the question (the object is
                // shorter now, or the store ignored Range): not worth asking again.
                Err(e) if error_chain(&e).contains("Wanted range starting at") => {
                    return Err(io::Error::other(SourceError::Replaced(format!(
                        "{} is shorter than when it was first read",
                        crate::report::escape(&self.shown)
                    ))));
                }
                Err(e) if transient(&e) => {
                    let why = self.store.redact.clean(&error_chain(&e));
                    self.stalled(why)?;
                }
                Err(e) => return Err(self.fatal(self.store.error(&self.shown, e))),
            }
        }
    }

    /// One more attempt without progress, recorded; an error once there were too many.
    fn stalled(&mut self, why: String) -> io::Result<()> {
        self.stalled += 1;
        self.since_stall = 0;
        let count = self.transfer.resume(self.offset, why.clone());
        if self.stalled > MAX_STALLED || count > MAX_RESUMES {
            return Err(self.fatal(SourceError::Store {
                url: crate::report::escape(&self.shown),
                message: format!(
                    "the download of {} broke {} times at byte {} and gave up: {why}",
                    crate::report::escape(&self.shown),
                    self.stalled,
                    self.offset
                ),
                hint: "check the network and run again; --spool DIR keeps a local copy for both passes".into(),
            }));
        }
        self.store
            .pause(backoff(self.stalled))
            .map_err(io::Error::other)?;
        Ok(())
    }
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.buf.is_empty() {
                let n = self.buf.len().min(out.len());
                out[..n].copy_from_slice(&self.buf[..n]);
                bytes::Buf::advance(&mut self.buf, n);
                self.offset += n as u64;
                return Ok(n);
            }
            if self.stream.is_none() {
                if self.offset >= self.size {
                    return Ok(0);
                }
                self.start()?;
            }
            let Some(stream) = self.stream.as_mut() else {
                continue;
            };
            match self.store.wait(stream.next()).map_err(io::Error::other)? {
                Some(Ok(b)) => {
                    if self.offset + b.len() as u64 > self.size {
                        return Err(io::Error::other(SourceError::Replaced(format!(
                            "{} is longer than the store said ({} bytes)",
                            crate::report::escape(&self.shown),
                            self.size
                        ))));
                    }
                    // A store that sends a byte and falls silent again and
                    // again makes no progress: only a real run of bytes does.
                    self.since_stall += b.len() as u64;
                    if self.since_stall >= PROGRESS || self.offset + b.len() as u64 >= self.size {
                        self.stalled = 0;
                    }
                    self.transfer.downloaded(b.len() as u64);
                    self.buf = b;
                }
                None => {
                    self.stream = None;
                    if self.offset < self.size {
                        let why =
                            format!("the body ended at byte {} of {}", self.offset, self.size);
                        self.stalled(why)?;
                    }
                }
                Some(Err(e)) => {
                    self.stream = None;
                    let why = self.store.redact.clean(&error_chain(&e));
                    self.stalled(why)?;
                }
            }
        }
    }
}

/// The archives directly under a bucket prefix.
#[derive(Debug)]
pub struct ObjectCatalog {
    store: Arc<Store>,
    prefix: Option<Key>,
    shown: String,
}

impl ObjectCatalog {
    /// The prefix `url` names (`s3://bucket/` or `s3://bucket/backups/`).
    pub fn new(url: &StoreUrl, opts: &StoreOptions) -> Result<Self, SourceError> {
        let prefix = url.prefix_key()?;
        let store = Store::new(url, opts)?;
        let shown = format!(
            "{}://{}/{}",
            url.kind.scheme(),
            url.bucket,
            prefix.as_ref().map(|p| format!("{p}/")).unwrap_or_default()
        );
        Ok(ObjectCatalog {
            store,
            prefix,
            shown,
        })
    }
}

/// A listing stops here: a store that pages without end (or a prefix with
/// more objects than any backup directory) cannot fill memory.
const MAX_LISTED: usize = 100_000;
/// Pages of a listing (a store that sends empty pages with new tokens).
const MAX_PAGES: usize = 10_000;

impl ObjectCatalog {
    /// The objects directly under the prefix, a page at a time, at most
    /// [`MAX_LISTED`]; a page token the store repeats ends the listing.
    fn objects(&self) -> Result<Vec<ObjectMeta>, SourceError> {
        let prefix = self.prefix.as_ref().map(|p| format!("{p}/"));
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let opts = PaginatedListOptions {
                delimiter: Some("/".into()),
                page_token: token.clone(),
                ..Default::default()
            };
            let page = self
                .store
                .wait(self.store.pages.list_paginated(prefix.as_deref(), opts))
                .map_err(|_| self.store.interrupted(&self.shown))?
                .map_err(|e| match e {
                    e if matches!(e, object_store::Error::NotFound { .. }) || bucket_missing(&e) => {
                        SourceError::Store {
                            url: crate::report::escape(&self.shown),
                            message: format!(
                                "no such bucket: {}",
                                crate::report::escape(&self.store.url.bucket)
                            ),
                            hint: "check the bucket's name, and the endpoint or region it lives in (--store-opt)".into(),
                        }
                    }
                    e => self.store.error(&self.shown, e),
                })?;
            out.extend(page.result.objects);
            if out.len() > MAX_LISTED {
                return Err(SourceError::Store {
                    url: crate::report::escape(&self.shown),
                    message: format!(
                        "{} lists more than {MAX_LISTED} objects",
                        crate::report::escape(&self.shown)
                    ),
                    hint: "give a narrower prefix, or name the archive itself".into(),
                });
            }
            if seen.len() >= MAX_PAGES {
                return Err(SourceError::Store {
                    url: crate::report::escape(&self.shown),
                    message: format!(
                        "{}: the store's listing went on for {MAX_PAGES} pages",
                        crate::report::escape(&self.shown)
                    ),
                    hint: "give a narrower prefix, or name the archive itself".into(),
                });
            }
            match page.page_token {
                Some(t) if !t.is_empty() && seen.insert(t.clone()) => token = Some(t),
                _ => return Ok(out),
            }
        }
    }
}

impl Catalog for ObjectCatalog {
    fn display(&self) -> String {
        self.shown.clone()
    }

    fn list(&self, pattern: &str) -> Result<Vec<Backup>, SourceError> {
        let glob = crate::discover::glob(pattern)?;
        let listed = self.objects()?;
        let names: std::collections::HashSet<String> = listed
            .iter()
            .filter_map(|o| o.location.filename().map(str::to_string))
            .collect();
        let mut out = Vec::new();
        for o in &listed {
            let Some(name) = o.location.filename() else {
                continue;
            };
            if !crate::discover::is_archive_name(&glob, name) {
                continue;
            }
            let modified = SystemTime::from(o.last_modified);
            let sidecars = crate::discover::SIDECARS
                .iter()
                .copied()
                .filter(|s| names.contains(&format!("{name}.{s}")))
                .collect();
            out.push(Backup::new(
                std::path::PathBuf::from(self.store.shown(&o.location)),
                name,
                o.size,
                modified,
                sidecars,
            ));
        }
        crate::discover::sort_newest_first(&mut out);
        Ok(out)
    }

    fn input(&self, backup: &Backup) -> super::Input {
        let key = match &self.prefix {
            Some(p) => p.clone().join(backup.raw_name()),
            None => Key::from(backup.raw_name()),
        };
        super::Input::Source(Arc::new(ObjectSource::in_store(
            Arc::clone(&self.store),
            key,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_refuse_credentials_in_them() {
        let u = StoreUrl::parse("s3://bucket/dir/a.tar.zst")
            .unwrap()
            .unwrap();
        assert_eq!(
            (u.kind, u.bucket.as_str(), u.key.as_str()),
            (Kind::S3, "bucket", "dir/a.tar.zst")
        );
        assert!(!u.is_prefix());
        assert!(StoreUrl::parse("gs://b/").unwrap().unwrap().is_prefix());
        assert_eq!(
            StoreUrl::parse("azure://c/k").unwrap().unwrap().kind,
            Kind::Azure
        );
        assert!(StoreUrl::parse("/tmp/a.tar").is_none());
        assert!(StoreUrl::parse("https://example.com/a").is_none());
        let err = StoreUrl::parse("az://c/k?sv=1&sig=SECRET")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(!err.contains("SECRET"), "{err}");
        assert!(StoreUrl::parse("s3:///k").unwrap().is_err());
    }

    /// A hostile error body that repeats a marker: every token is redacted,
    /// in one pass per marker (the in-place version was quadratic: 200,000
    /// repetitions took seconds).
    #[test]
    fn a_body_of_repeated_markers_is_redacted_in_linear_time() {
        let body = "sig=abc ".repeat(200_000);
        let out = redact_tokens(&body);
        assert_eq!(out.matches("sig=[redacted]").count(), 200_000);
        assert!(!out.contains("abc"));
    }

    #[test]
    fn secrets_and_query_strings_are_redacted() {
        let r = Redactor::new(&[
            ("aws_secret_access_key".into(), "hunter2secret".into()),
            ("aws_access_key_id".into(), "AKIDPUBLIC".into()),
        ]);
        let t = r.clean(
            "error for url (https://x.blob.core.windows.net/c/k?sig=abc&se=1): hunter2secret bad",
        );
        assert!(
            !t.contains("hunter2secret") && !t.contains("sig=abc"),
            "{t}"
        );
        assert!(
            t.contains("https://x.blob.core.windows.net/c/k?[redacted]"),
            "{t}"
        );
        let t = r.clean("GET https://user:pa55@host/k Authorization: Bearer ya29.a0AfB_token x-amz-security-token: FQoGZXIvYXdzEJr sig=abc%2Fdef eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl end");
        for secret in [
            "pa55",
            "ya29",
            "FQoGZXIvYXdzEJr",
            "abc%2Fdef",
            "eyJhbGciOiJSUzI1NiJ9",
            "c2lnbmF0dXJl",
        ] {
            assert!(!t.contains(secret), "{secret} in {t}");
        }
        assert!(t.ends_with("end"), "{t}");
        assert!(!is_secret_key("aws_access_key_id"));
        assert!(is_secret_key("aws_secret_access_key"));
        assert!(is_secret_key("azure_storage_account_key"));
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let url = StoreUrl::parse("s3://b/k").unwrap().unwrap();
        let mut opts = StoreOptions::default();
        opts.push_arg("aws_endpoint=http://198.51.100.7:9000")
            .unwrap();
        let err = Store::new(&url, &opts).unwrap_err().to_string();
        assert!(err.contains("plain http"), "{err}");
        opts.push_arg("aws_allow_http=true").unwrap();
        assert!(Store::new(&url, &opts).is_ok());
        let mut local = StoreOptions::default();
        local
            .push_arg("aws_endpoint=http://127.0.0.1:9000")
            .unwrap();
        assert!(Store::new(&url, &local).is_ok());
        // Judged as parsed: a spelling object_store would read another way is refused.
        for odd in [
            "http:198.51.100.7:9000",
            " http://198.51.100.7:9000",
            "ftp://h/",
        ] {
            let mut o = StoreOptions::default();
            o.push_arg(&format!("aws_endpoint={odd}")).unwrap();
            let err = Store::new(&url, &o).unwrap_err().to_string();
            assert!(
                err.contains("plain http") || err.contains("not an http(s) URL"),
                "{odd}: {err}"
            );
        }
        // A pasted secret is never echoed back.
        let err = StoreOptions::default()
            .push_arg("c2VjcmV0LWtleQ")
            .unwrap_err();
        assert!(!err.contains("c2VjcmV0LWtleQ"), "{err}");
        let mut o = StoreOptions::default();
        o.push_arg("c2VjcmV0LWtleQ+/==").unwrap();
        let err = Store::new(&url, &o).unwrap_err().to_string();
        assert!(!err.to_lowercase().contains("c2vjcmv0lwtleq"), "{err}");
    }
}
