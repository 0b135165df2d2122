//! Where the pipeline meets stories: [`StoryDesk`] places each announcement in a
//! story (the pure engine in [`crate::summary::story`] decides; the recent stories
//! come from the store), and decides per room what to enqueue: the story's first
//! post, an "also reported by" reply threaded under it, a post of its own when the
//! room chose `stories off`, and/or a line for the room's daily digest. What it
//! decides is returned as an [`ItemBatch`] and written with the item's seen mark in
//! one transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;

use crate::app::App;
use crate::feeds::FeedItem;
use crate::pipeline::new_txn_id;
use crate::store::{
    DigestLine, ItemBatch, OutboxLink, RecentItem, RoomSettings, StoreError, StoryMember,
    StoryPost, StoryRecord,
};
use crate::summary::story::{Fingerprint, StoryInput, WINDOW_HOURS, best_story, fingerprint_with};
use crate::summary::{ItemHit, Post, compose_also_reported, compose_post, recognise};
use crate::watch::normalize::tokens;

/// How far back stored stories are considered (beyond the grouping window, so
/// items published late still find theirs).
const STORY_LOOKBACK_DAYS: i64 = 7;

/// The item as `search` keeps it.
pub fn recent_item(feed: &crate::store::FeedRecord, item: &FeedItem) -> RecentItem {
    let mut words: Vec<String> = tokens(&item.title).into_iter().map(|t| t.norm).collect();
    words.extend(tokens(&item.text).into_iter().map(|t| t.norm));
    RecentItem {
        feed_id: feed.id.clone(),
        source: feed.name.clone(),
        title: item.title.clone(),
        link: item.link.clone(),
        published: item.published,
        seen: Utc::now(),
        words: words.join(" "),
    }
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

/// The stories of the last days, oldest first, with an index from the content words
/// and the names of their members to them, so that an item is compared only with
/// the stories it could belong to instead of with every recent story.
///
/// Which those are follows from [`crate::summary::story::similarity`]: bonuses (same
/// authority and action, a shared watched entry) add at most 0.2, so reaching the
/// threshold needs a shared name, or a word overlap of at least 0.22: two shared
/// words, or one when either side has at most two content words.
#[derive(Debug, Default)]
pub struct RecentStories {
    stories: Vec<StoryRecord>,
    /// Content word → stories having it (each story once).
    by_word: HashMap<u64, Vec<u32>>,
    /// Name → stories having it (each story once).
    by_name: HashMap<u64, Vec<u32>>,
    /// Per story: whether a member has at most two content words.
    has_short_member: Vec<bool>,
}

/// Content words at or under which a single shared word can make a story.
const SHORT_WORDS: usize = 2;

impl RecentStories {
    fn new(stories: Vec<StoryRecord>) -> RecentStories {
        let mut recent = RecentStories {
            stories,
            ..RecentStories::default()
        };
        recent.has_short_member = vec![false; recent.stories.len()];
        for i in 0..recent.stories.len() {
            for f in 0..recent.stories[i].fingerprints.len() {
                recent.index_member(i, f);
            }
        }
        recent
    }

    /// Indexes member `f` of story `story` (its fingerprint is in the story already).
    fn index_member(&mut self, story: usize, f: usize) {
        if self.has_short_member.len() <= story {
            self.has_short_member.resize(story + 1, false);
        }
        let fps = &self.stories[story].fingerprints;
        let fp = &fps[f];
        let earlier = &fps[..f];
        self.has_short_member[story] |= fp.words.len() <= SHORT_WORDS;
        for &w in &fp.words {
            if !earlier.iter().any(|e| e.words.binary_search(&w).is_ok()) {
                self.by_word.entry(w).or_default().push(story as u32);
            }
        }
        for &n in &fp.names {
            if !earlier.iter().any(|e| e.names.binary_search(&n).is_ok()) {
                self.by_name.entry(n).or_default().push(story as u32);
            }
        }
    }

    /// The stories `fp` could belong to (see the type's docs), in order.
    fn candidates(&self, fp: &Fingerprint) -> Vec<usize> {
        let mut shared = vec![0u8; self.stories.len()];
        for w in &fp.words {
            for &i in self.by_word.get(w).into_iter().flatten() {
                shared[i as usize] = shared[i as usize].saturating_add(1);
            }
        }
        let fp_short = fp.words.len() <= SHORT_WORDS;
        let mut out: Vec<usize> = (0..self.stories.len())
            .filter(|&i| {
                shared[i] >= 2 || (shared[i] == 1 && (fp_short || self.has_short_member[i]))
            })
            .collect();
        for n in &fp.names {
            out.extend(
                self.by_name
                    .get(n)
                    .into_iter()
                    .flatten()
                    .map(|&i| i as usize),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Story decisions for one fetch of one feed.
pub struct StoryDesk<'a> {
    app: &'a App,
    recent: RecentStories,
    changed: BTreeSet<usize>,
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
            Some(recent) if recent.stories.first().is_none_or(|s| s.created >= since) => recent,
            Some(mut recent) => {
                // Some have aged out: drop them and index the rest again.
                recent.stories.retain(|s| s.created >= since);
                RecentStories::new(recent.stories)
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
            changed: BTreeSet::new(),
            settings: HashMap::new(),
            posted: HashMap::new(),
            pending_digest: HashMap::new(),
            links: Vec::new(),
        })
    }

    /// Places an announcement in a story (an existing one, or a new one).
    pub fn place(
        &mut self,
        feed: &crate::store::FeedRecord,
        key: &str,
        item: &FeedItem,
        hits: &[ItemHit],
    ) -> Result<PlacedStory, StoreError> {
        let published = item.published.unwrap_or_else(Utc::now);
        let recognition = recognise(&item.title, &item.text, &feed.name);
        let watched: Vec<String> = hits
            .iter()
            .map(|h| format!("{}/{}", h.hit.list, h.hit.entry_id))
            .collect();
        let input = StoryInput {
            source: &feed.id,
            title: &item.title,
            text: &item.text,
            published,
            watched: &watched,
        };
        let fp = fingerprint_with(
            &input,
            recognition.action,
            recognition.authority.map(|a| a.code.to_string()),
        );
        let member = StoryMember {
            feed_id: feed.id.clone(),
            item_key: key.to_string(),
            source: feed.name.clone(),
            title: item.title.clone(),
            link: item.link.clone(),
            published,
        };
        let window = chrono::Duration::hours(WINDOW_HOURS);
        let possible = self.recent.candidates(&fp);
        let stories = &self.recent.stories;
        let candidates = possible
            .into_iter()
            .filter(|&i| {
                stories[i]
                    .fingerprints
                    .iter()
                    .any(|f| (f.published - published).abs() <= window)
            })
            .map(|i| (i, stories[i].fingerprints.as_slice()));
        let placed = match best_story(&fp, candidates) {
            Some((index, score)) => {
                let story = &mut self.recent.stories[index];
                tracing::debug!(story = %story.id, score, title = %item.title, "joins a story");
                story.members.push(member);
                story.fingerprints.push(fp);
                PlacedStory {
                    index,
                    id: story.id.clone(),
                    is_new: false,
                }
            }
            None => {
                let id = self.app.store.new_story_id()?;
                self.recent.stories.push(StoryRecord {
                    id: id.clone(),
                    created: Utc::now(),
                    members: vec![member],
                    fingerprints: vec![fp],
                });
                PlacedStory {
                    index: self.recent.stories.len() - 1,
                    id,
                    is_new: true,
                }
            }
        };
        let members = self.recent.stories[placed.index].fingerprints.len();
        self.recent.index_member(placed.index, members - 1);
        self.changed.insert(placed.index);
        Ok(placed)
    }

    fn settings(&mut self, room: &str) -> Result<RoomSettings, StoreError> {
        if let Some(s) = self.settings.get(room) {
            return Ok(s.clone());
        }
        let s = self.app.store.room_settings(room)?;
        self.settings.insert(room.to_string(), s.clone());
        Ok(s)
    }

    /// Decides what `room` gets for an item of `story` with `hits`: `None` when the
    /// room takes only a digest.
    pub fn deliver(
        &mut self,
        room: &str,
        story: &PlacedStory,
        feed: &crate::store::FeedRecord,
        item: &FeedItem,
        hits: &[ItemHit],
    ) -> Result<Option<Delivery>, StoreError> {
        let settings = self.settings(room)?;
        if let Some(digest) = &settings.digest {
            self.add_digest_line(room, story, feed, item, hits)?;
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
            compose_post(item, &feed.name, hits)
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
        item: &FeedItem,
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
                let first = &self.recent.stories[story.index].members[0];
                let recognition = recognise(&item.title, &item.text, &feed.name);
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

    /// Moves the decisions into `batch`.
    /// Adds the desk's decisions to `batch`; returns the recent stories, for the
    /// [`crate::app::StoryCache`] once the batch is committed.
    pub fn finish(self, batch: &mut ItemBatch) -> RecentStories {
        for i in &self.changed {
            batch.stories.push(self.recent.stories[*i].clone());
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
