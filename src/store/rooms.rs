//! Rooms: which watchlists each room subscribes to (`subscriptions`, keyed by room
//! and list), each room's story and digest settings (`room_settings`), and the
//! digest lines waiting for a room's next digest (`digest_lines`, keyed by room and
//! story). Digest lines are written by the one commit ([`Store::commit_batch`]) and
//! taken by [`Store::complete_digest`], in the same transaction that enqueues the
//! digest and marks its day handled.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::db::{Store, StoreError, composite, decode, encode, prefix, tx_error};
use super::feeds::FeedOrigin;
use super::outbox::OutboxEntry;

/// What [`Store::carry_room`] moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomCarried {
    /// Subscriptions.
    pub subscriptions: usize,
    /// Follows.
    pub follows: usize,
    /// Lists the room made.
    pub lists: usize,
    /// Feeds the room added.
    pub feeds: usize,
}

/// What [`Store::forget_room`] dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomForgotten {
    /// Subscriptions.
    pub subscriptions: usize,
    /// Follows.
    pub follows: usize,
    /// Posts that were waiting.
    pub posts: usize,
}

/// A room's subscription to a watchlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The room.
    pub room_id: String,
    /// The list.
    pub list: String,
    /// When the room subscribed: items seen before are not posted to it.
    pub since: DateTime<Utc>,
}

/// A room's daily digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSetting {
    /// Hour (UTC).
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// True if the digest replaces live posts; false if it comes besides them.
    pub only: bool,
    /// The last UTC day a digest was due and handled.
    pub last_sent: Option<NaiveDate>,
}

/// A room's choices about stories and digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSettings {
    /// Group reports of one announcement under one post (default on).
    #[serde(default = "default_true")]
    pub stories: bool,
    /// The daily digest, if any.
    #[serde(default)]
    pub digest: Option<DigestSetting>,
}

fn default_true() -> bool {
    true
}

impl Default for RoomSettings {
    fn default() -> Self {
        RoomSettings {
            stories: true,
            digest: None,
        }
    }
}

/// One story waiting for a room's next digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestLine {
    /// The story.
    pub story: String,
    /// The first report's title.
    pub title: String,
    /// Who did what ("OFAC (US Treasury) · new designations").
    pub what: String,
    /// Watched names matched, across reports.
    pub names: Vec<String>,
    /// Sources, first first.
    pub sources: Vec<String>,
    /// The first report's link.
    pub link: Option<String>,
    /// When the first report was published.
    pub published: DateTime<Utc>,
}

impl Store {
    // ---- subscriptions ----

    /// Subscribes a room to a list; false if it already was.
    pub fn subscribe(&self, room_id: &str, list: &str) -> Result<bool, StoreError> {
        let sub = Subscription {
            room_id: room_id.to_string(),
            list: list.to_string(),
            since: Utc::now(),
        };
        let previous = self.subscriptions.compare_and_swap(
            composite(room_id, list),
            None as Option<&[u8]>,
            Some(encode(&sub)),
        )?;
        self.rooms_changed();
        Ok(previous.is_ok())
    }

    /// Unsubscribes; false if it was not subscribed.
    pub fn unsubscribe(&self, room_id: &str, list: &str) -> Result<bool, StoreError> {
        let removed = self
            .subscriptions
            .remove(composite(room_id, list))?
            .is_some();
        self.rooms_changed();
        Ok(removed)
    }

    /// The lists a room subscribes to.
    pub fn room_subscriptions(&self, room_id: &str) -> Result<Vec<Subscription>, StoreError> {
        self.subscriptions
            .scan_prefix(prefix(room_id))
            .values()
            .map(|v| decode("subscriptions", &v?))
            .collect()
    }

    /// Every subscription of every room.
    pub fn all_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        Ok(self
            .decode_all("subscriptions", &self.subscriptions)?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    /// Forgets what a room the bot left (or was kicked or banned from) gets: its
    /// subscriptions, follows, settings, waiting digest lines and posts waiting in
    /// the outbox. What it owns (lists, feeds) stays for the rooms that use it.
    pub fn forget_room(&self, room_id: &str) -> Result<RoomForgotten, StoreError> {
        let mut forgotten = RoomForgotten::default();
        for sub in self.room_subscriptions(room_id)? {
            forgotten.subscriptions += usize::from(self.unsubscribe(room_id, &sub.list)?);
        }
        for follow in self.room_follows(room_id)? {
            forgotten.follows += usize::from(self.remove_follow(room_id, &follow.feed_id)?);
        }
        for (id, entry) in self.outbox()? {
            if entry.room_id == room_id {
                self.remove_outbox(id)?;
                forgotten.posts += 1;
            }
        }
        self.story_trees.settings.remove(room_id.as_bytes())?;
        for key in self
            .story_trees
            .digest_lines
            .scan_prefix(prefix(room_id))
            .keys()
        {
            self.story_trees.digest_lines.remove(key?)?;
        }
        Ok(forgotten)
    }

    /// After a room upgrade: what room `from` received and owned becomes `to`'s (its
    /// subscriptions, follows, settings, and the lists and feeds it made).
    /// Idempotent: a second call finds nothing left to carry.
    pub fn carry_room(&self, from: &str, to: &str) -> Result<RoomCarried, StoreError> {
        let mut carried = RoomCarried {
            subscriptions: self.move_subscriptions(from, to)?,
            follows: self.move_follows(from, to)?,
            ..RoomCarried::default()
        };
        for mut list in self.lists()? {
            if list.owner.as_deref() == Some(from) {
                list.owner = Some(to.to_string());
                self.put_list(&list)?;
                carried.lists += 1;
            }
        }
        for mut feed in self.command_feeds()? {
            if let FeedOrigin::Command { room, .. } = &mut feed.origin
                && room == from
            {
                *room = to.to_string();
                self.put_feed(&feed)?;
                carried.feeds += 1;
            }
        }
        if let Some(settings) = self.story_trees.settings.remove(from.as_bytes())? {
            self.story_trees.settings.insert(to.as_bytes(), settings)?;
        }
        Ok(carried)
    }

    /// Moves a room's subscriptions to another room (after a room upgrade).
    pub fn move_subscriptions(&self, from: &str, to: &str) -> Result<usize, StoreError> {
        let subs = self.room_subscriptions(from)?;
        for sub in &subs {
            self.subscribe(to, &sub.list)?;
            self.unsubscribe(from, &sub.list)?;
        }
        Ok(subs.len())
    }

    // ---- settings and digests ----

    /// A room's story and digest settings (defaults when never set).
    pub fn room_settings(&self, room: &str) -> Result<RoomSettings, StoreError> {
        match self.story_trees.settings.get(room.as_bytes())? {
            Some(v) => decode("room_settings", &v),
            None => Ok(RoomSettings::default()),
        }
    }

    /// Saves a room's settings.
    pub fn put_room_settings(&self, room: &str, settings: &RoomSettings) -> Result<(), StoreError> {
        self.story_trees
            .settings
            .insert(room.as_bytes(), encode(settings))?;
        Ok(())
    }

    /// Every room that has a digest set.
    pub fn digest_rooms(&self) -> Result<Vec<(String, RoomSettings)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.story_trees.settings.iter() {
            let (k, v) = kv?;
            let settings: RoomSettings = decode("room_settings", &v)?;
            if settings.digest.is_some() {
                out.push((String::from_utf8_lossy(&k).into_owned(), settings));
            }
        }
        Ok(out)
    }

    /// The digest lines waiting for `room`, oldest story first.
    pub fn digest_lines(&self, room: &str) -> Result<Vec<DigestLine>, StoreError> {
        self.story_trees
            .digest_lines
            .scan_prefix(prefix(room))
            .values()
            .map(|v| decode("digest_lines", &v?))
            .collect()
    }

    /// In one transaction: takes `room`'s digest lines, enqueues `digest` (its parts,
    /// in order; none when there was nothing to report),
    /// and marks the digest of `day` handled, so a restart neither doubles nor
    /// loses it. Returns false (and changes nothing) if that day was already handled.
    pub fn complete_digest(
        &self,
        room: &str,
        day: NaiveDate,
        digest: &[OutboxEntry],
        lines: &[DigestLine],
    ) -> Result<bool, StoreError> {
        let ids = digest
            .iter()
            .map(|_| self.db.generate_id())
            .collect::<Result<Vec<u64>, _>>()?;
        let t = &self.story_trees;
        let result: Result<bool, sled::transaction::TransactionError<()>> =
            (&t.settings, &t.digest_lines, &self.outbox).transaction(
                |(settings, pending, outbox)| {
                    let mut current: RoomSettings = match settings.get(room.as_bytes())? {
                        Some(v) => serde_json::from_slice(&v).unwrap_or_default(),
                        None => return Ok(false),
                    };
                    let Some(d) = current.digest.as_mut() else {
                        return Ok(false);
                    };
                    if d.last_sent.is_some_and(|last| last >= day) {
                        return Ok(false);
                    }
                    d.last_sent = Some(day);
                    settings.insert(room.as_bytes(), encode(&current))?;
                    for line in lines {
                        pending.remove(composite(room, &line.story))?;
                    }
                    for (id, entry) in ids.iter().zip(digest) {
                        outbox.insert(&id.to_be_bytes(), encode(entry))?;
                    }
                    Ok::<bool, ConflictableTransactionError<()>>(true)
                },
            );
        result.map_err(tx_error)
    }
}
