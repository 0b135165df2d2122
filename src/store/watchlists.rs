//! Watchlists: each list's own record (`watchlists`, by name: when it was created
//! and its threshold) and its entries (`watch_entries`, keyed by list and entry
//! id, so a list's entries are read by prefix). Which rooms follow a list is the
//! rooms' part of the store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Store, StoreError, composite, decode, encode, prefix};
use crate::screening::WatchEntry;

/// A watchlist's own record (its entries live in their own tree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListRecord {
    /// The list's name.
    pub name: String,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// Hits scoring below this are not reported (none: the engine's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    /// The room that made it by command, which owns it; `None` for an operator list
    /// (from the config or `watchlist import`, or made before lists had owners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// True when the owner room lets other rooms subscribe (read-only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// What [`Store::put_entries`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutEntriesReport {
    /// Entries that were not on the list.
    pub added: usize,
    /// Entries that were there with different contents.
    pub updated: usize,
    /// Entries that were there already, unchanged.
    pub unchanged: usize,
}

impl Store {
    /// All watchlists, by name.
    pub fn lists(&self) -> Result<Vec<ListRecord>, StoreError> {
        Ok(self
            .decode_all("watchlists", &self.lists)?
            .into_iter()
            .map(|(_, l)| l)
            .collect())
    }

    /// Creates an operator list if missing; true if it was created.
    pub fn create_list(&self, name: &str) -> Result<bool, StoreError> {
        self.create_owned_list(name, None)
    }

    /// Creates a list owned by `owner` (a room; `None`: the operator) if no list of
    /// that name exists; true if it was created.
    pub fn create_owned_list(&self, name: &str, owner: Option<&str>) -> Result<bool, StoreError> {
        let record = ListRecord {
            name: name.to_string(),
            created: Utc::now(),
            threshold: None,
            owner: owner.map(str::to_string),
            shared: false,
        };
        let previous = self.lists.compare_and_swap(
            name.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(&record)),
        )?;
        self.rooms_changed();
        Ok(previous.is_ok())
    }

    /// One list's record.
    pub fn list(&self, name: &str) -> Result<Option<ListRecord>, StoreError> {
        match self.lists.get(name.as_bytes())? {
            Some(v) => Ok(Some(decode("watchlists", &v)?)),
            None => Ok(None),
        }
    }

    /// Sets (or, with `None`, clears) a list's threshold; creates the list if needed.
    pub fn set_list_threshold(&self, name: &str, threshold: Option<f32>) -> Result<(), StoreError> {
        self.create_list(name)?;
        let mut record = self.list(name)?.expect("just created");
        record.threshold = threshold;
        self.lists.insert(name.as_bytes(), encode(&record))?;
        self.rooms_changed();
        Ok(())
    }

    /// Saves a list's record as it is (owner, sharing, threshold).
    pub fn put_list(&self, record: &ListRecord) -> Result<(), StoreError> {
        self.lists.insert(record.name.as_bytes(), encode(record))?;
        self.rooms_changed();
        Ok(())
    }

    /// Adds or replaces many entries (by id) of a list in one batch, creating the list
    /// if needed. Entries already stored unchanged are not rewritten.
    pub fn put_entries(
        &self,
        list: &str,
        entries: &[WatchEntry],
    ) -> Result<PutEntriesReport, StoreError> {
        self.create_list(list)?;
        let mut report = PutEntriesReport::default();
        let mut batch = sled::Batch::default();
        for entry in entries {
            let key = composite(list, &entry.id);
            let value = encode(entry);
            match self.entries.get(&key)? {
                Some(old) if old.as_ref() == value.as_slice() => report.unchanged += 1,
                Some(_) => {
                    report.updated += 1;
                    batch.insert(key, value);
                }
                None => {
                    report.added += 1;
                    batch.insert(key, value);
                }
            }
        }
        self.entries.apply_batch(batch)?;
        Ok(report)
    }

    /// The entries of a list, by id.
    pub fn entries(&self, list: &str) -> Result<Vec<WatchEntry>, StoreError> {
        self.entries
            .scan_prefix(prefix(list))
            .values()
            .map(|v| decode("watch_entries", &v?))
            .collect()
    }

    /// Number of entries in a list.
    pub fn entry_count(&self, list: &str) -> usize {
        self.entries.scan_prefix(prefix(list)).count()
    }

    /// Adds or replaces an entry (by id); creates the list if needed. True if new.
    pub fn put_entry(&self, list: &str, entry: &WatchEntry) -> Result<bool, StoreError> {
        self.create_list(list)?;
        Ok(self
            .entries
            .insert(composite(list, &entry.id), encode(entry))?
            .is_none())
    }

    /// Removes an entry by id; returns it if it existed.
    pub fn remove_entry(
        &self,
        list: &str,
        entry_id: &str,
    ) -> Result<Option<WatchEntry>, StoreError> {
        match self.entries.remove(composite(list, entry_id))? {
            Some(v) => Ok(Some(decode("watch_entries", &v)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::EntryKind;

    #[test]
    fn watchlists_and_subscriptions_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let entry = WatchEntry::new("Lady R", EntryKind::Vessel, vec![]);
        assert!(store.put_entry("vessels", &entry).unwrap());
        assert!(!store.put_entry("vessels", &entry).unwrap());
        assert_eq!(store.entries("vessels").unwrap(), vec![entry.clone()]);
        assert!(
            store.entries("vessel").unwrap().is_empty(),
            "prefixes must not leak"
        );
        assert!(store.subscribe("!r:x", "vessels").unwrap());
        assert!(!store.subscribe("!r:x", "vessels").unwrap());
        assert_eq!(store.move_subscriptions("!r:x", "!s:x").unwrap(), 1);
        assert!(store.room_subscriptions("!r:x").unwrap().is_empty());
        assert_eq!(store.room_subscriptions("!s:x").unwrap()[0].list, "vessels");
        assert_eq!(
            store.remove_entry("vessels", "lady-r").unwrap(),
            Some(entry)
        );
    }
}
