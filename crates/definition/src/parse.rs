//! The one place that reads YAML (with serde-saphyr; see `docs/decisions/0001-yaml-parser.md`).
//!
//! Definitions are small, hand-written files, so the limits are tight: a hostile file (huge,
//! deeply nested, an alias bomb) is refused quickly with a clear diagnostic instead of
//! eating memory or stack.

use serde::de::DeserializeOwned;
use serde_saphyr::{
    Budget, DuplicateKeyPolicy, Error, Location, MessageFormatter, Options, Spanned,
    UserMessageFormatter,
};

use crate::diagnostic::{Code, Diagnostic};

/// Largest definition file accepted. The shipped Swakelola workflow is about 40 KiB.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
const MAX_DEPTH: usize = 24;
const MAX_NODES: usize = 100_000;
const MAX_ALIASES: usize = 200;
const MAX_REPLAYED_EVENTS: usize = 20_000;

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_reader_input_bytes = Some(MAX_FILE_BYTES);
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_events = MAX_NODES * 2;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    options.alias_limits.max_replay_stack_depth = 8;
    options.alias_limits.max_alias_expansions_per_anchor = 50;
    options.with_snippet = false;
    options
}

/// Parses `text` (the content of `file`) into `T`, or explains in one diagnostic why not.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, Diagnostic> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Diagnostic {
            severity: Code::E002.severity(),
            code: Code::E002,
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: format!(
                "the file is {} bytes; definitions may be at most {MAX_FILE_BYTES} bytes",
                text.len()
            ),
            hint: Some("split the workflow, or check that this is the file you meant".into()),
        });
    }
    // Walk the whole document once before deserialising: the typed pass stops at the first
    // unknown key, which would let a bomb hidden further down go unnoticed until fixed.
    serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(text, options())
        .map_err(|error| diagnostic(file, &error))?;
    serde_saphyr::from_str_with_options(text, options()).map_err(|error| diagnostic(file, &error))
}

fn diagnostic(file: &str, error: &Error) -> Diagnostic {
    let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
    let parser_text = UserMessageFormatter.format_message(innermost(error));
    let (code, hint) = classify(innermost(error), &parser_text);
    let message = match innermost(error) {
        Error::Budget { breach, .. } => budget_message(breach),
        Error::MultipleDocuments { .. } => {
            "the file holds more than one YAML document (`---`); a definition is one document"
                .to_owned()
        }
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => format!(
            "aliases expand to more than {MAX_REPLAYED_EVENTS} values or nest too deeply (an alias bomb?)"
        ),
        _ if parser_text.contains("recursion limit") => {
            format!("the file nests deeper than {MAX_DEPTH} levels")
        }
        _ => printable(&parser_text),
    };
    Diagnostic {
        severity: code.severity(),
        code,
        file: file.to_owned(),
        line,
        column,
        message,
        hint: hint.map(str::to_owned),
    }
}

/// The parser's message with control characters made visible (a message is one line in a
/// terminal), and nothing else changed: quotes stay quotes.
fn printable(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Which limit a hostile or oversized file broke, in words.
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach;
    match breach {
        BudgetBreach::Depth { .. } => {
            format!("the file nests deeper than {MAX_DEPTH} levels")
        }
        BudgetBreach::Documents { .. } => {
            "the file holds more than one YAML document (`---`); a definition is one document"
                .to_owned()
        }
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => {
            format!("the file has more than {MAX_NODES} values")
        }
        BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. } => {
            format!("the file uses more than {MAX_ALIASES} anchors or aliases")
        }
        BudgetBreach::ScalarBytes { .. } => {
            format!("the file's text is larger than {MAX_FILE_BYTES} bytes")
        }
        _ => "the file is too large or too complex for a definition".to_owned(),
    }
}

fn innermost(mut error: &Error) -> &Error {
    while let Error::AliasError { error: inner, .. } | Error::WithSnippet { error: inner, .. } =
        error
    {
        error = inner;
    }
    error
}

fn classify(error: &Error, message: &str) -> (Code, Option<&'static str>) {
    match error {
        Error::DuplicateMappingKey { .. } => (
            Code::E003,
            Some("remove or rename one of the two entries; YAML keeps only one"),
        ),
        Error::SerdeUnknownField { .. } => (
            Code::E004,
            Some("check the spelling; the message lists the keys allowed here"),
        ),
        Error::SerdeMissingField { .. } => (Code::E006, Some("add the missing key")),
        Error::SerdeInvalidType { .. }
        | Error::SerdeInvalidValue { .. }
        | Error::SerdeInvalidLength { .. }
        | Error::SerdeUnknownVariant { .. }
        | Error::InvalidScalar { .. }
        | Error::InvalidBooleanStrict { .. }
        | Error::NullIntoString { .. }
        | Error::UnexpectedValueForUnit { .. }
        | Error::Unexpected { .. } => (
            Code::E005,
            Some("give a value of the type the message names"),
        ),
        Error::Budget { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. }
        | Error::MultipleDocuments { .. } => (
            Code::E002,
            Some(
                "definitions are small hand-written files: no deep nesting, few aliases, one document",
            ),
        ),
        _ if message.contains("budget") || message.contains("recursion limit") => (
            Code::E002,
            Some(
                "definitions are small hand-written files: no deep nesting, few aliases, one document",
            ),
        ),
        _ => (
            Code::E001,
            Some("fix the YAML syntax at this position (indentation, quotes, colons)"),
        ),
    }
}

/// A YAML document as a tree of located nodes, to point at a key by its path and to find
/// the mapping a position belongs to.
#[derive(Debug)]
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar(String),
}

/// A mapping key as text, whatever its YAML type.
#[derive(Debug)]
struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Node as serde::Deserialize>::deserialize(deserializer).map(|node| match node {
            Node::Scalar(text) => Key(text),
            _ => Key(String::new()),
        })
    }
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar(String::new()))
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar(String::new()))
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                <Node as serde::Deserialize>::deserialize(d)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Where a path of keys and indices points in `root`: the key's own position.
fn locate(root: &Spanned<Node>, path: &[PathPart]) -> Option<Location> {
    let mut node = root;
    let mut at = None;
    for part in path {
        match (&node.value, part) {
            (Node::Map(entries), PathPart::Key(key)) => {
                let (k, v) = entries.iter().find(|(k, _)| k.value.0 == *key)?;
                at = Some(k.referenced);
                node = v;
            }
            (Node::Seq(items), PathPart::Index(index)) => {
                node = items.get(*index)?;
                at = Some(node.referenced);
            }
            _ => return at,
        }
    }
    at
}

/// The innermost mapping that holds `at` (by line): its path, its first key's position and
/// its `id`, to name the object a missing key belongs to.
fn enclosing(root: &Spanned<Node>, line: u64) -> (String, Option<Location>, Option<String>) {
    fn first_line(node: &Spanned<Node>) -> u64 {
        match &node.value {
            Node::Map(entries) => entries
                .first()
                .map_or(node.referenced.line(), |(k, _)| k.referenced.line()),
            _ => node.referenced.line(),
        }
    }
    fn last_line(node: &Spanned<Node>) -> u64 {
        match &node.value {
            Node::Map(entries) => entries
                .last()
                .map_or(node.referenced.line(), |(_, v)| last_line(v)),
            Node::Seq(items) => items.last().map_or(node.referenced.line(), last_line),
            Node::Scalar(_) => node.referenced.line(),
        }
    }
    let mut node = root;
    let mut path = String::new();
    loop {
        let child = match &node.value {
            Node::Map(entries) => entries
                .iter()
                .find(|(_, v)| {
                    matches!(v.value, Node::Map(_) | Node::Seq(_))
                        && first_line(v) <= line
                        && line <= last_line(v)
                })
                .map(|(k, v)| (format!(".{}", k.value.0), v)),
            Node::Seq(items) => items
                .iter()
                .enumerate()
                .find(|(_, v)| {
                    matches!(v.value, Node::Map(_) | Node::Seq(_))
                        && first_line(v) <= line
                        && line <= last_line(v)
                })
                .map(|(i, v)| (format!("[{i}]"), v)),
            Node::Scalar(_) => None,
        };
        match child {
            Some((step, child)) => {
                path.push_str(&step);
                node = child;
            }
            None => break,
        }
    }
    let (first, id) = match &node.value {
        Node::Map(entries) => (
            entries.first().map(|(k, _)| k.referenced),
            entries
                .iter()
                .find(|(k, _)| k.value.0 == "id")
                .and_then(|(_, v)| match &v.value {
                    Node::Scalar(id) => Some(id.clone()),
                    _ => None,
                }),
        ),
        _ => (None, None),
    };
    (path.trim_start_matches('.').to_owned(), first, id)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PathPart {
    Key(String),
    Index(usize),
}

/// What the last step of a path was, to recognise the steps of serde-saphyr's `Spanned`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Other,
    /// `Some` or a newtype: how `Spanned` (and `Option`) wrap a value.
    Wrapper,
    /// The marker key of `Spanned`'s inner struct.
    Marker,
}

/// The keys and indices of an ignored key's path. serde-saphyr's `Spanned` reads a value
/// through a wrapper and an inner struct (a marker key, then `value`): those steps are not
/// keys of the document and are left out.
fn path_parts(path: &serde_ignored::Path<'_>, parts: &mut Vec<PathPart>) -> Step {
    use serde_ignored::Path;
    match path {
        Path::Root => Step::Other,
        Path::Seq { parent, index } => {
            path_parts(parent, parts);
            parts.push(PathPart::Index(*index));
            Step::Other
        }
        Path::Map { parent, key } => {
            let before = path_parts(parent, parts);
            if key.starts_with(SPANNED_MARKER) {
                return Step::Marker;
            }
            if !(key == "value" && before != Step::Other) {
                parts.push(PathPart::Key(key.clone()));
            }
            Step::Other
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => {
            path_parts(parent, parts);
            Step::Wrapper
        }
    }
}

/// The name serde-saphyr's `Spanned` gives its inner struct.
const SPANNED_MARKER: &str = "__serde_saphyr";

/// Parses a definition and reports every structural problem it can find in one pass: every
/// key the format does not know (E004, each at its position), then the first problem that
/// stops the parse (a missing key, named with the object it belongs to; a wrong type).
/// Returns the parsed value when nothing stopped the parse, even if unknown keys were found
/// (they are errors, so nothing with them is deployed, but the semantic checks still run and
/// report the rest).
pub fn parse_reporting_all<T: DeserializeOwned>(
    file: &str,
    text: &str,
) -> (Option<T>, Vec<Diagnostic>) {
    // Syntax and budgets first: nothing else is safe to look at before they pass.
    if let Err(diagnostic) = parse::<serde::de::IgnoredAny>(file, text) {
        return (None, vec![diagnostic]);
    }
    let tree: Option<Spanned<Node>> = serde_saphyr::from_str_with_options(text, options()).ok();
    let mut unknown: Vec<Vec<PathPart>> = Vec::new();
    let result: Result<T, Error> =
        serde_saphyr::with_deserializer_from_str_with_options(text, options(), |deserializer| {
            serde_ignored::deserialize(deserializer, |path| {
                let mut parts = Vec::new();
                // The marker key itself is how `Spanned` reads, not a key of the document.
                if path_parts(&path, &mut parts) != Step::Marker {
                    unknown.push(parts);
                }
            })
        });
    let mut diagnostics: Vec<Diagnostic> = unknown
        .iter()
        .map(|parts| {
            let at = tree.as_ref().and_then(|tree| locate(tree, parts));
            let key = match parts.last() {
                Some(PathPart::Key(key)) => key.clone(),
                _ => String::new(),
            };
            Diagnostic {
                severity: Code::E004.severity(),
                code: Code::E004,
                file: file.to_owned(),
                line: at.map_or(0, |l| l.line()),
                column: at.map_or(0, |l| l.column()),
                message: format!("unknown key `{key}`"),
                hint: Some(match crate::check::closest(&key, crate::raw::known_keys()) {
                    Some(guess) => format!("did you mean `{guess}`? A key the format does not know is never silently ignored"),
                    None => "check the spelling against the format in the README; a key the format does not know is never silently ignored".to_owned(),
                }),
            }
        })
        .collect();
    match result {
        Ok(value) => {
            diagnostics.sort_by_key(|d| (d.line, d.column));
            (Some(value), diagnostics)
        }
        Err(error) => {
            let mut stop = diagnostic(file, &error);
            if let (Error::SerdeMissingField { field, .. }, Some(tree)) = (innermost(&error), &tree)
            {
                let (path, first, id) = enclosing(tree, stop.line);
                let object = match (id, path.is_empty()) {
                    (Some(id), _) => format!("`{id}` ({path})"),
                    (None, false) => format!("`{path}`"),
                    (None, true) => "the file".to_owned(),
                };
                stop.message = format!("{object} has no `{field}`, which is required");
                if let Some(first) = first {
                    stop.line = first.line();
                    stop.column = first.column();
                }
            }
            diagnostics.push(stop);
            diagnostics.sort_by_key(|d| (d.line, d.column));
            (None, diagnostics)
        }
    }
}
