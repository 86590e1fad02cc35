//! Interactions: the one way the library asks its caller for something, either a
//! passphrase or a yes/no confirmation.
//!
//! The library never touches the terminal and reads no environment variable for
//! these. The binary implements [`Interaction`] (terminal prompt,
//! `--passphrase-file`, `PROJECTRESTORE_PASSPHRASE`, `--yes`); a Python host, an
//! agent or a test answers from its own policy. Passphrases are asked for at most
//! once per run and only when a layer really needs one (a scrypt stanza, a
//! protected key), and they are never formatted.

use std::sync::Arc;

pub use age::secrecy::SecretString;

/// Asks the caller. Implementations must be usable from the pipeline's threads.
pub trait Interaction: Send + Sync {
    /// The passphrase for `what` (e.g. "the archive x.tar.age", "the SSH key
    /// id_ed25519"): `Ok(None)` when the caller has none to give, `Err` with a
    /// message when obtaining it failed (an unreadable passphrase file).
    fn passphrase(&self, what: &str) -> Result<Option<SecretString>, String>;

    /// A yes/no question (already escaped for display): `true` goes on.
    fn confirm(&self, question: &str) -> bool;
}

/// How the library holds an interaction: shared by the decryption threads.
pub type SharedInteraction = Arc<dyn Interaction>;

/// Never a passphrase, never yes: for scripts, verification and tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInteraction;

impl Interaction for NoInteraction {
    fn passphrase(&self, _what: &str) -> Result<Option<SecretString>, String> {
        Ok(None)
    }

    fn confirm(&self, _question: &str) -> bool {
        false
    }
}

impl NoInteraction {
    /// A shared [`NoInteraction`].
    pub fn shared() -> SharedInteraction {
        Arc::new(NoInteraction)
    }
}

/// Fixed answers: a given passphrase (or none) and a given yes/no.
pub struct Answers {
    /// The passphrase for everything that asks.
    pub passphrase: Option<SecretString>,
    /// The answer to every confirmation.
    pub confirm: bool,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("passphrase", &self.passphrase.as_ref().map(|_| "<secret>"))
            .field("confirm", &self.confirm)
            .finish()
    }
}

impl Interaction for Answers {
    fn passphrase(&self, _what: &str) -> Result<Option<SecretString>, String> {
        Ok(self.passphrase.clone())
    }

    fn confirm(&self, _question: &str) -> bool {
        self.confirm
    }
}
