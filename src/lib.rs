//! sanctions-watch: a self-hosted bot that polls sanctions feeds and tells Matrix
//! rooms (or the terminal) when a watched name appears.
//!
//! Data flows one way:
//!
//! ```text
//! feeds::poller ─► feeds::fetch ─► feeds::parse ─► pipeline (dedupe · classify · match · summarise)
//!     ─► store outbox ─► rooms::run_delivery ─► a RoomSink (rooms::console, Matrix)
//! room line ─► commands::Command::parse ─► commands::apply (store) ─► reply
//! ```
//!
//! Modules:
//! - [`config`]: the TOML file, strictly parsed and validated.
//! - [`store`]: the only owner of sled.
//! - [`backup`]: `state export` / `state import` as JSON lines.
//! - [`app`]: state shared by all tasks; config and command feeds and lists meet here.
//! - [`feeds`]: fetch (the only HTTP client), parse, item identity, poller.
//! - [`metrics`]: counters, histograms, and the `/metrics`, `/live`, `/ready` endpoint.
//! - [`pipeline`]: fresh items to outbox entries, atomically.
//! - [`process`]: process-wide settings made first thing in `main` (the allocator,
//!   jemalloc, and the cap on glibc's malloc arenas), and handing a thread's
//!   allocator cache back when its work ends.
//! - [`watch`]: watchlist entries, importers, and the screening engine that finds them
//!   in text: the `sanctions-screening` crate (`crates/screening`), pure and with no
//!   I/O, so its benchmark builds without the rest of the bot.
//! - [`watch_cli`]: the `screen` and `watchlist import` shell commands.
//! - [`summary`]: classification, sentence quotes, post composition, HTML sanitising.
//! - [`commands`]: the chat command language shared by every room.
//! - [`rooms`]: delivery from the outbox, and the console room.
//! - [`story_file`]: the `stories` command (group a JSON-lines file of items).
//! - [`story_pipeline`]: placing announcements in stories; posts, threaded replies
//!   and digest lines per room.
//! - [`digest`]: daily digests of the stories that matched a room's watchlists.

pub mod app;
pub mod backup;
pub mod commands;
pub mod config;
pub mod digest;
pub mod feeds;
pub mod metrics;
pub mod pipeline;
pub mod process;
pub mod rooms;
pub mod store;
pub mod story_file;
pub mod story_pipeline;
pub mod summary;
pub use sanctions_screening as watch;
pub mod watch_cli;
