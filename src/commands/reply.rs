//! Who asks and what they are answered: [`CommandContext`] (the room, the sender and
//! whether they may change things there) and [`Reply`], shared by every family of
//! handlers.

use crate::store::StoreError;

/// Who is asking, where, and whether they may change things.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The room the command was typed in (`console` for the terminal).
    pub room_id: String,
    /// Who typed it.
    pub sender: String,
    /// True if the sender may change watchlists, feeds and subscriptions here.
    pub may_change: bool,
    /// Said when a change is refused, e.g. "needs power level 50".
    pub refusal: String,
    /// True for an operator admin (`[matrix] admins`, and the console): may change
    /// operator lists and feeds, and every room's.
    pub operator: bool,
}

impl CommandContext {
    /// The asker, for [`crate::access`].
    pub fn asker(&self) -> crate::access::Asker<'_> {
        crate::access::Asker {
            room: &self.room_id,
            operator: self.operator,
        }
    }
}

/// A command's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Plain text.
    pub text: String,
}

impl Reply {
    /// A reply saying `text`.
    pub fn new(text: impl Into<String>) -> Reply {
        Reply { text: text.into() }
    }
}

/// What a handler answers, or the store error that stopped it.
pub type CommandResult = Result<Reply, StoreError>;

/// "s" unless `n` is one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
