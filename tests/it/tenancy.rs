//! Rooms as tenants, through the command layer and the pipeline with a real feed
//! server on loopback: a room owns what it makes, sees only what concerns it, and
//! nothing typed in another room changes what it receives. (The same, end to end on
//! Synapse with two users, is in `matrix_e2e.rs`.)

use std::sync::Arc;

use sanctions_watch::app::App;
use sanctions_watch::commands::{CommandContext, handle_line};

use crate::support::feed_server::FeedServer;
use crate::support::{Item, VESSELS_WATCHLIST, feed_section, lady_r_item, open_app, poll, rss};

/// A member of `room` at the command power level, not an operator admin.
fn member(room: &str) -> CommandContext {
    CommandContext {
        room_id: room.into(),
        sender: format!("@member-of-{}", room.trim_start_matches('!')),
        may_change: true,
        refusal: String::new(),
        operator: false,
    }
}

const ROOM_A: &str = "!alpha:example.org";
const ROOM_B: &str = "!bravo:example.org";

fn say(app: &Arc<App>, ctx: &CommandContext, line: &str) -> String {
    handle_line(app, ctx, line).text
}

fn outbox_rooms(app: &App) -> Vec<String> {
    app.store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.room_id)
        .collect()
}

#[tokio::test]
async fn a_rooms_own_list_is_invisible_and_unchangeable_elsewhere_until_shared() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), "");
    let (a, b) = (member(ROOM_A), member(ROOM_B));
    assert!(say(&app, &a, "watch add mine \"Lady R\" vessel").contains("this room's own"));
    say(&app, &a, "subscribe mine");

    let missing = say(&app, &b, "watch show nosuch");
    assert_eq!(
        say(&app, &b, "watch show mine"),
        missing.replace("nosuch", "mine"),
        "a hidden list answers as a missing one"
    );
    for line in [
        "subscribe mine",
        "watch remove mine \"Lady R\"",
        "watch threshold mine 1",
        "watch share mine",
    ] {
        assert!(
            say(&app, &b, line).starts_with("There is no watchlist \"mine\""),
            "{line}"
        );
    }
    assert!(!say(&app, &b, "watchlists").contains("mine"));
    assert!(say(&app, &b, "watch add mine Kim person").contains("taken by another room"));
    assert_eq!(
        app.store.entries("mine").unwrap().len(),
        1,
        "nothing changed"
    );
    assert_eq!(app.store.list("mine").unwrap().unwrap().threshold, None);

    // Shared read-only: the other room may subscribe, not edit.
    say(&app, &a, "watch share mine");
    assert!(say(&app, &b, "subscribe mine").starts_with("Subscribed"));
    assert!(say(&app, &b, "watch remove mine \"Lady R\"").contains("read-only"));
    assert!(say(&app, &b, "watchlists").contains("shared by another room, read-only"));
    // Unshared: the other room's subscription ends.
    assert!(say(&app, &a, "watch unshare mine").contains("1 other room stops"));
    assert!(app.store.room_subscriptions(ROOM_B).unwrap().is_empty());
    assert_eq!(app.store.room_subscriptions(ROOM_A).unwrap().len(), 1);
}

#[tokio::test]
async fn operator_lists_are_for_every_room_and_changed_only_by_operator_admins() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &format!(
            "{VESSELS_WATCHLIST}\n[[watchlists]]\nname = \"desk-only\"\nrooms = [\"{ROOM_A}\"]\n[[watchlists.entries]]\nname = \"Kim\"\n"
        ),
    );
    let b = member(ROOM_B);
    assert!(say(&app, &b, "subscribe vessels").starts_with("Subscribed"));
    for line in [
        "watch remove vessels \"Lady R\"",
        "watch threshold vessels 1",
        "watch add vessels Angara vessel",
    ] {
        assert!(
            say(&app, &b, line).contains("only operator admins change it"),
            "{line}"
        );
    }
    assert_eq!(app.store.entries("vessels").unwrap().len(), 2);
    // A list restricted to rooms is missing for the others.
    assert!(say(&app, &b, "subscribe desk-only").starts_with("There is no watchlist"));
    assert!(say(&app, &member(ROOM_A), "subscribe desk-only").starts_with("Subscribed"));
    // The console is the operator's terminal.
    let console = crate::support::console_context();
    assert!(say(&app, &console, "watch add vessels Angara vessel").starts_with("Watching"));
}

/// A config with a government feed `gov` served on loopback and a loopback address
/// the operator allows, so rooms may add feeds on the same server.
fn config_with_feed(server: &FeedServer, extra: &str) -> String {
    format!(
        "allow_private = [\"127.0.0.1\"]\n{}{VESSELS_WATCHLIST}{extra}",
        feed_section("gov", &server.url("/gov.xml"), "government", "1m")
    )
}

#[tokio::test]
async fn a_feed_added_in_one_room_posts_nothing_in_another() {
    let server = FeedServer::start().await;
    server.set_feed("/gov.xml", rss(&[]));
    server.set_feed("/theirs.xml", rss(&[lady_r_item("old")]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), &config_with_feed(&server, ""));
    let (a, b) = (member(ROOM_A), member(ROOM_B));
    say(&app, &a, "subscribe vessels");
    say(&app, &b, "subscribe vessels");
    let added = say(
        &app,
        &b,
        &format!("feed add {} government", server.url("/theirs.xml")),
    );
    assert!(added.starts_with("Added feed 127-0-0-1"), "{added}");
    let id = "127-0-0-1";
    poll(&app, id).await; // the baseline
    server.set_feed(
        "/theirs.xml",
        rss(&[lady_r_item("new"), lady_r_item("old")]),
    );
    poll(&app, id).await;
    let rooms = outbox_rooms(&app);
    assert_eq!(
        rooms,
        [ROOM_B],
        "only the room that added the feed gets its post"
    );

    // Room A cannot see, unfollow or remove it.
    assert!(!say(&app, &a, "feeds").contains(id));
    for line in [
        format!("feed remove {id}"),
        format!("feed unfollow {id}"),
        format!("feed follow {id} all"),
        format!("feed share {id}"),
    ] {
        assert!(
            say(&app, &a, &line).starts_with(&format!("There is no feed \"{id}\"")),
            "{line}"
        );
    }
    assert!(app.feed(id).unwrap().is_some());
    // Search in room A does not find the other room's items; in room B it does.
    assert!(say(&app, &a, "search Lady R").starts_with("No item"));
    assert!(say(&app, &b, "search Lady R").contains("most recent item"));

    // Shared, room A may follow it; removed, room A is told once.
    say(&app, &b, &format!("feed share {id}"));
    assert!(say(&app, &a, &format!("feed follow {id}")).starts_with("This room now follows"));
    assert!(
        say(&app, &b, &format!("feed remove {id}"))
            .contains("1 other room that followed it has been told")
    );
    let notices: Vec<String> = app
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.room_id == ROOM_A)
        .map(|(_, e)| e.plain)
        .collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains("was removed by the room that added it"));
}

#[tokio::test]
async fn a_room_following_in_all_mode_gets_each_designation_and_nothing_it_filtered_out() {
    let server = FeedServer::start().await;
    server.set_feed("/gov.xml", rss(&[]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), &config_with_feed(&server, ""));
    let (a, b) = (member(ROOM_A), member(ROOM_B));
    let reply = say(&app, &a, "feed follow gov all designation");
    assert!(reply.contains("every announcement"), "{reply}");
    assert!(reply.contains("only designation"), "{reply}");
    say(&app, &a, "subscribe vessels"); // hits are still shown in all mode
    say(&app, &b, "subscribe vessels"); // matches mode: only Lady R
    poll(&app, "gov").await; // the baseline
    server.set_feed(
        "/gov.xml",
        rss(&[
            Item::new(
                "d1",
                "Treasury Sanctions Network Supplying Drones to Russia",
                "Today, the Department of the Treasury's Office of Foreign Assets Control (OFAC) designated 12 individuals and 8 entities involved in procuring drone components for Russia.",
            ),
            Item::new(
                "r1",
                "Venezuela-related Designation Removal",
                "The following individual has been removed from OFAC's SDN List: CARRENO ESCOBAR, Gustavo Enrique.",
            ),
            Item::new(
                "d2",
                "Treasury Designates Shipping Companies Moving Iranian Oil",
                "OFAC today sanctioned six shipping companies and identified nine vessels as blocked property for transporting Iranian petroleum. One of the tankers is the Lady R.",
            ),
        ]),
    );
    poll(&app, "gov").await;
    let posts: Vec<(String, String)> = app
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|(_, e)| (e.room_id, e.plain))
        .collect();
    let to_a: Vec<&String> = posts
        .iter()
        .filter(|(r, _)| r == ROOM_A)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(to_a.len(), 2, "two designations, no delisting: {to_a:#?}");
    assert!(to_a.iter().all(|p| !p.contains("Designation Removal")));
    assert!(
        to_a.iter()
            .filter(|p| p.contains("• Lady R: “One of the tankers is the Lady R.”"))
            .count()
            == 1,
        "the room's watchlist hit is listed in its all-mode post: {to_a:#?}"
    );
    let to_b: Vec<&String> = posts
        .iter()
        .filter(|(r, _)| r == ROOM_B)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        to_b.len(),
        1,
        "room B follows in matches mode: only the item naming Lady R"
    );
    assert!(to_b[0].contains("Iranian Oil"));
    let feeds = say(&app, &a, "feeds");
    assert!(
        feeds.contains("this room follows: all · designation"),
        "{feeds}"
    );
    // Unfollowed, the operator feed stays but posts nothing more here.
    assert!(say(&app, &a, "feed unfollow gov").contains("no longer gets posts"));
    assert!(say(&app, &a, "feeds").starts_with("This room follows no feed"));
    assert!(app.feed("gov").unwrap().is_some());
}

#[tokio::test]
async fn a_flood_gives_the_first_posts_and_one_post_saying_how_many_more() {
    let server = FeedServer::start().await;
    server.set_feed("/gov.xml", rss(&[]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &config_with_feed(&server, "\n[limits]\nposts_per_poll = 10\n"),
    );
    say(&app, &member(ROOM_A), "feed follow gov all");
    poll(&app, "gov").await;
    let guids: Vec<String> = (0..50).map(|i| format!("flood-{i}")).collect();
    let titles: Vec<String> = (0..50)
        .map(|i| format!("Treasury Sanctions Procurement Network {i}"))
        .collect();
    let items: Vec<Item> = (0..50)
        .rev()
        .map(|i| {
            Item::new(
                &guids[i],
                &titles[i],
                "OFAC designated individuals and entities today.",
            )
        })
        .collect();
    server.set_feed("/gov.xml", rss(&items));
    poll(&app, "gov").await;
    let posts: Vec<String> = app
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.plain)
        .collect();
    assert_eq!(posts.len(), 11, "10 posts and one summary");
    let summary = posts.last().unwrap();
    assert!(
        summary.starts_with("…and 40 more new items from gov in this poll"),
        "{summary}"
    );
    assert!(summary.contains("search"));
    // Nothing is lost from search.
    let found = say(&app, &member(ROOM_A), "search procurement network 49");
    assert!(found.contains("Procurement Network 49"), "{found}");
}

#[tokio::test]
async fn limits_refuse_whole_commands() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &config_with_feed(
            &server,
            "\n[limits]\nfeeds_per_room = 1\nnames_per_list = 2\naliases_per_name = 2\nsearch_words = 3\n",
        ),
    );
    let a = member(ROOM_A);
    assert!(say(&app, &a, &format!("feed add {}", server.url("/one.xml"))).starts_with("Added"));
    assert!(
        say(&app, &a, &format!("feed add {}", server.url("/two.xml")))
            .contains("[limits] feeds_per_room")
    );
    say(&app, &a, "watch add mine One");
    say(&app, &a, "watch add mine Two");
    assert!(say(&app, &a, "watch add mine Three").contains("names_per_list"));
    assert!(say(&app, &a, "watch add mine Two any X Y Z").contains("aliases_per_name"));
    assert_eq!(
        app.store.entries("mine").unwrap().len(),
        2,
        "nothing half done"
    );
    assert!(say(&app, &a, "search a b c d").contains("at most 3 words"));
    assert!(
        say(
            &app,
            &a,
            "feed add https://user:secret@example.org/feed.xml"
        )
        .contains("user name or password")
    );
}

#[tokio::test]
async fn two_rooms_adding_one_url_get_their_own_feeds_and_one_fetch() {
    let server = FeedServer::start().await;
    server.set_feed("/gov.xml", rss(&[]));
    server.set_feed("/same.xml", rss(&[lady_r_item("old")]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), &config_with_feed(&server, ""));
    let (a, b) = (member(ROOM_A), member(ROOM_B));
    let url = server.url("/same.xml");
    assert!(
        say(&app, &a, &format!("feed add {url} government")).starts_with("Added feed 127-0-0-1 ")
    );
    say(&app, &a, "subscribe vessels");
    // The poller fetches the first; the second rides on its fetch.
    let fetched = |app: &App| -> Vec<String> {
        sanctions_watch::poller::fetched_feeds(app.feeds().unwrap())
            .into_iter()
            .map(|f| f.id)
            .collect()
    };
    poll(&app, "127-0-0-1").await; // room A's baseline
    assert!(
        say(&app, &b, &format!("feed add {url} government")).starts_with("Added feed 127-0-0-1-2 ")
    );
    say(&app, &b, "subscribe vessels");
    assert_eq!(fetched(&app), ["gov", "127-0-0-1"]);
    let before = server.requests("/same.xml").len();
    poll(&app, "127-0-0-1").await; // room B's baseline: a full fetch, no post
    assert!(app.store.outbox().unwrap().is_empty());
    assert!(app.store.feed_state("127-0-0-1-2").unwrap().baselined);
    server.set_feed("/same.xml", rss(&[lady_r_item("new"), lady_r_item("old")]));
    poll(&app, "127-0-0-1").await;
    assert_eq!(
        server.requests("/same.xml").len(),
        before + 2,
        "one request per poll"
    );
    let mut rooms = outbox_rooms(&app);
    rooms.sort();
    assert_eq!(
        rooms,
        [ROOM_A, ROOM_B],
        "each room gets the item once, from its own feed"
    );
    // Room A removing its feed leaves room B's polled.
    say(&app, &a, "feed remove 127-0-0-1");
    assert_eq!(fetched(&app), ["gov", "127-0-0-1-2"]);
}

/// `tests/data/store-schema2.jsonl` was exported by the schema-2 version of the bot
/// (the one before rooms followed feeds): rooms `!alpha` and `!bravo` both subscribe
/// to `desk` (made by command in `!alpha`, with Lady R); `!alpha` added feed
/// `127-0-0-1`; config feed `gov`; both feeds had items `old-1` and `new-1`, and both
/// rooms got `new-1` from both feeds (as that version did). It was made by
/// `tests/data/make-store-schema2.rs`, run as an example of that version.
#[tokio::test]
async fn a_store_from_before_rooms_followed_feeds_keeps_its_deliveries_and_reposts_nothing() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/store-schema2.jsonl");
    let dir = tempfile::tempdir().unwrap();
    {
        let store = sanctions_watch::store::Store::open(dir.path()).unwrap();
        let open = || std::fs::File::open(&fixture).map(std::io::BufReader::new);
        sanctions_watch::store::backup::import(&store, open, |_| {}).unwrap();
    }
    let server = FeedServer::start().await;
    let items = |guids: &[&str]| rss(&guids.iter().map(|g| lady_r_item(g)).collect::<Vec<_>>());
    server.set_feed("/gov.xml", items(&["new-1", "old-1"]));
    server.set_feed("/room.xml", items(&["new-1", "old-1"]));
    let app = open_app(
        dir.path(),
        &format!(
            "allow_private = [\"127.0.0.1\"]\n[[feeds]]\nid = \"gov\"\nname = \"Gov\"\nurl = \"{}\"\nkind = \"government\"\npoll_interval = \"1m\"\n",
            server.url("/gov.xml")
        ),
    );
    // The fixture's server is gone; its feed moves to this test's server (the port
    // is the only thing that changes).
    let mut room_feed = app
        .feed("127-0-0-1")
        .unwrap()
        .expect("the room's feed survives");
    room_feed.url = server.url("/room.xml");
    app.store.put_feed(&room_feed).unwrap();

    // The upgrade: the room that added the feed follows it; the list made by
    // command is an operator list both rooms still get.
    let follows = app.store.all_follows().unwrap();
    assert_eq!(follows.len(), 1);
    assert_eq!(
        (follows[0].room_id.as_str(), follows[0].feed_id.as_str()),
        (ROOM_A, "127-0-0-1")
    );
    assert!(
        say(&app, &member(ROOM_B), "watchlists")
            .contains("desk — 1 name (operator list) · this room is subscribed")
    );

    // Nothing seen before is posted again.
    poll(&app, "gov").await;
    poll(&app, "127-0-0-1").await;
    assert!(app.store.outbox().unwrap().is_empty(), "nothing reposted");

    // A new item: the config feed posts to both rooms, the room's feed only to its room.
    server.set_feed("/gov.xml", items(&["new-2", "new-1", "old-1"]));
    server.set_feed("/room.xml", items(&["new-2", "new-1", "old-1"]));
    poll(&app, "gov").await;
    poll(&app, "127-0-0-1").await;
    let mut got: Vec<(String, String)> = app
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|(_, e)| (e.room_id, e.feed_id))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (ROOM_A.to_string(), "127-0-0-1".to_string()),
            (ROOM_A.to_string(), "gov".to_string()),
            (ROOM_B.to_string(), "gov".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_config_list_named_like_a_rooms_list_does_not_take_it_over() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), "");
    say(&app, &member(ROOM_A), "watch add vessels Angara vessel");
    drop(app);
    // The operator later adds a list of the same name to the config.
    let app = open_app(dir.path(), VESSELS_WATCHLIST);
    let list = app.store.list("vessels").unwrap().unwrap();
    assert_eq!(list.owner.as_deref(), Some(ROOM_A), "still the room's");
    assert_eq!(
        app.store.entries("vessels").unwrap().len(),
        1,
        "nothing mixed in"
    );
    assert!(say(&app, &member(ROOM_B), "watch show vessels").starts_with("There is no watchlist"));
}

#[tokio::test]
async fn feed_health_notices_go_only_to_the_rooms_that_follow_the_feed() {
    let server = FeedServer::start().await;
    server.set_status("/gov.xml", 500);
    server.set_status("/mine.xml", 500);
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &format!(
            "failure_notice_after = \"1s\"\n{}",
            config_with_feed(&server, "")
        ),
    );
    const ROOM_C: &str = "!charlie:example.org";
    let (a, b, c) = (member(ROOM_A), member(ROOM_B), member(ROOM_C));
    say(&app, &a, "subscribe vessels"); // follows gov by default
    say(&app, &b, "subscribe vessels");
    say(&app, &b, "feed unfollow gov"); // not any more
    say(&app, &c, &format!("feed add {}", server.url("/mine.xml")));
    let notices = |app: &App| -> Vec<String> {
        let mut sent: Vec<String> = app
            .store
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|(_, e)| e.item_key.starts_with("notice:"))
            .map(|(_, e)| format!("{} {}", e.room_id, e.feed_id))
            .collect();
        sent.sort();
        sent
    };
    poll(&app, "gov").await;
    poll(&app, "127-0-0-1").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    poll(&app, "gov").await;
    poll(&app, "127-0-0-1").await;
    assert_eq!(
        notices(&app),
        [
            format!("{ROOM_A} gov"),
            format!("{ROOM_C} 127-0-0-1"),
            "console gov".to_string(), // subscribed to vessels by the config
        ],
        "room B unfollowed gov; nobody else hears of room C's feed"
    );
}

#[tokio::test]
async fn an_operator_admin_typing_in_a_room_does_not_bring_other_rooms_lists_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), "");
    say(&app, &member(ROOM_B), "watch add theirs Kim person");
    let operator_in_a = CommandContext {
        operator: true,
        ..member(ROOM_A)
    };
    assert!(!say(&app, &operator_in_a, "watchlists").contains("theirs"));
    assert!(say(&app, &operator_in_a, "subscribe theirs").starts_with("There is no watchlist"));
    // But an operator admin may change it, e.g. to clean up after a room.
    assert!(say(&app, &operator_in_a, "watch remove theirs Kim").starts_with("Stopped watching"));
}

#[tokio::test]
async fn a_room_following_a_feed_just_shared_gets_its_next_item_from_a_poller_that_read_it_before()
{
    let server = FeedServer::start().await;
    server.set_feed("/gov.xml", rss(&[]));
    server.set_feed("/shared.xml", rss(&[lady_r_item("old")]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), &config_with_feed(&server, ""));
    let (a, b) = (member(ROOM_A), member(ROOM_B));
    say(
        &app,
        &a,
        &format!("feed add {} government", server.url("/shared.xml")),
    );
    let fetcher = sanctions_watch::feeds::fetch::Fetcher::new(&app.config.fetch).unwrap();
    // The poller's copy of the feed, read before the share.
    let as_the_poller_read_it = app.feed("127-0-0-1").unwrap().unwrap();
    sanctions_watch::poller::poll_feed(&app, &fetcher, &as_the_poller_read_it).await;
    say(&app, &a, "feed share 127-0-0-1");
    say(&app, &b, "subscribe vessels");
    assert!(say(&app, &b, "feed follow 127-0-0-1").starts_with("This room now follows"));
    server.set_feed(
        "/shared.xml",
        rss(&[lady_r_item("new"), lady_r_item("old")]),
    );
    sanctions_watch::poller::poll_feed(&app, &fetcher, &as_the_poller_read_it).await;
    assert_eq!(
        outbox_rooms(&app),
        [ROOM_B],
        "room A subscribes to nothing; room B follows it now"
    );
}

#[tokio::test]
async fn under_run_a_console_subscriber_gets_no_posts_and_nothing_waits_for_it() {
    use sanctions_watch::app::Serving;
    let server = FeedServer::start().await;
    server.set_feed("/gov.xml", rss(&[lady_r_item("old")]));
    let dir = tempfile::tempdir().unwrap();
    // VESSELS_WATCHLIST subscribes `console`, as the example config does.
    let text = crate::support::config_text(dir.path(), &config_with_feed(&server, ""));
    let (config, _) = sanctions_watch::config::Config::from_str_in(&text, dir.path()).unwrap();
    let app = App::open_serving(config, Serving::Matrix).unwrap();
    say(&app, &member(ROOM_A), "subscribe vessels");
    poll(&app, "gov").await;
    server.set_feed("/gov.xml", rss(&[lady_r_item("new"), lady_r_item("old")]));
    poll(&app, "gov").await;
    assert_eq!(
        outbox_rooms(&app),
        [ROOM_A],
        "no post waits for the console"
    );
}
