//! Watchlist importers: parse published lists into [`WatchEntry`] values. Pure: each
//! takes a reader and returns entries plus the rows it skipped (with line numbers and
//! why); nothing here touches the store or the file system.
//!
//! Formats:
//! - [`WatchlistFormat::OpenSanctionsCsv`]: OpenSanctions `targets.simple.csv`
//!   (`id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,…`),
//!   multi-values joined by `;`. Schemas Person, Organization, Company, LegalEntity and
//!   Vessel are screened; rows of other schemas are skipped as unsupported.
//! - [`WatchlistFormat::FtmJson`]: FollowTheMoney entities, one JSON object per line
//!   (`{"id","schema","properties":{"name":[..],"alias":[..],"weakAlias":[..],"imoNumber":[..],…}}`).
//! - [`WatchlistFormat::SimpleCsv`]: the project's own CSV with a header naming its
//!   columns: `name` (required), `kind`, `aliases` (`;`-separated), and optionally
//!   `id`, `weak_aliases`, `imo`, `mmsi`, `countries`, `note`.
//!
//! Rows with the same id are one entry: the first is kept and later ones are reported
//! as skipped duplicates, so importing a file twice gives the same entries.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use serde_json::Value;

use super::{EntryKind, WatchEntry, entry_id_for, identifier_digits, normalize};

/// A watchlist file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchlistFormat {
    /// OpenSanctions `targets.simple.csv`.
    OpenSanctionsCsv,
    /// FollowTheMoney entity JSON lines.
    FtmJson,
    /// `name,kind,aliases` CSV.
    SimpleCsv,
}

impl WatchlistFormat {
    /// A short name for messages.
    pub fn label(self) -> &'static str {
        match self {
            WatchlistFormat::OpenSanctionsCsv => "OpenSanctions targets.simple.csv",
            WatchlistFormat::FtmJson => "FollowTheMoney JSON lines",
            WatchlistFormat::SimpleCsv => "name,kind,aliases CSV",
        }
    }

    /// Recognises a format from the file name's extension and its first bytes.
    pub fn detect(file_name: &str, head: &[u8]) -> Result<WatchlistFormat, ImportError> {
        let lower = file_name.to_ascii_lowercase();
        if [".json", ".jsonl", ".ndjson", ".ftm"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            return Ok(WatchlistFormat::FtmJson);
        }
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let text = String::from_utf8_lossy(head);
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return Ok(WatchlistFormat::FtmJson);
        }
        let header = trimmed.lines().next().unwrap_or("").to_ascii_lowercase();
        let columns: Vec<&str> = header
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if columns.starts_with(&["id", "schema", "name"]) {
            return Ok(WatchlistFormat::OpenSanctionsCsv);
        }
        if columns.contains(&"name") {
            return Ok(WatchlistFormat::SimpleCsv);
        }
        Err(ImportError::UnknownFormat(format!(
            "its first line is {:?}; expected a CSV header with a `name` column \
             (name,kind,aliases), the OpenSanctions header (id,schema,name,...), or JSON lines",
            header.chars().take(80).collect::<String>()
        )))
    }
}

/// Why a watchlist could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Reading failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV is broken (bad quoting, not UTF-8...).
    #[error("line {line}: {message}")]
    Csv {
        /// Line of the problem.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// A required column is missing, or a column is not known.
    #[error("header: {0}")]
    Header(String),
    /// Not a format this importer reads.
    #[error("not a watchlist file: {0}")]
    UnknownFormat(String),
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    /// 1-based line number in the file.
    pub line: u64,
    /// Why.
    pub reason: String,
    /// True when the row is broken (not merely of a kind that is not screened).
    pub invalid: bool,
}

/// What a file held.
#[derive(Debug, Default)]
pub struct ParsedWatchlist {
    /// The entries, in file order.
    pub entries: Vec<WatchEntry>,
    /// Rows not imported.
    pub skipped: Vec<SkippedRow>,
    /// Data rows read.
    pub rows: u64,
}

/// How often `progress` is called, in rows.
pub const PROGRESS_EVERY: u64 = 10_000;

/// Parses a watchlist in `format` from `reader`. `progress` is called with the number
/// of rows read every [`PROGRESS_EVERY`] rows.
pub fn parse_watchlist<R: Read>(
    format: WatchlistFormat,
    reader: R,
    progress: &mut dyn FnMut(u64),
) -> Result<ParsedWatchlist, ImportError> {
    let mut out = Collector::default();
    match format {
        WatchlistFormat::OpenSanctionsCsv => parse_opensanctions(reader, &mut out, progress)?,
        WatchlistFormat::FtmJson => parse_ftm(reader, &mut out, progress)?,
        WatchlistFormat::SimpleCsv => parse_simple_csv(reader, &mut out, progress)?,
    }
    Ok(out.parsed)
}

#[derive(Default)]
struct Collector {
    parsed: ParsedWatchlist,
    first_line_of: HashMap<String, u64>,
}

impl Collector {
    fn row(&mut self, progress: &mut dyn FnMut(u64)) {
        self.parsed.rows += 1;
        if self.parsed.rows.is_multiple_of(PROGRESS_EVERY) {
            progress(self.parsed.rows);
        }
    }

    fn skip(&mut self, line: u64, reason: impl Into<String>, invalid: bool) {
        self.parsed.skipped.push(SkippedRow {
            line,
            reason: reason.into(),
            invalid,
        });
    }

    fn accept(&mut self, line: u64, entry: WatchEntry) {
        if normalize::tokens(&entry.name).is_empty() {
            return self.skip(
                line,
                format!("name {:?} has no letters or digits", entry.name),
                true,
            );
        }
        if let Some(first) = self.first_line_of.get(&entry.id) {
            let reason = format!("duplicate id {:?} (first on line {first})", entry.id);
            return self.skip(line, reason, false);
        }
        self.first_line_of.insert(entry.id.clone(), line);
        self.parsed.entries.push(entry);
    }
}

fn split_multi(s: &str) -> impl Iterator<Item = &str> {
    s.split(';').map(str::trim).filter(|v| !v.is_empty())
}

fn kind_of_schema(schema: &str) -> Option<EntryKind> {
    match schema {
        "Person" => Some(EntryKind::Person),
        "Organization" | "Company" | "LegalEntity" | "PublicBody" => Some(EntryKind::Organization),
        "Vessel" => Some(EntryKind::Vessel),
        _ => None,
    }
}

/// Builds an entry, dropping aliases equal to the name or to each other.
fn entry(
    id: String,
    name: &str,
    kind: EntryKind,
    aliases: Vec<String>,
    weak: Vec<String>,
) -> WatchEntry {
    let mut e = WatchEntry::new(name, kind, Vec::new());
    e.id = id;
    let mut seen = vec![e.name.clone()];
    for a in aliases {
        let a = a.trim().to_string();
        if !a.is_empty() && !seen.contains(&a) && !normalize::tokens(&a).is_empty() {
            seen.push(a.clone());
            e.aliases.push(a);
        }
    }
    for a in weak {
        let a = a.trim().to_string();
        if !a.is_empty() && !seen.contains(&a) && !normalize::tokens(&a).is_empty() {
            seen.push(a.clone());
            e.weak_aliases.push(a);
        }
    }
    e
}

/// Sorts identifiers of a vessel into IMO (7 digits) and MMSI (9 digits) numbers.
fn vessel_identifiers(values: &[&str], e: &mut WatchEntry) {
    for v in values {
        if let Some(d) = identifier_digits(v, 7) {
            if !e.imo.contains(&d) {
                e.imo.push(d);
            }
        } else if let Some(d) = identifier_digits(v, 9)
            && !e.mmsi.contains(&d)
        {
            e.mmsi.push(d);
        }
    }
}

fn csv_reader<R: Read>(reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader)
}

fn csv_error(e: csv::Error) -> ImportError {
    let line = e.position().map_or(0, |p| p.line());
    ImportError::Csv {
        line,
        message: e.to_string(),
    }
}

fn parse_opensanctions<R: Read>(
    reader: R,
    out: &mut Collector,
    progress: &mut dyn FnMut(u64),
) -> Result<(), ImportError> {
    let mut csv = csv_reader(reader);
    let headers = csv.headers().map_err(csv_error)?.clone();
    let col = |name: &'static str| -> Result<usize, ImportError> {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| ImportError::Header(format!("no `{name}` column")))
    };
    let (c_id, c_schema, c_name) = (col("id")?, col("schema")?, col("name")?);
    let c_aliases = col("aliases").ok();
    let c_countries = col("countries").ok();
    let c_identifiers = col("identifiers").ok();
    let c_sanctions = col("sanctions").ok();
    let c_programs = col("program_ids").ok();
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).map_err(csv_error)? {
        out.row(progress);
        let line = record.position().map_or(0, |p| p.line());
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").trim();
        let (id, schema, name) = (get(Some(c_id)), get(Some(c_schema)), get(Some(c_name)));
        if id.is_empty() {
            out.skip(line, "no id", true);
            continue;
        }
        let Some(kind) = kind_of_schema(schema) else {
            out.skip(line, format!("schema {schema:?} is not screened"), false);
            continue;
        };
        if name.is_empty() {
            out.skip(line, format!("{id}: no name"), true);
            continue;
        }
        let aliases = split_multi(get(c_aliases)).map(str::to_string).collect();
        let mut e = entry(id.to_string(), name, kind, aliases, Vec::new());
        e.countries = split_multi(get(c_countries)).map(str::to_string).collect();
        if kind == EntryKind::Vessel {
            let ids: Vec<&str> = split_multi(get(c_identifiers)).collect();
            vessel_identifiers(&ids, &mut e);
        }
        let note = [get(c_sanctions), get(c_programs)]
            .into_iter()
            .find(|s| !s.is_empty())
            .map(|s| s.chars().take(300).collect::<String>());
        e.note = note;
        out.accept(line, e);
    }
    Ok(())
}

fn string_values(props: &Value, key: &str) -> Vec<String> {
    match props.get(key) {
        Some(Value::Array(values)) => values
            .iter()
            .filter_map(|v| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        _ => Vec::new(),
    }
}

fn parse_ftm<R: Read>(
    reader: R,
    out: &mut Collector,
    progress: &mut dyn FnMut(u64),
) -> Result<(), ImportError> {
    let reader = BufReader::new(reader);
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line?;
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        out.row(progress);
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                out.skip(line_no, format!("not a JSON object: {e}"), true);
                continue;
            }
        };
        let id = value.get("id").and_then(Value::as_str).unwrap_or("").trim();
        let schema = value.get("schema").and_then(Value::as_str).unwrap_or("");
        if id.is_empty() {
            out.skip(line_no, "no \"id\"", true);
            continue;
        }
        let Some(kind) = kind_of_schema(schema) else {
            out.skip(
                line_no,
                format!("{id}: schema {schema:?} is not screened"),
                false,
            );
            continue;
        };
        let props = value.get("properties").unwrap_or(&Value::Null);
        let mut names = string_values(props, "name");
        if names.is_empty() {
            if let Some(caption) = value.get("caption").and_then(Value::as_str) {
                names.push(caption.to_string());
            } else {
                out.skip(line_no, format!("{id}: no name"), true);
                continue;
            }
        }
        let primary = names.remove(0);
        let mut aliases = names;
        aliases.extend(string_values(props, "alias"));
        aliases.extend(string_values(props, "previousName"));
        let weak = string_values(props, "weakAlias");
        let mut e = entry(id.to_string(), &primary, kind, aliases, weak);
        for key in [
            "country",
            "nationality",
            "citizenship",
            "jurisdiction",
            "flag",
        ] {
            for c in string_values(props, key) {
                if !e.countries.contains(&c) {
                    e.countries.push(c);
                }
            }
        }
        let imo = string_values(props, "imoNumber");
        let mmsi = string_values(props, "mmsi");
        let refs: Vec<&str> = imo.iter().chain(&mmsi).map(String::as_str).collect();
        vessel_identifiers(&refs, &mut e);
        e.note = string_values(props, "notes")
            .into_iter()
            .chain(string_values(props, "program"))
            .next()
            .map(|s| s.chars().take(300).collect());
        out.accept(line_no, e);
    }
    Ok(())
}

const SIMPLE_COLUMNS: &[&str] = &[
    "name",
    "kind",
    "aliases",
    "id",
    "weak_aliases",
    "imo",
    "mmsi",
    "countries",
    "note",
];

fn parse_simple_csv<R: Read>(
    reader: R,
    out: &mut Collector,
    progress: &mut dyn FnMut(u64),
) -> Result<(), ImportError> {
    let mut csv = csv_reader(reader);
    let headers = csv.headers().map_err(csv_error)?.clone();
    let mut cols: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        let Some(known) = SIMPLE_COLUMNS.iter().find(|c| **c == h) else {
            return Err(ImportError::Header(format!(
                "unknown column {h:?}; the columns are {}",
                SIMPLE_COLUMNS.join(", ")
            )));
        };
        cols.insert(known, i);
    }
    if !cols.contains_key("name") {
        return Err(ImportError::Header("no `name` column".into()));
    }
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        out.row(progress);
        let get = |c: &str| {
            cols.get(c)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .trim()
        };
        let name = get("name");
        if name.is_empty() {
            out.skip(line, "empty name", true);
            continue;
        }
        let kind = match get("kind") {
            "" => EntryKind::Any,
            k => match EntryKind::parse(k) {
                Some(k) => k,
                None => {
                    let reason = format!("kind {k:?} is not person, organization, vessel or any");
                    out.skip(line, reason, true);
                    continue;
                }
            },
        };
        let id = match get("id") {
            "" => entry_id_for(name),
            id => id.to_string(),
        };
        let aliases = split_multi(get("aliases")).map(str::to_string).collect();
        let weak = split_multi(get("weak_aliases"))
            .map(str::to_string)
            .collect();
        let mut e = entry(id, name, kind, aliases, weak);
        for (column, digits) in [("imo", 7), ("mmsi", 9)] {
            for v in split_multi(get(column)) {
                match identifier_digits(v, digits) {
                    Some(d) if column == "imo" => e.imo.push(d),
                    Some(d) => e.mmsi.push(d),
                    None => {
                        let reason = format!("{column} {v:?} is not {digits} digits");
                        out.skip(line, reason, true);
                    }
                }
            }
        }
        e.countries = split_multi(get("countries")).map(str::to_string).collect();
        e.note = Some(get("note").to_string()).filter(|n| !n.is_empty());
        out.accept(line, e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: WatchlistFormat, text: &str) -> ParsedWatchlist {
        parse_watchlist(format, text.as_bytes(), &mut |_| {}).unwrap()
    }

    const OS_HEADER: &str = "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,program_ids,dataset,first_seen,last_seen,last_change\n";

    #[test]
    fn opensanctions_rows_become_entries() {
        let text = format!(
            "{OS_HEADER}NK-1,Person,Kim Jong Un,Kim Jong-un;김정은,1984-01-08,kp,,,UN listing,,,,un_sc,,,\n\
             NK-2,Vessel,MAIA-1,Maia 1,,ru,,IMO 9179484;273456780,KR sanctions,,,,kr,,,\n\
             NK-3,Address,Somewhere,,,,,,,,,,,,,\n\
             NK-4,Company,,,,,,,,,,,,,,\n"
        );
        let p = parse(WatchlistFormat::OpenSanctionsCsv, &text);
        assert_eq!(p.rows, 4);
        assert_eq!(p.entries.len(), 2);
        let kim = &p.entries[0];
        assert_eq!((kim.id.as_str(), kim.kind), ("NK-1", EntryKind::Person));
        assert_eq!(kim.aliases, ["Kim Jong-un", "김정은"]);
        assert_eq!(kim.countries, ["kp"]);
        let maia = &p.entries[1];
        assert_eq!(maia.imo, ["9179484"]);
        assert_eq!(maia.mmsi, ["273456780"]);
        assert_eq!(p.skipped.len(), 2);
        assert_eq!(p.skipped[0].line, 4);
        assert!(
            !p.skipped[0].invalid,
            "an address is not screened, not broken"
        );
        assert_eq!(p.skipped[1].line, 5);
        assert!(p.skipped[1].invalid);
    }

    #[test]
    fn ftm_json_lines_carry_weak_aliases_and_imo() {
        let text = r#"{"id":"v1","schema":"Vessel","properties":{"name":["Angara"],"alias":["Sparta IV"],"imoNumber":["IMO9179484"],"flag":["ru"]}}

{"id":"p1","schema":"Person","properties":{"name":["Kim Jong Un"],"weakAlias":["Marshal"],"nationality":["kp"]}}
not json
{"id":"x","schema":"Airplane","properties":{"name":["A"]}}"#;
        let p = parse(WatchlistFormat::FtmJson, text);
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.entries[0].imo, ["9179484"]);
        assert_eq!(p.entries[0].aliases, ["Sparta IV"]);
        assert_eq!(p.entries[1].weak_aliases, ["Marshal"]);
        assert_eq!(p.entries[1].countries, ["kp"]);
        assert_eq!(p.skipped.len(), 2);
        assert_eq!((p.skipped[0].line, p.skipped[0].invalid), (4, true));
        assert_eq!((p.skipped[1].line, p.skipped[1].invalid), (5, false));
    }

    #[test]
    fn simple_csv_with_optional_columns() {
        let text = "name,kind,aliases,imo\n\
                    Lady R,vessel,Lady Rose;Lady R.,1234567\n\
                    \"Kim Jong Un\",person,\"Kim Jong-un\",\n\
                    Foo,spaceship,,\n\
                    ,person,,\n";
        let p = parse(WatchlistFormat::SimpleCsv, text);
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.entries[0].id, "lady-r");
        assert_eq!(p.entries[0].imo, ["1234567"]);
        assert_eq!(p.entries[1].aliases, ["Kim Jong-un"]);
        let lines: Vec<u64> = p.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [4, 5]);
    }

    #[test]
    fn duplicate_ids_keep_the_first() {
        let text = "name,kind\nMaria,vessel\nMARIA,vessel\n";
        let p = parse(WatchlistFormat::SimpleCsv, text);
        assert_eq!(p.entries.len(), 1);
        assert!(p.skipped[0].reason.contains("first on line 2"));
    }

    #[test]
    fn unknown_columns_and_formats_are_errors() {
        let err = parse_watchlist(
            WatchlistFormat::SimpleCsv,
            "name,colour\n".as_bytes(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        assert!(WatchlistFormat::detect("x.txt", b"hello world\n").is_err());
        assert_eq!(
            WatchlistFormat::detect("t.csv", OS_HEADER.as_bytes()).unwrap(),
            WatchlistFormat::OpenSanctionsCsv
        );
        assert_eq!(
            WatchlistFormat::detect("t.csv", b"name,kind,aliases\n").unwrap(),
            WatchlistFormat::SimpleCsv
        );
        assert_eq!(
            WatchlistFormat::detect("t.jsonl", b"").unwrap(),
            WatchlistFormat::FtmJson
        );
    }

    #[test]
    fn progress_is_reported() {
        let mut text = String::from("name\n");
        for i in 0..PROGRESS_EVERY + 5 {
            text.push_str(&format!("Name {i}\n"));
        }
        let mut calls = Vec::new();
        let p = parse_watchlist(WatchlistFormat::SimpleCsv, text.as_bytes(), &mut |n| {
            calls.push(n)
        })
        .unwrap();
        assert_eq!(calls, [PROGRESS_EVERY]);
        assert_eq!(p.entries.len() as u64, PROGRESS_EVERY + 5);
    }
}
