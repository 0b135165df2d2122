//! Feeds: fetching (the only network code for feeds) and its SSRF guard, parsing bytes
//! into items (with charset repair), item identity, HTML-to-text, and the poller that
//! schedules them all and keeps their health.

pub mod charset;
pub mod fetch;
pub mod guard;
pub mod identity;
pub mod notices;
pub mod parse;
pub mod poller;
pub mod text;

pub use parse::FeedItem;
