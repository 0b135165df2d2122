//! The `sanctions-watch` binary: sets up the process (the allocator and its settings)
//! and hands over to the command line in [`cli`].

mod cli;

// The bot's allocator (see `sanctions_watch::process`).
sanctions_watch::bot_allocator!();

fn main() -> std::process::ExitCode {
    sanctions_watch::process::apply_bot_allocator_settings();
    cli::main()
}
