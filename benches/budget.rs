//! The performance budget, measured in one run and printed beside each budget:
//!
//! 1. a poll cycle over 1,000 feeds (20 items each) served from 127.0.0.1: cold, and
//!    when every feed answers 304 — with bare HTTP GETs of the same URLs as baseline;
//! 2. pipeline throughput (parse, dedupe, classify, match against a 100k-name
//!    watchlist, place in stories, summarise, enqueue) over 500 feeds processed as
//!    the poller does, in parallel on every core — with parsing alone (also in
//!    parallel) as baseline;
//! 3. anonymous resident memory (heap, stacks) of the running bot (`run`, on a real
//!    Synapse) with 100 feeds, 10 rooms and the example watchlist after an hour's
//!    worth of polls (60 polls per feed at a 1 s interval instead of 60 at a 1 min
//!    interval), with the file-backed (code) part reported beside it;
//! 4. latency from an item appearing on a feed to the post being visible in a room,
//!    with a 1 s poll interval (median; items appear at evenly spread phases of the
//!    poll schedule, so the wait for the next poll alone averages 0.5 s).
//!
//! Run: `cargo bench --bench budget` (sections 3 and 4 need Synapse:
//! `scripts/install-synapse.sh`). `-- --quick` runs smaller sizes; `-- --only poll`,
//! `pipeline` or `matrix` runs one part (sections 1, 2, or 3 and 4).

#![recursion_limit = "256"]

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sanctions_watch::app::App;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::feeds::parse::parse_feed;
use sanctions_watch::pipeline::process_items;
use sanctions_watch::poller::poll_feed;
use sanctions_watch::screening::{EntryKind, WatchEntry};
use sanctions_watch::store::FeedRecord;
use support::feed_server::FeedServer;
use support::matrix::{Api, BotConfig, BotProcess, wait_for};
use support::synapse::Synapse;
use support::*;

struct Row {
    figure: String,
    measured: String,
    budget: String,
    ok: bool,
}

fn row(rows: &mut Vec<Row>, figure: &str, measured: String, budget: &str, ok: bool) {
    println!(
        "  {figure}: {measured} (budget {budget}) {}",
        if ok { "OK" } else { "OVER BUDGET" }
    );
    rows.push(Row {
        figure: figure.into(),
        measured,
        budget: budget.into(),
        ok,
    });
}

/// A made-up word ("Korvelta"), different for each `n` below 4,096.
fn made_up_word(n: usize) -> String {
    const PARTS: &[&str] = &[
        "kor", "vel", "tan", "mir", "sol", "bra", "den", "lux", "pra", "zen", "hal", "dor", "qui",
        "ren", "sta", "vik",
    ];
    let mut word = String::new();
    let mut k = n;
    for _ in 0..3 {
        word.push_str(PARTS[k % PARTS.len()]);
        k /= PARTS.len();
    }
    word[..1].make_ascii_uppercase();
    word
}

/// A made-up company name ("Korvelta Holdings").
fn made_up_name(n: usize) -> String {
    const KINDS: &[&str] = &[
        "Holdings",
        "Trading",
        "Shipping",
        "Group",
        "Logistics",
        "Energy",
    ];
    format!("{} {}", made_up_word(n), KINDS[n % KINDS.len()])
}

/// 20 items for feed `f`: announcements of the feed's own, in the words of varied
/// headlines, except item 0, a report of an announcement that 20 feeds share (feeds
/// 0-19, 20-39, ...) naming a watched vessel; item 10 names it too.
///
/// The feed's own announcements share vocabulary, as a week of sanctions news does
/// (authorities, programmes, countries, ships, closing lines), but each names its
/// own firms and ship in sentences of its own. Written as copies of one text with the
/// same ship in every item, they were (rightly, by their words) grouped as reports of
/// one story: the 10,000 items made 26 stories of up to 460 reports instead of the
/// 9,525 the feeds announce.
fn feed_body(f: usize, round: usize) -> String {
    const AUTHORITY: &[&str] = &[
        "Treasury",
        "OFSI",
        "EU Council",
        "Japan",
        "South Korea",
        "UN Security Council",
        "Canada",
        "Australia",
    ];
    const WHAT: &[&str] = &[
        "procurement network",
        "oil tankers",
        "arms brokers",
        "bank executives",
        "front companies",
        "cyber actors",
        "mining firms",
        "drone suppliers",
    ];
    const WHERE: &[&str] = &[
        "North Korea",
        "Russia",
        "Iran",
        "Syria",
        "Belarus",
        "Myanmar",
        "Venezuela",
        "Sudan",
    ];
    let items: Vec<Item> = (0..20)
        .map(|i| {
            let guid: &'static str = Box::leak(format!("f{f}-r{round}-i{i}").into_boxed_str());
            let n = (f * 20 + i) * 7 + round * 100_003;
            let (who, other) = (made_up_name(n), made_up_name(n + 1));
            let authority = AUTHORITY[(f + i) % AUTHORITY.len()];
            let what = WHAT[(f * 3 + i) % WHAT.len()];
            let place = WHERE[(f * 7 + i) % WHERE.len()];
            let (title, text) = if i == 0 {
                let group = made_up_name(f / 20 + round * 1_000);
                (
                    format!("Cargo ship Lady R and {group} designated"),
                    format!(
                        "The cargo ship Lady R and {group} were designated today. Officials said more measures may follow."
                    ),
                )
            } else {
                let title = match i % 3 {
                    0 => format!("{authority} sanctions {who} over {place} {what}"),
                    1 => format!("{who} designated for supplying {place} {what}"),
                    _ => format!("New measures target {who} and {other}"),
                };
                const CLOSING: &[&str] = &[
                    "Officials said more measures may follow.",
                    "The designations take effect immediately.",
                    "Their assets under the authority's jurisdiction are frozen.",
                    "The listing follows an investigation into sanctions evasion.",
                    "A spokesperson declined to comment further.",
                ];
                let ship = if i == 10 {
                    "Lady R".to_string()
                } else {
                    made_up_word(n + 2)
                };
                let first = match (f + i) % 4 {
                    0 => format!("{authority} designated {who} and {other}, part of the {what} serving {place}."),
                    1 => format!("{who} and {other} were added to the list by {authority} for backing {place} {what}."),
                    2 => format!("According to {authority}, {who} worked with {other} to supply {place} {what}."),
                    _ => format!("{authority} said {who} financed {place} {what} through {other}."),
                };
                let second = match (f * 5 + i) % 4 {
                    0 => format!("The cargo ship {ship} carried their goods."),
                    1 => format!("Investigators traced payments through the tanker {ship}."),
                    2 => format!("Their vessel {ship} is blocked too."),
                    _ => format!("The freighter {ship} moved shipments for them last spring."),
                };
                let text = format!("{first} {second} {}", CLOSING[(f + i * 3) % CLOSING.len()]);
                (title, text)
            };
            Item {
                guid,
                title: Box::leak(title.into_boxed_str()),
                description: Box::leak(text.into_boxed_str()),
                date: "Fri, 24 May 2024 14:30:00 GMT",
            }
        })
        .collect();
    rss(&items)
}

async fn poll_all(app: &Arc<App>, fetcher: &Fetcher, feeds: &[FeedRecord]) -> Duration {
    let limit = Arc::new(tokio::sync::Semaphore::new(app.config.fetch.max_concurrent));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for feed in feeds {
        let (app, fetcher, limit, feed) =
            (app.clone(), fetcher.clone(), limit.clone(), feed.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            poll_feed(&app, &fetcher, &feed).await;
        });
    }
    while tasks.join_next().await.is_some() {}
    started.elapsed()
}

async fn poll_cycle(rows: &mut Vec<Row>, n_feeds: usize) {
    println!("1. poll cycle over {n_feeds} feeds of 20 items on 127.0.0.1");
    let server = FeedServer::start().await;
    let mut sections = String::new();
    for f in 0..n_feeds {
        server.set_feed(&format!("/f{f}.xml"), feed_body(f, 0));
        sections.push_str(&feed_section(
            &format!("f{f}"),
            &server.url(&format!("/f{f}.xml")),
            "government",
            "1h",
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), &format!("{sections}{VESSELS_WATCHLIST}"));
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();
    let feeds = app.feeds().unwrap();

    // Baseline: the same GETs with a bare client and the same concurrency.
    let client = reqwest::Client::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(app.config.fetch.max_concurrent));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for f in &feeds {
        let (client, url, limit) = (client.clone(), f.url.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            client.get(url).send().await.unwrap().bytes().await.unwrap();
        });
    }
    while tasks.join_next().await.is_some() {}
    let bare = started.elapsed();

    let cold = poll_all(&app, &fetcher, &feeds).await;
    let all_ok = feeds
        .iter()
        .all(|f| app.store.feed_state(&f.id).unwrap().baselined);
    assert!(all_ok, "every feed must have been fetched and baselined");
    let warm = poll_all(&app, &fetcher, &feeds).await;
    let not_modified: u64 = feeds
        .iter()
        .map(|f| app.store.feed_state(&f.id).unwrap().not_modified)
        .sum();
    assert_eq!(
        not_modified, n_feeds as u64,
        "the second cycle must be all 304s"
    );
    println!(
        "  baseline (bare GETs, same concurrency): {:.3} s",
        bare.as_secs_f64()
    );
    row(
        rows,
        "poll cycle, cold",
        format!(
            "{:.3} s ({:.1}x bare GETs)",
            cold.as_secs_f64(),
            cold.as_secs_f64() / bare.as_secs_f64()
        ),
        "5 s",
        cold < Duration::from_secs(5),
    );
    row(
        rows,
        "poll cycle, all 304",
        format!(
            "{:.3} s ({:.1}x bare GETs)",
            warm.as_secs_f64(),
            warm.as_secs_f64() / bare.as_secs_f64()
        ),
        "1 s",
        warm < Duration::from_secs(1),
    );
}

/// A synthetic watchlist: persons, companies and vessels with aliases.
fn synthetic_entries(n: usize) -> Vec<WatchEntry> {
    const GIVEN: &[&str] = &[
        "Ivan", "Maria", "Chen", "Ahmad", "Olga", "Kim", "Jose", "Fatima", "Sergei", "Li", "Omar",
        "Anna",
    ];
    const FAMILY: &[&str] = &[
        "Petrov", "Wang", "Hassan", "Ivanova", "Park", "Garcia", "Rahimi", "Smirnov", "Zhou",
        "Nasser",
    ];
    const FIRM: &[&str] = &[
        "Trading",
        "Logistics",
        "Shipping",
        "Holdings",
        "Industrial",
        "Energy",
        "Marine",
        "Metals",
    ];
    const SHIP: &[&str] = &[
        "Star", "Pioneer", "Ocean", "Dawn", "Harmony", "Glory", "Fortune", "Spirit",
    ];
    // A distinct, pronounceable tag per entry ("kasu", "betomi"): names whose parts
    // are words, as on real lists, not letters and digits.
    const SYLLABLES: &[&str] = &[
        "ba", "be", "bi", "bo", "ka", "ke", "ki", "ko", "la", "le", "li", "lo", "ma", "me", "mi",
        "mo", "na", "ne", "ni", "no", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te",
        "ti", "to", "va", "ve", "vi", "vo", "za", "ze", "zi", "zo",
    ];
    let tag_of = |mut i: usize| {
        let mut tag = String::new();
        loop {
            tag.push_str(SYLLABLES[i % SYLLABLES.len()]);
            i /= SYLLABLES.len();
            if i == 0 {
                break tag;
            }
        }
    };
    (0..n)
        .map(|i| {
            let tag = tag_of(i);
            match i % 3 {
                0 => WatchEntry::new(
                    &format!(
                        "{} {}{tag} {}",
                        GIVEN[i % GIVEN.len()],
                        FAMILY[(i / 7) % FAMILY.len()],
                        FAMILY[i % FAMILY.len()]
                    ),
                    EntryKind::Person,
                    vec![format!(
                        "{}{tag} {}",
                        FAMILY[i % FAMILY.len()],
                        GIVEN[i % GIVEN.len()]
                    )],
                ),
                1 => WatchEntry::new(
                    &format!("Zenit{tag} {} LLC", FIRM[i % FIRM.len()]),
                    EntryKind::Organization,
                    vec![format!("Zenit{tag} {} Company", FIRM[i % FIRM.len()])],
                ),
                _ => WatchEntry::new(
                    &format!("{} {tag}", SHIP[i % SHIP.len()]),
                    EntryKind::Vessel,
                    vec![],
                ),
            }
        })
        .collect()
}

fn pipeline_throughput(rows: &mut Vec<Row>, n_names: usize, n_feeds: usize) {
    println!(
        "2. pipeline throughput against a {n_names}-name watchlist, {n_feeds} feeds of 20 items"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut sections = String::new();
    for f in 0..n_feeds {
        sections.push_str(&feed_section(
            &format!("f{f}"),
            &format!("https://feeds.example/{f}.xml"),
            "news",
            "1h",
        ));
    }
    let app = open_app(dir.path(), &format!("{sections}{VESSELS_WATCHLIST}"));
    let entries = synthetic_entries(n_names);
    for e in &entries {
        app.store.put_entry("big", e).unwrap();
    }
    app.store.subscribe("!room:example.org", "big").unwrap();
    let started = Instant::now();
    app.screeners.screener(&app.store, "big").unwrap();
    println!(
        "  index build for {n_names} names: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let feeds = app.feeds().unwrap();
    let bodies: Vec<String> = (0..n_feeds).map(|f| feed_body(f, 1)).collect();
    for feed in &feeds {
        process_items(&app, feed, Vec::new(), Default::default()).unwrap(); // baseline: empty
    }

    // As the poller runs them: as many feeds at once as it processes (one per core;
    // the stories are placed under a lock, one feed at a time). `--workers N` tries
    // another number.
    let workers = std::env::args()
        .skip_while(|a| a != "--workers")
        .nth(1)
        .map(|n| n.parse().expect("--workers takes a number"))
        .unwrap_or_else(sanctions_watch::app::feeds_processed_at_once);
    let each_feed = |work: &(dyn Fn(&FeedRecord, &String) -> usize + Sync)| -> usize {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let total = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let f = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((feed, body)) = feeds.get(f).zip(bodies.get(f)) else {
                            break;
                        };
                        total.fetch_add(work(feed, body), std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        total.into_inner()
    };

    let started = Instant::now();
    let parsed =
        each_feed(&|feed, body| parse_feed(&feed.id, body.as_bytes(), None).unwrap().len());
    let parse_only = started.elapsed();

    let started = Instant::now();
    let posts = each_feed(&|feed, body| {
        // As the poller's blocking task for a feed does.
        let _release = sanctions_watch::process::ReleaseThreadCacheOnDrop;
        let items = parse_feed(&feed.id, body.as_bytes(), None).unwrap();
        let state = app.store.feed_state(&feed.id).unwrap();
        process_items(&app, feed, items, state).unwrap().posts
    });
    // The poller hands freed pages back when its fetches are done; delivery flushes
    // the store before it sends. Both counted here once, as after a burst of polls.
    sanctions_watch::process::return_freed_pages();
    let flush_started = Instant::now();
    app.store.flush_blocking().unwrap();
    let flush = flush_started.elapsed();
    let elapsed = started.elapsed();
    assert!(posts > 0, "some items must match and be enqueued");
    let rate = parsed as f64 / elapsed.as_secs_f64();
    let stories = app
        .store
        .recent_stories(chrono::Utc::now() - chrono::Duration::days(1))
        .unwrap();
    let largest = stories.iter().map(|s| s.members.len()).max().unwrap_or(0);
    println!(
        "  baseline (parse only): {:.0} items/s; {posts} posts enqueued; {} stories, the largest of {largest} reports",
        parsed as f64 / parse_only.as_secs_f64(),
        stories.len()
    );
    println!(
        "  {workers} threads; {:.3} s in all, of which the store's final flush {:.3} s",
        elapsed.as_secs_f64(),
        flush.as_secs_f64()
    );
    row(
        rows,
        "pipeline throughput",
        format!(
            "{rate:.0} items/s ({:.2}x parse-only time)",
            elapsed.as_secs_f64() / parse_only.as_secs_f64()
        ),
        "10,000 items/s",
        rate >= 10_000.0,
    );
}

/// Resident, peak resident, resident anonymous (heap, stacks) and resident
/// file-backed (the executable's code, mapped files) memory, in KiB.
fn rss_kib(pid: u32) -> (u64, u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        field("VmRSS:"),
        field("VmHWM:"),
        field("RssAnon:"),
        field("RssFile:"),
    )
}

/// The largest resident parts of a process, from `/proc/PID/smaps`: each mapping's
/// resident KiB summed by what backs it (a file, the heap, `[stack]`, or `anonymous`
/// for other private memory such as thread stacks and large allocations), largest
/// first.
fn resident_by_mapping(pid: u32) -> Vec<(String, u64)> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by_name: std::collections::BTreeMap<String, u64> = Default::default();
    let mut name = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            // An address range line: the sixth field, when present, names the backing.
            name = fields.nth(4).unwrap_or("anonymous").to_string();
        } else if first == "Rss:" {
            let kib: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            *by_name.entry(name.clone()).or_default() += kib;
        }
    }
    let mut parts: Vec<(String, u64)> = by_name.into_iter().filter(|(_, k)| *k > 0).collect();
    parts.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    parts
}

/// The sum and count of a Prometheus histogram in `metrics` (the text format).
fn histogram_sum_count(metrics: &str, name: &str) -> (f64, f64) {
    let value = |suffix: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}_{suffix} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    (value("sum"), value("count"))
}

async fn matrix_sections(rows: &mut Vec<Row>, soak: Duration, latency_samples: usize) {
    let synapse = tokio::task::block_in_place(|| Synapse::start(&[]));
    let admin = Api::new(&synapse.base_url(), synapse.register("admin", true));
    let bot_user = synapse.register("bot", false);
    let server = FeedServer::start().await;

    // 3. Memory: 100 feeds, 10 rooms, the example watchlist.
    println!(
        "3. resident memory: 100 feeds at 1 s, 10 rooms, the example watchlist, {} s",
        soak.as_secs()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut sections = String::new();
    for f in 0..100 {
        server.set_feed(&format!("/m{f}.xml"), feed_body(f, 0));
        sections.push_str(&feed_section(
            &format!("m{f}"),
            &server.url(&format!("/m{f}.xml")),
            "news",
            "1s",
        ));
    }
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml.example"))
            .unwrap();
    let start = example.find("[[watchlists]]").unwrap();
    let end = start + example[start..].find("# ----").unwrap();
    let watchlist = &example[start..end];
    let config = dir.path().join("config.toml");
    BotConfig {
        data_dir: dir.path().join("state"),
        homeserver: synapse.base_url(),
        bot: bot_user.clone(),
        allowed_inviters: vec![admin.user_id().to_string()],
        feeds: format!("{sections}\n{watchlist}\n[logging]\nlevel = \"warn\"\n"),
        extra: String::new(),
    }
    .write(&config);
    let bot = BotProcess::start(&config).await;
    let mut rooms = Vec::new();
    for _ in 0..10 {
        let room = admin.create_room(&[&bot_user.user_id]).await;
        wait_for("the bot to join", Duration::from_secs(60), || async {
            (admin.membership(&room, &bot_user.user_id).await.as_deref() == Some("join"))
                .then_some(())
        })
        .await;
        admin
            .command(&room, &bot_user.user_id, "!sw subscribe starter")
            .await;
        rooms.push(room);
    }
    let pid = bot.pid();
    let started = Instant::now();
    let mut round = 1;
    while started.elapsed() < soak {
        // Every 10 s a few feeds publish a new round, some items naming Lady R.
        for f in (round % 10..100).step_by(10) {
            server.set_feed(&format!("/m{f}.xml"), feed_body(f, round));
        }
        round += 1;
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let polls: usize = (0..100)
        .map(|f| server.requests(&format!("/m{f}.xml")).len())
        .sum();
    let (resident, hwm, anon, file) = rss_kib(pid);
    println!(
        "  {polls} polls; peak resident {:.1} MiB; now {:.1} MiB anonymous (heap, stacks) and {:.1} MiB file-backed (code)",
        hwm as f64 / 1024.0,
        anon as f64 / 1024.0,
        file as f64 / 1024.0
    );
    let parts: Vec<String> = resident_by_mapping(pid)
        .into_iter()
        .take(6)
        .map(|(name, kib)| {
            let short = name.rsplit('/').next().unwrap_or(&name).to_string();
            format!("{short} {:.1}", kib as f64 / 1024.0)
        })
        .collect();
    println!("  largest resident parts, MiB: {}", parts.join(", "));
    // Anonymous memory is what the bot costs the machine; resident code pages are
    // clean, shared with other processes and reclaimable, so they are reported
    // beside it but not budgeted.
    row(
        rows,
        "anonymous memory after the soak",
        format!(
            "{:.1} MiB (file-backed {:.1}, resident {:.1})",
            anon as f64 / 1024.0,
            file as f64 / 1024.0,
            resident as f64 / 1024.0
        ),
        "30 MiB",
        anon < 30 * 1024,
    );
    bot.terminate().await;

    // 4. Latency: one feed at 1 s, one room.
    println!("4. latency from feed to room, 1 s poll interval, {latency_samples} items");
    let dir = tempfile::tempdir().unwrap();
    server.set_feed("/lat.xml", rss(&[]));
    let config = dir.path().join("config.toml");
    // The bot's own metrics split its part of the latency into fetching and sending.
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    BotConfig {
        data_dir: dir.path().join("state"),
        homeserver: synapse.base_url(),
        bot: bot_user.clone(),
        allowed_inviters: vec![admin.user_id().to_string()],
        feeds: format!(
            "{}{VESSELS_WATCHLIST}",
            feed_section("lat", &server.url("/lat.xml"), "government", "1s")
        ),
        extra: format!("\n[metrics]\nlisten = \"{metrics_addr}\"\n"),
    }
    .write(&config);
    // The same account restarts as a fresh bot with its own data directory.
    let bot = BotProcess::start(&config).await;
    let room = admin.create_room(&[&bot_user.user_id]).await;
    wait_for("the bot to join", Duration::from_secs(60), || async {
        (admin.membership(&room, &bot_user.user_id).await.as_deref() == Some("join")).then_some(())
    })
    .await;
    admin
        .command(&room, &bot_user.user_id, "!sw subscribe vessels")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await; // baseline done
    let mut since = admin.sync_token().await;
    let mut published: Vec<Item> = Vec::new();
    let mut latencies = Vec::new();
    let mut bot_parts = Vec::new();
    let mut last_post = serde_json::Value::Null;
    let poll_interval = Duration::from_secs(1);
    for i in 0..latency_samples {
        // Publish at evenly spread phases of the poll schedule, (k + 0.5) / n of the
        // interval after a poll, in a scrambled order: the wait for the next poll
        // then averages half the interval as random phases would, without their
        // sampling noise (about ±0.09 s on the median of 30). The bot polls on a
        // fixed schedule counted from the start of each poll, so the next poll is
        // predicted from the last request the feed server saw.
        let phase = ((i * 7) % latency_samples) as f64 + 0.5;
        let phase = poll_interval.mul_f64(phase / latency_samples as f64);
        let last_poll = server
            .requests("/lat.xml")
            .last()
            .map(|r| r.at)
            .expect("the bot polls the latency feed");
        let mut publish_at = last_poll + phase;
        while publish_at < Instant::now() + Duration::from_millis(20) {
            publish_at += poll_interval;
        }
        tokio::time::sleep_until(publish_at.into()).await;
        let guid = format!("lat-{i}");
        published.insert(0, lady_r_item(&guid));
        server.set_feed("/lat.xml", rss(&published));
        let t0 = Instant::now();
        let link = format!("https://news.example/{guid}");
        loop {
            let (next, events) = admin.sync_events(&since, 5_000).await;
            since = next;
            if let Some(post) = events.iter().find(|e| {
                e["content"]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains(&link))
            }) {
                last_post = post["content"].clone();
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "post {guid} never arrived"
            );
        }
        let arrived = t0.elapsed();
        latencies.push(arrived);
        // From the poll that found the item to the post in the room.
        if let Some(poll) = server
            .requests("/lat.xml")
            .iter()
            .find(|r| r.at >= t0)
            .map(|r| r.at)
        {
            bot_parts.push((t0 + arrived).saturating_duration_since(poll));
        }
    }
    latencies.sort();
    bot_parts.sort();
    let median = latencies[latencies.len() / 2];
    let p90 = latencies[latencies.len() * 9 / 10];
    let mean = latencies.iter().map(Duration::as_secs_f64).sum::<f64>() / latencies.len() as f64;
    println!(
        "  mean {mean:.3} s; p90 {:.3} s; max {:.3} s",
        p90.as_secs_f64(),
        latencies.last().unwrap().as_secs_f64()
    );
    if !bot_parts.is_empty() {
        println!(
            "  from the poll that found an item to its post in the room: median {:.3} s, max {:.3} s",
            bot_parts[bot_parts.len() / 2].as_secs_f64(),
            bot_parts.last().unwrap().as_secs_f64()
        );
    }
    // Baseline: the homeserver alone. Another client sends the bot's last post again
    // into the room, timed from the request to the answer, while it syncs as it did
    // during the samples (so both clients' syncs wake on each send, as they did).
    let sending_done = std::sync::atomic::AtomicBool::new(false);
    let syncing = async {
        let mut since = since.clone();
        while !sending_done.load(std::sync::atomic::Ordering::Relaxed) {
            since = admin.sync_events(&since, 1_000).await.0;
        }
    };
    let sending = async {
        let mut times = Vec::new();
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let started = Instant::now();
            admin.send(&room, last_post.clone()).await;
            times.push(started.elapsed());
        }
        sending_done.store(true, std::sync::atomic::Ordering::Relaxed);
        times
    };
    let ((), mut bare_sends) = tokio::join!(syncing, sending);
    bare_sends.sort();
    let bare_send = bare_sends[bare_sends.len() / 2];
    println!(
        "  baseline, the homeserver alone: the same post sent by another client takes {:.1} ms \
         (median of {}); the wait for the next poll averages 0.5 s, so the two add up to {:.3} s",
        bare_send.as_secs_f64() * 1000.0,
        bare_sends.len(),
        0.5 + bare_send.as_secs_f64()
    );
    let metrics = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (fetch_sum, fetches) =
        histogram_sum_count(&metrics, "sanctions_watch_fetch_duration_seconds");
    let (post_sum, posts) = histogram_sum_count(&metrics, "sanctions_watch_post_latency_seconds");
    println!(
        "  the bot's part, from its metrics: a fetch takes {:.1} ms on average ({fetches} fetches); \
         a post {:.1} ms from the outbox to the homeserver's answer ({posts} posts); the rest \
         is the wait for the next poll, the pipeline and the client's sync",
        fetch_sum / fetches.max(1.0) * 1000.0,
        post_sum / posts.max(1.0) * 1000.0
    );
    row(
        rows,
        "feed-to-room latency, median",
        format!("{:.3} s", median.as_secs_f64()),
        "0.6 s",
        median < Duration::from_millis(600),
    );
    bot.terminate().await;
}

// The bot's allocator (see `sanctions_watch::process`).
sanctions_watch::bot_allocator!();

fn main() {
    // The pipeline runs here in this process: with the bot's allocator settings.
    sanctions_watch::process::apply_bot_allocator_settings();
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--only poll|pipeline|matrix` runs one part (for profiling).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let runs = |part: &str| only.as_deref().is_none_or(|o| o == part);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    if runs("poll") {
        runtime.block_on(poll_cycle(&mut rows, if quick { 200 } else { 1000 }));
    }
    if runs("pipeline") {
        pipeline_throughput(
            &mut rows,
            if quick { 10_000 } else { 100_000 },
            if quick { 100 } else { 500 },
        );
    }
    if runs("matrix") {
        runtime.block_on(matrix_sections(
            &mut rows,
            Duration::from_secs(if quick { 20 } else { 60 }),
            if quick { 10 } else { 30 },
        ));
    }
    println!(
        "\n{:<34} {:<40} {:<16} result",
        "figure", "measured", "budget"
    );
    for r in &rows {
        println!(
            "{:<34} {:<40} {:<16} {}",
            r.figure,
            r.measured,
            r.budget,
            if r.ok { "OK" } else { "OVER" }
        );
    }
}
