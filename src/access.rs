//! Rooms as tenants: who may see, use and change each watchlist and feed, and which
//! rooms follow a feed and how. A list or feed made by command belongs to the room it
//! was made in; only that room (or an operator admin) changes it, and other rooms see
//! it only once its owner shares it, read-only. Lists and feeds from the config file
//! (or `watchlist import`) are the operator's: any room may use them (a list's `rooms`
//! may narrow that), only operator admins change them. An operator feed without
//! `followers` is followed by every room in matches mode unless the room unfollows
//! it. The commands, the pipeline and the feed notices all ask here, so the rules are
//! written once.

use std::sync::Arc;

use crate::app::App;
use crate::config::{FollowMode, FollowRule};
use crate::store::{
    FeedOrigin, FeedRecord, Follow, ListRecord, RoomRecords, StoreError, Subscription,
};
use crate::summary::Recognition;

/// Who asks: the room, and whether the sender is an operator admin (the console
/// always is).
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// The room the command was typed in.
    pub room: &'a str,
    /// True for an operator admin.
    pub operator: bool,
}

/// What a room may do with a watchlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ListAccess {
    /// Nothing: to this room the list does not exist.
    Hidden,
    /// See it and subscribe to it, not change it.
    Use,
    /// Everything: its own list, or an operator admin.
    Change,
}

/// What a room may do with a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FeedAccess {
    /// Nothing: to this room the feed does not exist.
    Hidden,
    /// Follow it (an operator feed, or one another room shares).
    Follow,
    /// Follow, share and remove it: the room added it, or an operator admin asks.
    Own,
}

/// What `asker` may do with `list`.
pub fn list_access(app: &App, asker: Asker<'_>, list: &ListRecord) -> ListAccess {
    if asker.operator {
        return ListAccess::Change;
    }
    match &list.owner {
        Some(owner) if owner == asker.room => ListAccess::Change,
        Some(_) if list.shared => ListAccess::Use,
        Some(_) => ListAccess::Hidden,
        None => {
            let restricted = app
                .config
                .watchlists
                .iter()
                .find(|w| w.name == list.name)
                .and_then(|w| w.rooms.as_ref());
            match restricted {
                Some(rooms) if !rooms.iter().any(|r| r == asker.room) => ListAccess::Hidden,
                _ => ListAccess::Use,
            }
        }
    }
}

/// The list named `name` if `asker` may at least use it (a hidden list reads as
/// missing).
pub fn visible_list(
    app: &App,
    asker: Asker<'_>,
    name: &str,
) -> Result<Option<(ListRecord, ListAccess)>, StoreError> {
    Ok(app.store.list(name)?.and_then(|list| {
        let access = list_access(app, asker, &list);
        (access != ListAccess::Hidden).then_some((list, access))
    }))
}

/// The lists `asker` may at least use, by name.
pub fn usable_lists(app: &App, asker: Asker<'_>) -> Result<Vec<ListRecord>, StoreError> {
    Ok(app
        .store
        .lists()?
        .into_iter()
        .filter(|l| list_access(app, asker, l) != ListAccess::Hidden)
        .collect())
}

/// What `asker` may do with `feed`.
pub fn feed_access(asker: Asker<'_>, feed: &FeedRecord) -> FeedAccess {
    match &feed.origin {
        FeedOrigin::Command { .. } if asker.operator => FeedAccess::Own,
        FeedOrigin::Command { room, .. } if room == asker.room => FeedAccess::Own,
        FeedOrigin::Command { .. } if feed.shared => FeedAccess::Follow,
        FeedOrigin::Command { .. } => FeedAccess::Hidden,
        FeedOrigin::Config => FeedAccess::Follow,
    }
}

/// The feed `id` if `asker` may at least follow it (a hidden feed reads as missing).
pub fn visible_feed(
    app: &App,
    asker: Asker<'_>,
    id: &str,
) -> Result<Option<(FeedRecord, FeedAccess)>, StoreError> {
    Ok(app.feed(id)?.and_then(|feed| {
        let access = feed_access(asker, &feed);
        (access != FeedAccess::Hidden).then_some((feed, access))
    }))
}

/// A stored follow as a rule.
pub fn rule_of(follow: &Follow) -> FollowRule {
    FollowRule {
        mode: follow.mode,
        actions: follow.actions.clone(),
        authorities: follow.authorities.clone(),
    }
}

/// True if `rule` lets an item recognised as `recognition` through (its mode aside).
pub fn rule_admits(rule: &FollowRule, recognition: &Recognition) -> bool {
    let action_ok = rule.actions.is_empty()
        || rule
            .actions
            .iter()
            .any(|a| a == recognition.action.as_str());
    let authority_ok = rule.authorities.is_empty()
        || recognition
            .authority
            .is_some_and(|a| rule.authorities.iter().any(|code| code == a.code));
    action_ok && authority_ok
}

/// Everything needed to say who follows which feed: the store's room records
/// ([`crate::store::RoomRecords`], kept in memory until they change).
pub struct FollowBook {
    records: Arc<RoomRecords>,
}

impl FollowBook {
    /// The room records as they are now.
    pub fn read(app: &App) -> Result<FollowBook, StoreError> {
        Ok(FollowBook {
            records: app.store.room_records()?,
        })
    }

    /// Every subscription.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.records.subscriptions
    }

    /// Every list's record.
    pub fn lists(&self) -> &[ListRecord] {
        &self.records.lists
    }

    /// What a room that is not the feed's own may do with it, as of now.
    fn access_now(&self, room: &str, feed: &FeedRecord) -> FeedAccess {
        let mut current = feed.clone();
        if current.origin != FeedOrigin::Config {
            current.shared = self.records.shared_feeds.contains(&feed.id);
        }
        feed_access(
            Asker {
                room,
                operator: false,
            },
            &current,
        )
    }

    /// The rooms that follow `feed` (not off), each with its rule, by room.
    pub fn followers(&self, app: &App, feed: &FeedRecord) -> Vec<(String, FollowRule)> {
        let mut out: Vec<(String, FollowRule)> = Vec::new();
        let explicit: Vec<&Follow> = self
            .records
            .follows
            .iter()
            .filter(|f| f.feed_id == feed.id)
            .collect();
        for follow in &explicit {
            if follow.mode == FollowMode::Off {
                continue;
            }
            // A record left by a share that was withdrawn does not count.
            if self.access_now(&follow.room_id, feed) == FeedAccess::Hidden {
                continue;
            }
            out.push((follow.room_id.clone(), rule_of(follow)));
        }
        if feed.origin == FeedOrigin::Config {
            let decided = |room: &str| explicit.iter().any(|f| f.room_id == room);
            match app.config_feed(&feed.id).and_then(|f| f.followers) {
                Some(followers) => {
                    for (room, rule) in followers {
                        if !decided(&room) {
                            out.push((room, rule));
                        }
                    }
                }
                None => {
                    for room in &self.records.subscribed_rooms {
                        if !decided(room) {
                            out.push((room.clone(), FollowRule::default()));
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// How `room` follows `feed`, if it does. Unlike [`FollowBook::followers`], which
    /// names the rooms that can get posts, an operator feed without `followers` is
    /// followed here by every room that has not unfollowed it, subscribed or not.
    pub fn rule(&self, app: &App, room: &str, feed: &FeedRecord) -> Option<FollowRule> {
        if self.access_now(room, feed) == FeedAccess::Hidden {
            return None;
        }
        if let Some(follow) = self
            .records
            .follows
            .iter()
            .find(|f| f.feed_id == feed.id && f.room_id == room)
        {
            return (follow.mode != FollowMode::Off).then(|| rule_of(follow));
        }
        if feed.origin != FeedOrigin::Config {
            return None;
        }
        match app.config_feed(&feed.id).and_then(|f| f.followers) {
            Some(followers) => followers
                .into_iter()
                .find(|(r, _)| r == room)
                .map(|(_, rule)| rule),
            None => Some(FollowRule::default()),
        }
    }
}

/// The feeds `asker`'s room follows or owns, each with the room's rule (`None`: owned
/// but not followed).
pub fn room_feeds(
    app: &App,
    asker: Asker<'_>,
) -> Result<Vec<(FeedRecord, Option<FollowRule>)>, StoreError> {
    let book = FollowBook::read(app)?;
    let mut out = Vec::new();
    for feed in app.feeds()? {
        let rule = book.rule(app, asker.room, &feed);
        let owns = matches!(&feed.origin, FeedOrigin::Command { room, .. } if room == asker.room);
        if rule.is_some() || owns {
            out.push((feed, rule));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{Action, Authority};

    #[test]
    fn rules_narrow_by_action_and_authority() {
        let ofac = Authority {
            code: "US",
            name: "OFAC",
        };
        let designation = Recognition {
            action: Action::Designation,
            authority: Some(ofac),
        };
        let delisting = Recognition {
            action: Action::Delisting,
            authority: Some(ofac),
        };
        let unknown = Recognition {
            action: Action::Designation,
            authority: None,
        };
        let rule = crate::config::parse_follow_rule(&["all", "designations", "us"]).unwrap();
        assert!(rule_admits(&rule, &designation));
        assert!(!rule_admits(&rule, &delisting));
        assert!(
            !rule_admits(&rule, &unknown),
            "an unknown authority is not US"
        );
        assert!(rule_admits(&FollowRule::default(), &unknown));
    }
}
