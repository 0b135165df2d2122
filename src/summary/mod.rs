//! From a matched item to what a room reads: deciding whether an item is a sanctions
//! announcement ([`mod@classify`]), recognising its action and acting authority
//! ([`mod@recognise`]), choosing the sentences that carry the news ([`extract`]) and the
//! sentence around each hit ([`sentences`]), grouping reports of one announcement
//! into stories ([`story`], placed with [`story::index::StoryShelf`]), and composing
//! posts as plain text and sanitised Matrix HTML ([`post`], [`html`]). Recognition
//! and fingerprints read an item's words once, through [`words`], which leaves out
//! page furniture ([`furniture`]: a repeated
//! title, section labels, timestamps, bylines, datelines, captions, footers). Pure:
//! no store, no network.

pub mod classify;
pub mod extract;
pub mod furniture;
pub mod html;
pub mod post;
pub mod recognise;
pub mod sentences;
pub mod story;
pub mod words;

pub use classify::{Classification, classify};
pub use post::{Field, ItemHit, Post, compose_also_reported, compose_post};
pub use recognise::{Action, Authority, Recognition, recognise};
pub use story::index::StoryGrouper;
pub use story::{Fingerprint, StoryInput, best_story, fingerprint, similarity};
