//! One feed's fresh items through dedupe, baseline, classification, screening
//! against the lists of the rooms that follow the feed, story placement ([`stories`]),
//! each follower's rule (matches or all, narrowed by action and authority), the
//! flood guard ([`flood`]) and post composition into the outbox. The items it marks seen, the posts it enqueues and the
//! feed's new state are written in one store transaction, so a crash can neither lose
//! a post nor post twice. Synchronous: callers run it off the async runtime.

use std::collections::BTreeMap;

use chrono::Utc;

use crate::access::{self, Asker, FollowBook, ListAccess};
use crate::app::App;
use crate::config::FollowMode;
use crate::feeds::FeedItem;
use crate::feeds::identity::assign_keys;
use crate::store::{
    FeedRecord, FeedState, ItemBatch, OutboxEntry, RecentItem, RecentRecords, StoreError,
};
use crate::summary::{Field, Fingerprint, ItemHit, Recognition, classify};
use flood::FloodGuard;
use stories::{StoryDesk, recent_item, recognise_item};

pub mod flood;
pub mod stories;

/// What one run of the pipeline did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessReport {
    /// Items not seen before.
    pub new_items: usize,
    /// True if this fetch was the feed's baseline.
    pub baseline: bool,
    /// Considered items (new, or backfilled on a baseline) that read as announcements.
    pub announcements: usize,
    /// Items that named a watched entry for at least one room.
    pub matched_items: usize,
    /// Posts enqueued.
    pub posts: usize,
}

/// The items in the order they were published: feeds list newest first, so the
/// document order reversed, then by date when every item has one.
fn oldest_first(items: &[(String, FeedItem)]) -> Vec<&(String, FeedItem)> {
    let mut ordered: Vec<&(String, FeedItem)> = items.iter().rev().collect();
    if ordered.iter().all(|(_, item)| item.published.is_some()) {
        ordered.sort_by_key(|(_, item)| item.published);
    }
    ordered
}

/// Processes the items of one successful fetch of `feed`. `state` is the feed's state
/// as it should be saved (validators and health already updated by the caller).
pub fn process_items(
    app: &App,
    feed: &FeedRecord,
    items: Vec<FeedItem>,
    mut state: FeedState,
) -> Result<ProcessReport, StoreError> {
    let mut report = ProcessReport::default();
    let assignment = assign_keys(&items, state.identity, state.weak_keys_recorded, |key| {
        app.store.is_seen(&feed.id, key)
    })?;
    if let Some(reason) = &assignment.fallback {
        tracing::warn!(
            feed = %feed.id, from = state.identity.as_str(), to = assignment.mode.as_str(),
            %reason, "feed item ids are unreliable; identifying its items by a weaker key from now on"
        );
    }
    state.identity = assignment.mode;
    state.weak_keys_recorded = true;
    let mut fresh: Vec<(String, FeedItem)> = Vec::new();
    for (item, (keys, is_new)) in items.into_iter().zip(assignment.items) {
        if is_new {
            fresh.push((keys.primary, item));
        }
    }
    report.new_items = fresh.len();

    let mut to_consider = oldest_first(&fresh);
    if !state.baselined {
        report.baseline = true;
        state.baselined = true;
        // The baseline marks everything seen; a backfill asks for the newest N anyway.
        to_consider.drain(..to_consider.len().saturating_sub(feed.backfill));
    }

    // The rooms that follow this feed, how, and the lists each may screen with.
    let book = FollowBook::read(app)?;
    let mut followers = book.followers(app, feed);
    followers.retain(|(room, _)| app.serves(room));
    let list_records = book.lists();
    let mut room_lists: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for sub in book.subscriptions() {
        let Some((room, _)) = followers.iter().find(|(room, _)| *room == sub.room_id) else {
            continue;
        };
        let Some(list) = list_records.iter().find(|l| l.name == sub.list) else {
            continue;
        };
        let asker = Asker {
            room,
            operator: false,
        };
        if access::list_access(app, asker, list) != ListAccess::Hidden {
            room_lists.entry(room).or_default().push(sub.list.clone());
        }
    }
    let mut lists: Vec<String> = room_lists.values().flatten().cloned().collect();
    lists.sort();
    lists.dedup();

    let recent: Vec<RecentItem> = fresh
        .iter()
        .map(|(_, item)| recent_item(feed, item))
        .collect();
    let mut batch = ItemBatch {
        recent: RecentRecords::new(&recent),
        ..ItemBatch::default()
    };
    // Classify, screen and fingerprint first: the slow part, done without holding
    // the stories.
    let mut announcements: Vec<(&String, &FeedItem, Vec<ItemHit>, Recognition, Fingerprint)> =
        Vec::new();
    for (key, item) in to_consider {
        let verdict = classify(feed.kind, item);
        if !verdict.is_announcement {
            tracing::debug!(feed = %feed.id, title = %item.title, reason = %verdict.reason, "not a sanctions item");
            continue;
        }
        report.announcements += 1;
        let mut hits: Vec<ItemHit> = Vec::new();
        for (field, text) in [(Field::Title, &item.title), (Field::Text, &item.text)] {
            for hit in app.screeners.screen(&app.store, &lists, text)? {
                hits.push(ItemHit { field, hit });
            }
        }
        let (recognition, fp) = recognise_item(feed, item, &hits);
        announcements.push((key, item, hits, recognition, fp));
    }

    // Then place them in stories and decide the posts, one feed at a time. The
    // stories are taken out of the cache while in use: if anything below fails, the
    // cache stays empty and the next feed reads them from the store again.
    let mut cached_stories = app.stories.lock();
    let mut desk = StoryDesk::open(app, cached_stories.take())?;
    let mut posts = Vec::new();
    let mut flood = FloodGuard::new(app.config.limits.posts_per_poll);
    for (key, item, hits, recognition, fp) in announcements {
        let story = desk.place(feed, key, item, fp)?;
        if !hits.is_empty() {
            report.matched_items += 1;
        }
        for (room, rule) in &followers {
            let lists = room_lists.get(room.as_str());
            let room_hits: Vec<ItemHit> = hits
                .iter()
                .filter(|h| lists.is_some_and(|l| l.contains(&h.hit.list)))
                .cloned()
                .collect();
            let wanted = match rule.mode {
                FollowMode::All => true,
                FollowMode::Matches => !room_hits.is_empty(),
                FollowMode::Off => false,
            };
            if !wanted || !access::rule_admits(rule, &recognition) {
                continue;
            }
            if !flood.admit(room, &item.title) {
                continue;
            }
            let Some(delivery) = desk.deliver(room, &story, feed, item, recognition, &room_hits)?
            else {
                continue;
            };
            posts.push(OutboxEntry {
                txn_id: delivery.txn_id,
                room_id: room.to_string(),
                feed_id: feed.id.clone(),
                item_key: key.clone(),
                plain: delivery.post.plain,
                html: delivery.post.html,
                created: Utc::now(),
                attempts: 0,
                not_before: None,
                last_error: None,
            });
        }
    }
    posts.extend(flood.summaries(feed));
    report.posts = posts.len();
    state.new_items += report.new_items as u64;
    let stories = desk.finish(&mut batch);
    app.store
        .commit_batch(&feed.id, &assignment.record, &posts, &state, &batch)?;
    *cached_stories = Some(stories);
    drop(cached_stories);
    app.metrics
        .record_items(report.new_items, report.matched_items);
    if !posts.is_empty() {
        app.outbox_changed.notify_one();
    }
    Ok(report)
}
