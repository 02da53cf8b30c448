//! The workflow model: what a workflow definition means once it has been loaded and
//! checked. Every reference in here (stage, role, document, field, transition) is known to
//! exist; `swakelola-definition` guarantees that before it hands a [`Workflow`] out.

use std::collections::BTreeMap;

use jiff::civil::Time;
use serde::Serialize;

use crate::duration::Duration;
use crate::format::Language;
use crate::value::{FieldType, FieldValue};

/// The role the runner acts as when a timer fires. Workflows may not declare it.
pub const SYSTEM_ROLE: &str = "system";

/// A bilingual label: Indonesian first, English optional (falls back to Indonesian).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Label {
    pub id: String,
    pub en: Option<String>,
}

impl Label {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            en: None,
        }
    }

    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Id => &self.id,
            Language::En => self.en.as_deref().unwrap_or(&self.id),
        }
    }
}

/// A checked workflow.
#[derive(Debug, Clone, Serialize)]
pub struct Workflow {
    pub id: String,
    pub label: Label,
    pub description: Option<Label>,
    /// The calendar (by id) whose working days and time zone deadlines use.
    pub calendar: String,
    /// Local time of day at which reminders and escalations go out.
    pub notify_at: Time,
    /// The field that holds the fiscal year, needed by deadlines anchored to it.
    pub fiscal_year_field: Option<String>,
    /// Roles that may open a case; empty means any declared role.
    pub open_by: Vec<String>,
    pub parties: Vec<Party>,
    pub phases: Vec<Phase>,
    pub roles: Vec<Role>,
    /// The language notifications are written in.
    pub language: crate::format::Language,
    /// Notification texts that replace the built-in ones, per kind of notification.
    pub messages: Vec<MessageTemplate>,
    pub documents: Vec<DocumentType>,
    pub fields: Vec<FieldDef>,
    pub stages: Vec<Stage>,
    pub transitions: Vec<Transition>,
    /// Invariants of the case's data, checked whenever a field they read is set.
    pub rules: Vec<Rule>,
    /// Kinds of repeating records a case may hold (payments, coalition members).
    pub records: Vec<RecordType>,
}

/// A kind of repeating record on a case, e.g. the payments of a contract in instalments:
/// typed fields, added one at a time by the allowed roles, each addition an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordType {
    pub id: String,
    pub label: Label,
    /// Roles that may add one; empty means any declared role.
    pub add_by: Vec<String>,
    pub fields: Vec<FieldDef>,
}

impl RecordType {
    pub fn field(&self, id: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }
}

/// A side of the partnership (e.g. the agency, the Ormas, a facilitator).
/// The subject and body of one kind of notification, as templates (MiniJinja syntax) in
/// Indonesian and optionally English. The core only carries them; the runner renders them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageTemplate {
    pub kind: crate::state::NotificationKind,
    pub subject: Label,
    pub body: Label,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub id: String,
    pub label: Label,
    /// Roles that may add organisations to this party, or withdraw them, on a running case
    /// (a coalition that grows or shrinks); empty means the party's members are fixed when
    /// the case is opened.
    pub members_by: Vec<String>,
}

/// A group of stages shown together (the customer's six stages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub id: String,
    pub label: Label,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    pub id: String,
    pub label: Label,
    /// The party whose staff hold this role.
    pub party: Option<String>,
    /// When the party is a coalition, only staff of its lead organisation hold this role
    /// (e.g. the head of the Ormas who signs for the coalition).
    pub lead_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentType {
    pub id: String,
    pub label: Label,
    /// Roles that may attach it; empty means any declared role.
    pub attach_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDef {
    pub id: String,
    pub label: Label,
    pub field_type: FieldType,
    /// The label of each value of an enum field that has one.
    pub value_labels: BTreeMap<String, Label>,
    /// Must be given when the case is opened.
    pub required: bool,
    /// Roles that may set it; empty means any declared role.
    pub set_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub id: String,
    pub label: Label,
    pub phase: Option<String>,
    pub initial: bool,
    pub terminal: bool,
    /// The rule this stage rests on, for people reading the workflow.
    pub legal_basis: Option<String>,
    pub deadline: Option<Deadline>,
    pub recurring: Vec<Recurring>,
}

/// When a stage must be left, and what happens around that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub due: Due,
    /// The day that counts instead when the stage begins after `due` has already passed
    /// (the revised budget's window once the main budget's has closed). A stage begun
    /// late is nobody's fault: it is routed once, with the reason, and never escalated.
    pub late_entry: Option<Due>,
    /// Never later than the last working day of the fiscal year: work paid from a year's
    /// budget ends, and is handed over and paid, inside that year.
    pub within_fiscal_year: bool,
    pub follow_up: FollowUp,
    /// A transition fired by the system when the deadline passes.
    pub on_expiry: Option<String>,
}

/// How a due date is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// `offset` after the anchor date.
    After { anchor: Anchor, offset: Duration },
    /// A fixed day of the year, in the fiscal year plus `year_offset`
    /// (e.g. 30 November of the year before the fiscal year: month 11, day 30, offset -1).
    OnDate {
        month: i8,
        day: i8,
        year_offset: i16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The day the case entered the stage.
    StageEntered,
    /// The date held by a date field of the case.
    Field(String),
}

/// Who must act on an obligation and how they are chased.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FollowUp {
    /// Roles responsible for meeting it: default recipients of reminders.
    pub responsible: Vec<String>,
    pub reminders: Vec<Reminder>,
    pub escalations: Vec<Escalation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub when: ReminderWhen,
    /// Recipients; empty means the responsible roles.
    pub to: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderWhen {
    /// On the working day this long before the due date.
    Before(Duration),
    /// On the due date.
    AtDue,
    /// Repeatedly, this often after the due date, until met.
    EveryAfterDue(Duration),
}

/// Notify other roles once an obligation is overdue by `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub after: Duration,
    pub to: Vec<String>,
}

/// An obligation that recurs while the case is in a stage, such as a monthly progress
/// report due some working days after each month ends. Each period's obligation is met by
/// attaching `document`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recurring {
    pub id: String,
    pub label: Label,
    pub period: Period,
    /// Due this long after the period ends.
    pub due_after_period: Duration,
    pub document: String,
    pub follow_up: FollowUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Week,
    Month,
    Quarter,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub id: String,
    pub label: Label,
    pub from: Vec<String>,
    pub to: String,
    /// Roles that may fire it.
    pub roles: Vec<String>,
    pub guard: Guard,
    /// Roles told when it fires.
    pub notify: Vec<String>,
    /// Roles that must each approve before it takes effect (a joint sign-off): each approval
    /// is recorded, and the last one fires the transition. Empty: one of `roles` fires it.
    pub requires_all: Vec<String>,
    /// A party every organisation of which must approve too (each member of a coalition
    /// signs the MoU), through one of the party's roles among `roles`.
    pub requires_each_member_of: Option<String>,
}

impl Transition {
    /// Whether it takes several approvals (a joint sign-off) rather than one firing.
    pub fn is_joint(&self) -> bool {
        !self.requires_all.is_empty() || self.requires_each_member_of.is_some()
    }
}

/// What must hold before a transition may fire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Guard {
    pub documents: Vec<String>,
    pub fields: Vec<String>,
    pub comment: bool,
    pub conditions: Vec<Condition>,
}

impl Guard {
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
            && self.fields.is_empty()
            && !self.comment
            && self.conditions.is_empty()
    }
}

/// `field op value` (`pagu > 0`) or `field op operand` (`nilai_kontrak <= pagu`,
/// `tanggal_selesai <= end_of_year(tahun_anggaran)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub field: String,
    pub op: Comparison,
    /// A constant; absent for [`Comparison::IsSet`] and [`Comparison::IsUnset`] and when
    /// the field is compared with [`Condition::value_of`].
    pub value: Option<FieldValue>,
    /// Another value of the case the field is compared with.
    pub value_of: Option<Operand>,
}

/// A value of the case a condition compares with: another field, or a date derived from a
/// fiscal-year field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "field", rename_all = "snake_case")]
pub enum Operand {
    Field(String),
    /// 1 January of the year in a fiscal-year field.
    StartOfYear(String),
    /// 31 December of the year in a fiscal-year field.
    EndOfYear(String),
    /// The sum of a numeric field over a case's records (`sum(pembayaran.jumlah)`); zero
    /// without records, in rupiah when the field is an amount.
    Sum {
        record: String,
        field: String,
        rupiah: bool,
    },
    /// How many records of a kind a case has (`count(pembayaran)`).
    Count(String),
}

impl Operand {
    /// The field, or the kind of record, the operand reads.
    pub fn reads(&self) -> &str {
        match self {
            Operand::Field(f) | Operand::StartOfYear(f) | Operand::EndOfYear(f) => f,
            Operand::Sum { record, .. } | Operand::Count(record) => record,
        }
    }

    /// Its value in a case with these fields and records; `None` while a field it reads is
    /// unset (a sum or a count always has one).
    pub fn resolve(
        &self,
        fields: &BTreeMap<String, FieldValue>,
        records: &crate::state::Records,
    ) -> Option<FieldValue> {
        let year = |field: &str| match fields.get(field)? {
            FieldValue::FiscalYear(year) => Some(*year),
            _ => None,
        };
        let totals = |record: &str| records.get(record);
        match self {
            Operand::Field(field) => fields.get(field).cloned(),
            Operand::StartOfYear(field) => jiff::civil::Date::new(year(field)?, 1, 1)
                .ok()
                .map(FieldValue::Date),
            Operand::EndOfYear(field) => jiff::civil::Date::new(year(field)?, 12, 31)
                .ok()
                .map(FieldValue::Date),
            Operand::Sum {
                record,
                field,
                rupiah,
            } => {
                let total = totals(record)
                    .and_then(|t| t.sums.get(field))
                    .copied()
                    .unwrap_or(0);
                Some(if *rupiah {
                    FieldValue::Rupiah(total)
                } else {
                    FieldValue::Integer(total)
                })
            }
            Operand::Count(record) => Some(FieldValue::Integer(
                totals(record).map_or(0, |t| t.count) as i64,
            )),
        }
    }
}

impl std::fmt::Display for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operand::Field(field) => f.write_str(field),
            Operand::StartOfYear(field) => write!(f, "start_of_year({field})"),
            Operand::EndOfYear(field) => write!(f, "end_of_year({field})"),
            Operand::Sum { record, field, .. } => write!(f, "sum({record}.{field})"),
            Operand::Count(record) => write!(f, "count({record})"),
        }
    }
}

/// An invariant of a workflow's data (`nilai_kontrak <= pagu`): a command that would set a
/// field so that it no longer holds is refused, with the rule's label. A rule whose values
/// are not all set yet holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: String,
    pub label: Label,
    pub condition: Condition,
}

impl Rule {
    /// Whether setting `field` (or adding a record of that kind) can break the rule.
    pub fn reads(&self, field: &str) -> bool {
        self.condition.field == field
            || self
                .condition
                .value_of
                .as_ref()
                .is_some_and(|o| o.reads() == field)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    IsSet,
    IsUnset,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "≠",
            Comparison::Lt => "<",
            Comparison::Le => "≤",
            Comparison::Gt => ">",
            Comparison::Ge => "≥",
            Comparison::IsSet => "is set",
            Comparison::IsUnset => "is unset",
        }
    }
}

impl Workflow {
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }

    pub fn initial_stage(&self) -> Option<&Stage> {
        self.stages.iter().find(|s| s.initial)
    }

    pub fn transition(&self, id: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.id == id)
    }

    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.id == id)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn document(&self, id: &str) -> Option<&DocumentType> {
        self.documents.iter().find(|d| d.id == id)
    }

    pub fn field(&self, id: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }

    pub fn record(&self, id: &str) -> Option<&RecordType> {
        self.records.iter().find(|r| r.id == id)
    }

    /// The roles that may change `role`'s contacts: the role itself and the roles of the same
    /// party (the agency changes its PPK's contact, the Ormas its own people's); `None` for
    /// an unknown role.
    pub fn roles_on_the_side_of(&self, role: &str) -> Option<Vec<String>> {
        let target = self.role(role)?;
        Some(
            self.roles
                .iter()
                .filter(|r| r.id == target.id || (r.party.is_some() && r.party == target.party))
                .map(|r| r.id.clone())
                .collect(),
        )
    }

    /// Transitions that leave `stage`, in definition order.
    pub fn transitions_from<'a>(&'a self, stage: &'a str) -> impl Iterator<Item = &'a Transition> {
        self.transitions
            .iter()
            .filter(move |t| t.from.iter().any(|f| f == stage))
    }
}
