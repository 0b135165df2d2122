//! End to end against a real Synapse on 127.0.0.1 (installed by
//! `scripts/install-synapse.sh`) and feeds served on 127.0.0.1: the real bot binary
//! (`sanctions-watch run`) joins rooms, takes commands, and posts exactly once through
//! crashes, homeserver outages, rate limits and encryption.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::feed_server::FeedServer;
use crate::support::matrix::{Api, BotConfig, BotProcess, wait_for};
use crate::support::synapse::{Registered, Synapse};
use crate::support::*;
use serde_json::{Value, json};

/// One homeserver, one feed server, a bot account and an admin who invites it.
struct World {
    synapse: Synapse,
    metrics_port: u16,
    feeds: FeedServer,
    _dir: tempfile::TempDir,
    data_dir: PathBuf,
    config: PathBuf,
    admin: Api,
    bot: Registered,
}

impl World {
    async fn new(synapse_flags: &[&str]) -> World {
        let synapse = tokio::task::block_in_place(|| Synapse::start(synapse_flags));
        let admin = Api::new(&synapse.base_url(), synapse.register("admin", true));
        admin.exempt_from_rate_limit(admin.user_id()).await;
        let bot = synapse.register("bot", false);
        let feeds = FeedServer::start().await;
        feeds.set_feed(
            "/feed.xml",
            rss(&[Item::new("old", "Designations", "Routine update.")]),
        );
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("state");
        let config = dir.path().join("config.toml");
        let metrics_port = free_port();
        BotConfig {
            data_dir: data_dir.clone(),
            homeserver: synapse.base_url(),
            bot: bot.clone(),
            allowed_inviters: vec![admin.user_id().to_string()],
            feeds: feed_section("gov", &feeds.url("/feed.xml"), "government", "1s"),
            // The bursts below (30 and 50 posts in one poll) test delivery, not the
            // flood guard, so it lets them through.
            extra: format!(
                "\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n[limits]\nposts_per_poll = 60\n"
            ),
        }
        .write(&config);
        World {
            synapse,
            metrics_port,
            feeds,
            _dir: dir,
            data_dir,
            config,
            admin,
            bot,
        }
    }

    fn user(&self, localpart: &str) -> Api {
        Api::new(
            &self.synapse.base_url(),
            self.synapse.register(localpart, false),
        )
    }

    fn bot_id(&self) -> &str {
        &self.bot.user_id
    }

    /// A room the admin created and the bot joined.
    async fn room_with_bot(&self) -> String {
        let room = self.admin.create_room(&[self.bot_id()]).await;
        self.wait_joined(&room).await;
        room
    }

    async fn wait_joined(&self, room: &str) {
        wait_for("the bot to join", Duration::from_secs(60), || async {
            (self.admin.membership(room, self.bot_id()).await.as_deref() == Some("join"))
                .then_some(())
        })
        .await;
    }

    /// Watches Lady R in `room` and waits until the feed has its baseline.
    async fn subscribe_lady_r(&self, room: &str) {
        let reply = self
            .admin
            .command(
                room,
                self.bot_id(),
                "!sw watch add vessels \"Lady R\" vessel",
            )
            .await;
        assert!(
            body(&reply).contains("Watching Lady R (vessel) on vessels"),
            "{reply}"
        );
        let reply = self
            .admin
            .command(room, self.bot_id(), "!sw subscribe vessels")
            .await;
        assert!(body(&reply).starts_with("Subscribed"), "{reply}");
        self.wait_feed_ok(room).await;
    }

    async fn wait_feed_ok(&self, room: &str) {
        for _ in 0..60 {
            let reply = self.admin.command(room, self.bot_id(), "!sw feeds").await;
            if body(&reply).contains("— ok") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("the feed never became ok");
    }

    /// Serves `n` new items naming Lady R (oldest first: item-01 ... item-n).
    fn publish_lady_r_items(&self, prefix: &str, n: usize) -> Vec<String> {
        let guids: Vec<String> = (1..=n).map(|i| format!("{prefix}-{i:02}")).collect();
        let mut items: Vec<Item> = guids
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut item = lady_r_item(g);
                item.date = Box::leak(
                    format!("Sat, 25 May 2024 {:02}:{:02}:00 GMT", 10 + i / 60, i % 60)
                        .into_boxed_str(),
                );
                item
            })
            .collect();
        items.reverse(); // feeds list newest first
        items.push(Item::new("old", "Designations", "Routine update."));
        self.feeds.set_feed("/feed.xml", rss(&items));
        guids
    }

    /// The bot's posts (not command replies) in `room`, oldest first.
    async fn posts(&self, room: &str) -> Vec<Value> {
        self.admin
            .messages_from(room, self.bot_id())
            .await
            .into_iter()
            .filter(|e| e["content"]["m.relates_to"]["m.in_reply_to"].is_null())
            .collect()
    }

    /// Waits until every guid was posted, then checks each appears exactly once and
    /// returns the guids in the order the room shows them.
    async fn expect_each_posted_once(
        &self,
        room: &str,
        guids: &[String],
        limit: Duration,
    ) -> Vec<String> {
        wait_for("every post", limit, || async {
            let posts = self.posts(room).await;
            guids
                .iter()
                .all(|g| posts.iter().any(|p| body(p).contains(&item_link(g))))
                .then_some(())
        })
        .await;
        // Give a duplicate time to show up if one were coming.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let posts = self.posts(room).await;
        let mut order = Vec::new();
        for p in &posts {
            let matching: Vec<&String> = guids
                .iter()
                .filter(|g| body(p).contains(&item_link(g)))
                .collect();
            assert_eq!(matching.len(), 1, "every post is about one item: {p}");
            order.push(matching[0].clone());
        }
        for g in guids {
            assert_eq!(
                order.iter().filter(|o| *o == g).count(),
                1,
                "{g} must be posted exactly once; room has {order:?}"
            );
        }
        order
    }
}

impl World {
    /// The status of the bot's `/ready`.
    async fn ready_status(&self) -> u16 {
        let url = format!("http://127.0.0.1:{}/ready", self.metrics_port);
        match reqwest::get(url).await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }
}

fn body(event: &Value) -> &str {
    event["content"]["body"].as_str().unwrap_or_default()
}

fn item_link(guid: &str) -> String {
    format!("https://news.example/{guid}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_room_keeps_what_it_had_and_a_stray_tombstone_moves_nothing() {
    let world = World::new(&[]).await;
    let bot = BotProcess::start(&world.config).await;
    let room = world.room_with_bot().await;
    world.subscribe_lady_r(&room).await; // `vessels`, made in `room`
    let follow = world
        .admin
        .command(&room, world.bot_id(), "!sw feed follow gov all designation")
        .await;
    assert!(
        body(&follow).starts_with("This room now follows"),
        "{follow}"
    );
    let ask = |room: String, line: &'static str| {
        let admin = &world.admin;
        let bot = world.bot_id().to_string();
        async move { body(&admin.command(&room, &bot, line).await).to_string() }
    };

    // A tombstone pointing at a room that was not made to replace this one (here one
    // the bot is in) moves nothing there.
    let bystander = world.room_with_bot().await;
    world
        .admin
        .send_state(
            &room,
            "m.room.tombstone",
            json!({"body": "moved", "replacement_room": bystander}),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        ask(bystander.clone(), "!sw subscriptions")
            .await
            .contains("no watchlist")
    );
    assert!(
        ask(room.clone(), "!sw subscriptions")
            .await
            .contains("vessels")
    );

    // A real upgrade: the new room names the old one; once invited, the bot carries
    // the subscriptions, the follow and the list the old room made.
    let new_room = world.admin.upgrade_room(&room, "11").await;
    world.admin.invite(&new_room, world.bot_id()).await;
    world.wait_joined(&new_room).await;
    let log = bot.log.clone();
    wait_for("the upgrade to be carried", Duration::from_secs(30), || {
        let log = log.clone();
        async move {
            log.lock()
                .unwrap()
                .contains("what the old room had was carried to the new one")
                .then_some(())
        }
    })
    .await;
    assert!(
        ask(new_room.clone(), "!sw subscriptions")
            .await
            .contains("vessels")
    );
    let lists = ask(new_room.clone(), "!sw watchlists").await;
    assert!(lists.contains("vessels — 1 name (this room's)"), "{lists}");
    let feeds = ask(new_room.clone(), "!sw feeds").await;
    assert!(
        feeds.contains("this room follows: all · designation"),
        "{feeds}"
    );
    // (The old room is read-only for the bot after an upgrade: ask the store.)
    bot.terminate().await;
    let store = sanctions_watch::store::Store::open_existing(&world.data_dir).unwrap();
    assert!(store.room_subscriptions(&room).unwrap().is_empty());
    assert!(store.room_follows(&room).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicked_out_of_a_room_the_bot_forgets_what_the_room_received_and_keeps_its_list() {
    let world = World::new(&[]).await;
    let bot = BotProcess::start(&world.config).await;
    let room = world.room_with_bot().await;
    let other = world.room_with_bot().await;
    world.subscribe_lady_r(&room).await; // makes `vessels`, owned by `room`
    let reply = world
        .admin
        .command(&room, world.bot_id(), "!sw feed follow gov all designation")
        .await;
    assert!(body(&reply).starts_with("This room now follows"), "{reply}");
    let reply = world
        .admin
        .command(&room, world.bot_id(), "!sw watch share vessels")
        .await;
    assert!(body(&reply).contains("is shared"), "{reply}");
    let reply = world
        .admin
        .command(&other, world.bot_id(), "!sw subscribe vessels")
        .await;
    assert!(body(&reply).starts_with("Subscribed"), "{reply}");

    world.admin.kick(&room, world.bot_id()).await;
    let log = bot.log.clone();
    wait_for(
        "the bot to forget the room",
        Duration::from_secs(30),
        || {
            let log = log.clone();
            async move {
                log.lock()
                    .unwrap()
                    .contains("the bot is out of the room")
                    .then_some(())
            }
        },
    )
    .await;
    let log = bot.terminate().await;
    assert!(log.contains("\"kicked\""), "{log}");
    let store = sanctions_watch::store::Store::open_existing(&world.data_dir).unwrap();
    assert!(store.room_subscriptions(&room).unwrap().is_empty());
    assert!(store.room_follows(&room).unwrap().is_empty());
    assert!(
        store
            .outbox()
            .unwrap()
            .iter()
            .all(|(_, e)| e.room_id != room)
    );
    // What the room made stays for the room that uses it.
    assert_eq!(store.entries("vessels").unwrap().len(), 1);
    assert_eq!(store.room_subscriptions(&other).unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_joins_for_allowed_inviters_obeys_power_levels_and_posts_once() {
    let world = World::new(&[]).await;
    let member = world.user("member");
    let mallory = world.user("mallory");
    let bot = BotProcess::start(&world.config).await;

    // 1. Invites: the admin's are accepted, others declined.
    let room = world.room_with_bot().await;
    let quiet = world.room_with_bot().await;
    let evil = mallory.create_room(&[world.bot_id()]).await;
    wait_for(
        "the bot to decline mallory's invite",
        Duration::from_secs(60),
        || async {
            (mallory.membership(&evil, world.bot_id()).await.as_deref() == Some("leave"))
                .then_some(())
        },
    )
    .await;

    // 2. Commands: changes need power level 50; replies are m.notice replies that ping nobody.
    world.admin.invite(&room, member.user_id()).await;
    member.join(&room).await;
    let first = world
        .admin
        .command(
            &room,
            world.bot_id(),
            "!sw watch add vessels \"Lady R\" vessel",
        )
        .await;
    assert_eq!(first["content"]["msgtype"], "m.notice");
    assert_eq!(first["content"]["m.mentions"], json!({}));
    let reply = world
        .admin
        .command(&room, world.bot_id(), "!sw subscribe vessels")
        .await;
    assert!(body(&reply).starts_with("Subscribed"), "{reply}");
    let refused = member
        .command(
            &room,
            world.bot_id(),
            "!sw watch add vessels \"Evil Ship\" vessel",
        )
        .await;
    assert!(
        body(&refused).contains("Refused") && body(&refused).contains("power level 50"),
        "{refused}"
    );
    let read = member
        .command(&room, world.bot_id(), "!sw watchlists")
        .await;
    assert!(
        body(&read).contains("vessels — 1 name"),
        "reading is open to members: {read}"
    );

    // Edits and notices never run commands.
    let original = world.admin.send_text(&room, "hello").await;
    world
        .admin
        .send(
            &room,
            json!({
                "msgtype": "m.text",
                "body": "* !sw watch add vessels Edited",
                "m.new_content": {"msgtype": "m.text", "body": "!sw watch add vessels Edited"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": original},
            }),
        )
        .await;
    world
        .admin
        .send(
            &room,
            json!({"msgtype": "m.notice", "body": "!sw watch add vessels Noticed"}),
        )
        .await;
    let show = world
        .admin
        .command(&room, world.bot_id(), "!sw watch show vessels")
        .await;
    let shown = body(&show);
    assert!(shown.contains("Lady R"), "{shown}");
    for absent in ["Evil Ship", "Edited", "Noticed"] {
        assert!(
            !shown.contains(absent),
            "{absent} must not be on the list: {shown}"
        );
    }
    assert_eq!(
        world.admin.messages_from(&room, world.bot_id()).await.len(),
        5,
        "one reply per command, none for the edit or the notice"
    );

    // 3 and 8. A new item naming Lady R, and a hostile one.
    world.wait_feed_ok(&room).await;
    world.feeds.set_feed(
        "/feed.xml",
        rss(&[
            Item {
                guid: "hostile",
                title: "@room <script>alert(1)</script> Lady R <a href=\"javascript:alert(1)\">details</a> sanctioned",
                description: "The Lady R was sanctioned. <a href=\"javascript:alert(2)\">click here</a> @room",
                date: "Sat, 25 May 2024 19:00:00 GMT",
            },
            lady_r_item("lady-1"),
            Item::new("old", "Designations", "Routine update."),
        ]),
    );
    let order = world
        .expect_each_posted_once(
            &room,
            &["lady-1".to_string(), "hostile".to_string()],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(
        order,
        ["lady-1", "hostile"],
        "posts arrive in publication order"
    );
    let posts = world.posts(&room).await;
    let lady = &posts[0];
    assert_eq!(lady["content"]["msgtype"], "m.notice");
    assert!(body(lady).contains(LADY_R_SENTENCE), "{lady}");
    let hostile = &posts[1];
    let html = hostile["content"]["formatted_body"].as_str().unwrap();
    assert_eq!(hostile["content"]["format"], "org.matrix.custom.html");
    assert_eq!(
        hostile["content"]["m.mentions"],
        json!({}),
        "the post pings nobody"
    );
    for bad in ["<script", "javascript:", "@room"] {
        assert!(!html.contains(bad), "{bad} in {html}");
        assert!(
            !body(hostile).contains(bad),
            "{bad} in the body: {}",
            body(hostile)
        );
    }
    assert!(
        world
            .admin
            .messages_from(&quiet, world.bot_id())
            .await
            .is_empty(),
        "unsubscribed rooms get nothing"
    );

    let log = bot.terminate().await;
    let session: Value =
        serde_json::from_slice(&std::fs::read(world.data_dir.join("matrix/session.json")).unwrap())
            .unwrap();
    let bot_token = session["access_token"]
        .as_str()
        .expect("the session file holds the bot's token");
    for secret in [
        world.bot.password.as_str(),
        world.bot.access_token.as_str(),
        bot_token,
    ] {
        assert!(!log.contains(secret), "a secret leaked into the log");
    }
    assert!(
        !log.contains("store-passphrase-"),
        "the store passphrase leaked into the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_posting_it_posts_every_item_exactly_once_on_one_device() {
    // A tight message limit keeps the burst going long enough to kill the bot in it.
    let world = World::new(&[
        "--rate-limited",
        "--rc-message-per-second",
        "3",
        "--rc-message-burst",
        "3",
    ])
    .await;
    let bot = BotProcess::start(&world.config).await;
    // Registration made one device; the bot's login the second.
    let devices = world.admin.device_count(world.bot_id()).await;
    assert_eq!(devices, 2);
    let room = world.room_with_bot().await;
    world.subscribe_lady_r(&room).await;

    let guids = world.publish_lady_r_items("burst", 30);
    wait_for("the first posts", Duration::from_secs(60), || async {
        (world.posts(&room).await.len() >= 3).then_some(())
    })
    .await;
    let log = bot.kill().await;
    let before = world.posts(&room).await.len();
    assert!(
        before < guids.len(),
        "the kill should land inside the burst ({before} posted)"
    );
    assert!(
        !log.contains(&world.bot.password),
        "the password leaked into the log"
    );

    let bot = BotProcess::start(&world.config).await;
    world
        .expect_each_posted_once(&room, &guids, Duration::from_secs(120))
        .await;
    assert_eq!(
        world.admin.device_count(world.bot_id()).await,
        devices,
        "a restart never makes a new device"
    );
    let log = bot.terminate().await;
    assert!(log.contains("restored the Matrix session"), "{log}");

    // A wrong store passphrase is refused clearly.
    let good_config = std::fs::read_to_string(&world.config).unwrap();
    std::fs::write(
        &world.config,
        good_config.replace("store-passphrase-", "wrong-passphrase-"),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sanctions-watch"))
        .args(["run", "--config"])
        .arg(&world.config)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("passphrase"), "{stderr}");
    std::fs::write(&world.config, good_config).unwrap();

    // With the SDK store gone, the bot refuses to start rather than make a new device.
    std::fs::remove_dir_all(world.data_dir.join("matrix/sdk")).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sanctions-watch"))
        .args(["run", "--config"])
        .arg(&world.config)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to create a new device"),
        "{stderr}"
    );
    assert_eq!(world.admin.device_count(world.bot_id()).await, devices);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_homeserver_outage_delays_posts_but_loses_none() {
    let mut world = World::new(&[]).await;
    let bot = BotProcess::start(&world.config).await;
    let room = world.room_with_bot().await;
    world.subscribe_lady_r(&room).await;

    assert_eq!(world.ready_status().await, 200);
    tokio::task::block_in_place(|| world.synapse.stop());
    let guids = world.publish_lady_r_items("outage", 10);
    // The bot polls the feed, enqueues the posts, and fails to send them for a while;
    // meanwhile it reports itself not ready.
    wait_for("/ready to turn false", Duration::from_secs(60), || async {
        (world.ready_status().await == 503).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    tokio::task::block_in_place(|| world.synapse.start_again());

    world
        .expect_each_posted_once(&room, &guids, Duration::from_secs(120))
        .await;
    wait_for("/ready to turn true", Duration::from_secs(60), || async {
        (world.ready_status().await == 200).then_some(())
    })
    .await;
    let log = bot.terminate().await;
    assert!(
        log.contains("delivery failed; will retry") || log.contains("sync failed"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tight_rate_limits_still_deliver_a_burst_of_50_in_order() {
    let world = World::new(&[
        "--rate-limited",
        "--rc-message-per-second",
        "5",
        "--rc-message-burst",
        "5",
    ])
    .await;
    let bot = BotProcess::start(&world.config).await;
    let room = world.room_with_bot().await;
    world.subscribe_lady_r(&room).await;

    let guids = world.publish_lady_r_items("rl", 50);
    let order = world
        .expect_each_posted_once(&room, &guids, Duration::from_secs(180))
        .await;
    assert_eq!(order, guids, "posts arrive in publication order");
    let log = bot.terminate().await;
    assert!(
        log.contains("M_LIMIT_EXCEEDED")
            || log.contains("Too Many Requests")
            || log.contains("429"),
        "the limit was hit: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_source_of_a_story_is_a_threaded_also_reported_by_reply() {
    let world = World::new(&[]).await;
    world.feeds.set_feed(
        "/wire.xml",
        rss(&[Item::new("wire-old", "Markets", "Nothing to see.")]),
    );
    BotConfig {
        data_dir: world.data_dir.clone(),
        homeserver: world.synapse.base_url(),
        bot: world.bot.clone(),
        allowed_inviters: vec![world.admin.user_id().to_string()],
        feeds: format!(
            "{}{}",
            feed_section("gov", &world.feeds.url("/feed.xml"), "government", "1s"),
            feed_section("wire", &world.feeds.url("/wire.xml"), "news", "1s"),
        ),
        extra: String::new(),
    }
    .write(&world.config);
    let bot = BotProcess::start(&world.config).await;
    let room = world.room_with_bot().await;
    world.subscribe_lady_r(&room).await;
    wait_for("both feeds' baselines", Duration::from_secs(60), || async {
        let reply = world
            .admin
            .command(&room, world.bot_id(), "!sw feeds")
            .await;
        (body(&reply).matches("— ok").count() == 2).then_some(())
    })
    .await;

    world.feeds.set_feed(
        "/feed.xml",
        rss(&[
            Item {
                guid: "kr-0628",
                title: "Additional designations related to North Korea-Russia military cooperation",
                description: "The Government of the Republic of Korea has decided to designate the Russian vessels Angara and Lady R, and four entities involved in North Korea-Russia arms transfers, as subjects of independent sanctions.",
                date: "Fri, 28 Jun 2024 01:00:00 GMT",
            },
            Item::new("old", "Designations", "Routine update."),
        ]),
    );
    let first = wait_for("the story's post", Duration::from_secs(60), || async {
        world
            .posts(&room)
            .await
            .into_iter()
            .find(|p| body(p).contains(&item_link("kr-0628")))
    })
    .await;
    assert!(
        body(&first).contains("South Korea · new designations"),
        "{first}"
    );
    let first_id = first["event_id"].as_str().unwrap().to_string();

    world.feeds.set_feed(
        "/wire.xml",
        rss(&[
            Item {
                guid: "yonhap-0628",
                title: "S. Korea sanctions 2 more Russian vessels, 4 entities over N. Korea arms trade",
                description: "South Korea on Friday slapped sanctions on two Russian vessels, the Angara and the Lady R, and four entities for their involvement in arms transfers between North Korea and Russia, the foreign ministry said.",
                date: "Fri, 28 Jun 2024 02:30:00 GMT",
            },
            Item::new("wire-old", "Markets", "Nothing to see."),
        ]),
    );
    let reply = wait_for("the threaded reply", Duration::from_secs(60), || async {
        world
            .admin
            .messages_from(&room, world.bot_id())
            .await
            .into_iter()
            .find(|e| body(e).contains(&item_link("yonhap-0628")))
    })
    .await;
    assert!(body(&reply).starts_with("Also reported by wire"), "{reply}");
    let relation = &reply["content"]["m.relates_to"];
    assert_eq!(relation["rel_type"], "m.thread", "{reply}");
    assert_eq!(relation["event_id"], first_id.as_str(), "{reply}");
    assert_eq!(relation["is_falling_back"], true, "{reply}");
    assert_eq!(relation["m.in_reply_to"]["event_id"], first_id.as_str());
    assert_eq!(reply["content"]["m.mentions"], json!({}));
    // One post for the story: the second source did not make a post of its own.
    let top_level: Vec<Value> = world
        .posts(&room)
        .await
        .into_iter()
        .filter(|p| body(p).contains("Sanctions watch:"))
        .collect();
    assert_eq!(top_level.len(), 1, "{top_level:#?}");
    bot.terminate().await;
}

mod encrypted {
    use super::*;
    use matrix_sdk::config::SyncSettings;
    use matrix_sdk::room::MessagesOptions;
    use matrix_sdk::ruma::api::client::room::create_room;
    use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
    use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
    use matrix_sdk::ruma::events::{
        AnySyncMessageLikeEvent, AnySyncTimelineEvent, InitialStateEvent, SyncMessageLikeEvent,
    };
    use matrix_sdk::ruma::{UserId, uint};
    use matrix_sdk::{Client, Room};

    /// Decrypted bodies of the bot's messages, oldest first.
    async fn bot_bodies(room: &Room, bot: &str) -> Vec<String> {
        let mut options = MessagesOptions::backward();
        options.limit = uint!(100);
        let Ok(messages) = room.messages(options).await else {
            return Vec::new();
        };
        let mut bodies: Vec<String> = messages
            .chunk
            .iter()
            .filter(|ev| !ev.kind.is_utd())
            .filter_map(|ev| match ev.raw().deserialize() {
                Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                    SyncMessageLikeEvent::Original(m),
                ))) if m.sender == bot => Some(m.content.body().to_string()),
                _ => None,
            })
            .collect();
        bodies.reverse();
        bodies
    }

    async fn send_and_wait(room: &Room, bot: &str, line: &str, expect: &str) -> String {
        room.send(RoomMessageEventContent::text_plain(line))
            .await
            .expect("send encrypted");
        wait_for(
            &format!("a decrypted reply containing {expect:?}"),
            Duration::from_secs(60),
            || async {
                bot_bodies(room, bot)
                    .await
                    .into_iter()
                    .find(|b| b.contains(expect))
            },
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn encrypted_rooms_take_commands_and_get_posts() {
        let world = World::new(&[]).await;
        let bot = BotProcess::start(&world.config).await;

        let store = tempfile::tempdir().unwrap();
        let client = Client::builder()
            .homeserver_url(world.synapse.base_url())
            .sqlite_store(store.path(), None)
            .build()
            .await
            .unwrap();
        client
            .matrix_auth()
            .login_username(world.admin.user_id(), &world.admin.user.password)
            .initial_device_display_name("e2e test client")
            .send()
            .await
            .unwrap();
        client.sync_once(SyncSettings::default()).await.unwrap();
        let syncing = client.clone();
        let sync_task = tokio::spawn(async move { syncing.sync(SyncSettings::default()).await });

        let mut request = create_room::v3::Request::new();
        request.invite = vec![UserId::parse(world.bot_id()).unwrap()];
        request.preset = Some(create_room::v3::RoomPreset::PrivateChat);
        request.initial_state = vec![
            InitialStateEvent::with_empty_state_key(
                RoomEncryptionEventContent::with_recommended_defaults(),
            )
            .to_raw_any(),
        ];
        let room = client.create_room(request).await.unwrap();
        let room_id = room.room_id().to_string();
        world.wait_joined(&room_id).await;
        // Let the test client learn the bot's membership and devices.
        tokio::time::sleep(Duration::from_secs(2)).await;

        let bot_id = world.bot_id();
        send_and_wait(
            &room,
            bot_id,
            "!sw watch add vessels \"Lady R\" vessel",
            "Watching Lady R",
        )
        .await;
        send_and_wait(&room, bot_id, "!sw subscribe vessels", "Subscribed").await;
        for attempt in 0.. {
            let reply = send_and_wait(&room, bot_id, "!sw feeds", "next poll").await;
            if reply.contains("— ok") {
                break;
            }
            assert!(attempt < 30, "the feed never became ok");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        world.feeds.set_feed(
            "/feed.xml",
            rss(&[
                lady_r_item("secret-1"),
                Item::new("old", "Designations", "Routine update."),
            ]),
        );
        let post = wait_for("a decrypted post", Duration::from_secs(60), || async {
            bot_bodies(&room, bot_id)
                .await
                .into_iter()
                .find(|b| b.contains("https://news.example/secret-1"))
        })
        .await;
        assert!(post.contains(LADY_R_SENTENCE), "{post}");

        // What the homeserver stored from the bot is ciphertext only.
        let raw = world.admin.messages(&room_id).await;
        assert!(
            raw.iter().all(|e| e["sender"] != bot_id),
            "the bot sent plaintext m.room.message events into an encrypted room"
        );

        sync_task.abort();
        bot.terminate().await;
    }
}

/// Rooms as tenants, end to end: two rooms, each made by a different user who is
/// room admin (power level 100) there and an allowed inviter, neither an operator
/// admin. What each room may see and change is asked in the other room with real
/// commands, and what each room gets is read back from the homeserver.
mod tenancy {
    use std::collections::HashSet;

    use super::*;

    /// Posts one room gets from one poll of a feed before the rest are summed up.
    const POSTS_PER_POLL: usize = 10;

    /// Two users, each with a room of their own the bot joined, and the bot running
    /// with two operator feeds (`gov` and `bulletin`, government, polled every second),
    /// the operator list `vessels` (Lady R), loopback allowed for `feed add`, and
    /// feeds added by command polled every second too.
    struct Desks {
        world: World,
        one: Api,
        two: Api,
        room1: String,
        room2: String,
        bot: BotProcess,
    }

    impl Desks {
        async fn new() -> Desks {
            let world = World::new(&[]).await;
            let one = world.user("one");
            let two = world.user("two");
            world.feeds.set_feed(
                "/gov.xml",
                rss(&[Item::new("gov-old", "Designations", "Routine update.")]),
            );
            world.feeds.set_feed(
                "/bulletin.xml",
                rss(&[Item::new("bulletin-old", "Designations", "Routine update.")]),
            );
            // `allow_private` belongs in [fetch], the table `config_text` opens just
            // before this text.
            let feeds = format!(
                "allow_private = [\"127.0.0.1\"]\n{}{}\n[[watchlists]]\nname = \"vessels\"\n\n[[watchlists.entries]]\nname = \"Lady R\"\nkind = \"vessel\"\n",
                feed_section("gov", &world.feeds.url("/gov.xml"), "government", "1s"),
                feed_section(
                    "bulletin",
                    &world.feeds.url("/bulletin.xml"),
                    "government",
                    "1s"
                ),
            );
            BotConfig {
                data_dir: world.data_dir.clone(),
                homeserver: world.synapse.base_url(),
                bot: world.bot.clone(),
                allowed_inviters: vec![one.user_id().to_string(), two.user_id().to_string()],
                feeds,
                // No `admins`: neither user is an operator admin. Each user gives
                // more commands than the default 20 a minute.
                extra: format!(
                    "\n[limits]\nposts_per_poll = {POSTS_PER_POLL}\ncommands_per_minute = 1000\n"
                ),
            }
            .write(&world.config);
            // A top-level key must come before the first table.
            let text = std::fs::read_to_string(&world.config).unwrap();
            std::fs::write(
                &world.config,
                format!("default_poll_interval = \"1s\"\n{text}"),
            )
            .unwrap();

            let bot = BotProcess::start(&world.config).await;
            let room1 = one.create_room(&[world.bot_id()]).await;
            let room2 = two.create_room(&[world.bot_id()]).await;
            for (user, room) in [(&one, &room1), (&two, &room2)] {
                wait_for("the bot to join", Duration::from_secs(60), || async {
                    (user.membership(room, world.bot_id()).await.as_deref() == Some("join"))
                        .then_some(())
                })
                .await;
            }
            Desks {
                world,
                one,
                two,
                room1,
                room2,
                bot,
            }
        }

        fn bot_id(&self) -> &str {
            self.world.bot_id()
        }

        /// Room `n` and the user who made it.
        fn desk(&self, n: usize) -> (&Api, &str) {
            match n {
                1 => (&self.one, &self.room1),
                2 => (&self.two, &self.room2),
                _ => unreachable!(),
            }
        }

        /// The body of the bot's reply to `line`, said in room `n` by its user.
        async fn say(&self, n: usize, line: &str) -> String {
            let (user, room) = self.desk(n);
            let reply = user.command(room, self.bot_id(), line).await;
            body(&reply).to_string()
        }

        /// What the bot sent to room `n` that is not a reply to a command (posts,
        /// summaries, threaded "also reported by" replies), oldest first.
        async fn posts(&self, n: usize) -> Vec<Value> {
            let (user, room) = self.desk(n);
            let all = user.messages(room).await;
            let commands: HashSet<&str> = all
                .iter()
                .filter(|e| e["sender"] != self.bot_id())
                .filter_map(|e| e["event_id"].as_str())
                .collect();
            all.iter()
                .filter(|e| e["sender"] == self.bot_id())
                .filter(|e| {
                    let answered = e["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
                        .as_str()
                        .unwrap_or_default();
                    !commands.contains(answered)
                })
                .cloned()
                .collect()
        }

        /// The bodies of room `n`'s posts.
        async fn post_bodies(&self, n: usize) -> Vec<String> {
            self.posts(n)
                .await
                .iter()
                .map(|p| body(p).to_string())
                .collect()
        }

        /// Waits until room `n` has at least `count` posts; returns their bodies.
        async fn wait_posts(&self, n: usize, count: usize) -> Vec<String> {
            wait_for(
                &format!("{count} posts in room {n}"),
                Duration::from_secs(60),
                || async {
                    let bodies = self.post_bodies(n).await;
                    (bodies.len() >= count).then_some(bodies)
                },
            )
            .await
        }

        /// Waits until room `n`'s `feeds` shows feed `id` polled successfully (so its
        /// current items are the baseline).
        async fn wait_feed_ok(&self, n: usize, id: &str) {
            let head = format!("• {id} (");
            for _ in 0..60 {
                let listed = self.say(n, "!sw feeds").await;
                let entry = listed
                    .split("\n•")
                    .map(|e| format!("•{}", e.trim_start_matches('•')))
                    .find(|e| e.starts_with(&head));
                if entry.is_some_and(|e| e.contains("— ok")) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            panic!("feed {id} never became ok in room {n}");
        }

        /// Lets a few polls (one a second) go by, for anything that should not come.
        async fn let_polls_pass(&self) {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
    }

    /// The id `feed add` gave, from its reply "Added feed <id> (...".
    fn added_id(reply: &str) -> String {
        assert!(reply.starts_with("Added feed "), "{reply}");
        reply.split_whitespace().nth(2).unwrap().to_string()
    }

    /// Asks `probe` in room `n` and the same about a name nothing has, and checks the
    /// answers are the same but for the name: hidden answers as missing.
    async fn answers_as_missing(desks: &Desks, n: usize, probe: &str, name: &str, expect: &str) {
        let answer = desks.say(n, probe).await;
        let missing = desks
            .say(n, &probe.replacen(name, "nosuch", 1))
            .await
            .replace("nosuch", name);
        assert!(answer.starts_with(expect), "{probe}: {answer}");
        assert_eq!(answer, missing, "{probe} answers as for a missing {name}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rooms_own_list_and_feed_are_invisible_to_and_post_nothing_in_the_other_room() {
        let desks = Desks::new().await;
        let feeds = &desks.world.feeds;
        feeds.set_feed("/desk1.xml", rss(&[lady_r_item("desk1-old")]));
        feeds.set_feed("/desk2.xml", rss(&[lady_r_item("desk2-old")]));

        // Room 1 makes its own list and feed; room 2 watches Lady R through the
        // operator list, so a post leaking across would find a reader.
        let reply = desks.say(1, "!sw watch add desk1 \"Lady R\" vessel").await;
        assert!(
            reply.contains("Watching Lady R (vessel) on desk1"),
            "{reply}"
        );
        assert!(
            desks
                .say(1, "!sw subscribe desk1")
                .await
                .starts_with("Subscribed")
        );
        let reply = desks
            .say(1, &format!("!sw feed add {}", feeds.url("/desk1.xml")))
            .await;
        let feed1 = added_id(&reply);
        assert_eq!(feed1, "127-0-0-1");
        let reply = desks.say(2, "!sw subscribe vessels").await;
        assert!(reply.starts_with("Subscribed"), "{reply}");

        // 1. Room 2 can neither see, change nor subscribe to room 1's list...
        for probe in [
            "!sw watch show desk1",
            "!sw subscribe desk1",
            "!sw watch remove desk1 \"Lady R\"",
            "!sw watch threshold desk1 0.5",
            "!sw watch share desk1",
        ] {
            answers_as_missing(
                &desks,
                2,
                probe,
                "desk1",
                "There is no watchlist \"desk1\".",
            )
            .await;
        }
        let lists = desks.say(2, "!sw watchlists").await;
        assert!(lists.contains("vessels"), "{lists}");
        assert!(!lists.contains("desk1"), "{lists}");
        // ... nor see, remove or unfollow room 1's feed.
        for probe in [
            format!("!sw feed remove {feed1}"),
            format!("!sw feed unfollow {feed1}"),
            format!("!sw feed follow {feed1}"),
        ] {
            answers_as_missing(
                &desks,
                2,
                &probe,
                &feed1,
                &format!("There is no feed \"{feed1}\"."),
            )
            .await;
        }
        let listed = desks.say(2, "!sw feeds").await;
        assert!(!listed.contains(&feed1), "{listed}");
        // Nothing changed for room 1.
        let shown = desks.say(1, "!sw watch show desk1").await;
        assert!(shown.contains("Lady R"), "{shown}");
        desks.wait_feed_ok(1, &feed1).await;

        // A new item naming Lady R on room 1's feed: one post in room 1, none in 2.
        feeds.set_feed(
            "/desk1.xml",
            rss(&[lady_r_item("desk1-new"), lady_r_item("desk1-old")]),
        );
        desks.wait_posts(1, 1).await;
        desks.let_polls_pass().await;
        let room1 = desks.post_bodies(1).await;
        assert_eq!(room1.len(), 1, "{room1:#?}");
        assert!(room1[0].starts_with("Sanctions watch:"), "{}", room1[0]);
        assert!(room1[0].contains(&item_link("desk1-new")), "{}", room1[0]);
        assert!(room1[0].contains(LADY_R_SENTENCE), "{}", room1[0]);
        assert!(room1[0].contains("On watchlist desk1."), "{}", room1[0]);
        let room2 = desks.post_bodies(2).await;
        assert!(room2.is_empty(), "room 2 got {room2:#?}");

        // 2. Room 2's own feed posts in room 2 only, though room 1 watches Lady R too.
        let reply = desks
            .say(
                2,
                &format!("!sw feed add {} government", feeds.url("/desk2.xml")),
            )
            .await;
        let feed2 = added_id(&reply);
        assert_eq!(feed2, "127-0-0-1-2");
        answers_as_missing(
            &desks,
            1,
            &format!("!sw feed unfollow {feed2}"),
            &feed2,
            &format!("There is no feed \"{feed2}\"."),
        )
        .await;
        desks.wait_feed_ok(2, &feed2).await;
        feeds.set_feed(
            "/desk2.xml",
            rss(&[lady_r_item("desk2-new"), lady_r_item("desk2-old")]),
        );
        desks.wait_posts(2, 1).await;
        desks.let_polls_pass().await;
        let room2 = desks.post_bodies(2).await;
        assert_eq!(room2.len(), 1, "{room2:#?}");
        assert!(room2[0].starts_with("Sanctions watch:"), "{}", room2[0]);
        assert!(room2[0].contains(&item_link("desk2-new")), "{}", room2[0]);
        assert!(room2[0].contains("On watchlist vessels."), "{}", room2[0]);
        assert!(!room2[0].contains("desk1"), "{}", room2[0]);
        assert_eq!(
            desks.post_bodies(1).await,
            room1,
            "room 1 got nothing from room 2's feed"
        );
        desks.bot.terminate().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn all_mode_follows_get_each_wanted_announcement_and_a_flood_is_summed_up() {
        let desks = Desks::new().await;
        let feeds = &desks.world.feeds;
        // Both rooms watch Lady R, so both follow the operator feeds in matches mode;
        // no item below names her.
        desks.say(1, "!sw watch add desk1 \"Lady R\" vessel").await;
        assert!(
            desks
                .say(1, "!sw subscribe desk1")
                .await
                .starts_with("Subscribed")
        );
        assert!(
            desks
                .say(2, "!sw subscribe vessels")
                .await
                .starts_with("Subscribed")
        );

        // 3. Room 1 follows gov in all mode, narrowed to designations.
        let reply = desks.say(1, "!sw feed follow gov all designation").await;
        assert!(reply.starts_with("This room now follows gov"), "{reply}");
        desks.wait_feed_ok(1, "gov").await;
        feeds.set_feed(
            "/gov.xml",
            rss(&[
                Item::new(
                    "gov-d2",
                    "Treasury Designates Shipping Companies Moving Iranian Oil",
                    "OFAC today sanctioned six shipping companies and identified nine vessels as blocked property for transporting Iranian petroleum.",
                ),
                Item::new(
                    "gov-r1",
                    "Venezuela-related Designation Removal",
                    "The following individual has been removed from OFAC's SDN List: CARRENO ESCOBAR, Gustavo Enrique.",
                ),
                Item::new(
                    "gov-d1",
                    "Treasury Sanctions Network Supplying Drones to Russia",
                    "Today, the Department of the Treasury's Office of Foreign Assets Control (OFAC) designated 12 individuals and 8 entities involved in procuring drone components for Russia.",
                ),
                Item::new("gov-old", "Designations", "Routine update."),
            ]),
        );
        desks.wait_posts(1, 2).await;
        desks.let_polls_pass().await;
        let room1 = desks.post_bodies(1).await;
        assert_eq!(room1.len(), 2, "two designations, no delisting: {room1:#?}");
        for (post, guid) in room1.iter().zip(["gov-d1", "gov-d2"]) {
            assert!(post.starts_with("Sanctions watch:"), "{post}");
            assert!(post.contains(&item_link(guid)), "{guid}: {post}");
        }
        assert!(
            room1.iter().all(|p| !p.contains(&item_link("gov-r1"))),
            "{room1:#?}"
        );
        let room2 = desks.post_bodies(2).await;
        assert!(
            room2.is_empty(),
            "room 2 follows gov in matches mode: {room2:#?}"
        );

        // 4. Room 2 follows bulletin in all mode; 50 new items come in one poll.
        let reply = desks.say(2, "!sw feed follow bulletin all").await;
        assert!(
            reply.starts_with("This room now follows bulletin"),
            "{reply}"
        );
        desks.wait_feed_ok(2, "bulletin").await;
        let guids: Vec<String> = (1..=50).map(|i| format!("flood-{i:02}")).collect();
        let titles: Vec<String> = (1..=50)
            .map(|i| format!("Treasury Sanctions Procurement Network {i}"))
            .collect();
        let mut items: Vec<Item> = guids
            .iter()
            .zip(&titles)
            .map(|(guid, title)| {
                Item::new(
                    guid,
                    title,
                    "OFAC designated individuals and entities today.",
                )
            })
            .collect();
        items.reverse(); // newest first
        items.push(Item::new("bulletin-old", "Designations", "Routine update."));
        feeds.set_feed("/bulletin.xml", rss(&items));
        let expected = POSTS_PER_POLL + 1;
        desks.wait_posts(2, expected).await;
        desks.let_polls_pass().await;
        let room2 = desks.post_bodies(2).await;
        assert_eq!(
            room2.len(),
            expected,
            "{POSTS_PER_POLL} posts and one summary: {room2:#?}"
        );
        let (summary, posted) = room2.split_last().unwrap();
        for (post, guid) in posted.iter().zip(&guids) {
            assert!(post.starts_with("Sanctions watch:"), "{post}");
            assert!(post.contains(&item_link(guid)), "{guid}: {post}");
        }
        let more = guids.len() - POSTS_PER_POLL;
        assert!(
            summary.starts_with(&format!(
                "…and {more} more new items from bulletin in this poll"
            )),
            "{summary}"
        );
        assert_eq!(
            desks.post_bodies(1).await,
            room1,
            "room 1 follows bulletin in matches mode"
        );
        desks.bot.terminate().await;
    }

    /// A room following a feed another room has just shared gets its next item: who
    /// follows a feed is decided on its sharing as stored now, not on the poller's
    /// copy of the feed (which it re-reads only when told, or once a minute).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_room_following_a_shared_feed_gets_its_next_item() {
        let desks = Desks::new().await;
        let feeds = &desks.world.feeds;
        feeds.set_feed("/desk1.xml", rss(&[lady_r_item("desk1-old")]));
        let reply = desks
            .say(1, &format!("!sw feed add {}", feeds.url("/desk1.xml")))
            .await;
        let feed1 = added_id(&reply);
        desks.wait_feed_ok(1, &feed1).await;
        assert!(
            desks
                .say(2, "!sw subscribe vessels")
                .await
                .starts_with("Subscribed")
        );
        let reply = desks.say(1, &format!("!sw feed share {feed1}")).await;
        assert!(
            reply.starts_with(&format!("Feed {feed1} is shared")),
            "{reply}"
        );
        let reply = desks.say(2, &format!("!sw feed follow {feed1}")).await;
        assert!(reply.starts_with("This room now follows"), "{reply}");

        feeds.set_feed(
            "/desk1.xml",
            rss(&[lady_r_item("desk1-new"), lady_r_item("desk1-old")]),
        );
        // The item is marked seen in the next poll, so waiting longer changes nothing.
        let got = tokio::time::timeout(Duration::from_secs(20), desks.wait_posts(2, 1)).await;
        assert!(
            got.is_ok(),
            "room 2 follows the shared feed {feed1} and watches Lady R, yet got no post"
        );
        let room2 = desks.post_bodies(2).await;
        assert!(room2[0].contains(&item_link("desk1-new")), "{}", room2[0]);
        desks.bot.terminate().await;
    }
}
