//! `console` and `run`: open the store and start the poller, the delivery loop, the
//! metrics endpoint and a room transport (the terminal, or Matrix); reload feeds and
//! watchlists on SIGHUP; shut everything down cleanly on Ctrl-C, SIGTERM or the end
//! of console input.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio::sync::watch;

use sanctions_watch::app::{App, Serving};
use sanctions_watch::config::CONSOLE_ROOM;
use sanctions_watch::config::Config;
use sanctions_watch::delivery::run_delivery;
use sanctions_watch::endpoint;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::run_poller;
use sanctions_watch::rooms::console::{ConsoleRoom, run_console};
use sanctions_watch::rooms::matrix::MatrixBot;

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
        let listener = endpoint::bind(addr)
            .await
            .with_context(|| format!("cannot listen for metrics on {addr}"))?;
        tracing::info!(%addr, "metrics and health endpoint listening");
        tokio::spawn(endpoint::serve(app.clone(), listener, shutdown));
    }
    Ok(())
}

/// Under `run`, says once which of the console's subscriptions and follows get no
/// posts (the console is the terminal; `run` serves Matrix rooms only).
fn warn_of_console_rooms(app: &App) {
    let lists: Vec<String> = app
        .store
        .room_subscriptions(CONSOLE_ROOM)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.list)
        .collect();
    let feeds: Vec<&str> = app
        .config
        .feeds
        .iter()
        .filter(|f| {
            f.followers
                .as_ref()
                .is_some_and(|followers| followers.iter().any(|(room, _)| room == CONSOLE_ROOM))
        })
        .map(|f| f.id.as_str())
        .collect();
    if !lists.is_empty() || !feeds.is_empty() {
        tracing::warn!(
            subscriptions = %lists.join(", "), follows = %feeds.join(", "),
            "the console room is not served by `run`: it gets no posts here (subscribe a Matrix room instead, e.g. `!sw subscribe <list>` there)"
        );
    }
}

pub async fn console(config: Config, config_path: PathBuf) -> anyhow::Result<()> {
    let app = App::open_serving(config, Serving::Console).context("cannot open the store")?;
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

pub async fn run(config: Config, config_path: PathBuf) -> anyhow::Result<()> {
    if config.matrix.is_none() {
        bail!(
            "`run` needs a [matrix] section in the config: homeserver, user_id, one of password / password_env / password_file, and one of store_passphrase / store_passphrase_env / store_passphrase_file (see config.toml.example)"
        );
    }
    let app = App::open_serving(config, Serving::Matrix).context("cannot open the store")?;
    warn_of_console_rooms(&app);
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
