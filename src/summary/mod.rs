//! From a matched item to what a room reads: deciding whether an item is a sanctions
//! announcement ([`classify`]), finding the sentence around each hit ([`sentences`]),
//! and composing the post as plain text and sanitised Matrix HTML ([`post`], [`html`]).
//! Pure: no store, no network.

pub mod classify;
pub mod html;
pub mod post;
pub mod sentences;

pub use classify::{Classification, classify};
pub use post::{Field, ItemHit, Post, compose_post};
