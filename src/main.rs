//! The `sanctions-watch` command line: loads and checks the config, sets up logging,
//! starts the poller, the delivery loop, the metrics endpoint and a room transport
//! (the console or Matrix), reloads feeds and watchlists on SIGHUP, and shuts
//! everything down cleanly on Ctrl-C, SIGTERM or end of console input. Also the
//! offline tools: `check-config` and `state export|import|check`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tokio::sync::watch;

use sanctions_watch::app::App;
use sanctions_watch::backup;
use sanctions_watch::config::{Config, LogFormat};
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::feeds::poller::run_poller;
use sanctions_watch::metrics;
use sanctions_watch::rooms::console::{ConsoleRoom, run_console};
use sanctions_watch::rooms::matrix::MatrixBot;
use sanctions_watch::rooms::run_delivery;
use sanctions_watch::store::Store;

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
    /// Log format; overrides `[logging] format` in the config.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Subcommand)]
enum CliCommand {
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
    Screen(sanctions_watch::watch_cli::ScreenArgs),
    /// Manage the store's watchlists from the shell.
    #[command(subcommand)]
    Watchlist(sanctions_watch::watch_cli::WatchlistCommand),
}

#[derive(Subcommand)]
enum StateCommand {
    /// Write the whole store as JSON lines to FILE (`-` for standard output).
    Export { file: PathBuf },
    /// Restore an export into an empty store (a new data directory).
    Import { file: PathBuf },
    /// Read every record without writing, and report counts and problems.
    Check,
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

/// Turns true on Ctrl-C or SIGTERM; on SIGHUP re-reads the config and reloads feeds
/// and watchlists.
fn spawn_signal_handler(tx: watch::Sender<bool>, reload: Option<(Arc<App>, PathBuf)>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {
                        tracing::info!("interrupted; shutting down");
                        break;
                    }
                    _ = term.recv() => {
                        tracing::info!("terminated; shutting down");
                        break;
                    }
                    _ = hup.recv() => match &reload {
                        Some((app, path)) => reload_config(app, path),
                        None => tracing::info!("SIGHUP ignored"),
                    },
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            let _ = &reload;
        }
        let _ = tx.send(true);
    });
}

fn reload_config(app: &App, path: &Path) {
    match Config::load(path) {
        Err(e) => {
            tracing::error!(config = %path.display(), error = %e, "config reload failed; keeping the running config")
        }
        Ok((config, warnings)) => {
            for w in warnings {
                tracing::warn!(config = %path.display(), "{w}");
            }
            match app.reload(&config) {
                Ok(report) => {
                    tracing::info!(
                        feeds_before = report.feeds.0,
                        feeds_after = report.feeds.1,
                        watchlists = report.watchlists,
                        "config reloaded"
                    );
                    if !report.needs_restart.is_empty() {
                        tracing::warn!(settings = ?report.needs_restart, "these settings changed but take effect only after a restart");
                    }
                }
                Err(e) => tracing::error!(error = %e, "config reload failed in the store"),
            }
        }
    }
}

async fn start_metrics(app: &Arc<App>, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    if let Some(addr) = app.config.metrics_listen {
        let listener = metrics::bind(addr)
            .await
            .with_context(|| format!("cannot listen for metrics on {addr}"))?;
        tracing::info!(%addr, "metrics and health endpoint listening");
        tokio::spawn(metrics::serve(app.clone(), listener, shutdown));
    }
    Ok(())
}

async fn console(config: Config, config_path: PathBuf) -> anyhow::Result<()> {
    let app = App::open(config).context("cannot open the store")?;
    let fetcher = Fetcher::new(&app.config.fetch).context("cannot set up the HTTP client")?;
    let (tx, rx) = watch::channel(false);
    spawn_signal_handler(tx.clone(), Some((app.clone(), config_path)));
    start_metrics(&app, rx.clone()).await?;
    let poller = tokio::spawn(run_poller(app.clone(), fetcher, rx.clone()));
    let delivery = tokio::spawn(run_delivery(app.clone(), Arc::new(ConsoleRoom), rx.clone()));
    run_console(app.clone(), tx).await;
    let _ = poller.await;
    let _ = delivery.await;
    app.store.flush().await.context("cannot flush the store")?;
    Ok(())
}

async fn run(config: Config, config_path: PathBuf) -> anyhow::Result<()> {
    if config.matrix.is_none() {
        bail!(
            "`run` needs a [matrix] section in the config: homeserver, user_id, one of password / password_env / password_file, and one of store_passphrase / store_passphrase_env / store_passphrase_file (see config.toml.example)"
        );
    }
    let app = App::open(config).context("cannot open the store")?;
    let (tx, rx) = watch::channel(false);
    spawn_signal_handler(tx.clone(), Some((app.clone(), config_path)));
    start_metrics(&app, rx.clone()).await?;
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

fn state(config: &Config, action: StateCommand) -> anyhow::Result<()> {
    let data_dir = &config.data_dir;
    let progress = |what: &'static str| {
        move |n: u64| {
            if n > 0 {
                eprintln!("{what} {n} records");
            }
        }
    };
    match action {
        StateCommand::Export { file } => {
            let store = Store::open_existing(data_dir)?;
            let n = if file.as_os_str() == "-" {
                backup::export(
                    &store,
                    &mut std::io::BufWriter::new(std::io::stdout().lock()),
                    progress("exported"),
                )?
            } else {
                let out = std::fs::File::create(&file)
                    .with_context(|| format!("cannot create {}", file.display()))?;
                backup::export(
                    &store,
                    &mut std::io::BufWriter::new(out),
                    progress("exported"),
                )?
            };
            eprintln!("exported {n} records from {}", store.path().display());
        }
        StateCommand::Import { file } => {
            let open = || std::fs::File::open(&file).map(std::io::BufReader::new);
            open().with_context(|| format!("cannot open {}", file.display()))?;
            let store = Store::open(data_dir)?;
            let n = backup::import(&store, open, progress("imported"))
                .with_context(|| format!("cannot import {}", file.display()))?;
            eprintln!("imported {n} records into {}", store.path().display());
        }
        StateCommand::Check => {
            let store = Store::open_existing(data_dir)?;
            let report = store.check();
            println!("store {}", store.path().display());
            for (tree, count) in &report.counts {
                println!("  {tree}: {count}");
            }
            if report.problems.is_empty() {
                println!("no problems found");
            } else {
                println!(
                    "{} problem{}:",
                    report.problems.len(),
                    if report.problems.len() == 1 { "" } else { "s" }
                );
                for p in &report.problems {
                    println!("  {p}");
                }
                bail!("the store has problems");
            }
        }
    }
    Ok(())
}

// The bot's allocator (see `sanctions_watch::process`).
sanctions_watch::bot_allocator!();

fn main() -> std::process::ExitCode {
    sanctions_watch::process::apply_bot_allocator_settings();
    let cli = Cli::parse();
    let log_format = |config: &Config| match cli.log_format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None => config.logging.format,
    };
    let result = match cli.command {
        CliCommand::CheckConfig => check_config(&cli.config),
        CliCommand::Stories { items } => {
            sanctions_watch::story_file::run_cli(&items).map_err(Into::into)
        }
        CliCommand::Console => load_config(&cli.config).and_then(|config| {
            init_tracing(log_format(&config), config.logging.level.as_deref(), "warn");
            runtime()?.block_on(console(config, cli.config.clone()))
        }),
        CliCommand::Run => load_config(&cli.config).and_then(|config| {
            init_tracing(
                log_format(&config),
                config.logging.level.as_deref(),
                "info,matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_sqlite=warn",
            );
            runtime()?.block_on(run(config, cli.config.clone()))
        }),
        CliCommand::State { action } => load_config(&cli.config).and_then(|config| state(&config, action)),
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
        .max_blocking_threads(sanctions_watch::process::MAX_BLOCKING_THREADS)
        // A worker with nothing left to run hands its cached memory back.
        .on_thread_park(sanctions_watch::process::release_thread_cache)
        .build()
        .context("cannot start the async runtime")
}
