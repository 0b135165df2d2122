//! Feeds as data: fetching (the only network code for feeds) and its SSRF guard,
//! parsing bytes into items (with charset repair), item identity, and HTML-to-text.
//! Leaf parts: nothing here knows about the store's rooms, the pipeline or the
//! poller that schedules them.

pub mod charset;
pub mod fetch;
pub mod guard;
pub mod identity;
pub mod parse;
pub mod text;

pub use parse::FeedItem;
