//! Where the pipeline meets stories: [`StoryDesk`] places each announcement in a
//! story (the [`StoryShelf`] of the recent stories decides, with the pure similarity
//! of [`crate::summary::story`]; the stories come from the store, or from memory
//! between polls), and decides per room what to enqueue: the story's first
//! post, an "also reported by" reply threaded under it, a post of its own when the
//! room chose `stories off`, and/or a line for the room's daily digest. What it
//! decides is returned as an [`ItemBatch`] and written with the item's seen mark in
//! one transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;

use crate::app::App;
use crate::feeds::FeedItem;
use crate::store::new_txn_id;
use crate::store::{
    DigestLine, ItemBatch, OutboxLink, RecentItem, RoomSettings, StoreError, StoryAddition,
    StoryMember, StoryPost, StoryRecord,
};
use crate::summary::story::index::{StoryReports, StoryShelf};
use crate::summary::story::{Fingerprint, StoryInput, recognise_and_fingerprint};
use crate::summary::words::folded_words;
use crate::summary::{ItemHit, Post, Recognition, compose_also_reported, compose_post};

/// How far back stored stories are considered (beyond the grouping window, so
/// items published late still find theirs).
const STORY_LOOKBACK_DAYS: i64 = 7;

/// The item as `search` keeps it.
pub fn recent_item(feed: &crate::store::FeedRecord, item: &FeedItem) -> RecentItem {
    RecentItem {
        feed_id: feed.id.clone(),
        source: feed.name.clone(),
        title: item.title.clone(),
        link: item.link.clone(),
        published: item.published,
        seen: Utc::now(),
        words: folded_words(&[&item.title, &item.text]),
    }
}

/// An announcement's action and authority (for its post and digest line), and the
/// fingerprint [`StoryDesk::place`] compares it by: pure, so both are computed before
/// the stories are taken, and the item is read once for both.
pub fn recognise_item(
    feed: &crate::store::FeedRecord,
    item: &FeedItem,
    hits: &[ItemHit],
) -> (Recognition, Fingerprint) {
    let watched: Vec<String> = hits
        .iter()
        .map(|h| format!("{}/{}", h.hit.list, h.hit.entry_id))
        .collect();
    let input = StoryInput {
        source: &feed.id,
        title: &item.title,
        text: &item.text,
        published: item.published.unwrap_or_else(Utc::now),
        watched: &watched,
    };
    recognise_and_fingerprint(&input, &feed.name)
}

/// The story an item was placed in.
#[derive(Debug, Clone)]
pub struct PlacedStory {
    index: usize,
    /// The story's id.
    pub id: String,
    /// True if the item started the story.
    pub is_new: bool,
}

/// What to enqueue for one room.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The outbox transaction id.
    pub txn_id: String,
    /// The message.
    pub post: Post,
}

/// The stories of the last days, oldest first, as the pipeline keeps them in memory
/// between polls ([`crate::app::StoryCache`]).
pub type RecentStories = StoryShelf<StoryRecord>;

impl StoryReports for StoryRecord {
    fn reports(&self) -> &[Fingerprint] {
        &self.fingerprints
    }

    fn push_report(&mut self, fp: Fingerprint) {
        self.fingerprints.push(fp);
    }
}

/// Story decisions for one fetch of one feed.
pub struct StoryDesk<'a> {
    app: &'a App,
    recent: RecentStories,
    /// The stories this fetch added reports to, with the position of the first
    /// added report (0 for a story this fetch created).
    changed: BTreeMap<usize, usize>,
    settings: HashMap<String, RoomSettings>,
    posted: HashMap<(String, String), StoryPost>,
    pending_digest: HashMap<(String, String), DigestLine>,
    links: Vec<(String, OutboxLink)>,
}

impl<'a> StoryDesk<'a> {
    /// Takes the recent stories (`cached`, or from the store when `None`).
    pub fn open(app: &'a App, cached: Option<RecentStories>) -> Result<StoryDesk<'a>, StoreError> {
        let since = Utc::now() - chrono::Duration::days(STORY_LOOKBACK_DAYS);
        let recent = match cached {
            Some(recent) if recent.stories().first().is_none_or(|s| s.created >= since) => recent,
            Some(recent) => {
                // Some have aged out: drop them and index the rest again.
                let mut stories = recent.into_stories();
                stories.retain(|s| s.created >= since);
                RecentStories::new(stories)
            }
            None => {
                // Oldest first, as they are kept in memory.
                let mut stories = app.store.recent_stories(since)?;
                stories.reverse();
                RecentStories::new(stories)
            }
        };
        Ok(StoryDesk {
            app,
            recent,
            changed: BTreeMap::new(),
            settings: HashMap::new(),
            posted: HashMap::new(),
            pending_digest: HashMap::new(),
            links: Vec::new(),
        })
    }

    /// Places an announcement, fingerprinted by [`recognise_item`], in a story (an
    /// existing one, or a new one).
    pub fn place(
        &mut self,
        feed: &crate::store::FeedRecord,
        key: &str,
        item: &FeedItem,
        fp: Fingerprint,
    ) -> Result<PlacedStory, StoreError> {
        let published = fp.published;
        let member = StoryMember {
            feed_id: feed.id.clone(),
            item_key: key.to_string(),
            source: feed.name.clone(),
            title: item.title.clone(),
            link: item.link.clone(),
            published,
        };
        Ok(match self.recent.find(&fp) {
            Some((index, score)) => {
                let story = self.recent.story_mut(index);
                tracing::debug!(story = %story.id, score, title = %item.title, "joins a story");
                self.changed.entry(index).or_insert(story.members.len());
                story.members.push(member);
                let id = story.id.clone();
                self.recent.add_report(index, fp);
                PlacedStory {
                    index,
                    id,
                    is_new: false,
                }
            }
            None => {
                let id = self.app.store.new_story_id()?;
                let index = self.recent.push(StoryRecord {
                    id: id.clone(),
                    created: Utc::now(),
                    members: vec![member],
                    fingerprints: vec![fp],
                });
                self.changed.insert(index, 0);
                PlacedStory {
                    index,
                    id,
                    is_new: true,
                }
            }
        })
    }

    fn settings(&mut self, room: &str) -> Result<RoomSettings, StoreError> {
        if let Some(s) = self.settings.get(room) {
            return Ok(s.clone());
        }
        let s = self.app.store.room_settings(room)?;
        self.settings.insert(room.to_string(), s.clone());
        Ok(s)
    }

    /// Decides what `room` gets for an item of `story` with `hits`, recognised by
    /// [`recognise_item`]: `None` when the room takes only a digest.
    pub fn deliver(
        &mut self,
        room: &str,
        story: &PlacedStory,
        feed: &crate::store::FeedRecord,
        item: &FeedItem,
        recognition: Recognition,
        hits: &[ItemHit],
    ) -> Result<Option<Delivery>, StoreError> {
        let settings = self.settings(room)?;
        if let Some(digest) = &settings.digest {
            self.add_digest_line(room, story, feed, recognition, hits)?;
            if digest.only {
                return Ok(None);
            }
        }
        let txn_id = new_txn_id();
        let key = (room.to_string(), story.id.clone());
        let earlier = match self.posted.get(&key) {
            Some(p) => Some(p.clone()),
            None => self.app.store.story_post(room, &story.id)?,
        };
        let reply = settings.stories && earlier.is_some() && !story.is_new;
        let post = if reply {
            compose_also_reported(item, &feed.name)
        } else {
            compose_post(item, &feed.name, hits, recognition)
        };
        if earlier.is_none() {
            self.posted.insert(
                key,
                StoryPost {
                    txn_id: txn_id.clone(),
                    event_id: None,
                },
            );
        }
        self.links.push((
            txn_id.clone(),
            OutboxLink {
                room_id: room.to_string(),
                story: story.id.clone(),
                reply,
            },
        ));
        Ok(Some(Delivery { txn_id, post }))
    }

    fn add_digest_line(
        &mut self,
        room: &str,
        story: &PlacedStory,
        feed: &crate::store::FeedRecord,
        recognition: Recognition,
        hits: &[ItemHit],
    ) -> Result<(), StoreError> {
        let key = (room.to_string(), story.id.clone());
        if !self.pending_digest.contains_key(&key) {
            let stored = self
                .app
                .store
                .digest_lines(room)?
                .into_iter()
                .find(|l| l.story == story.id);
            let line = stored.unwrap_or_else(|| {
                let first = &self.recent.stories()[story.index].members[0];
                let mut what = Vec::new();
                if let Some(a) = recognition.authority {
                    what.push(a.name.to_string());
                }
                what.push(recognition.action.label().to_string());
                DigestLine {
                    story: story.id.clone(),
                    title: first.title.clone(),
                    what: what.join(" · "),
                    names: Vec::new(),
                    sources: Vec::new(),
                    link: first.link.clone(),
                    published: first.published,
                }
            });
            self.pending_digest.insert(key.clone(), line);
        }
        let line = self.pending_digest.get_mut(&key).expect("inserted above");
        for h in hits {
            if !line.names.contains(&h.hit.name) {
                line.names.push(h.hit.name.clone());
            }
        }
        if !line.sources.contains(&feed.name) {
            line.sources.push(feed.name.clone());
        }
        Ok(())
    }

    /// Adds the desk's decisions to `batch`; returns the recent stories, for the
    /// [`crate::app::StoryCache`] once the batch is committed.
    pub fn finish(self, batch: &mut ItemBatch) -> RecentStories {
        for (&index, &first) in &self.changed {
            let story = &self.recent.stories()[index];
            batch.stories.push(StoryAddition {
                id: story.id.clone(),
                created: story.created,
                first,
                reports: story.members[first..]
                    .iter()
                    .cloned()
                    .zip(story.fingerprints[first..].iter().cloned())
                    .collect(),
            });
        }
        for ((room, story), post) in self.posted {
            batch.story_posts.push((room, story, post));
        }
        batch.links.extend(self.links);
        for ((room, _), line) in self.pending_digest {
            batch.digest_lines.push((room, line));
        }
        self.recent
    }
}
