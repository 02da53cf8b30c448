//! What a case is at one moment, and the records a step produces: events, timers,
//! obligations and notifications. All of it serialises, so a store can keep it as is.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::model::SYSTEM_ROLE;
use crate::value::FieldValue;

/// Who issued a command, acting in which role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: String,
    /// The organisation the person acts for, when the caller knows it (the API and the pages
    /// always do). A member's approval of a coalition sign-off counts for this organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

impl Actor {
    pub fn new(name: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            role: role.into(),
            organisation: None,
        }
    }

    /// The same person, acting for `organisation`.
    pub fn for_organisation(mut self, organisation: impl Into<String>) -> Self {
        self.organisation = Some(organisation.into());
        self
    }

    /// The runner, acting when a timer fires.
    pub fn system() -> Self {
        Self::new("swakelola", SYSTEM_ROLE)
    }
}

/// The state of one case. A case's state changes only through [`crate::step`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub stage: String,
    /// Number of events recorded so far; the sequence number of the latest event.
    pub revision: u64,
    pub opened_at: Timestamp,
    /// Set when the case enters a terminal stage.
    pub closed_at: Option<Timestamp>,
    pub stage_entered_at: Timestamp,
    /// The revision of the event that entered the current stage; keeps obligations of a
    /// re-entered stage apart from those of an earlier visit.
    pub stage_entered_revision: u64,
    pub fields: BTreeMap<String, FieldValue>,
    pub documents: Vec<DocumentRecord>,
    /// Open obligations, by key.
    pub obligations: BTreeMap<String, Obligation>,
    /// Pending timers, by key.
    pub timers: BTreeMap<String, Timer>,
    /// What decisions need of the case's repeating records, by kind: how many, and the total
    /// of each numeric field. The records themselves are in the history (`RecordAdded`) and
    /// in the store's rows, so a case with hundreds of payments is no bigger to step than one
    /// without. (States written when the records were kept here read back as their totals.)
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "records_or_totals"
    )]
    pub records: Records,
    /// The organisations of each party, the lead first (a coalition's members after it).
    /// Kept so that a sign-off by every member knows who they are; the store keeps access in
    /// step with it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parties: BTreeMap<String, Vec<String>>,
    /// Approvals given so far for joint sign-offs out of the current stage: by transition,
    /// then by signer — a role, or `@organisation` for a member of a coalition that signs.
    /// Leaving the stage clears them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub approvals: BTreeMap<String, BTreeMap<String, Approval>>,
}

/// One role's approval of a joint sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The person who approved.
    pub actor: String,
    pub at: Timestamp,
    pub comment: Option<String>,
}

/// The totals of a case's records, by kind.
pub type Records = BTreeMap<String, RecordTotals>;

/// The records of one kind, as decisions see them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordTotals {
    pub count: usize,
    /// The sum of every whole-number field (amounts, integers) over the records.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sums: BTreeMap<String, i64>,
}

impl RecordTotals {
    /// Counts one more record with these values.
    pub fn add(&mut self, fields: &BTreeMap<String, FieldValue>) {
        self.count += 1;
        for (field, value) in fields {
            if let FieldValue::Rupiah(n) | FieldValue::Integer(n) = value {
                let sum = self.sums.entry(field.clone()).or_default();
                *sum = sum.saturating_add(*n);
            }
        }
    }
}

/// A case's records by kind, oldest first, as the store lists them for people.
pub type RecordEntries = BTreeMap<String, Vec<RecordEntry>>;

/// Reads `records` as totals, or — from a state written before totals — as the list of every
/// record, totalled here.
fn records_or_totals<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Records, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Totals(RecordTotals),
        Entries(Vec<RecordEntry>),
    }
    let stored = BTreeMap::<String, Stored>::deserialize(deserializer)?;
    Ok(stored
        .into_iter()
        .map(|(kind, stored)| {
            let totals = match stored {
                Stored::Totals(totals) => totals,
                Stored::Entries(entries) => {
                    let mut totals = RecordTotals::default();
                    for entry in &entries {
                        totals.add(&entry.fields);
                    }
                    totals
                }
            };
            (kind, totals)
        })
        .collect())
}

/// One record of a case (a payment, a coalition member), as added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordEntry {
    pub fields: BTreeMap<String, FieldValue>,
    pub added_at: Timestamp,
    /// The role that added it.
    pub added_by: String,
}

impl CaseState {
    /// The earliest pending timer: when the runner must next look at this case.
    pub fn next_due_at(&self) -> Option<Timestamp> {
        self.timers.values().map(|t| t.due_at).min()
    }

    /// The earliest open obligation's due instant (past when it is overdue): what makes a case
    /// urgent for people. Unlike [`Self::next_due_at`], an overdue obligation whose timers have
    /// all fired still counts.
    pub fn attention_at(&self) -> Option<Timestamp> {
        self.obligations.values().map(|o| o.due_at).min()
    }

    pub fn has_document(&self, document_type: &str) -> bool {
        self.documents
            .iter()
            .any(|d| d.document_type == document_type)
    }

    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }
}

/// An attached document: its metadata, not its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub document_type: String,
    pub file_name: String,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub size: u64,
    pub attached_at: Timestamp,
    pub attached_by: Actor,
}

/// Something that must happen by a due date: leaving a stage with a deadline, or one
/// period's recurring report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    pub key: String,
    pub source: ObligationSource,
    pub due_date: Date,
    pub due_at: Timestamp,
    pub overdue: bool,
    /// Counted in working days through a year the calendar has no holidays for (weekends
    /// only there): the date may still move when that year's calendar is deployed, which
    /// recomputes it (`RecomputeDeadlines`).
    #[serde(default)]
    pub provisional: bool,
    /// The stage's own deadline when it had already passed as the stage began: the case
    /// was late through no one's fault (an audience in December for next year's main
    /// budget). It is told once, never chased as overdue nor escalated; `due_date` is then
    /// the later window (`late_entry`) or, without one, this same day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed_at_entry: Option<Date>,
}

impl Obligation {
    /// How its stage stood when it began after this deadline's day had passed; `None` for an
    /// obligation that began in time.
    pub fn late_entry(&self) -> Option<LateEntry> {
        let passed = self.passed_at_entry?;
        Some(if passed == self.due_date {
            LateEntry::Routed { passed }
        } else {
            LateEntry::InWindow { passed }
        })
    }
}

/// A stage begun after its deadline's day (`passed`) had gone by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateEntry {
    /// A later window (`late_entry`) counts instead; the obligation is due then.
    InWindow { passed: Date },
    /// No window was left: due at once, so the case is routed (`on_expiry`), not chased.
    Routed { passed: Date },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ObligationSource {
    /// The deadline of the stage the case is in.
    StageDeadline { stage: String },
    /// One period of a recurring obligation; met by attaching `document`.
    Recurring {
        rule: String,
        period_start: Date,
        period_end: Date,
        document: String,
    },
}

/// A pending wake-up for the runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// Deterministic and unique within the case.
    pub key: String,
    pub due_at: Timestamp,
    pub kind: TimerKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimerKind {
    /// Reminder number `reminder` of the obligation's follow-up; `occurrence` counts the
    /// repeats of a repeating reminder (0 for one-off reminders).
    Reminder {
        obligation: String,
        reminder: usize,
        occurrence: u32,
    },
    /// The obligation's due instant (the end of its due day).
    Due { obligation: String },
    Escalation {
        obligation: String,
        escalation: usize,
    },
    /// A new period of a recurring obligation starts.
    PeriodStart { rule: String, period_start: Date },
}

impl TimerKind {
    pub fn name(&self) -> &'static str {
        match self {
            TimerKind::Reminder { .. } => "reminder",
            TimerKind::Due { .. } => "due",
            TimerKind::Escalation { .. } => "escalation",
            TimerKind::PeriodStart { .. } => "period_start",
        }
    }
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 1 for the opening event, then consecutive.
    pub revision: u64,
    pub at: Timestamp,
    pub actor: Actor,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Opened {
        stage: String,
        fields: BTreeMap<String, FieldValue>,
        /// The organisations of each party, lead first.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        parties: BTreeMap<String, Vec<String>>,
    },
    Transitioned {
        transition: String,
        from: String,
        to: String,
        comment: Option<String>,
        /// For a joint sign-off: the roles whose approvals, this one last, made it fire.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        approved_by: Vec<String>,
    },
    /// A role approved a joint sign-off; `outstanding` roles have yet to.
    Approved {
        transition: String,
        comment: Option<String>,
        outstanding: Vec<String>,
    },
    /// A role declined a joint sign-off with a reason; the approvals given so far (`cleared`)
    /// no longer count.
    Declined {
        transition: String,
        comment: String,
        cleared: Vec<String>,
    },
    DocumentAttached {
        document: DocumentRecord,
        /// Recurring obligations this attachment met.
        met: Vec<String>,
    },
    FieldSet {
        field: String,
        previous: Option<FieldValue>,
        value: FieldValue,
    },
    TimerFired {
        timer: String,
        effect: TimerEffect,
    },
    /// A record was added; `number` is its place among the case's records of that kind
    /// (1 for the first).
    RecordAdded {
        record: String,
        number: usize,
        fields: BTreeMap<String, FieldValue>,
    },
    /// An organisation joined a party of the case (a coalition grew); it is invited, and
    /// sees the case once one of its staff accepts.
    MemberAdded {
        party: String,
        organisation: String,
    },
    /// An organisation left a party of the case; unless it is still in another party it no
    /// longer sees the case.
    MemberWithdrawn {
        party: String,
        organisation: String,
        reason: String,
    },
    /// The case was linked to another case (`case_id`, known to people as `business_key`).
    Linked {
        link: LinkKind,
        case_id: String,
        business_key: String,
    },
    /// The people notified for `role` were replaced (an official changed post).
    ContactsChanged {
        role: String,
        contacts: Vec<ContactEntry>,
    },
    /// The calendar changed and these due dates moved with it; `confirmed` obligations kept
    /// their date but are no longer provisional.
    DeadlinesMoved {
        reason: String,
        moved: Vec<MovedDeadline>,
        #[serde(default)]
        confirmed: Vec<String>,
    },
    /// An administrator moved the case onto another version of its workflow with the
    /// migration plan `plan`. Field values the new version no longer declares are kept
    /// here (`dropped`), so the history still holds them.
    Migrated {
        plan: String,
        from_version: u32,
        to_version: u32,
        from_stage: String,
        to_stage: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        moved: Vec<MovedDeadline>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        defaulted: BTreeMap<String, FieldValue>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        dropped: BTreeMap<String, FieldValue>,
    },
}

/// How a case relates to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// The continuation of an earlier case: next year's partnership after this year's.
    Follows,
    /// The same partnership carried out elsewhere, modelled on a template case.
    Replicates,
    /// Any other relation worth seeing from both cases.
    Related,
}

impl LinkKind {
    pub const ALL: [LinkKind; 3] = [LinkKind::Follows, LinkKind::Replicates, LinkKind::Related];

    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Follows => "follows",
            LinkKind::Replicates => "replicates",
            LinkKind::Related => "related",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == text)
    }
}

/// A person to notify for a role, as recorded when the contacts of a running case change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEntry {
    pub name: String,
    /// `email:…` or `webhook:https://…`.
    pub address: String,
}

/// One obligation's due date before and after a calendar change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedDeadline {
    pub obligation: String,
    pub from: Date,
    pub to: Date,
}

/// What a fired timer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimerEffect {
    Reminded {
        obligation: String,
    },
    BecameOverdue {
        obligation: String,
    },
    /// The deadline passed and the stage's expiry transition fired.
    Expired {
        obligation: String,
        transition: String,
        from: String,
        to: String,
    },
    Escalated {
        obligation: String,
    },
    PeriodOpened {
        obligation: String,
    },
}

/// A message to deliver after the step's transaction commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Deterministic within the case (derived from the timer or event that caused it), so
    /// a redelivered message can be recognised by its receiver.
    pub key: String,
    pub kind: NotificationKind,
    /// Roles to tell; contacts are looked up by the caller.
    pub to: Vec<String>,
    pub stage: String,
    pub obligation: Option<Obligation>,
    /// Document types still missing for the transitions out of the current stage.
    pub missing_documents: Vec<String>,
    /// For a transition notice: which transition, and who fired it.
    #[serde(default)]
    pub transition: Option<String>,
    #[serde(default)]
    pub by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Due soon, or due today.
    Reminder,
    /// Past due, repeating.
    OverdueReminder,
    /// Just became overdue.
    Overdue,
    Escalation,
    /// A transition the recipients asked to hear about.
    Transitioned,
    /// A due date moved because the calendar changed.
    DeadlineMoved,
    /// The stage began after its deadline had passed: the case is routed (to a later
    /// window, or onwards by `on_expiry`) and told why, once.
    LateEntry,
}

/// The signer key of a coalition member's approval (`@yayasan-intan-maharani`); role ids never
/// start with `@`.
pub fn member_signer(organisation: &str) -> String {
    format!("@{organisation}")
}

/// The organisation a signer key stands for, when it is a member's.
pub fn signer_organisation(signer: &str) -> Option<&str> {
    signer.strip_prefix('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state written when the records themselves were kept in it reads back as their
    /// totals, and is written in the new form.
    #[test]
    fn records_stored_in_full_read_back_as_totals() {
        let old = r#"{"pembayaran": [
            {"fields": {"termin": {"integer": 1}, "jumlah": {"rupiah": 10350000}, "tanggal_sp2d": {"date": "2025-05-20"}},
             "added_at": "2025-05-20T02:00:00Z", "added_by": "ppk"},
            {"fields": {"termin": {"integer": 2}, "jumlah": {"rupiah": 14500000}},
             "added_at": "2025-08-20T02:00:00Z", "added_by": "ppk"}
        ]}"#;
        #[derive(Deserialize)]
        struct Holder {
            #[serde(deserialize_with = "records_or_totals")]
            records: Records,
        }
        let read: Holder =
            serde_json::from_str(&format!(r#"{{"records": {old}}}"#)).expect("old form reads");
        let totals = &read.records["pembayaran"];
        assert_eq!(totals.count, 2);
        assert_eq!(totals.sums["jumlah"], 24_850_000);
        assert_eq!(totals.sums["termin"], 3);
        let written = serde_json::to_string(&read.records).unwrap();
        assert_eq!(
            written,
            r#"{"pembayaran":{"count":2,"sums":{"jumlah":24850000,"termin":3}}}"#
        );
        let again: Holder = serde_json::from_str(&format!(r#"{{"records": {written}}}"#)).unwrap();
        assert_eq!(again.records, read.records);
    }
}
