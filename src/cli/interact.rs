//! The binary's [`Interaction`]: where passphrases and confirmations come from on
//! the command line. The library asks; only this file reads
//! `PROJECTRESTORE_PASSPHRASE`, a `--passphrase-file` or the terminal.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use projectrestore::interact::{Interaction, SecretString, SharedInteraction};

/// Passphrases from `--passphrase-file`, else `PROJECTRESTORE_PASSPHRASE`, else a
/// prompt on the terminal; confirmations asked on the terminal (without one they
/// are declined, and the error names `--yes`).
#[derive(Debug, Clone, Default)]
pub struct Terminal {
    /// `--passphrase-file`: the first line of the file.
    pub passphrase_file: Option<PathBuf>,
    /// Ask for confirmations at all (commands that never replace anything: no).
    pub confirm: bool,
    /// Read the answer from standard input even when it is not a terminal
    /// (`restore --interactive`, so `echo y |` works; end of input is "no").
    pub answer_from_stdin: bool,
}

impl Terminal {
    /// Shared, for the library.
    pub fn shared(passphrase_file: Option<PathBuf>, confirm: bool) -> SharedInteraction {
        Arc::new(Terminal {
            passphrase_file,
            confirm,
            answer_from_stdin: false,
        })
    }
}

/// The first line of `reader` (of at most 64 KiB read: more than any
/// passphrase, URL or signing secret), kept secret; what else was read is
/// zeroized.
pub fn first_line(reader: impl std::io::Read) -> io::Result<SecretString> {
    use std::io::Read;
    let mut text = String::new();
    let read = reader.take(64 << 10).read_to_string(&mut text);
    let first = text.lines().next().unwrap_or_default().to_string();
    zeroize::Zeroize::zeroize(&mut text);
    read.map(|_| SecretString::from(first))
}

fn terminal() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

impl Interaction for Terminal {
    fn passphrase(&self, what: &str) -> Result<Option<SecretString>, String> {
        if let Some(f) = &self.passphrase_file {
            let cannot =
                |e: io::Error| format!("cannot read the passphrase file {}: {e}", f.display());
            return std::fs::File::open(f)
                .and_then(first_line)
                .map(Some)
                .map_err(cannot);
        }
        if let Ok(p) = std::env::var("PROJECTRESTORE_PASSPHRASE") {
            return Ok(Some(SecretString::from(p)));
        }
        if terminal() {
            return rpassword::prompt_password(format!("Passphrase for {what}: "))
                .map(|p| Some(SecretString::from(p)))
                .map_err(|e| format!("cannot read a passphrase from the terminal: {e}"));
        }
        Ok(None)
    }

    fn confirm(&self, question: &str) -> bool {
        if !self.confirm || !(self.answer_from_stdin || terminal()) {
            return false;
        }
        eprint!("{question} [y/N] ");
        let _ = io::stderr().flush();
        let mut answer = String::new();
        let yes = io::stdin().read_line(&mut answer).is_ok()
            && matches!(answer.trim(), "y" | "Y" | "yes");
        if !yes {
            DECLINED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        yes
    }
}

/// Set when a person was asked and did not say yes (not when nobody could be
/// asked): then a refusal is "Aborted.", not an error to fix with --yes.
static DECLINED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Did a person answer no (or end the input) to a question of this run?
pub fn declined() -> bool {
    DECLINED.load(std::sync::atomic::Ordering::SeqCst)
}

/// An interaction that clears the progress bar while it asks, so a question
/// is never drawn over the bar (and the bar comes back after).
pub struct Suspending {
    inner: projectrestore::interact::SharedInteraction,
    bar: indicatif::ProgressBar,
}

impl Suspending {
    pub fn shared(
        inner: projectrestore::interact::SharedInteraction,
        bar: indicatif::ProgressBar,
    ) -> projectrestore::interact::SharedInteraction {
        std::sync::Arc::new(Suspending { inner, bar })
    }
}

impl projectrestore::interact::Interaction for Suspending {
    fn passphrase(
        &self,
        what: &str,
    ) -> Result<Option<projectrestore::interact::SecretString>, String> {
        self.bar.suspend(|| self.inner.passphrase(what))
    }

    fn confirm(&self, question: &str) -> bool {
        self.bar.suspend(|| self.inner.confirm(question))
    }
}
