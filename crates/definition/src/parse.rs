//! The one place that reads YAML (with serde-saphyr; see `docs/decisions/0001-yaml-parser.md`).
//!
//! Definitions are small, hand-written files, so the limits are tight: a hostile file (huge,
//! deeply nested, an alias bomb) is refused quickly with a clear diagnostic instead of
//! eating memory or stack.

use serde::de::DeserializeOwned;
use serde_saphyr::{
    Budget, DuplicateKeyPolicy, Error, MessageFormatter, Options, UserMessageFormatter,
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
