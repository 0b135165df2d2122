//! Screening throughput and memory at watchlist scale.
//!
//! Run with `cargo bench --bench screening` (add `-- 10000 100000` to pick list sizes;
//! the default is 10k, 100k and 1M names; `-- --show-hits` prints the first article's
//! hits; `-- --dump-hits FILE` writes every hit of the measured articles to FILE, to
//! check that a change leaves the hits as they were). For each size it generates a synthetic list
//! (persons with middle names and transliterated aliases, companies with legal forms,
//! vessels with numbers and IMO numbers), and 5 KB news-like articles that mention a
//! few listed names, a near spelling, given names on their own and many unlisted
//! proper nouns (which start in a way no listed name does, so they are in fact
//! unlisted).
//! It reports:
//!
//! - index build time and memory (peak and retained heap, from a counting allocator),
//! - articles per second on one core, exact/alias path (fuzzy off) and fuzzy on,
//! - in the same run, two baselines: a naive search of each lower-cased name
//!   separately (on a sample of articles when the list is large: it is said in the
//!   output), and an Aho-Corasick automaton over the lower-cased names (the usual
//!   quick solution, without any of the normalisation), with the ratios to both;
//! - when `scripts/install-bench-python.sh` has installed them, the Python packages
//!   themselves on the same names and articles: pyahocorasick, and flashtext up to
//!   250,000 names (`scripts/python-baselines.py`), with the ratios to pyahocorasick.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, MatchKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sanctions_screening::engine::forget_recent_words;
use sanctions_screening::{EngineOptions, EntryKind, ScreeningEngine, WatchEntry};

/// Counts live and peak heap bytes.
struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let grow = new_size - layout.size();
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Listed names are built from syllables: an onset, a vowel and an optional coda
/// (600 of them), so that a list of a million names has a realistic spread of name
/// parts rather than the same few hundred repeated.
const ONSETS: &[&str] = &[
    "b", "ch", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "sh", "t", "v", "y",
    "z", "kh",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u"];
const CODAS: &[&str] = &["", "n", "r", "l", "k", "v"];
/// Onsets of the unlisted proper nouns in articles. No listed name starts with one,
/// so an "unlisted" word is in fact unlisted (at a million names, most words over the
/// list's own syllables would be some listed vessel or person); letters are shared,
/// so near spellings of listed parts still occur.
const OTHER_ONSETS: &[&str] = &[
    "br", "cl", "dw", "fl", "gr", "pl", "qu", "sk", "st", "tw", "wr", "x",
];

fn syllable(rng: &mut StdRng, onsets: &[&str], out: &mut String) {
    out.push_str(pick(rng, onsets));
    out.push_str(pick(rng, VOWELS));
    out.push_str(pick(rng, CODAS));
}

const GIVEN: &[&str] = &[
    "Ivan", "Sergei", "Vladimir", "Olga", "Maria", "Anna", "Dmitry", "Alexei", "Kim", "Li", "Wei",
    "Mohammed", "Ahmed", "Ali", "Hassan", "Fatima", "John", "Peter", "David", "Elena", "Yuri",
    "Igor", "Natalia", "Jong", "Chol", "Song", "Hyon", "Ri", "Pak", "Omar", "Yusuf",
];
const BUSINESS: &[&str] = &[
    "Trading",
    "Shipping",
    "General",
    "International",
    "Global",
    "Industrial",
    "Petroleum",
    "Energy",
    "Logistics",
    "Holding",
    "Investment",
    "Maritime",
    "Technology",
    "Bank",
    "Group",
    "Mining",
    "Export",
    "Import",
    "Development",
    "Machinery",
];
const LEGAL: &[&str] = &[
    "LLC",
    "Ltd",
    "JSC",
    "Co.",
    "Corporation",
    "OOO",
    "FZE",
    "PJSC",
];
const VESSEL_WORDS: &[&str] = &[
    "Star", "Ocean", "Sea", "Pearl", "Lady", "Queen", "Wind", "Glory", "Hope", "Spirit", "Victory",
    "Dragon", "Eagle", "Falcon", "Crystal", "Sun", "Moon", "Aurora", "Neva", "Volga",
];
const PROSE: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "that",
    "said",
    "for",
    "on",
    "with",
    "as",
    "was",
    "sanctions",
    "ministry",
    "government",
    "officials",
    "trade",
    "arms",
    "shipments",
    "oil",
    "reported",
    "according",
    "statement",
    "new",
    "measures",
    "against",
    "entities",
    "individuals",
    "involved",
    "procurement",
    "financing",
    "program",
    "security",
    "council",
    "resolution",
    "export",
    "controls",
    "companies",
    "vessels",
    "cargo",
    "port",
    "transfer",
    "since",
    "last",
    "year",
    "week",
    "month",
    "announced",
    "talks",
    "leaders",
    "summit",
    "analysts",
    "evidence",
    "network",
    "banks",
    "assets",
    "frozen",
    "travel",
    "ban",
    "also",
    "which",
    "their",
    "had",
    "been",
    "have",
    "would",
    "could",
    "after",
    "before",
    "while",
];
const PROPER: &[&str] = &[
    "Russia",
    "Moscow",
    "Seoul",
    "Tokyo",
    "Beijing",
    "Washington",
    "Ukraine",
    "Japan",
    "China",
    "Korea",
    "North",
    "South",
    "United",
    "Nations",
    "Treasury",
    "European",
    "Union",
    "Council",
    "Foreign",
    "Ministry",
    "Vladivostok",
    "Pyongyang",
    "Rajin",
    "Tuesday",
    "Friday",
    "March",
    "September",
    "Reuters",
    "Britain",
    "Iran",
    "Syria",
    "Cabinet",
];

fn word(rng: &mut StdRng, min: usize, max: usize) -> String {
    let n = rng.random_range(min..=max);
    let mut w = String::new();
    for _ in 0..n {
        syllable(rng, ONSETS, &mut w);
    }
    w[..1].make_ascii_uppercase();
    w
}

/// An unlisted proper noun: a surname, place or company name of the article's own.
fn unlisted_word(rng: &mut StdRng) -> String {
    let mut w = String::new();
    syllable(rng, OTHER_ONSETS, &mut w);
    let n = rng.random_range(1..=2);
    for _ in 0..n {
        syllable(rng, ONSETS, &mut w);
    }
    w[..1].make_ascii_uppercase();
    w
}

fn pick<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

/// One character changed: a transliteration variant or a typo.
fn variant(rng: &mut StdRng, w: &str) -> String {
    let mut b = w.as_bytes().to_vec();
    if b.len() > 4 {
        let i = rng.random_range(1..b.len());
        b[i] = b"aeiouy"[rng.random_range(0..6)];
    }
    String::from_utf8(b).expect("ascii")
}

fn synthetic_list(n: usize, seed: u64) -> Vec<WatchEntry> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let roll = rng.random_range(0..100);
        let mut e = if roll < 60 {
            let given = if rng.random_bool(0.6) {
                pick(&mut rng, GIVEN).to_string()
            } else {
                word(&mut rng, 2, 3)
            };
            let surname = word(&mut rng, 2, 3);
            let middle = rng.random_bool(0.3).then(|| word(&mut rng, 2, 3));
            let name = match &middle {
                Some(m) => format!("{given} {m} {surname}"),
                None => format!("{given} {surname}"),
            };
            let mut aliases = vec![format!("{} {given}", surname.to_uppercase())];
            if rng.random_bool(0.5) {
                aliases.push(format!("{given} {}", variant(&mut rng, &surname)));
            }
            WatchEntry::new(&name, EntryKind::Person, aliases)
        } else if roll < 85 {
            let core = word(&mut rng, 2, 3);
            let name = format!(
                "{core} {} {}",
                pick(&mut rng, BUSINESS),
                pick(&mut rng, LEGAL)
            );
            let aliases = if rng.random_bool(0.4) {
                vec![format!("{core} {}", pick(&mut rng, BUSINESS))]
            } else {
                Vec::new()
            };
            WatchEntry::new(&name, EntryKind::Organization, aliases)
        } else {
            let name = match rng.random_range(0..3) {
                0 => word(&mut rng, 2, 3),
                1 => format!("{} {}", pick(&mut rng, VESSEL_WORDS), word(&mut rng, 2, 3)),
                _ => format!("{}-{}", word(&mut rng, 2, 3), rng.random_range(1..20)),
            };
            let mut e = WatchEntry::new(&name, EntryKind::Vessel, Vec::new());
            e.imo = vec![format!("{}", rng.random_range(9_000_000..9_999_999))];
            e
        };
        e.id = format!("e{i}");
        out.push(e);
    }
    out
}

fn article(rng: &mut StdRng, list: &[WatchEntry]) -> String {
    let mut text = String::with_capacity(5200);
    let mut sentence_start = true;
    while text.len() < 5000 {
        // Per mille: about four listed names and two near spellings per article,
        // amid unlisted proper nouns and prose.
        let w: String = match rng.random_range(0..1000) {
            0..=4 => list[rng.random_range(0..list.len())].name.clone(),
            5..=7 => {
                let name = &list[rng.random_range(0..list.len())].name;
                variant(rng, name)
            }
            8..=107 => pick(rng, PROPER).to_string(),
            108..=122 => unlisted_word(rng),
            // Given names on their own ("Ivan", "Kim"): listed name parts that are
            // not, alone, a listed name.
            123..=127 => pick(rng, GIVEN).to_string(),
            _ => pick(rng, PROSE).to_string(),
        };
        if sentence_start {
            let mut c = w.chars();
            let first = c.next().map(|c| c.to_ascii_uppercase()).unwrap_or(' ');
            text.push(first);
            text.push_str(c.as_str());
        } else {
            text.push_str(&w);
        }
        sentence_start = rng.random_range(0..14) == 0;
        text.push_str(if sentence_start { ". " } else { " " });
    }
    text
}

/// Articles in the stream measurement: their rare words (listed names, unlisted
/// proper nouns) far outnumber what the engine's per-thread memory of near words
/// holds, so an article's rare words are looked up afresh even when the 3 s
/// measurement comes round to it again.
const STREAM_ARTICLES: usize = 4000;

/// The articles of the stream measurement.
fn stream_articles(rng: &mut StdRng, list: &[WatchEntry]) -> Vec<String> {
    (0..STREAM_ARTICLES).map(|_| article(rng, list)).collect()
}

/// Screens articles round-robin for about `budget`; returns articles per second.
fn throughput(
    articles: &[String],
    budget: Duration,
    mut screen: impl FnMut(&str) -> usize,
) -> (f64, usize) {
    let started = Instant::now();
    let mut done = 0usize;
    let mut hits = 0usize;
    while started.elapsed() < budget || done == 0 {
        hits += screen(&articles[done % articles.len()]);
        done += 1;
    }
    (done as f64 / started.elapsed().as_secs_f64(), hits)
}

/// CPU time this process has used (user and system), from `/proc/self/stat`, in
/// seconds, if there is such a file: unlike the clock, it does not count the time
/// other work on a busy machine takes the core.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and stime are
    // the 12th and 13th, in clock ticks (100 a second on Linux).
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn measure_build(entries: &[WatchEntry], fuzzy: bool) -> (ScreeningEngine, Duration, usize, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let engine = ScreeningEngine::for_list(
        "bench",
        entries,
        EngineOptions {
            fuzzy,
            ..EngineOptions::default()
        },
    );
    let took = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let retained = LIVE.load(Ordering::Relaxed) - before;
    (engine, took, peak, retained)
}

/// Writes every hit of `articles` and then `stream`, screened in that order by an
/// engine over `entries` with fuzzy matching off and then on, one line per hit:
/// list size, fuzzy, article set and number, and the hit in full.
fn dump_hits(
    out: &mut impl std::io::Write,
    n: usize,
    entries: &[WatchEntry],
    articles: &[String],
    stream: &[String],
) {
    for fuzzy in [false, true] {
        let (engine, _, _, _) = measure_build(entries, fuzzy);
        forget_recent_words();
        let mut count = 0usize;
        for (set, texts) in [("cycle", articles), ("stream", stream)] {
            for (i, a) in texts.iter().enumerate() {
                for h in engine.screen_text(a) {
                    writeln!(out, "{n} fuzzy={fuzzy} {set} {i}: {h:?}").expect("dump");
                    count += 1;
                }
            }
        }
        println!("dumped {count} hits (fuzzy {fuzzy})");
    }
}

fn main() {
    // `--show-hits`: print the hits in the first article, to see what is matched.
    let show_hits = std::env::args().any(|a| a == "--show-hits");
    // `--profile exact` or `--profile fuzzy`: build and screen with that engine only,
    // for 20 s, for a profiler to watch, and print the rate with the best and median
    // of its seconds and per second of CPU time, which say more on a busy machine
    // (`--cold`: nothing remembered between articles;
    // `--stream`: the stream of distinct articles rather than the 200 in turn).
    let profile = std::env::args().skip_while(|a| a != "--profile").nth(1);
    // `--dump-hits FILE`: only write every hit of the articles measured (the 200 in
    // turn and the stream), fuzzy off and on, one line each, to FILE.
    let dump = std::env::args().skip_while(|a| a != "--dump-hits").nth(1);
    let mut dump_file =
        dump.map(|path| std::io::BufWriter::new(std::fs::File::create(&path).expect("dump file")));
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    let budget = Duration::from_secs(3);
    println!("screening benchmark: 5 KB articles, one core, {budget:?} per measurement");
    for n in sizes {
        println!("\n== {n} names ==");
        let entries = synthetic_list(n, 42);
        let patterns: Vec<String> = entries
            .iter()
            .flat_map(|e| e.names().map(str::to_lowercase).collect::<Vec<_>>())
            .collect();
        let mut rng = StdRng::seed_from_u64(7);
        let articles: Vec<String> = (0..200).map(|_| article(&mut rng, &entries)).collect();
        let avg_len = articles.iter().map(String::len).sum::<usize>() / articles.len();
        println!(
            "list: {} entries, {} names and aliases; articles: {} of {} bytes on average",
            entries.len(),
            patterns.len(),
            articles.len(),
            avg_len
        );

        if let Some(out) = &mut dump_file {
            let stream = stream_articles(&mut rng, &entries);
            dump_hits(out, n, &entries, &articles, &stream);
            continue;
        }
        if let Some(mode) = &profile {
            let mut tok = sanctions_screening::normalize::Tokenizer::new();
            let (rate, _) = throughput(&articles, Duration::from_secs(3), |a| {
                tok.tokenize(a);
                tok.tokens.len()
            });
            println!("tokenizing alone: {rate:.0} articles/s");
            let (engine, took, _, _) = measure_build(&entries, mode == "fuzzy");
            let cold = std::env::args().any(|a| a == "--cold");
            // `--stream`: the stream of distinct articles instead of the cycle.
            let articles = if std::env::args().any(|a| a == "--stream") {
                stream_articles(&mut rng, &entries)
            } else {
                articles
            };
            // The rate of each second too: on a busy machine, the best seconds say
            // more than the average.
            let started = Instant::now();
            let cpu_started = cpu_seconds();
            let mut done = 0usize;
            let mut rates = Vec::new();
            while started.elapsed() < Duration::from_secs(20) {
                let second = Instant::now();
                let before = done;
                while second.elapsed() < Duration::from_secs(1) {
                    if cold {
                        forget_recent_words();
                    }
                    black_box(engine.screen_text(&articles[done % articles.len()]).len());
                    done += 1;
                }
                rates.push((done - before) as f64 / second.elapsed().as_secs_f64());
            }
            let rate = done as f64 / started.elapsed().as_secs_f64();
            let cpu_rate = (cpu_started.zip(cpu_seconds())).map(|(a, b)| done as f64 / (b - a));
            rates.sort_by(f64::total_cmp);
            println!(
                "profile {mode}: built in {:.2}s, {rate:.0} articles/s (seconds: best {:.0}, median {:.0}; per second of CPU time: {:.0})",
                took.as_secs_f64(),
                rates[rates.len() - 1],
                rates[rates.len() / 2],
                cpu_rate.unwrap_or(f64::NAN)
            );
            continue;
        }
        let (exact, t_exact, peak_exact, kept_exact) = measure_build(&entries, false);
        let stats = exact.stats();
        println!(
            "index (exact/alias): built in {:.2}s, peak {:.0} MB, retained {:.0} MB ({} patterns, {} name parts)",
            t_exact.as_secs_f64(),
            mb(peak_exact),
            mb(kept_exact),
            stats.patterns,
            stats.vocabulary
        );
        if show_hits {
            for h in exact.screen_text(&articles[0]) {
                println!("  hit {:?} -> {:?} ({})", h.matched_text, h.name, h.reason);
            }
        }
        let (exact_rate, exact_hits) =
            throughput(&articles, budget, |a| exact.screen_text(a).len());
        drop(exact);

        let (fuzzy, t_fuzzy, peak_fuzzy, kept_fuzzy) = measure_build(&entries, true);
        println!(
            "index (fuzzy):       built in {:.2}s, peak {:.0} MB, retained {:.0} MB ({} deletion entries, indexed on {} threads)",
            t_fuzzy.as_secs_f64(),
            mb(peak_fuzzy),
            mb(kept_fuzzy),
            fuzzy.stats().deletion_entries,
            fuzzy.stats().deletion_build_threads
        );
        if show_hits {
            for h in fuzzy.screen_text(&articles[0]) {
                println!(
                    "  fuzzy hit {:?} -> {:?} ({})",
                    h.matched_text, h.name, h.reason
                );
            }
        }
        let (fuzzy_rate, fuzzy_hits) =
            throughput(&articles, budget, |a| fuzzy.screen_text(a).len());
        // The engine remembers, per thread, the near words of words it saw lately;
        // here every article's words are looked up afresh.
        let (fuzzy_cold_rate, _) = throughput(&articles, budget, |a| {
            forget_recent_words();
            fuzzy.screen_text(a).len()
        });
        // A stream: articles that do not come round again before the memory has
        // filled and started over (its recurring words are remembered, as in news).
        let stream = stream_articles(&mut rng, &entries);
        forget_recent_words();
        let (fuzzy_stream_rate, _) = throughput(&stream, budget, |a| fuzzy.screen_text(a).len());
        drop(stream);
        drop(fuzzy);

        // Baseline 1: every lower-cased name searched separately.
        let naive_budget = Duration::from_secs(2);
        let lowered: Vec<String> = articles.iter().map(|a| a.to_lowercase()).collect();
        let (naive_rate, _) = throughput(&lowered, naive_budget, |a| {
            patterns.iter().filter(|p| a.contains(p.as_str())).count()
        });
        let naive_articles = (naive_rate * naive_budget.as_secs_f64()).ceil() as usize;

        // Baseline 2: an Aho-Corasick automaton over the lower-cased names.
        let started = Instant::now();
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("automaton");
        let t_ac = started.elapsed();
        let peak_ac = PEAK.load(Ordering::Relaxed) - before;
        let (ac_rate, _) = throughput(&articles, budget, |a| {
            black_box(ac.find_iter(&a.to_lowercase()).count())
        });
        drop(ac);

        // Baseline 3: the Python packages themselves, when installed.
        let python = python_baselines(&patterns, &articles, budget);

        println!(
            "engine, exact/alias: {exact_rate:>9.0} articles/s ({:.1} hits per article)",
            exact_hits as f64 / (exact_rate * budget.as_secs_f64()).max(1.0)
        );
        println!(
            "engine, fuzzy on:    {fuzzy_rate:>9.0} articles/s ({:.1} hits per article)",
            fuzzy_hits as f64 / (fuzzy_rate * budget.as_secs_f64()).max(1.0)
        );
        println!(
            "  same, a stream of {STREAM_ARTICLES} other articles: {fuzzy_stream_rate:.0} articles/s"
        );
        println!(
            "  same, no word remembered from earlier articles: {fuzzy_cold_rate:.0} articles/s"
        );
        println!(
            "naive, each name:    {naive_rate:>9.1} articles/s{}",
            if naive_articles < articles.len() {
                format!(" (measured on a sample of {naive_articles} articles)")
            } else {
                String::new()
            }
        );
        println!(
            "aho-corasick:        {ac_rate:>9.0} articles/s (built in {:.2}s, peak {:.0} MB)",
            t_ac.as_secs_f64(),
            mb(peak_ac)
        );
        println!(
            "ratios: exact/alias {:.0}x naive, {:.2}x aho-corasick; fuzzy {:.0}x naive, {:.2}x aho-corasick",
            exact_rate / naive_rate,
            exact_rate / ac_rate,
            fuzzy_rate / naive_rate,
            fuzzy_rate / ac_rate
        );
        match python {
            Err(why) => println!("python packages: not run ({why})"),
            Ok(tools) => {
                for tool in &tools {
                    println!(
                        "{:<20} {:>9.0} articles/s (built in {:.2}s, {:.1} matches per article)",
                        format!("{}:", tool.name),
                        tool.rate,
                        tool.build_seconds,
                        tool.matches_per_article
                    );
                }
                if let Some(pyac) = tools.iter().find(|t| t.name == "pyahocorasick") {
                    println!(
                        "ratios to pyahocorasick: exact/alias {:.2}x, fuzzy {:.2}x, fuzzy stream {:.2}x",
                        exact_rate / pyac.rate,
                        fuzzy_rate / pyac.rate,
                        fuzzy_stream_rate / pyac.rate
                    );
                }
            }
        }
    }
}

/// One Python package's figures from `scripts/python-baselines.py`.
struct PythonBaseline {
    name: String,
    build_seconds: f64,
    rate: f64,
    matches_per_article: f64,
}

/// Runs `scripts/python-baselines.py` (pyahocorasick and flashtext over the same
/// lower-cased names and articles) with the venv `scripts/install-bench-python.sh`
/// makes, or the interpreter in `SCREENING_BENCH_PYTHON`. Says why when it cannot.
fn python_baselines(
    patterns: &[String],
    articles: &[String],
    budget: Duration,
) -> Result<Vec<PythonBaseline>, String> {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = match std::env::var_os("SCREENING_BENCH_PYTHON") {
        Some(p) => std::path::PathBuf::from(p),
        None => repo.join("target/bench-venv/bin/python"),
    };
    if !python.exists() {
        return Err(format!(
            "no {}; scripts/install-bench-python.sh installs them",
            python.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("screening-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let names = dir.join("names.txt");
    let texts = dir.join("articles.txt");
    let written = std::fs::write(&names, patterns.join("\n")).and_then(|()| {
        std::fs::write(
            &texts,
            articles.iter().fold(String::new(), |mut all, a| {
                all.push_str(a);
                all.push('\0');
                all
            }),
        )
    });
    let output = written.and_then(|()| {
        std::process::Command::new(&python)
            .arg(repo.join("scripts/python-baselines.py"))
            .arg(&names)
            .arg(&texts)
            .arg(budget.as_secs_f64().to_string())
            .output()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let output = output.map_err(|e| format!("{}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "python-baselines.py failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let mut tools = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            [name, "missing"] => println!("{name}: not installed"),
            [name, build, rate, per_article] => tools.push(PythonBaseline {
                name: name.to_string(),
                build_seconds: build.parse().map_err(|_| format!("bad line {line:?}"))?,
                rate: rate.parse().map_err(|_| format!("bad line {line:?}"))?,
                matches_per_article: per_article
                    .parse()
                    .map_err(|_| format!("bad line {line:?}"))?,
            }),
            _ => return Err(format!("python-baselines.py printed {line:?}")),
        }
    }
    Ok(tools)
}
