//! Feeds: fetching (the only network code for feeds), parsing bytes into items, item
//! identity, HTML-to-text, and the poller that schedules them all.

pub mod fetch;
pub mod identity;
pub mod parse;
pub mod poller;
pub mod text;

pub use parse::FeedItem;
