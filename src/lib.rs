//! sanctions-watch: a self-hosted bot that polls sanctions feeds and tells Matrix
//! rooms (or the terminal) when a watched name appears.
//!
//! Data flows one way:
//!
//! ```text
//! poller ─► feeds::fetch ─► feeds::parse ─► pipeline (identity · classify · screen ·
//!     place in a story · compose · commit) ─► store outbox ─► delivery ─► a RoomSink
//!     (rooms::console, rooms::matrix)
//! room line ─► commands::parse ─► commands (ask access, apply to the store) ─► reply
//! ```
//!
//! The modules form three layers, and imports point down only (`tests/it/layers.rs`
//! fails on an import from a lower layer to a higher one, and on any import cycle
//! between files):
//!
//! **Leaf parts** import no orchestration and no entry point:
//! - [`config`]: the TOML file, strictly parsed and validated.
//! - [`store`]: the only owner of sled, a file per record family;
//!   [`store::backup`] writes and reads the whole store as JSON lines.
//! - [`feeds`]: fetch (the only HTTP client) and its SSRF guard, parse (bytes to
//!   items, with charset repair), HTML to text, item identity.
//! - [`screening`]: watchlist entries, importers, and the screening engine that finds
//!   them in text: the `sanctions-screening` crate (`crates/screening`), pure and with
//!   no I/O, so its benchmark builds without the rest of the bot.
//! - [`summary`]: classification, recognition of action and authority, page
//!   furniture, sentence quotes, story fingerprints and placement
//!   ([`summary::story::index::StoryShelf`]), post composition, HTML sanitising.
//! - [`story_file`]: grouping a JSON-lines file of items into stories, as the bot
//!   would (the `stories` command's logic).
//! - [`health`]: feed health, written by the poller, read by commands and the
//!   endpoint.
//! - [`metrics`]: counters and histograms.
//! - [`process`]: process-wide settings made first thing in `main` (the allocator,
//!   jemalloc, and the cap on glibc's malloc arenas), and handing a thread's
//!   allocator cache back when its work ends.
//!
//! **Orchestration** runs the leaf parts:
//! - [`app`]: the state every task shares; config and command feeds and lists meet
//!   here.
//! - [`access`]: rooms as tenants: who may see, use and change each list and
//!   feed, and which rooms follow a feed and how.
//! - [`poller`]: schedules, fetches, backoff; hands fresh bodies to the pipeline.
//! - [`pipeline`]: one feed's fresh items to outbox entries, in one transaction;
//!   [`pipeline::stories`] places them in stories and decides each room's post.
//! - [`delivery`]: the outbox drained into rooms through a [`delivery::RoomSink`].
//! - [`digest`]: daily digests of the stories that matched a room's watchlists.
//! - [`notices`]: feed failure and recovery notices for rooms.
//! - [`commands`]: the chat command language ([`commands::parse`]) and its handlers.
//!
//! **Entry points** start and serve it:
//! - [`rooms`]: the console and Matrix transports.
//! - [`endpoint`]: the `/metrics`, `/live` and `/ready` HTTP endpoint.
//! - the command line (`src/cli/`, in the binary, not this library).

pub mod access;
pub mod app;
pub mod commands;
pub mod config;
pub mod delivery;
pub mod digest;
pub mod endpoint;
pub mod feeds;
pub mod health;
pub mod metrics;
pub mod notices;
pub mod pipeline;
pub mod poller;
pub mod process;
pub mod rooms;
pub use sanctions_screening as screening;
pub mod store;
pub mod story_file;
pub mod summary;
