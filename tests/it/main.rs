//! The integration tests, as one test binary (each test binary links the whole bot
//! and matrix-sdk: with hostile_memory, two links instead of eleven): feeds come from real HTTP servers on
//! 127.0.0.1, the Matrix tests run the real bot against a real Synapse, and the
//! command line is run as the real binary. Shared helpers are in [`support`].
//! `tests/hostile_memory.rs` stays a binary of its own: it reads the whole process's
//! peak memory.

#![recursion_limit = "256"]

mod support;

mod console;
mod feed_trust;
mod hostile_feeds;
mod layers;
mod matrix_e2e;
mod operations;
mod parse_props;
mod pipeline;
mod recognition;
mod screen_cli;
mod stories;
mod story_pipeline;
mod tenancy;
