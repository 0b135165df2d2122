//! Rooms: where posts go and commands come from. Each transport implements
//! [`crate::delivery::RoomSink`] to deliver the outbox's messages and hands the lines
//! people type to [`crate::commands`]: [`console`] is the terminal as one room,
//! [`matrix`] a Matrix account in any number of rooms.

pub mod console;
pub mod matrix;
