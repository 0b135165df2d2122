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
    /// The asker, for [`crate::access`]: an operator admin may change and remove
    /// anything.
    pub fn asker(&self) -> crate::access::Asker<'_> {
        crate::access::Asker {
            room: &self.room_id,
            operator: self.operator,
        }
    }

    /// The room as any member sees it, for what the room lists and receives: an
    /// operator admin typing in a room does not make another room's private lists
    /// and feeds show up (or get subscribed to) there.
    pub fn room_view(&self) -> crate::access::Asker<'_> {
        crate::access::Asker {
            room: &self.room_id,
            operator: false,
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

/// What [`CommandRate::check`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Carry the command out.
    Allowed,
    /// Over the limit: refuse, saying so only the first time (`tell`), so that a
    /// flood of commands does not become a flood of replies.
    Refused {
        /// True for the first refused command since the sender was last allowed.
        tell: bool,
        /// Until the sender may give a command again.
        wait: std::time::Duration,
    },
}

/// Commands per user per minute (`[limits] commands_per_minute`), counted over the
/// last 60 seconds.
pub struct CommandRate {
    per_minute: usize,
    recent:
        std::collections::HashMap<String, (std::collections::VecDeque<std::time::Instant>, bool)>,
}

impl CommandRate {
    /// A limit of `per_minute` commands per sender.
    pub fn new(per_minute: usize) -> CommandRate {
        CommandRate {
            per_minute,
            recent: std::collections::HashMap::new(),
        }
    }

    /// Counts a command from `sender` at `now`, if the sender is within the limit.
    pub fn check(&mut self, sender: &str, now: std::time::Instant) -> RateDecision {
        const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
        self.recent.retain(|_, (times, _)| {
            times
                .back()
                .is_some_and(|t| now.duration_since(*t) < WINDOW)
        });
        let (times, told) = self.recent.entry(sender.to_string()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() < self.per_minute {
            times.push_back(now);
            *told = false;
            return RateDecision::Allowed;
        }
        let wait = times.front().map_or(WINDOW, |first| {
            WINDOW.saturating_sub(now.duration_since(*first))
        });
        let tell = !*told;
        *told = true;
        RateDecision::Refused { tell, wait }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_sender_over_the_limit_is_refused_once_aloud_then_quietly_until_the_minute_passes() {
        let mut rate = CommandRate::new(2);
        let t0 = Instant::now();
        assert_eq!(rate.check("@a:x", t0), RateDecision::Allowed);
        assert_eq!(rate.check("@a:x", t0), RateDecision::Allowed);
        assert!(matches!(
            rate.check("@a:x", t0 + Duration::from_secs(1)),
            RateDecision::Refused { tell: true, .. }
        ));
        assert!(matches!(
            rate.check("@a:x", t0 + Duration::from_secs(2)),
            RateDecision::Refused { tell: false, .. }
        ));
        assert_eq!(rate.check("@b:x", t0), RateDecision::Allowed, "per sender");
        assert_eq!(
            rate.check("@a:x", t0 + Duration::from_secs(61)),
            RateDecision::Allowed
        );
    }
}
