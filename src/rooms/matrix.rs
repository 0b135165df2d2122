//! Matrix rooms through matrix-sdk: the bot's one device (logged in once, then
//! restored from its session file and passphrase-protected SQLite store on every start),
//! the sync loop, invites from the allow list, commands from room messages (authorised
//! by power level or operator admin), room upgrades, and [`MatrixRooms`], the
//! [`RoomSink`] that delivers outbox entries as m.notice with their transaction ids.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::{RequestConfig, SyncSettings};
use matrix_sdk::deserialized_responses::RawSyncOrStrippedState;
use matrix_sdk::encryption::{CryptoStoreError, EncryptionSettings, OlmError};
use matrix_sdk::event_handler::Ctx;
use matrix_sdk::ruma::api::error::{
    ErrorKind, FromHttpResponseError, LimitExceededErrorData, RetryAfter,
};
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::StateEventType;
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::member::{
    MembershipState, OriginalSyncRoomMemberEvent, StrippedRoomMemberEvent,
};
use matrix_sdk::ruma::events::room::message::{
    AddMentions, ForwardThread, MessageType, OriginalSyncRoomMessageEvent, Relation,
    RoomMessageEventContent,
};
use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
use matrix_sdk::ruma::events::room::tombstone::OriginalSyncRoomTombstoneEvent;
use matrix_sdk::ruma::events::room::tombstone::RoomTombstoneEventContent;
use matrix_sdk::ruma::{OwnedEventId, OwnedTransactionId, RoomId, UserId};
use matrix_sdk::{
    Client, ClientBuildError, Error as SdkError, HttpError, Room, RoomState, SqliteStoreConfig,
};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use crate::app::{App, Serving};
use crate::commands::reply::{CommandRate, RateDecision};
use crate::commands::{Command, CommandContext, Reply, apply};
use crate::config::MatrixConfig;
use crate::delivery::{RoomSink, SendError, ThreadRoot, retry_delay, run_delivery};
use crate::store::OutboxEntry;

/// Why the Matrix side cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// The config has no `[matrix]` section.
    #[error("the config has no [matrix] section")]
    NotConfigured,
    /// A password or passphrase could not be read.
    #[error("cannot read the Matrix {what}: {message}")]
    Secret {
        /// Which secret.
        what: &'static str,
        /// Where it should have come from (never the secret).
        message: String,
    },
    /// The session file is there but the SDK store is not: logging in again would
    /// create a new device and lose the old one's keys.
    #[error(
        "the Matrix session file {session} exists but the SDK store {store} is missing; refusing to create a new device. Restore {store} from a backup, or delete {session} to log in as a new device"
    )]
    StoreMissing {
        /// The session file.
        session: PathBuf,
        /// The store directory.
        store: PathBuf,
    },
    /// The SDK store is there but the session file is not.
    #[error(
        "the Matrix SDK store {store} exists but the session file {session} is missing; refusing to create a new device. Restore {session} from a backup, or delete {store} to log in as a new device"
    )]
    SessionMissing {
        /// The session file.
        session: PathBuf,
        /// The store directory.
        store: PathBuf,
    },
    /// The store or session cannot be opened or read.
    #[error("cannot open the Matrix store: {0}")]
    Store(String),
    /// The homeserver refused the login or the stored session.
    #[error("Matrix login failed: {0}")]
    Login(String),
    /// Anything else from the SDK.
    #[error("Matrix error: {0}")]
    Sdk(String),
}

/// Files of the bot's Matrix identity under the data directory.
struct MatrixPaths {
    session: PathBuf,
    sdk_store: PathBuf,
}

impl MatrixPaths {
    fn new(data_dir: &Path) -> MatrixPaths {
        let dir = data_dir.join("matrix");
        MatrixPaths {
            session: dir.join("session.json"),
            sdk_store: dir.join("sdk"),
        }
    }

    fn crypto_db(&self) -> PathBuf {
        self.sdk_store.join("matrix-sdk-crypto.sqlite3")
    }
}

/// True for a power level at or above `threshold`.
fn power_at_least(level: &UserPowerLevel, threshold: i64) -> bool {
    match level {
        UserPowerLevel::Infinite => true,
        UserPowerLevel::Int(i) => i64::from(*i) >= threshold,
        _ => false,
    }
}

fn power_display(level: &UserPowerLevel) -> String {
    match level {
        UserPowerLevel::Int(i) => i.to_string(),
        _ => "unlimited".into(),
    }
}

/// True if `inviter` is on the allow list (a user id, or `:server`).
pub fn inviter_allowed(allowed: &[String], inviter: &UserId) -> bool {
    allowed.iter().any(|a| match a.strip_prefix(':') {
        Some(server) => inviter.server_name().as_str() == server,
        None => a == inviter.as_str(),
    })
}

/// Whether an SDK error is worth retrying, and how long the server asked us to wait.
pub fn classify_error(e: &SdkError) -> (bool, Option<Duration>) {
    match e {
        SdkError::Http(http) => classify_http(http),
        // Crypto and store errors: worth a few more tries (see `send_error`).
        _ => (true, None),
    }
}

/// How a failed send goes back to delivery: the homeserver's refusals are final,
/// network trouble and its busy answers are retried as long as they last, and an
/// error on this side (crypto, the SDK's store) a bounded number of times.
fn send_error(e: &SdkError) -> SendError {
    match (e, classify_error(e)) {
        (_, (false, _)) => SendError::Permanent(e.to_string()),
        (SdkError::Http(_), (true, after)) => SendError::Retry {
            after,
            reason: e.to_string(),
        },
        (_, (true, _)) => SendError::Local(e.to_string()),
    }
}

fn classify_http(http: &HttpError) -> (bool, Option<Duration>) {
    match http {
        HttpError::Reqwest(_) => (true, None),
        HttpError::Cached(inner) => classify_http(inner),
        HttpError::Api(api) => match api.as_ref() {
            FromHttpResponseError::Server(_) => {
                if let Some(ErrorKind::LimitExceeded(LimitExceededErrorData {
                    retry_after, ..
                })) = http.client_api_error_kind()
                {
                    let wait = match retry_after {
                        Some(RetryAfter::Delay(d)) => Some(*d),
                        Some(RetryAfter::DateTime(t)) => Some(
                            t.duration_since(std::time::SystemTime::now())
                                .unwrap_or_default(),
                        ),
                        None => None,
                    };
                    return (true, wait);
                }
                match http.as_client_api_error().map(|e| e.status_code.as_u16()) {
                    Some(429 | 401 | 408) => (true, None),
                    Some(s) if s >= 500 => (true, None),
                    Some(_) => (false, None),
                    None => (true, None),
                }
            }
            _ => (true, None),
        },
        _ => (true, None),
    }
}

fn is_mismatched_account(e: &SdkError) -> bool {
    matches!(e, SdkError::OlmError(b) if matches!(**b, OlmError::Store(CryptoStoreError::MismatchedAccount { .. })))
        || matches!(e, SdkError::CryptoStoreError(b) if matches!(**b, CryptoStoreError::MismatchedAccount { .. }))
}

/// Delivers outbox entries to Matrix rooms (room ids starting with `!`).
pub struct MatrixRooms {
    client: Client,
}

impl RoomSink for MatrixRooms {
    fn serves(&self, room_id: &str) -> bool {
        Serving::Matrix.serves(room_id)
    }

    async fn send(
        &self,
        entry: &OutboxEntry,
        thread: Option<&ThreadRoot>,
    ) -> Result<Option<String>, SendError> {
        let room_id = RoomId::parse(&entry.room_id)
            .map_err(|e| SendError::Permanent(format!("bad room id: {e}")))?;
        let Some(room) = self.client.get_room(&room_id) else {
            return Err(SendError::Permanent("the bot is not in this room".into()));
        };
        if room.state() != RoomState::Joined {
            return Err(SendError::Permanent(format!(
                "the bot's membership is {:?}, not joined",
                room.state()
            )));
        }
        let mut content = RoomMessageEventContent::notice_html(&entry.plain, &entry.html);
        // Feed text must not be able to ping anyone: an explicit empty m.mentions.
        content.mentions = Some(Mentions::new());
        // An "also reported by" reply goes in a thread under the story's post, with
        // the reply fallback for clients without threads.
        if let Some(root) = thread.and_then(|t| t.event_id.as_deref())
            && let Ok(root) = OwnedEventId::try_from(root)
        {
            content.relates_to = Some(Relation::Thread(Thread::plain(root.clone(), root)));
        }
        room.send(content)
            .with_transaction_id(OwnedTransactionId::from(entry.txn_id.clone()))
            .with_request_config(
                RequestConfig::new()
                    .timeout(Duration::from_secs(30))
                    .disable_retry(),
            )
            .await
            .map(|sent| Some(sent.response.event_id.to_string()))
            .map_err(|e| send_error(&e))
    }
}

/// What the event handlers need; cloned into each handler call.
#[derive(Clone)]
struct HandlerContext {
    app: Arc<App>,
    matrix: Arc<MatrixConfig>,
    commands: mpsc::UnboundedSender<(Room, OriginalSyncRoomMessageEvent)>,
}

/// The connected bot: a logged-in client for the configured user's one device.
pub struct MatrixBot {
    app: Arc<App>,
    matrix: Arc<MatrixConfig>,
    client: Client,
}

impl MatrixBot {
    /// Restores the stored session, or logs in the first time; waits (retrying) while
    /// the homeserver is unreachable, until `shutdown`.
    pub async fn connect(
        app: Arc<App>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<MatrixBot, MatrixError> {
        let matrix = Arc::new(
            app.config
                .matrix
                .clone()
                .ok_or(MatrixError::NotConfigured)?,
        );
        let paths = MatrixPaths::new(&app.config.data_dir);
        let has_session = paths.session.exists();
        let has_store = paths.crypto_db().exists();
        match (has_session, has_store) {
            (true, false) => {
                return Err(MatrixError::StoreMissing {
                    session: paths.session,
                    store: paths.sdk_store,
                });
            }
            (false, true) => {
                return Err(MatrixError::SessionMissing {
                    session: paths.session,
                    store: paths.sdk_store,
                });
            }
            _ => {}
        }
        let passphrase =
            matrix
                .store_passphrase
                .resolve()
                .map_err(|message| MatrixError::Secret {
                    what: "store passphrase",
                    message,
                })?;
        create_private_dir(paths.session.parent().expect("session file has a parent"))?;
        let client = Client::builder()
            .homeserver_url(matrix.homeserver.as_str())
            .respect_login_well_known(false)
            // The SDK's default SQLite settings keep a pool of connections per store,
            // four per core with a 2 MB page cache each; a bot in one process with a
            // handful of rooms is well served by the low-memory settings.
            .sqlite_store_with_config_and_cache_path(
                SqliteStoreConfig::with_low_memory_config(&paths.sdk_store)
                    .passphrase(Some(&passphrase)),
                None::<&Path>,
            )
            .request_config(
                RequestConfig::new()
                    .timeout(Duration::from_secs(30))
                    .retry_limit(3)
                    .max_retry_time(Duration::from_secs(10)),
            )
            .with_encryption_settings(EncryptionSettings {
                auto_enable_cross_signing: false,
                ..Default::default()
            })
            .build()
            .await
            .map_err(|e| match e {
                ClientBuildError::SqliteStore(e) => MatrixError::Store(format!(
                    "{e} (is the store passphrase the one it was created with?)"
                )),
                other => MatrixError::Sdk(other.to_string()),
            })?;

        if has_session {
            let bytes = std::fs::read(&paths.session).map_err(|e| {
                MatrixError::Store(format!("cannot read {}: {e}", paths.session.display()))
            })?;
            let session: MatrixSession = serde_json::from_slice(&bytes).map_err(|e| {
                MatrixError::Store(format!(
                    "{} is not a session file: {e}",
                    paths.session.display()
                ))
            })?;
            if session.meta.user_id.as_str() != matrix.user_id {
                return Err(MatrixError::Store(format!(
                    "{} belongs to {}, but the config says user_id = {}",
                    paths.session.display(),
                    session.meta.user_id,
                    matrix.user_id
                )));
            }
            client.restore_session(session).await.map_err(|e| {
                if is_mismatched_account(&e) {
                    MatrixError::Store(format!("the SDK store belongs to another device: {e}"))
                } else {
                    MatrixError::Store(e.to_string())
                }
            })?;
            tracing::info!(user = %matrix.user_id, device = ?client.device_id(), "restored the Matrix session");
        } else {
            let password = matrix
                .password
                .resolve()
                .map_err(|message| MatrixError::Secret {
                    what: "password",
                    message,
                })?;
            let mut attempt = 0u32;
            loop {
                let result = client
                    .matrix_auth()
                    .login_username(&matrix.user_id, &password)
                    .initial_device_display_name(&matrix.device_name)
                    .send()
                    .await;
                match result {
                    Ok(_) => break,
                    Err(e) => {
                        let transient =
                            matches!(&e, matrix_sdk::Error::Http(h) if classify_http(h).0);
                        if !transient {
                            return Err(MatrixError::Login(e.to_string()));
                        }
                        attempt += 1;
                        let wait = retry_delay(attempt).min(Duration::from_secs(30));
                        tracing::warn!(error = %e, retry_in = ?wait, "cannot reach the homeserver to log in");
                        tokio::select! {
                            _ = shutdown.changed() => return Err(MatrixError::Login("shut down before logging in".into())),
                            _ = tokio::time::sleep(wait) => {}
                        }
                    }
                }
            }
            let session = client
                .matrix_auth()
                .session()
                .ok_or_else(|| MatrixError::Login("no session after login".into()))?;
            write_private_file(
                &paths.session,
                &serde_json::to_vec_pretty(&session).expect("session serialises"),
            )?;
            tracing::info!(user = %matrix.user_id, device = ?client.device_id(), "logged in as a new device; session saved");
        }
        Ok(MatrixBot {
            app,
            matrix,
            client,
        })
    }

    /// The client, for tests and diagnostics.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Syncs until `shutdown`: first one sync before any handler exists (so old
    /// commands are never answered), pending invites, then handlers, command worker,
    /// delivery and the sync loop. Never logs out.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), MatrixError> {
        let client = self.client.clone();
        self.app.metrics.enable_matrix();
        if !self.sync_until_success(&mut shutdown).await? {
            return Ok(());
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let ctx = HandlerContext {
            app: self.app.clone(),
            matrix: self.matrix.clone(),
            commands: tx,
        };
        for room in client.invited_rooms() {
            match room.invite_details().await {
                Ok(invite) => answer_invite(&ctx, room, invite.inviter_id),
                Err(e) => {
                    tracing::warn!(room = %room.room_id(), error = %e, "cannot read a pending invite")
                }
            }
        }
        client.add_event_handler_context(ctx);
        client.add_event_handler(on_invite);
        client.add_event_handler(on_message);
        client.add_event_handler(on_tombstone);
        client.add_event_handler(on_membership);

        let worker = tokio::spawn(command_worker(
            self.app.clone(),
            self.matrix.clone(),
            rx,
            shutdown.clone(),
        ));
        let delivery = tokio::spawn(run_delivery(
            self.app.clone(),
            Arc::new(MatrixRooms {
                client: client.clone(),
            }),
            shutdown.clone(),
        ));
        tracing::info!(user = %self.matrix.user_id, device = ?client.device_id(), "Matrix bot ready");

        let mut failures = 0u32;
        loop {
            let result = tokio::select! {
                _ = shutdown.changed() => break,
                r = client.sync_once(SyncSettings::default().timeout(Duration::from_secs(30))) => r,
            };
            match result {
                Ok(_) => {
                    failures = 0;
                    self.app.metrics.record_sync_ok();
                }
                Err(e) => {
                    failures += 1;
                    self.app.metrics.record_sync_failed();
                    let (_, after) = classify_error(&e);
                    let wait = after
                        .unwrap_or_default()
                        .max(retry_delay(failures).min(Duration::from_secs(30)));
                    tracing::warn!(error = %e, failures, retry_in = ?wait, "sync failed");
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        tracing::info!("stopping: letting sends in flight finish");
        if tokio::time::timeout(Duration::from_secs(15), delivery)
            .await
            .is_err()
        {
            tracing::warn!("a send did not finish within 15s; it stays in the outbox");
        }
        let _ = worker.await;
        Ok(())
    }

    /// The initial sync, retried while the homeserver is unreachable. False if shut
    /// down first.
    async fn sync_until_success(
        &self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<bool, MatrixError> {
        let mut failures = 0u32;
        loop {
            let result = tokio::select! {
                _ = shutdown.changed() => return Ok(false),
                r = self.client.sync_once(SyncSettings::default().timeout(Duration::ZERO)) => r,
            };
            match result {
                Ok(_) => {
                    self.app.metrics.record_sync_ok();
                    return Ok(true);
                }
                Err(e) if matches!(e.client_api_error_kind(), Some(ErrorKind::UnknownToken(_))) => {
                    return Err(MatrixError::Login(format!(
                        "the homeserver no longer accepts the stored session ({e}); the device was logged out elsewhere"
                    )));
                }
                Err(e) => {
                    failures += 1;
                    self.app.metrics.record_sync_failed();
                    let wait = retry_delay(failures).min(Duration::from_secs(30));
                    tracing::warn!(error = %e, retry_in = ?wait, "initial sync failed");
                    tokio::select! {
                        _ = shutdown.changed() => return Ok(false),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

/// Makes `dir` (the session and the SDK's store) and makes it owner-only (0700), or
/// refuses to go on: the session's access token and the encrypted keys must not be
/// readable by other users of the machine.
fn create_private_dir(dir: &Path) -> Result<(), MatrixError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| MatrixError::Store(format!("cannot create {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let narrowed = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        let mode = std::fs::metadata(dir)
            .map_err(|e| MatrixError::Store(format!("cannot read {}: {e}", dir.display())))?
            .permissions()
            .mode();
        private_enough(dir, mode, narrowed.err())?;
    }
    Ok(())
}

/// An error unless `mode` gives nobody but the owner access to `dir`.
fn private_enough(
    dir: &Path,
    mode: u32,
    why_not: Option<std::io::Error>,
) -> Result<(), MatrixError> {
    if mode & 0o077 == 0 {
        return Ok(());
    }
    Err(MatrixError::Store(format!(
        "{} holds the Matrix session and keys but others can read it (mode {:o}){}; make it private (chmod 700 {}) and start again",
        dir.display(),
        mode & 0o777,
        why_not
            .map(|e| format!(", and it cannot be changed: {e}"))
            .unwrap_or_default(),
        dir.display()
    )))
}

/// Writes a file readable only by the owner, atomically (temp file, then rename).
fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), MatrixError> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| MatrixError::Store(format!("cannot write {}: {e}", path.display())))
}

fn answer_invite(ctx: &HandlerContext, room: Room, inviter: matrix_sdk::ruma::OwnedUserId) {
    let allowed = inviter_allowed(&ctx.matrix.allowed_inviters, &inviter);
    let app = ctx.app.clone();
    tokio::spawn(async move {
        let client = room.client();
        let room_id = room.room_id().to_owned();
        if !allowed {
            tracing::info!(room = %room_id, inviter = %inviter, "declining an invite from outside the allow list");
            if let Err(e) = room.leave().await {
                tracing::warn!(room = %room_id, error = %e, "cannot decline the invite");
            }
            return;
        }
        // Synapse can refuse a join that follows the invite too closely; retry a little.
        for attempt in 1..=6u32 {
            match room.join().await {
                Ok(()) => {
                    tracing::info!(room = %room_id, inviter = %inviter, "joined");
                    carry_upgrade(&app, &client, &room).await;
                    return;
                }
                Err(e) => {
                    tracing::warn!(room = %room_id, attempt, error = %e, "cannot join yet");
                    tokio::time::sleep(retry_delay(attempt)).await;
                }
            }
        }
        tracing::error!(room = %room_id, "giving up joining");
    });
}

async fn on_invite(
    ev: StrippedRoomMemberEvent,
    room: Room,
    client: Client,
    Ctx(ctx): Ctx<HandlerContext>,
) {
    if client.user_id() != Some(ev.state_key.as_ref())
        || ev.content.membership != MembershipState::Invite
    {
        return;
    }
    answer_invite(&ctx, room, ev.sender);
}

async fn on_message(
    ev: OriginalSyncRoomMessageEvent,
    room: Room,
    client: Client,
    Ctx(ctx): Ctx<HandlerContext>,
) {
    if client.user_id() == Some(ev.sender.as_ref()) {
        return;
    }
    if matches!(ev.content.relates_to, Some(Relation::Replacement(_))) {
        return; // an edit never runs a command (again)
    }
    let MessageType::Text(text) = &ev.content.msgtype else {
        return; // notices (other bots), emotes, media
    };
    if command_line(&text.body, &ctx.app.config.command_prefix).is_none() {
        return;
    }
    let _ = ctx.commands.send((room, ev));
}

/// The command after the prefix, if `body` is one (`!sw` alone is `help`).
pub fn command_line<'a>(body: &'a str, prefix: &str) -> Option<&'a str> {
    let first = body.lines().next()?.trim();
    let rest = first.strip_prefix(prefix)?;
    if rest.is_empty() {
        return Some("help");
    }
    rest.starts_with(char::is_whitespace).then(|| rest.trim())
}

/// The bot left, or was kicked or banned: the room gets nothing any more, so its
/// subscriptions, follows and waiting posts go (nothing is retried for it forever).
/// Lists and feeds it made stay for the rooms that use them.
async fn on_membership(
    ev: OriginalSyncRoomMemberEvent,
    room: Room,
    client: Client,
    Ctx(ctx): Ctx<HandlerContext>,
) {
    if client.user_id() != Some(ev.state_key.as_ref())
        || !matches!(
            ev.content.membership,
            MembershipState::Leave | MembershipState::Ban
        )
    {
        return;
    }
    let how = match (&ev.content.membership, ev.sender == ev.state_key) {
        (MembershipState::Ban, _) => "banned",
        (_, true) => "left",
        (_, false) => "kicked",
    };
    let room_id = room.room_id().to_owned();
    let store = ctx.app.store.clone();
    let result = tokio::task::spawn_blocking(move || store.forget_room(room_id.as_str())).await;
    match result {
        Ok(Ok(f)) => tracing::warn!(
            room = %room.room_id(), by = %ev.sender, how,
            subscriptions = f.subscriptions, follows = f.follows, posts_dropped = f.posts,
            "the bot is out of the room; what the room received is forgotten"
        ),
        Ok(Err(e)) => {
            tracing::error!(room = %room.room_id(), error = %e, "cannot forget a room the bot is out of")
        }
        Err(e) => {
            tracing::error!(room = %room.room_id(), error = %e, "cannot forget a room the bot is out of")
        }
    }
    let _ = ctx.app.store.flush().await;
}

async fn on_tombstone(
    ev: OriginalSyncRoomTombstoneEvent,
    room: Room,
    client: Client,
    Ctx(ctx): Ctx<HandlerContext>,
) {
    let new_room = ev.content.replacement_room.clone();
    let old_room = room.room_id().to_owned();
    tracing::info!(from = %old_room, to = %new_room, by = %ev.sender, "the room was upgraded; joining the new room");
    // What the old room had moves once the bot is in the new room and its creation
    // names the old one (carry_upgrade): a private room needs an invite first, and
    // the answer to that invite carries it then.
    let app = ctx.app.clone();
    tokio::spawn(async move {
        let via = vec![ev.sender.server_name().to_owned()];
        let target = <&matrix_sdk::ruma::RoomOrAliasId>::from(&*new_room);
        match client.join_room_by_id_or_alias(target, &via).await {
            Ok(joined) => {
                tracing::info!(room = %new_room, "joined the upgraded room");
                carry_upgrade(&app, &client, &joined).await;
            }
            Err(e) => {
                tracing::info!(room = %new_room, error = %e, "cannot join the upgraded room yet; an invite will bring the bot in")
            }
        }
    });
}

/// When `new_room` replaces a room the bot was in, what that room received and made
/// moves to it: only if the new room's creation names the old room as its
/// predecessor, the old room's tombstone names the new room, and the tombstone's
/// sender may send one there. Anyone else pointing a tombstone at a room moves
/// nothing.
async fn carry_upgrade(app: &Arc<App>, client: &Client, new_room: &Room) {
    // The create event comes with the sync that follows the join.
    let mut predecessor = None;
    for _ in 0..40 {
        if new_room.create_content().is_some() {
            predecessor = new_room.predecessor_room();
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let Some(predecessor) = predecessor else {
        return; // not an upgraded room (or its creation never arrived)
    };
    let new_id = new_room.room_id();
    let Some(old_room) = client.get_room(&predecessor.room_id) else {
        return; // a room the bot was never in
    };
    if old_room.successor_room().map(|s| s.room_id).as_deref() != Some(new_id) {
        tracing::warn!(old = %old_room.room_id(), new = %new_id, "a room names a predecessor whose tombstone does not name it; nothing carried");
        return;
    }
    let sender = match old_room
        .get_state_event_static::<RoomTombstoneEventContent>()
        .await
    {
        Ok(Some(RawSyncOrStrippedState::Sync(raw))) => {
            raw.deserialize().ok().map(|ev| ev.sender().to_owned())
        }
        _ => None,
    };
    let allowed = match (&sender, old_room.power_levels().await) {
        (Some(sender), Ok(levels)) => {
            levels.user_can_send_state(sender, StateEventType::RoomTombstone)
        }
        _ => false,
    };
    if !allowed {
        tracing::warn!(old = %old_room.room_id(), new = %new_id, sender = ?sender, "the tombstone's sender may not upgrade the room; nothing carried");
        return;
    }
    let (from, to) = (old_room.room_id().to_string(), new_id.to_string());
    let store = app.store.clone();
    match tokio::task::spawn_blocking(move || store.carry_room(&from, &to)).await {
        Ok(Ok(c)) => tracing::info!(
            from = %old_room.room_id(), to = %new_id,
            subscriptions = c.subscriptions, follows = c.follows, lists = c.lists, feeds = c.feeds,
            "room upgraded; what the old room had was carried to the new one"
        ),
        Ok(Err(e)) => {
            tracing::error!(from = %old_room.room_id(), to = %new_id, error = %e, "cannot carry the upgraded room's records")
        }
        Err(e) => {
            tracing::error!(from = %old_room.room_id(), to = %new_id, error = %e, "cannot carry the upgraded room's records")
        }
    }
    let _ = app.store.flush().await;
}

/// Answers commands one at a time, in the order they arrived.
async fn command_worker(
    app: Arc<App>,
    matrix: Arc<MatrixConfig>,
    mut commands: mpsc::UnboundedReceiver<(Room, OriginalSyncRoomMessageEvent)>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut rate = CommandRate::new(app.config.limits.commands_per_minute);
    loop {
        let (room, ev) = tokio::select! {
            _ = shutdown.changed() => break,
            next = commands.recv() => match next {
                Some(next) => next,
                None => break,
            },
        };
        let MessageType::Text(text) = &ev.content.msgtype else {
            continue;
        };
        let Some(line) = command_line(&text.body, &app.config.command_prefix) else {
            continue;
        };
        match rate.check(ev.sender.as_str(), std::time::Instant::now()) {
            RateDecision::Allowed => {}
            RateDecision::Refused { tell, wait } => {
                tracing::info!(room = %room.room_id(), sender = %ev.sender, "command refused: over the per-user limit");
                if tell {
                    let text = format!(
                        "Slow down: at most {} commands a minute per person ([limits] commands_per_minute). Try again in {} s; commands until then are ignored.",
                        app.config.limits.commands_per_minute,
                        wait.as_secs().max(1)
                    );
                    send_reply(&room, &ev, &text).await;
                }
                continue;
            }
        }
        let reply = match Command::parse(line) {
            Err(e) => Reply { text: e.0 },
            Ok(command) => {
                let ctx = authorise(&room, &ev.sender, &matrix, command.is_change()).await;
                let app = app.clone();
                match tokio::task::spawn_blocking(move || apply(&app, &ctx, &command)).await {
                    Ok(reply) => reply,
                    Err(e) => Reply {
                        text: format!("Sorry, that command failed: {e}"),
                    },
                }
            }
        };
        send_reply(&room, &ev, &reply.text).await;
    }
}

async fn authorise(
    room: &Room,
    sender: &UserId,
    matrix: &MatrixConfig,
    is_change: bool,
) -> CommandContext {
    let threshold = matrix.command_power_level;
    let operator = matrix.admins.iter().any(|a| a == sender.as_str());
    let mut ctx = CommandContext {
        room_id: room.room_id().to_string(),
        sender: sender.to_string(),
        may_change: false,
        refusal: String::new(),
        operator,
    };
    if !is_change || operator {
        ctx.may_change = true;
        return ctx;
    }
    match room.get_user_power_level(sender).await {
        Ok(level) if power_at_least(&level, threshold) => ctx.may_change = true,
        Ok(level) => {
            ctx.refusal = format!(
                "changing this room's watchlists, feeds or subscriptions needs power level {threshold} in this room (yours is {}) or being an operator admin.",
                power_display(&level)
            );
        }
        Err(e) => {
            ctx.refusal = format!("cannot check your power level right now ({e}); try again.");
        }
    }
    ctx
}

/// Replies as an m.notice in reply to the command, pinging nobody. The transaction id
/// comes from the command's event id, so a retry cannot double the reply.
async fn send_reply(room: &Room, command: &OriginalSyncRoomMessageEvent, text: &str) {
    let digest = Sha256::digest(command.event_id.as_bytes());
    let mut txn = String::from("swr");
    crate::feeds::identity::push_hex(&mut txn, &digest[..12]);
    let txn = OwnedTransactionId::from(txn);
    for attempt in 1..=5u32 {
        let content = RoomMessageEventContent::notice_plain(text)
            .add_mentions(Mentions::new())
            .make_reply_to(command, ForwardThread::Yes, AddMentions::No);
        match room
            .send(content)
            .with_transaction_id(txn.clone())
            .with_request_config(
                RequestConfig::new()
                    .timeout(Duration::from_secs(30))
                    .disable_retry(),
            )
            .await
        {
            Ok(_) => return,
            Err(e) => {
                let (retry, after) = classify_error(&e);
                tracing::warn!(room = %room.room_id(), attempt, error = %e, "cannot send a command reply");
                if !retry {
                    return;
                }
                tokio::time::sleep(after.unwrap_or_default().max(retry_delay(attempt))).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_takes_users_and_servers() {
        let allowed = vec![
            "@alice:example.org".to_string(),
            ":trusted.example".to_string(),
        ];
        let user = |s: &str| UserId::parse(s).unwrap();
        assert!(inviter_allowed(&allowed, &user("@alice:example.org")));
        assert!(inviter_allowed(&allowed, &user("@bob:trusted.example")));
        assert!(!inviter_allowed(&allowed, &user("@bob:example.org")));
        assert!(!inviter_allowed(
            &allowed,
            &user("@mallory:trusted.example.evil")
        ));
    }

    #[test]
    fn command_lines_need_the_prefix_as_a_word() {
        assert_eq!(command_line("!sw feeds", "!sw"), Some("feeds"));
        assert_eq!(command_line("!sw", "!sw"), Some("help"));
        assert_eq!(command_line("  !sw  status \nmore", "!sw"), Some("status"));
        assert_eq!(command_line("!swfeeds", "!sw"), None);
        assert_eq!(command_line("> <@bot:x> !sw feeds", "!sw"), None);
        assert_eq!(command_line("hello", "!sw"), None);
    }

    #[test]
    fn the_session_directory_is_made_private_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let session = dir.path().join("matrix");
        std::fs::create_dir(&session).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&session, std::fs::Permissions::from_mode(0o755)).unwrap();
            create_private_dir(&session).unwrap();
            let mode = std::fs::metadata(&session).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "narrowed");
        }
        let refused = private_enough(&session, 0o40755, None)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("mode 755") && refused.contains("chmod 700"),
            "{refused}"
        );
        assert!(private_enough(&session, 0o40700, None).is_ok());
    }

    #[test]
    fn errors_on_this_side_are_retried_a_bounded_number_of_times() {
        assert!(matches!(
            send_error(&SdkError::BadCryptoStoreState),
            SendError::Local(_)
        ));
        assert!(matches!(
            send_error(&SdkError::NoOlmMachine),
            SendError::Local(_)
        ));
    }

    #[test]
    fn power_levels_compare_with_the_threshold() {
        assert!(power_at_least(&UserPowerLevel::Infinite, 100));
        assert!(power_at_least(&UserPowerLevel::Int(50.into()), 50));
        assert!(!power_at_least(&UserPowerLevel::Int(0.into()), 50));
    }
}
