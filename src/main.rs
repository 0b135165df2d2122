//! The `sanctions-watch` command line: loads and checks the config, sets up logging,
//! starts the poller, the delivery loop and a room transport (the console or Matrix),
//! and shuts them all down cleanly on Ctrl-C, SIGTERM or end of console input.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio::sync::watch;

use sanctions_watch::app::App;
use sanctions_watch::config::Config;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::feeds::poller::run_poller;
use sanctions_watch::rooms::console::{ConsoleRoom, run_console};
use sanctions_watch::rooms::matrix::MatrixBot;
use sanctions_watch::rooms::run_delivery;

/// Watches sanctions feeds and posts when a watched name appears.
#[derive(Parser)]
#[command(name = "sanctions-watch", version, about, long_about = None)]
struct Cli {
    /// The config file.
    #[arg(
        long,
        short,
        global = true,
        default_value = "config.toml",
        env = "SANCTIONS_WATCH_CONFIG"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Subcommand)]
enum CliCommand {
    /// Run the bot in the terminal: the terminal is one room, called `console`.
    Console,
    /// Check the config file and report errors and warnings with their lines.
    CheckConfig,
    /// Run the bot as a Matrix service (needs the [matrix] section of the config).
    Run,
    /// Screen text files against watchlist files; prints one JSON object per hit.
    Screen(sanctions_watch::watch_cli::ScreenArgs),
    /// Manage the store's watchlists from the shell.
    #[command(subcommand)]
    Watchlist(sanctions_watch::watch_cli::WatchlistCommand),
}

fn init_tracing(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    let (config, warnings) =
        Config::load(path).with_context(|| format!("in config file {}", path.display()))?;
    for w in warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(config)
}

/// Turns true on Ctrl-C or SIGTERM.
fn spawn_signal_handler(tx: watch::Sender<bool>) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        #[cfg(unix)]
        let term = term.recv();
        #[cfg(not(unix))]
        let term = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = ctrl_c => tracing::info!("interrupted; shutting down"),
            _ = term => tracing::info!("terminated; shutting down"),
        }
        let _ = tx.send(true);
    });
}

async fn console(config: Config) -> anyhow::Result<()> {
    let app = App::open(config).context("cannot open the store")?;
    let fetcher = Fetcher::new(&app.config.fetch).context("cannot set up the HTTP client")?;
    let (tx, rx) = watch::channel(false);
    spawn_signal_handler(tx.clone());
    let poller = tokio::spawn(run_poller(app.clone(), fetcher, rx.clone()));
    let delivery = tokio::spawn(run_delivery(app.clone(), Arc::new(ConsoleRoom), rx.clone()));
    run_console(app.clone(), tx).await;
    let _ = poller.await;
    let _ = delivery.await;
    app.store.flush().await.context("cannot flush the store")?;
    Ok(())
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

async fn run(config: Config) -> anyhow::Result<()> {
    if config.matrix.is_none() {
        bail!(
            "`run` needs a [matrix] section in the config: homeserver, user_id, one of password / password_env / password_file, and one of store_passphrase / store_passphrase_env / store_passphrase_file (see config.toml.example)"
        );
    }
    let app = App::open(config).context("cannot open the store")?;
    let (tx, rx) = watch::channel(false);
    spawn_signal_handler(tx.clone());
    let bot = MatrixBot::connect(app.clone(), rx.clone()).await?;
    let fetcher = Fetcher::new(&app.config.fetch).context("cannot set up the HTTP client")?;
    let poller = tokio::spawn(run_poller(app.clone(), fetcher, rx.clone()));
    let result = bot.run(rx).await;
    // However the bot stopped, stop polling too.
    let _ = tx.send(true);
    let _ = poller.await;
    app.store.flush().await.context("cannot flush the store")?;
    tracing::info!("stopped");
    Ok(result?)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        CliCommand::CheckConfig => check_config(&cli.config),
        CliCommand::Console => {
            init_tracing("warn");
            load_config(&cli.config).and_then(|config| runtime()?.block_on(console(config)))
        }
        CliCommand::Run => {
            init_tracing(
                "info,matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_sqlite=warn",
            );
            load_config(&cli.config).and_then(|config| runtime()?.block_on(run(config)))
        }
        CliCommand::Screen(args) => sanctions_watch::watch_cli::screen(&args),
        CliCommand::Watchlist(sanctions_watch::watch_cli::WatchlistCommand::Import {
            list,
            file,
        }) => load_config(&cli.config)
            .and_then(|c| sanctions_watch::watch_cli::import(&c.data_dir, &list, &file)),
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
        .build()
        .context("cannot start the async runtime")
}
