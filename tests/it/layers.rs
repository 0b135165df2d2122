//! The library's shape, checked from its source: every file's references to other
//! modules (`use` paths and paths written inline: `crate::…`, `super::…`, `self::…`
//! and a file's own child modules) point down the layers of `src/lib.rs`'s map and
//! form no cycle between files (`pub use` re-exports count too: a directory module's
//! `mod.rs` that re-exports its files is above them, so they must not import it back).
//! Comments, string literals and `#[cfg(test)]` modules are skipped.
//! Also: the library uses neither clap nor anyhow (the command line is the binary's).
//! `LAYERS_SHOW=1 cargo test --test it layers -- --nocapture` prints every import
//! found, with its line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of each top-level module: 0 leaf parts, 1 orchestration, 2 entry points.
fn layer_of(top: &str) -> Option<u8> {
    Some(match top {
        "config" | "store" | "feeds" | "summary" | "story_file" | "health" | "metrics"
        | "process" => 0,
        "access" | "app" | "poller" | "pipeline" | "delivery" | "digest" | "notices"
        | "commands" => 1,
        "rooms" | "endpoint" => 2,
        _ => return None,
    })
}

const LAYER_NAMES: [&str; 3] = ["leaf part", "orchestration", "entry point"];

/// The library's source files: everything under `src/` but the binary's.
fn library_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("cli") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") && path != src.join("main.rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file: `src/a/b.rs` and `src/a/b/mod.rs` are `["a", "b"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "mod.rs" | "lib.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

/// The source with comments, string and character literals blanked out.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(b.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if text[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if text[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(hashes) = raw_string_start(rest) {
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + rest.find('"').unwrap() + 1;
            i = text[body..]
                .find(&close)
                .map_or(b.len(), |n| body + n + close.len());
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{..}'), else a lifetime.
            let lit = if rest[1..].starts_with('\\') {
                rest[2..].find('\'').map(|n| n + 3)
            } else {
                rest[1..]
                    .chars()
                    .next()
                    .filter(|c| rest[1 + c.len_utf8()..].starts_with('\''))
                    .map(|c| c.len_utf8() + 2)
            };
            match lit {
                Some(len) => {
                    out.push_str("' '");
                    i += len;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `r"`, `r#"`, `br"`…: the number of hashes of a raw string starting here.
fn raw_string_start(rest: &str) -> Option<usize> {
    let r = rest.strip_prefix('b').unwrap_or(rest).strip_prefix('r')?;
    let hashes = r.bytes().take_while(|&c| c == b'#').count();
    r[hashes..].starts_with('"').then_some(hashes)
}

/// The code before the file's `#[cfg(test)]` module: the tests are not part of the
/// library's shape (and their `super` is the file itself).
fn without_tests(code: &str) -> String {
    let mut from = 0;
    while let Some(found) = code[from..].find("#[cfg(test)]") {
        let at = from + found;
        let next = code[at + "#[cfg(test)]".len()..].trim_start();
        let next = next.strip_prefix("pub(crate) ").unwrap_or(next);
        if next.starts_with("mod ") {
            return code[..at].to_string();
        }
        from = at + 1;
    }
    code.to_string()
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Expands a `use` tree (`a::{b, c::{d as e}}`) into its paths.
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    fn walk(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let tree = tree.trim();
        if let Some(open) = tree.find('{') {
            let head: Vec<String> = split_path(&tree[..open]);
            let inner = &tree[open + 1..tree.rfind('}').unwrap()];
            let mut full = prefix.to_vec();
            full.extend(head);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        walk(&full, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            walk(&full, &inner[start..], out);
        } else if !tree.is_empty() {
            let tree = tree.split(" as ").next().unwrap();
            let mut full = prefix.to_vec();
            full.extend(split_path(tree));
            out.push(full);
        }
    }
    let mut out = Vec::new();
    walk(&[], tree, &mut out);
    out
}

fn split_path(s: &str) -> Vec<String> {
    s.split("::")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// Every module path a file's code refers to, as written (relative or absolute),
/// with the line it is on.
fn references(code: &str, children: &BTreeSet<String>) -> Vec<(Vec<String>, usize)> {
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut refs = Vec::new();
    let mut uses: Vec<(usize, usize)> = Vec::new();
    let mut search = 0;
    while let Some(found) = code[search..].find("use ") {
        let at = search + found;
        search = at + 4;
        let before = code[..at].trim_end();
        let starts_statement = at == 0
            || before.ends_with([';', '{', '}', ']'])
            || before.ends_with("pub")
            || before.ends_with(')');
        if !starts_statement || code[..at].ends_with(|c: char| is_ident_char(c)) {
            continue;
        }
        let end = at + code[at..].find(';').unwrap();
        uses.push((at, end));
        for path in expand_use_tree(&code[at + 4..end]) {
            refs.push((path, line_of(at)));
        }
    }
    // Paths written inline, outside `use` statements.
    let mut i = 0;
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    while i < chars.len() {
        let (at, c) = chars[i];
        let starts_word = is_ident_char(c) && (i == 0 || !is_ident_char(chars[i - 1].1));
        if !starts_word || uses.iter().any(|&(s, e)| at >= s && at < e) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && (is_ident_char(chars[j].1) || code[chars[j].0..].starts_with("::"))
        {
            j += if chars[j].1 == ':' { 2 } else { 1 };
        }
        let end = chars.get(j).map_or(code.len(), |&(p, _)| p);
        let word = &code[at..end];
        let path = split_path(word);
        let first = path[0].as_str();
        if word.contains("::")
            && (matches!(first, "crate" | "super" | "self") || children.contains(first))
            && (i == 0 || !code[..at].ends_with("::"))
        {
            refs.push((path, line_of(at)));
        }
        i = j.max(i + 1);
    }
    refs
}

/// The file a path written in module `from` leads to, if it is in the library.
fn resolve(
    path: &[String],
    from: &[String],
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let mut module: Vec<String> = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            module = from.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            module = from.to_vec();
            while rest.first().is_some_and(|p| p == "super") {
                module.pop();
                rest = &rest[1..];
            }
        }
        // A child module of this file.
        _ => module = from.to_vec(),
    }
    module.extend(rest.iter().cloned());
    // The longest prefix that is a file.
    while !module.is_empty() {
        if files.contains_key(&module) {
            return Some(module);
        }
        module.pop();
    }
    None
}

#[test]
fn imports_point_down_the_layers_and_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: BTreeMap<Vec<String>, PathBuf> = library_files(&src)
        .into_iter()
        .map(|f| (module_of(&src, &f), f))
        .collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, usize>> = BTreeMap::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let code = without_tests(&code_only(&text));
        let children: BTreeSet<String> = code
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                // `mod x;`, `pub mod x;`, `pub(crate) mod x;`
                let l = match l.strip_prefix("pub") {
                    Some(rest) if rest.starts_with('(') => rest.split_once(") ")?.1,
                    Some(rest) => rest.trim_start(),
                    None => l,
                };
                l.strip_prefix("mod ")?.strip_suffix(';').map(String::from)
            })
            .collect();
        for (path, line) in references(&code, &children) {
            let Some(target) = resolve(&path, module, &files) else {
                continue;
            };
            if &target == module || target.is_empty() {
                continue;
            }
            edges
                .entry(module.clone())
                .or_default()
                .entry(target.clone())
                .or_insert(line);
            let (Some(from_layer), Some(to_layer)) = (
                module.first().and_then(|m| layer_of(m)),
                layer_of(&target[0]),
            ) else {
                continue;
            };
            if to_layer > from_layer {
                problems.push(format!(
                    "{}:{line}: a {} imports {} (a {})",
                    file.strip_prefix(&src).unwrap().display(),
                    LAYER_NAMES[from_layer as usize],
                    target.join("::"),
                    LAYER_NAMES[to_layer as usize],
                ));
            }
        }
    }
    for module in files.keys() {
        if let Some(top) = module.first()
            && layer_of(top).is_none()
        {
            problems.push(format!(
                "module {top} has no layer: add it to layer_of in tests/it/layers.rs and to the map in src/lib.rs"
            ));
        }
    }
    // Cycles: a depth-first search that reports each back edge's loop.
    let mut state: BTreeMap<&Vec<String>, u8> = BTreeMap::new();
    fn visit<'a>(
        node: &'a Vec<String>,
        edges: &'a BTreeMap<Vec<String>, BTreeMap<Vec<String>, usize>>,
        state: &mut BTreeMap<&'a Vec<String>, u8>,
        stack: &mut Vec<&'a Vec<String>>,
        problems: &mut Vec<String>,
    ) {
        state.insert(node, 1);
        stack.push(node);
        for next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
            match state.get(next) {
                Some(1) => {
                    let start = stack.iter().position(|n| *n == next).unwrap();
                    let names: Vec<String> = stack[start..]
                        .iter()
                        .chain([&next])
                        .map(|n| n.join("::"))
                        .collect();
                    problems.push(format!("import cycle: {}", names.join(" → ")));
                }
                Some(_) => {}
                None => visit(next, edges, state, stack, problems),
            }
        }
        stack.pop();
        state.insert(node, 2);
    }
    for node in files.keys() {
        if !state.contains_key(node) {
            visit(node, &edges, &mut state, &mut Vec::new(), &mut problems);
        }
    }
    if std::env::var_os("LAYERS_SHOW").is_some() {
        for (from, targets) in &edges {
            for (to, line) in targets {
                println!("{} → {} (line {line})", from.join("::"), to.join("::"));
            }
        }
    }
    let edge_count: usize = edges.values().map(BTreeMap::len).sum();
    println!(
        "{} library files, {edge_count} imports between them",
        files.len()
    );
    assert!(
        edge_count > 100,
        "the import reader found only {edge_count} imports: it is broken"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reader_sees_imports_and_skips_comments_and_strings() {
    let code = code_only(
        "use crate::a::{b, c::{D, e as f}};\n// use crate::x;\nlet s = \"crate::y::z\"; let c = '\"';\nsuper::g::h(); let t = r#\"crate::q\"#; child::k();\npub use crate::r::S;\n",
    );
    let children: BTreeSet<String> = ["child".to_string()].into();
    let refs: Vec<String> = references(&code, &children)
        .into_iter()
        .map(|(p, _)| p.join("::"))
        .collect();
    assert_eq!(
        refs,
        [
            "crate::a::b",
            "crate::a::c::D",
            "crate::a::c::e",
            "crate::r::S",
            "super::g::h",
            "child::k"
        ]
    );
}

#[test]
fn the_library_has_no_command_line_crates() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in library_files(&src) {
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for word in ["clap::", "anyhow::", "anyhow!", "bail!"] {
            if code.contains(word) {
                found.push(format!("{} uses {word}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
