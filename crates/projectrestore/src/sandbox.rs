//! The sandboxed extractor (DESIGN.md invariant 10): the stages that parse
//! structure no signature has authenticated — decompression and the tar
//! validator — run as a WebAssembly guest (crates/sandbox-guest, compiled by
//! this crate's build script) under wasmtime, with no file system, no network,
//! no clock and no randomness, and hard limits on memory and instructions. The
//! host pushes the decrypted stream in (the guest's `read` import) and takes
//! records out (`emit`); it validates every entry again with the same rules
//! ([`Recheck`]) before its sink writes anything, so a guest that lies can make
//! a restore fail but never make it write outside the rules.
//!
//! What it does not protect against: a bug in wasmtime itself (a sandbox
//! escape) — keep the build current; and decryption, which stays native (it
//! holds the secrets, and they never enter the guest).

use std::io::{self, Read};
use std::sync::mpsc;

use projectrestore_archive::validate::Recheck;
use projectrestore_archive::wire::{Record, Stop};
use projectrestore_archive::{
    ArchiveError, EntryPolicy, ExtractError, Format, Limits, Sink, Summary,
};

use crate::source::Cancel;

/// Which extractor parses the archive (`--sandbox`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxMode {
    /// Native when every stored byte was authenticated before parsing
    /// (verify-first with a trusted signature), the sandbox otherwise.
    #[default]
    Auto,
    /// Always the sandbox.
    Wasm,
    /// Never the sandbox.
    Native,
}

impl SandboxMode {
    /// The command line's and the config file's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(SandboxMode::Auto),
            "wasm" => Some(SandboxMode::Wasm),
            "native" => Some(SandboxMode::Native),
            _ => None,
        }
    }
}

/// The sandbox's limits (`--sandbox-memory`, `--sandbox-fuel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// The guest's linear memory, in bytes.
    pub memory: u64,
    /// The most instructions (wasmtime fuel) the guest may run without moving
    /// data; every byte it reads or sends earns [`FUEL_PER_BYTE`] more, up to
    /// this. So the whole budget grows with the archive, and a guest that
    /// spins stops within this many instructions.
    pub fuel: u64,
}

/// Fuel earned by every byte the guest reads or sends.
pub const FUEL_PER_BYTE: u64 = 1000;

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            memory: 256 << 20,
            fuel: 20_000_000_000,
        }
    }
}

/// The extractor that ran, and why (the report's `extractor`, the events' and
/// the plan's).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Extractor {
    /// `wasm` or `native`.
    pub kind: ExtractorKind,
    /// In words.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtractorKind {
    Wasm,
    Native,
}

/// Which extractor `mode` picks for a pass whose stored bytes were (or were
/// not) all `authenticated` by a trusted signature before parsing.
pub fn choose(mode: SandboxMode, authenticated: bool) -> Extractor {
    let (kind, reason) = match mode {
        SandboxMode::Wasm => (ExtractorKind::Wasm, "--sandbox wasm"),
        SandboxMode::Native => (ExtractorKind::Native, "--sandbox native"),
        SandboxMode::Auto if authenticated => (
            ExtractorKind::Native,
            "every byte was authenticated by a trusted signature before parsing",
        ),
        SandboxMode::Auto if !AVAILABLE => (
            ExtractorKind::Native,
            "this build has no sandbox (built without the \"sandbox\" feature)",
        ),
        SandboxMode::Auto => (
            ExtractorKind::Wasm,
            "the bytes were not authenticated before parsing (unsigned, a single pass or a stream, or a network source, whose second read is proven only at the gate)",
        ),
    };
    Extractor {
        kind,
        reason: reason.to_string(),
    }
}

/// Is the sandbox in this build?
pub const AVAILABLE: bool = cfg!(feature = "sandbox");

/// Why the sandbox stopped a run (exit 5: the archive made the guest break a
/// limit or trap; nothing was written outside staging).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandboxed extractor could not start: {0}")]
    Load(String),
    #[error(
        "the sandboxed extractor hit its memory limit ({} MiB) decoding this archive; raise it with --sandbox-memory if the archive is trusted to need more",
        .limit >> 20
    )]
    Memory { limit: u64 },
    #[error(
        "the sandboxed extractor used up its time budget ({fuel} instructions without reading or writing); raise it with --sandbox-fuel if the archive is trusted to need more"
    )]
    Time { fuel: u64 },
    #[error("the sandboxed extractor stopped: {0}")]
    Trap(String),
    #[error("the sandboxed extractor broke its protocol: {0}")]
    Protocol(String),
    #[error("this build has no sandbox (built without the \"sandbox\" feature); use --sandbox native or a build with it")]
    Unavailable,
}

/// How an extraction in the sandbox ended badly.
#[derive(Debug)]
pub enum Failure<E> {
    /// The same errors the native extractor gives.
    Extract(ExtractError<E>),
    /// The guest broke a limit or trapped.
    Sandbox(SandboxError),
}

impl<E> From<ArchiveError> for Failure<E> {
    fn from(e: ArchiveError) -> Self {
        Failure::Extract(ExtractError::Archive(e))
    }
}

/// The guest module's bytes, as the build made them.
#[cfg(feature = "sandbox")]
const GUEST: &[u8] = include_bytes!(env!("PROJECTRESTORE_SANDBOX_GUEST"));

/// Decode `format` from `input` and validate the tar inside in the sandbox,
/// handing each entry, validated again here, to `sink`.
#[allow(clippy::too_many_arguments)] // the native extractor's arguments, and the sandbox's
pub fn extract<R: Read + Send + 'static, S: Sink>(
    input: R,
    format: Format,
    authenticated: bool,
    limits: &Limits,
    policy: &EntryPolicy,
    sandbox: &SandboxLimits,
    cancel: &Cancel,
    sink: &mut S,
) -> Result<Summary, Failure<S::Error>> {
    #[cfg(feature = "sandbox")]
    {
        host::extract(
            input,
            &projectrestore_archive::wire::Config {
                format,
                authenticated,
                limits: limits.clone(),
                policy: policy.clone(),
            },
            sandbox,
            cancel,
            sink,
        )
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = (
            input,
            format,
            authenticated,
            limits,
            policy,
            sandbox,
            cancel,
            sink,
        );
        Err(Failure::Sandbox(SandboxError::Unavailable))
    }
}

/// The records from the guest thread, waited for with an eye on the cancel flag.
#[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
struct Records<'r> {
    rx: &'r mpsc::Receiver<Record>,
    cancel: &'r Cancel,
    /// A record that came where data was due (the guest's reason to stop).
    stashed: Option<Record>,
    /// The guest went away (a trap, a limit) or the run was cancelled.
    gone: bool,
}

impl Records<'_> {
    fn next(&mut self) -> Option<Record> {
        if let Some(r) = self.stashed.take() {
            return Some(r);
        }
        loop {
            if self.cancel.is_set() {
                self.gone = true;
                return None;
            }
            match self.rx.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(r) => return Some(r),
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.gone = true;
                    return None;
                }
            }
        }
    }
}

/// The data of one file, as data records arrive from the guest.
#[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
struct Data<'a, 'r> {
    records: &'a mut Records<'r>,
    left: u64,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for Data<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.left == 0 {
                return Ok(0);
            }
            match self.records.next() {
                Some(Record::Data(d)) => {
                    if d.len() as u64 > self.left {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "the sandbox sent more data than the file's size",
                        ));
                    }
                    self.left -= d.len() as u64;
                    self.chunk = d;
                    self.at = 0;
                }
                Some(other) => {
                    self.records.stashed = Some(other);
                    return Ok(0);
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The host's side of the records: each entry validated again, then written.
#[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
fn consume<S: Sink>(
    rx: &mpsc::Receiver<Record>,
    cancel: &Cancel,
    limits: &Limits,
    policy: &EntryPolicy,
    sink: &mut S,
) -> Consumed<S::Error> {
    let host_policy = EntryPolicy {
        strip_components: 0,
        ..policy.clone()
    };
    let mut recheck = Recheck::new(limits, &host_policy);
    let mut records = Records {
        rx,
        cancel,
        stashed: None,
        gone: false,
    };
    loop {
        let Some(record) = records.next() else {
            return Consumed::Vanished;
        };
        match record {
            Record::Entry(e) => {
                let mut data = Data {
                    records: &mut records,
                    left: e.size,
                    chunk: Vec::new(),
                    at: 0,
                };
                let result = recheck.entry(&e, &mut data, sink);
                if let Err(err) = result {
                    // The guest's own reason, when it stopped inside this
                    // file, explains the failure best (it is the native one);
                    // a guest that went away mid-file hit a limit or trapped.
                    return match records.stashed.take() {
                        Some(Record::Stop(Stop::Archive(e))) => Consumed::Guest(e.into_archive()),
                        _ if records.gone => Consumed::Vanished,
                        _ => Consumed::Host(err),
                    };
                }
            }
            Record::Data(_) => {
                return Consumed::Host(
                    ArchiveError::Rejected {
                        entry: "(sandbox)".into(),
                        rule: "the sandbox sent data outside a file, or more than the file's size"
                            .into(),
                    }
                    .into(),
                )
            }
            Record::End(end) => {
                return match recheck.finish(&end) {
                    Ok(summary) => Consumed::Done(summary),
                    Err(e) => Consumed::Host(e.into()),
                }
            }
            Record::Stop(Stop::Archive(e)) => return Consumed::Guest(e.into_archive()),
            Record::Stop(Stop::Host) => return Consumed::Vanished,
        }
    }
}

#[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
enum Consumed<E> {
    Done(Summary),
    /// The host refused (its recheck) or its sink failed.
    Host(ExtractError<E>),
    /// The guest refused the archive.
    Guest(ArchiveError),
    /// The guest stopped without saying why (a trap, or it was told to).
    Vanished,
}

#[cfg(feature = "sandbox")]
mod host {
    use super::*;
    use projectrestore_archive::classify_read_error;
    use projectrestore_archive::wire::Config;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::sync::OnceLock;
    use wasmtime::{
        Caller, Engine, Extern, Linker, Module, ResourceLimiter, Store, UpdateDeadline,
    };

    /// The engine and the compiled guest, once per process (in memory only:
    /// loading precompiled code from disk would need `unsafe`).
    struct Compiled {
        engine: Engine,
        module: Module,
    }

    static COMPILED: OnceLock<Result<Compiled, SandboxError>> = OnceLock::new();

    fn engine() -> Result<Engine, SandboxError> {
        let mut config = wasmtime::Config::new();
        config
            .strategy(wasmtime::Strategy::Cranelift)
            .consume_fuel(true)
            // The host stops a guest that computes without reading or
            // writing (a cancel, a refusal) at its next loop or call.
            .epoch_interruption(true)
            .max_wasm_stack(1 << 20)
            // A trap's message is the host's words; the guest's stack adds nothing a user can use.
            .wasm_backtrace_max_frames(None);
        Engine::new(&config).map_err(|e| SandboxError::Load(format!("wasmtime: {e}")))
    }

    fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, SandboxError> {
        let module = Module::new(engine, bytes)
            .map_err(|e| SandboxError::Load(format!("the guest module does not compile: {e}")))?;
        for import in module.imports() {
            let allowed = import.module() == "projectrestore"
                && matches!(import.name(), "read" | "emit")
                && matches!(import.ty(), wasmtime::ExternType::Func(_));
            if !allowed {
                return Err(SandboxError::Load(format!(
                    "the guest imports {}::{}, which the sandbox does not give (it gives no file system, network, clock or randomness)",
                    projectrestore_archive::escape(import.module()),
                    projectrestore_archive::escape(import.name())
                )));
            }
        }
        for export in ["memory", "alloc", "run"] {
            if module.get_export(export).is_none() {
                return Err(SandboxError::Load(format!(
                    "the guest module has no export {export:?}"
                )));
            }
        }
        Ok(module)
    }

    fn compiled() -> Result<&'static Compiled, SandboxError> {
        COMPILED
            .get_or_init(|| {
                let engine = engine()?;
                let module = compile(&engine, GUEST)?;
                Ok(Compiled { engine, module })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The module to run: the built guest, or (test builds only) the one
    /// PROJECTRESTORE_SANDBOX_GUEST names, for the tests' hostile guests.
    fn module() -> Result<(Engine, Module), SandboxError> {
        if let Some(path) = projectrestore_fs::hooks::sandbox_guest() {
            let bytes = std::fs::read(&path)
                .map_err(|e| SandboxError::Load(format!("{}: {e}", path.display())))?;
            let engine = engine()?;
            let module = compile(&engine, &bytes)?;
            return Ok((engine, module));
        }
        let c = compiled()?;
        Ok((c.engine.clone(), c.module.clone()))
    }

    struct Limiter {
        memory: u64,
        hit: bool,
    }

    impl ResourceLimiter for Limiter {
        fn memory_growing(
            &mut self,
            _current: usize,
            desired: usize,
            _maximum: Option<usize>,
        ) -> wasmtime::Result<bool> {
            if desired as u64 > self.memory {
                self.hit = true;
                return Ok(false);
            }
            Ok(true)
        }

        fn table_growing(
            &mut self,
            _current: usize,
            desired: usize,
            _maximum: Option<usize>,
        ) -> wasmtime::Result<bool> {
            Ok(desired <= 1 << 16)
        }
    }

    /// What the guest's imports work with.
    struct Host {
        input: Box<dyn Read + Send>,
        /// The host's own read error: the real cause when the guest stops.
        input_error: Option<io::Error>,
        tx: mpsc::SyncSender<Record>,
        limiter: Limiter,
        fuel: u64,
        cancel: Cancel,
        /// Set when the host no longer wants records (it refused, failed or
        /// was cancelled): the guest's imports fail, and at the next epoch
        /// check it traps.
        closed: Arc<AtomicBool>,
        /// The largest entry or end record the limits allow.
        max_header: usize,
        /// The guest's end-of-archive record was taken.
        ended: bool,
    }

    /// The largest read the host serves.
    const MAX_READ: usize = 1 << 20;
    /// The largest data record (the guest sends 64 KiB pieces).
    const MAX_DATA: usize = 1 + (64 << 10);

    fn refuel(caller: &mut Caller<'_, Host>, bytes: usize) -> wasmtime::Result<()> {
        let cap = caller.data().fuel;
        let now = caller.get_fuel()?;
        caller.set_fuel(
            now.saturating_add((bytes as u64).saturating_mul(FUEL_PER_BYTE))
                .min(cap),
        )
    }

    fn memory(caller: &mut Caller<'_, Host>) -> wasmtime::Result<wasmtime::Memory> {
        match caller.get_export("memory") {
            Some(Extern::Memory(m)) => Ok(m),
            _ => Err(wasmtime::Error::msg("the guest has no memory export")),
        }
    }

    fn read(mut caller: Caller<'_, Host>, ptr: u32, len: u32) -> wasmtime::Result<i32> {
        if caller.data().cancel.is_set() {
            let host = caller.data_mut();
            host.input_error = Some(io::Error::other(crate::source::Cancelled));
            return Ok(-1);
        }
        if caller.data().closed.load(Ordering::Relaxed) {
            return Ok(-1);
        }
        let want = (len as usize).min(MAX_READ);
        let mem = memory(&mut caller)?;
        let (data, host) = mem.data_and_store_mut(&mut caller);
        let start = ptr as usize;
        let dest = data
            .get_mut(start..start.saturating_add(want))
            .ok_or_else(|| {
                wasmtime::Error::msg("the guest asked to read into memory it does not have")
            })?;
        let n = loop {
            match host.input.read(dest) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    host.input_error = Some(e);
                    return Ok(-1);
                }
            }
        };
        refuel(&mut caller, n)?;
        Ok(i32::try_from(n).unwrap_or(-1))
    }

    fn emit(mut caller: Caller<'_, Host>, ptr: u32, len: u32) -> wasmtime::Result<i32> {
        let len = len as usize;
        if caller.data().closed.load(Ordering::Relaxed) || caller.data().cancel.is_set() {
            return Ok(1);
        }
        if len > MAX_DATA.max(caller.data().max_header) {
            return Err(wasmtime::Error::msg(format!(
                "the guest sent a record of {len} bytes"
            )));
        }
        let mem = memory(&mut caller)?;
        let start = ptr as usize;
        let bytes = mem
            .data(&caller)
            .get(start..start.saturating_add(len))
            .ok_or_else(|| {
                wasmtime::Error::msg("the guest sent a record from memory it does not have")
            })?;
        let record = Record::decode(bytes).map_err(|e| wasmtime::Error::msg(e.to_string()))?;
        // Fuel is earned by data the host takes, never by records alone (an
        // empty data record in a loop would otherwise earn it for ever).
        let earned = match &record {
            Record::Data(d) if d.is_empty() => {
                return Err(wasmtime::Error::msg("the guest sent an empty data record"))
            }
            Record::Data(d) if d.len() >= MAX_DATA => {
                return Err(wasmtime::Error::msg(format!(
                    "the guest sent a data record of {} bytes",
                    d.len()
                )))
            }
            Record::Data(d) => d.len(),
            _ => 0,
        };
        let end = matches!(record, Record::End(_));
        if caller.data().tx.send(record).is_err() {
            return Ok(1);
        }
        caller.data_mut().ended |= end;
        refuel(&mut caller, earned)?;
        Ok(0)
    }

    /// Run the guest over `input`, sending its records to `tx`. The error is
    /// the guest's failure (a trap, a limit), if it had one.
    #[allow(clippy::too_many_arguments)]
    fn run_guest(
        engine: &Engine,
        module: &Module,
        input: Box<dyn Read + Send>,
        config: &[u8],
        max_header: usize,
        sandbox: &SandboxLimits,
        cancel: &Cancel,
        closed: &Arc<AtomicBool>,
        tx: mpsc::SyncSender<Record>,
    ) -> (Result<(), SandboxError>, Option<io::Error>) {
        let mut store = Store::new(
            engine,
            Host {
                input,
                input_error: None,
                tx,
                limiter: Limiter {
                    memory: sandbox.memory,
                    hit: false,
                },
                fuel: sandbox.fuel,
                cancel: cancel.clone(),
                closed: Arc::clone(closed),
                max_header,
                ended: false,
            },
        );
        store.limiter(|h| &mut h.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            if ctx.data().closed.load(Ordering::Relaxed) || ctx.data().cancel.is_set() {
                Err(wasmtime::Error::msg("stopped by the host"))
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
        let outcome = (|| -> wasmtime::Result<()> {
            store.set_fuel(sandbox.fuel)?;
            let mut linker: Linker<Host> = Linker::new(engine);
            linker.func_wrap("projectrestore", "read", read)?;
            linker.func_wrap("projectrestore", "emit", emit)?;
            let instance = linker.instantiate(&mut store, module)?;
            let alloc = instance.get_typed_func::<u32, u32>(&mut store, "alloc")?;
            let run = instance.get_typed_func::<(u32, u32), i32>(&mut store, "run")?;
            let memory = instance
                .get_memory(&mut store, "memory")
                .ok_or_else(|| wasmtime::Error::msg("the guest has no memory"))?;
            let len = u32::try_from(config.len())?;
            let ptr = alloc.call(&mut store, len)?;
            memory.write(&mut store, ptr as usize, config)?;
            run.call(&mut store, (ptr, len))?;
            Ok(())
        })();
        let fuel_left = store.get_fuel().unwrap_or(1);
        let mut host = store.into_data();
        // After its end-of-archive record the guest has nothing more to say:
        // the host stops it then (the epoch check), and that is no failure.
        let outcome = if host.ended { Ok(()) } else { outcome };
        // A guest that reported the end must have read its input to the end
        // (an honest one does: the decoders and the validator check what follows).
        let unread = outcome.is_ok()
            && host.ended
            && host.input_error.is_none()
            && matches!(host.input.read(&mut [0u8; 1]), Ok(n) if n > 0);
        let err = host.input_error;
        let result = match outcome {
            Ok(()) if unread => Err(SandboxError::Protocol(
                "the guest stopped before the end of its input".into(),
            )),
            Ok(()) => Ok(()),
            Err(_) if host.limiter.hit => Err(SandboxError::Memory {
                limit: sandbox.memory,
            }),
            Err(e)
                if fuel_left == 0
                    || e.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::OutOfFuel) =>
            {
                Err(SandboxError::Time { fuel: sandbox.fuel })
            }
            Err(e) => Err(SandboxError::Trap(format!("{e:#}").replace('\n', " "))),
        };
        (result, err)
    }

    pub(super) fn extract<R: Read + Send + 'static, S: Sink>(
        input: R,
        config: &Config,
        sandbox: &SandboxLimits,
        cancel: &Cancel,
        sink: &mut S,
    ) -> Result<Summary, Failure<S::Error>> {
        let encoded = config.encode();
        let (engine, module) = module().map_err(Failure::Sandbox)?;
        // An entry record holds a path and a link target; an end or stop
        // record a path, a rule and a message.
        let max_header = 4 * config.limits.max_path_bytes + (64 << 10);
        let closed = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::sync_channel(16);
        std::thread::scope(|scope| {
            let guest = scope.spawn(|| {
                run_guest(
                    &engine,
                    &module,
                    Box::new(input),
                    &encoded,
                    max_header,
                    sandbox,
                    cancel,
                    &closed,
                    tx,
                )
            });
            let consumed = consume(&rx, cancel, &config.limits, &config.policy, sink);
            // However it ended, the guest is stopped: its imports fail, the
            // epoch check traps it out of a loop, and its next record finds
            // the receiver gone.
            closed.store(true, Ordering::Relaxed);
            engine.increment_epoch();
            drop(rx);
            let (guest_result, input_error) = match guest.join() {
                Ok(r) => r,
                Err(_) => (
                    Err(SandboxError::Trap(
                        "the sandbox host thread panicked".into(),
                    )),
                    None,
                ),
            };
            // The cause, most telling first: the host's own read error (a
            // cancel, a decryption failure, a ratio bomb in OpenPGP), the
            // host's sink or recheck, the guest's verdict, the guest's trap.
            if let Some(e) = input_error {
                if !matches!(consumed, Consumed::Host(ExtractError::Sink { .. })) {
                    return Err(classify_read_error(e).into());
                }
            }
            match consumed {
                Consumed::Done(summary) => match guest_result {
                    Ok(()) => Ok(summary),
                    Err(e) => Err(Failure::Sandbox(e)),
                },
                Consumed::Host(e) => Err(Failure::Extract(e)),
                Consumed::Guest(e) => Err(e.into()),
                Consumed::Vanished => {
                    Err(Failure::Sandbox(guest_result.err().unwrap_or_else(|| {
                        SandboxError::Protocol(
                            "the guest ended without an end-of-archive record".into(),
                        )
                    })))
                }
            }
        })
    }
}
