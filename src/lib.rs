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
//! - [`app`]: state shared by all tasks; config and command feeds and lists meet here.
//! - [`feeds`]: fetch (the only HTTP client), parse, item identity, poller.
//! - [`pipeline`]: fresh items to outbox entries, atomically.
//! - [`watch`]: watchlist entries, importers, and the screening engine that finds them
//!   in text.
//! - [`watch_cli`]: the `screen` and `watchlist import` shell commands.
//! - [`summary`]: classification, sentence quotes, post composition, HTML sanitising.
//! - [`commands`]: the chat command language shared by every room.
//! - [`rooms`]: delivery from the outbox, and the console room.

pub mod app;
pub mod commands;
pub mod config;
pub mod feeds;
pub mod pipeline;
pub mod rooms;
pub mod store;
pub mod summary;
pub mod watch;
pub mod watch_cli;
