//! The `sanctions-watch` command line: one home for every subcommand. [`main`] parses
//! the arguments and dispatches: `console` and `run` start the bot ([`bot`]),
//! `check-config` reports on the config file, `state` backs up, restores and checks
//! the store ([`state`]), `screen` and `watchlist import` work on watchlist files
//! ([`watchlist`]), and `stories` groups a JSON-lines file of items ([`stories`]).
//! Only this side of the program uses clap and anyhow; the library returns its own
//! errors.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use sanctions_watch::config::{Config, LogFormat};

mod bot;
mod state;
mod stories;
mod watchlist;

/// Watches sanctions feeds and posts when a watched name appears.
#[derive(Parser)]
#[command(name = "sanctions-watch", version, about, long_about = None)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        short,
        global = true,
        default_value = "config.toml",
        env = "SANCTIONS_WATCH_CONFIG"
    )]
    config: PathBuf,
    /// Log format; overrides `[logging] format` in the config.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum CliCommand {
    /// Run the bot in the terminal: the terminal is one room, called `console`.
    Console,
    /// Check the config file and report errors and warnings with their lines.
    CheckConfig,
    /// Run the bot as a Matrix service (needs the [matrix] section of the config).
    Run,
    /// Back up, restore or check the store (stop the bot first).
    State {
        #[command(subcommand)]
        action: StateCommand,
    },
    /// Group the items of a JSON-lines file into stories, as the bot would; prints one
    /// JSON object per item: id, story, action, authority.
    Stories {
        /// The items: one JSON object per line with id, source, title, summary, published.
        items: PathBuf,
    },
    /// Screen text files against watchlist files; prints one JSON object per hit.
    Screen(watchlist::ScreenArgs),
    /// Manage the store's watchlists from the shell.
    #[command(subcommand)]
    Watchlist(watchlist::WatchlistCommand),
}

#[derive(Subcommand)]
pub enum StateCommand {
    /// Write the whole store as JSON lines to FILE (`-` for standard output).
    Export { file: PathBuf },
    /// Restore an export into an empty store (a new data directory).
    Import { file: PathBuf },
    /// Read every record without writing, and report counts and problems.
    Check {
        /// Also remove what no mode can deliver: posts, subscriptions and follows of
        /// rooms that are neither `console` nor a Matrix room id.
        #[arg(long)]
        fix: bool,
    },
}

fn init_tracing(format: LogFormat, level: Option<&str>, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level.unwrap_or(default_level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    let (config, warnings) =
        Config::load(path).with_context(|| format!("in config file {}", path.display()))?;
    for w in warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(config)
}

fn check_config(path: &Path) -> anyhow::Result<()> {
    let config = load_config(path)?;
    println!(
        "{}: OK — {} feed{}, {} watchlist{}, data in {}, Matrix {}",
        path.display(),
        config.feeds.len(),
        if config.feeds.len() == 1 { "" } else { "s" },
        config.watchlists.len(),
        if config.watchlists.len() == 1 {
            ""
        } else {
            "s"
        },
        config.data_dir.display(),
        if config.matrix.is_some() {
            "configured"
        } else {
            "not configured"
        }
    );
    Ok(())
}

/// Parses the command line and runs the command; errors are printed with their
/// context and make the exit status 1.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let log_format = |config: &Config| match cli.log_format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None => config.logging.format,
    };
    let result = match cli.command {
        CliCommand::CheckConfig => check_config(&cli.config),
        CliCommand::Stories { items } => stories::run(&items),
        CliCommand::Console => load_config(&cli.config).and_then(|config| {
            init_tracing(log_format(&config), config.logging.level.as_deref(), "warn");
            runtime()?.block_on(bot::console(config, cli.config.clone()))
        }),
        CliCommand::Run => load_config(&cli.config).and_then(|config| {
            init_tracing(
                log_format(&config),
                config.logging.level.as_deref(),
                "info,matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_sqlite=warn",
            );
            runtime()?.block_on(bot::run(config, cli.config.clone()))
        }),
        CliCommand::State { action } => load_config(&cli.config).and_then(|config| state::run(&config, action)),
        CliCommand::Screen(args) => watchlist::screen(&args),
        CliCommand::Watchlist(watchlist::WatchlistCommand::Import {
            list,
            file,
        }) => load_config(&cli.config)
            .and_then(|c| watchlist::import(&c.data_dir, &list, &file)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(sanctions_watch::process::MAX_BLOCKING_THREADS)
        // A worker with nothing left to run hands its cached memory back.
        .on_thread_park(sanctions_watch::process::release_thread_cache)
        .build()
        .context("cannot start the async runtime")
}
