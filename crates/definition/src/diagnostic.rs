//! Diagnostics: what is wrong with a definition, where, and what to do about it.
//!
//! Every diagnostic has a stable code. The codes and their explanations live in one place,
//! `docs/diagnostics.md`; [`explain`] returns the section for a code so the CLI can print it.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// Stable diagnostic codes. Never renumber; retire a code by leaving it unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Code {
    /// The file is not well-formed YAML.
    E001,
    /// The input is refused as hostile or too large (size, nesting, aliases).
    E002,
    /// A mapping has the same key twice.
    E003,
    /// A key that the format does not know (often a typo).
    E004,
    /// A value of the wrong type.
    E005,
    /// A required key is missing.
    E006,
    /// An id is not a lower-case identifier.
    E007,
    /// The file could not be read.
    E008,
    /// Two things of the same kind share an id.
    E010,
    /// Reference to a stage that does not exist.
    E011,
    /// Reference to a role that does not exist.
    E012,
    /// Reference to a document type that does not exist.
    E013,
    /// Reference to a field that does not exist.
    E014,
    /// Reference to a transition that does not exist.
    E015,
    /// Reference to a party or phase that does not exist.
    E016,
    /// Reference to a calendar that is not loaded.
    E017,
    /// No initial stage.
    E020,
    /// More than one initial stage.
    E021,
    /// A stage that no path from the initial stage reaches.
    E022,
    /// A non-terminal stage from which no terminal stage can be reached.
    E023,
    /// A terminal stage with outgoing transitions.
    E024,
    /// A stage that is both initial and terminal.
    E025,
    /// A malformed duration.
    E030,
    /// A malformed or impossible date.
    E031,
    /// A malformed fiscal-year expression.
    E032,
    /// A malformed time of day.
    E033,
    /// An unknown field type, or enum values that do not fit the type.
    E035,
    /// A reminder or escalation that can never fire.
    E037,
    /// A reminder that does not say exactly one of `before`, `at_due`, `every`.
    E038,
    /// An expiry transition that cannot fire automatically.
    E039,
    /// A deadline that does not say when it is due, or says it twice.
    E040,
    /// A field used in a way its type does not allow.
    E041,
    /// A malformed guard condition.
    E042,
    /// A deadline or recurring obligation on a terminal stage.
    E043,
    /// A role named `system`, which the runner reserves.
    E044,
    /// A transition nobody may fire.
    E046,
    /// An unknown recurrence period.
    E047,
    /// A holiday outside the calendar's year.
    E050,
    /// A date listed twice in one calendar.
    E052,
    /// An unknown time zone.
    E053,
    /// Files of one calendar disagree on time zone or weekend, or list a year twice.
    E054,
    /// A weekend that leaves no working day.
    E055,
    /// A notification template that cannot be used.
    E056,
    /// An unknown notification language.
    E057,
    /// Automatic moves (`on_expiry`) that loop without time passing.
    E058,
    /// A joint sign-off (`requires_all`) with fewer than two roles, or with a role that may not
    /// fire the transition.
    E048,
    /// A condition's `value_of` that is not a field, `start_of_year(FIELD)` or
    /// `end_of_year(FIELD)`.
    E045,
    /// A condition comparing values of different types (an amount with a date), or a year
    /// function over a field that is not a fiscal year.
    E059,
    /// A role restricted to a coalition's lead (`lead_only`) that belongs to no party.
    E049,
    /// A migration plan names a workflow or version that is not deployed, or a version as
    /// both source and target.
    E060,
    /// A migration plan leaves a stage of a source version without a place in the target.
    E061,
    /// A migration plan names a stage its versions do not have.
    E062,
    /// A migration plan maps an open stage to a terminal one.
    E063,
    /// A migration plan moves a field whose type changed without a default for it.
    E064,
    /// A migration plan's default is for an unknown field or is not a value of its field.
    E065,
    /// A non-terminal stage without a deadline.
    W001,
    /// A holiday whose date is not confirmed yet.
    W002,
    /// A document type that no transition requires and no recurring obligation asks for.
    W003,
    /// A deadline anchored to a field that may still be unset when the stage is entered.
    W005,
    /// A role that can do nothing in the workflow.
    W006,
    /// An escalation or an overdue reminder that can never go out, because the stage moves on
    /// by itself (`on_expiry`) when its deadline passes.
    W007,
    /// A relative deadline after the contract (a stage reached only once a field bounded by
    /// the end of the fiscal year is set) that may run past 31 December.
    W008,
    /// A migration's target version newly requires a document or field to leave a stage.
    W009,
    /// A migration's target version no longer has a field of a source version.
    W010,
}

impl Code {
    /// Every code, in order.
    pub const ALL: &[Code] = &[
        Code::E001,
        Code::E002,
        Code::E003,
        Code::E004,
        Code::E005,
        Code::E006,
        Code::E007,
        Code::E008,
        Code::E010,
        Code::E011,
        Code::E012,
        Code::E013,
        Code::E014,
        Code::E015,
        Code::E016,
        Code::E017,
        Code::E020,
        Code::E021,
        Code::E022,
        Code::E023,
        Code::E024,
        Code::E025,
        Code::E030,
        Code::E031,
        Code::E032,
        Code::E033,
        Code::E035,
        Code::E037,
        Code::E038,
        Code::E039,
        Code::E040,
        Code::E041,
        Code::E042,
        Code::E043,
        Code::E044,
        Code::E046,
        Code::E047,
        Code::E050,
        Code::E052,
        Code::E053,
        Code::E054,
        Code::E055,
        Code::E056,
        Code::E057,
        Code::E058,
        Code::E045,
        Code::E048,
        Code::E059,
        Code::E049,
        Code::E060,
        Code::E061,
        Code::E062,
        Code::E063,
        Code::E064,
        Code::E065,
        Code::W001,
        Code::W002,
        Code::W003,
        Code::W005,
        Code::W006,
        Code::W007,
        Code::W008,
        Code::W009,
        Code::W010,
    ];

    pub fn severity(self) -> Severity {
        if format!("{self:?}").starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    pub fn as_str(self) -> String {
        format!("{self:?}")
    }
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub file: String,
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based; 0 when the problem concerns the whole file.
    pub column: u64,
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `path:line:col: error[E011]: message` and, on the next line, `  = hint: …`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {severity}[{:?}]: {}",
            self.file, self.line, self.column, self.code, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

const EXPLANATIONS: &str = include_str!("../../../docs/diagnostics.md");

/// The explanation of a code (`E011`, case-insensitive) from `docs/diagnostics.md`.
pub fn explain(code: &str) -> Option<&'static str> {
    let wanted = code.trim().to_ascii_uppercase();
    let mut sections = EXPLANATIONS.split("\n## ").skip(1);
    sections
        .find(|section| section.split_whitespace().next() == Some(wanted.as_str()))
        .map(str::trim_end)
}

/// Every code documented in `docs/diagnostics.md`, in order.
pub fn documented_codes() -> Vec<&'static str> {
    EXPLANATIONS
        .split("\n## ")
        .skip(1)
        .filter_map(|section| section.split_whitespace().next())
        .collect()
}
