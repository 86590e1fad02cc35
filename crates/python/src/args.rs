//! The keyword arguments of a Python call, read into the library's options.
//!
//! `projectrestore/__init__.py` passes every keyword argument of the public
//! function as one dict (`None` for "not given"); this reads each by name, with
//! the same defaults and rules as the command line's flags: paths that must be
//! local refuse URLs, sizes take `10G` or an integer, an unknown or unused
//! option is a `TypeError` (a misspelling never passes silently).

use std::collections::BTreeSet;
use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use projectrestore::archive::{EntryPolicy, Limits};
use projectrestore::restore::{Options, PassMode};
use projectrestore::source::object::StoreOptions;
use projectrestore::source::Input;
use projectrestore::verify::SigPolicy;
use projectrestore::Error;

/// The keyword arguments of one call.
pub struct Args<'py> {
    dict: Bound<'py, PyDict>,
    read: BTreeSet<String>,
}

/// A wrong argument: Python's `TypeError`, naming it.
fn type_error(key: &str, e: impl std::fmt::Display) -> PyErr {
    PyTypeError::new_err(format!("{key}: {e}"))
}

impl<'py> Args<'py> {
    pub fn new(dict: Bound<'py, PyDict>) -> Self {
        Args {
            dict,
            read: BTreeSet::new(),
        }
    }

    fn value(&mut self, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.read.insert(key.to_string());
        Ok(self.dict.get_item(key)?.filter(|v| !v.is_none()))
    }

    pub fn bool(&mut self, key: &str) -> PyResult<bool> {
        match self.value(key)? {
            Some(v) => v.extract::<bool>().map_err(|e| type_error(key, e)),
            None => Ok(false),
        }
    }

    pub fn int(&mut self, key: &str) -> PyResult<Option<u64>> {
        self.value(key)?
            .map(|v| v.extract::<u64>().map_err(|e| type_error(key, e)))
            .transpose()
    }

    pub fn usize(&mut self, key: &str, default: usize) -> PyResult<usize> {
        Ok(match self.value(key)? {
            Some(v) => v.extract::<usize>().map_err(|e| type_error(key, e))?,
            None => default,
        })
    }

    pub fn str(&mut self, key: &str) -> PyResult<Option<String>> {
        self.value(key)?
            .map(|v| v.extract::<String>().map_err(|e| type_error(key, e)))
            .transpose()
    }

    pub fn strs(&mut self, key: &str) -> PyResult<Vec<String>> {
        match self.value(key)? {
            Some(v) => v.extract::<Vec<String>>().map_err(|e| type_error(key, e)),
            None => Ok(Vec::new()),
        }
    }

    /// A path as given (`str` or `os.PathLike`), which may also be a URL.
    pub fn any_path(&mut self, key: &str) -> PyResult<Option<PathBuf>> {
        self.value(key)?
            .map(|v| v.extract::<PathBuf>().map_err(|e| type_error(key, e)))
            .transpose()
    }

    /// A path that must be local: trust stores, keys, identities, logs,
    /// destinations and explicit signature or checksum files never come from
    /// an object store (the command line's rule).
    pub fn path(&mut self, key: &str) -> PyResult<Option<PathBuf>> {
        let p = self.any_path(key)?;
        if let Some(p) = &p {
            local(p)?;
        }
        Ok(p)
    }

    /// A sequence of local paths (a single path is taken as one).
    pub fn paths(&mut self, key: &str) -> PyResult<Option<Vec<PathBuf>>> {
        let Some(v) = self.value(key)? else {
            return Ok(None);
        };
        let list = match v.extract::<PathBuf>() {
            Ok(one) if !v.is_instance_of::<pyo3::types::PyBytes>() => vec![one],
            _ => v
                .extract::<Vec<PathBuf>>()
                .map_err(|e| type_error(key, e))?,
        };
        for p in &list {
            local(p)?;
        }
        Ok(Some(list))
    }

    /// A size: an integer of bytes, or text such as `10G` (as the flags take).
    pub fn size(&mut self, key: &str) -> PyResult<Option<u64>> {
        let Some(v) = self.value(key)? else {
            return Ok(None);
        };
        if let Ok(n) = v.extract::<u64>() {
            return Ok(Some(n));
        }
        let text = v.extract::<String>().map_err(|e| type_error(key, e))?;
        projectrestore::config::parse_size(&text)
            .map(Some)
            .map_err(|e| usage(format!("{key}: {e}")))
    }

    /// `{str: str}`.
    pub fn map(&mut self, key: &str) -> PyResult<Vec<(String, String)>> {
        match self.value(key)? {
            Some(v) => {
                let m = v
                    .extract::<std::collections::BTreeMap<String, String>>()
                    .map_err(|e| type_error(key, e))?;
                Ok(m.into_iter().collect())
            }
            None => Ok(Vec::new()),
        }
    }

    /// Every argument given (not `None`) was read: an option the command does
    /// not use is a mistake to report, never to ignore.
    pub fn finish(self, command: &str) -> PyResult<()> {
        for (k, v) in self.dict.iter() {
            let key: String = k.extract()?;
            if !v.is_none() && !self.read.contains(&key) {
                return Err(PyTypeError::new_err(format!(
                    "{command}() got an option it does not use: {key}"
                )));
            }
        }
        Ok(())
    }
}

/// A usage error (exit 64) raised as the library's failure.
pub fn usage(message: String) -> PyErr {
    crate::failure(&Error::Usage(message), &crate::Seen::default())
}

fn local(p: &std::path::Path) -> PyResult<()> {
    projectrestore::source::require_local(&p.to_string_lossy()).map_err(usage)
}

/// The library options that `restore`, `verify`, `preview`, `plan` and `log
/// append` share (the command line's `CheckArgs`), without input or action.
pub fn check(a: &mut Args<'_>) -> PyResult<Options> {
    let (trust, trust_origin, floor) = match a.paths("trust")? {
        Some(t) => (t, "argument (trust=)".to_string(), None),
        None => default_trust()?,
    };
    let single_pass = a.bool("single_pass")?;
    let verify_first = a.bool("verify_first")?;
    if single_pass && verify_first {
        return Err(usage(
            "single_pass and verify_first cannot both be set".into(),
        ));
    }
    let mut limits = Limits::default();
    let count = |v: u64, key: &str| -> PyResult<usize> {
        usize::try_from(v).map_err(|_| usage(format!("{key}: too large")))
    };
    if let Some(v) = a.int("max_files")? {
        limits.max_files = v;
    }
    if let Some(v) = a.size("max_bytes")? {
        limits.max_bytes = v;
    }
    if let Some(v) = a.size("max_entry_size")? {
        limits.max_entry_bytes = v;
    }
    if let Some(v) = a.int("max_depth")? {
        limits.max_depth = count(v, "max_depth")?;
    }
    if let Some(v) = a.int("max_path_length")? {
        limits.max_path_bytes = count(v, "max_path_length")?;
    }
    if let Some(v) = a.int("max_name_length")? {
        limits.max_name_bytes = count(v, "max_name_length")?;
    }
    if let Some(v) = a.size("max_pax_size")? {
        limits.max_pax_bytes = v;
    }
    if let Some(v) = a.int("max_ratio")? {
        limits.max_ratio = v;
    }
    if let Some(v) = a.size("max_zstd_window")? {
        limits.max_zstd_window = v;
    }
    Ok(Options {
        signatures: a.paths("signatures")?.unwrap_or_default(),
        trust,
        trust_origin,
        sig_policy: SigPolicy {
            // With the settings' trust, their threshold is a floor: a call
            // never asks for fewer signers than the command line would.
            threshold: a.usize("threshold", 1)?.max(floor.unwrap_or(0)),
            allow_unsigned: a.bool("allow_unsigned")?,
            ssh_namespace: a.str("ssh_namespace")?.unwrap_or_else(|| "file".into()),
            allow_legacy_minisign: a.bool("allow_legacy_minisign")?,
        },
        checksum: a.path("checksum")?,
        identities: a.paths("identities")?.unwrap_or_default(),
        gpg_agent: a.bool("gpg_agent")?,
        limits,
        policy: EntryPolicy {
            strip_components: a.usize("strip_components", 0)?,
            keep_permissions: a.bool("keep_permissions")?,
            ..EntryPolicy::default()
        },
        mode: if verify_first {
            PassMode::VerifyFirst
        } else if single_pass {
            PassMode::SinglePass
        } else {
            PassMode::Auto
        },
        sandbox: match a.str("sandbox")? {
            None => projectrestore::sandbox::SandboxMode::Auto,
            Some(m) => projectrestore::sandbox::SandboxMode::parse(&m).ok_or_else(|| {
                usage(format!(
                    "sandbox: {} is not \"auto\", \"wasm\" or \"native\"",
                    projectrestore::report::escape(&m)
                ))
            })?,
        },
        ..Options::default()
    })
}

/// The trust store when `trust=` is not given, as the command line finds it:
/// the settings' `trust` (the user file; a project file only where the user
/// file allows it), else the default store `~/.config/projectrestore/keys`;
/// and the settings' `threshold`, if any. A trust store configured in the
/// settings is never silently skipped, nor its threshold lowered.
fn default_trust() -> PyResult<(Vec<PathBuf>, String, Option<usize>)> {
    let env = crate::env();
    let cfg = projectrestore::config::Config::load(None, &env)
        .map_err(|e| crate::failure(&e.into(), &crate::Seen::default()))?;
    let settings = cfg.merged();
    if let Some(t) = settings.trust {
        let origin = cfg
            .get("trust")
            .map(|(_, from)| from)
            .unwrap_or_else(|| "settings".into());
        return Ok((t, origin, settings.threshold));
    }
    Ok(match projectrestore::config::default_trust_store(&env) {
        Some(d) => {
            let origin = format!("default store {}", d.display());
            (vec![d], origin, settings.threshold)
        }
        None => (Vec::new(), String::new(), settings.threshold),
    })
}

/// `store_options=` over the process's `AWS_*`, `GOOGLE_*`, `AZURE_*` variables.
pub fn store(a: &mut Args<'_>) -> PyResult<StoreOptions> {
    Ok(StoreOptions {
        options: a
            .map("store_options")?
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        env: StoreOptions::store_vars(std::env::vars()),
    })
}

/// The archive to read, as given: `archive=` (a path or an `s3://`, `gs://`,
/// `az://` URL), else the newest in `backup_dir=` matching `pattern=`; through
/// `spool=` when given. Resolved by [`InputSpec::resolve`] in the work, where
/// the GIL is released: listing a bucket can take a while.
pub struct InputSpec {
    archive: Option<PathBuf>,
    backup_dir: PathBuf,
    pattern: String,
    spool: Option<PathBuf>,
    store: StoreOptions,
}

pub fn input(a: &mut Args<'_>, store: &StoreOptions) -> PyResult<InputSpec> {
    Ok(InputSpec {
        spool: a.path("spool")?,
        pattern: a
            .str("pattern")?
            .unwrap_or_else(|| projectrestore::discover::DEFAULT_PATTERN.to_string()),
        backup_dir: a
            .any_path("backup_dir")?
            .unwrap_or_else(|| projectrestore::discover::default_backup_dir(crate::env().home())),
        archive: a.any_path("archive")?,
        store: store.clone(),
    })
}

impl InputSpec {
    /// The input: the object or file named, or the newest backup found.
    pub fn resolve(&self) -> Result<Input, Error> {
        let input = match &self.archive {
            Some(p) => projectrestore::source::object::input(p.as_os_str(), &self.store)?,
            None => {
                let c = projectrestore::source::object::catalog(&self.backup_dir, &self.store)?;
                let newest = c.latest(&self.pattern)?;
                c.input(&newest)
            }
        };
        match &self.spool {
            Some(dir) => projectrestore::source::spool::spooled(input, dir),
            None => Ok(input),
        }
    }
}

/// `require_anchored=`, `log_vkey=`, `allow_older=`, `project=` (and, for a
/// restore, `anchor=` and `log_key=`).
pub fn log(a: &mut Args<'_>, anchoring: bool) -> PyResult<projectrestore::log::gate::LogOptions> {
    let mut l = projectrestore::log::gate::LogOptions {
        require: a.path("require_anchored")?,
        vkey: a.str("log_vkey")?,
        allow_older: a.bool("allow_older")?,
        project: a.str("project")?,
        ..Default::default()
    };
    if anchoring {
        l.anchor = a.path("anchor")?;
        l.signer = a.path("log_key")?;
    }
    Ok(l)
}
