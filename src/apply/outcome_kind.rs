//! What happened to an object, without the message: for counting and printing.

use std::fmt;

use super::Outcome;

/// An [`Outcome`] without its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// [`Outcome::Created`].
    Created,
    /// [`Outcome::Updated`].
    Updated,
    /// [`Outcome::Recreated`].
    Recreated,
    /// [`Outcome::Pruned`].
    Pruned,
    /// [`Outcome::Unchanged`].
    Unchanged,
    /// [`Outcome::Kept`].
    Kept,
    /// [`Outcome::Failed`].
    Failed,
    /// [`Outcome::Skipped`].
    Skipped,
}

impl OutcomeKind {
    /// The lowercase name, as printed (`created`, `pruned`, …).
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Created => "created",
            OutcomeKind::Updated => "updated",
            OutcomeKind::Recreated => "recreated",
            OutcomeKind::Pruned => "pruned",
            OutcomeKind::Unchanged => "unchanged",
            OutcomeKind::Kept => "kept",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Skipped => "skipped",
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Outcome {
    /// Which outcome this is, without its message.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Created => OutcomeKind::Created,
            Outcome::Updated => OutcomeKind::Updated,
            Outcome::Recreated => OutcomeKind::Recreated,
            Outcome::Pruned => OutcomeKind::Pruned,
            Outcome::Unchanged => OutcomeKind::Unchanged,
            Outcome::Kept(_) => OutcomeKind::Kept,
            Outcome::Failed(_) => OutcomeKind::Failed,
            Outcome::Skipped(_) => OutcomeKind::Skipped,
        }
    }
}
