//! What a person sees of a case, computed once for every front end — the CLI's text and
//! JSON, the HTTP API, the web pages: labels instead of ids, values as people write them
//! (`Rp34.500.000`, `10 Desember 2024`), the actions open to a caller with what each still
//! needs, obligations with their deadlines, history lines and agenda entries with their
//! recipients, in Indonesian or English.
//!
//! Plain data in, plain data out: callers load records from the store and render the views.
//! This crate must never decide a transition (that is `swakelola_core::step`), never touch the
//! database and never read the clock (`now` is an argument).

pub mod catalogue;
pub mod migration;
pub mod people;
pub mod refusal;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use swakelola_core::format::{self, Language};
use swakelola_core::model::{Label, Period};
use swakelola_core::state::{
    EventKind, NotificationKind, Obligation, ObligationSource, RecordEntries, TimerEffect,
    TimerKind,
};
use swakelola_core::step::{GuardFailure, guard_failures, missing_documents};
use swakelola_core::{CaseState, Workflow};
use swakelola_store::{CaseRecord, StoredEvent};

/// An id with the label people read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    pub id: String,
    pub label: String,
}

/// A workflow's labels in one language, falling back to Indonesian, then to the id.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'w> {
    pub workflow: &'w Workflow,
    pub language: Language,
}

impl<'w> Labels<'w> {
    pub fn new(workflow: &'w Workflow, language: Language) -> Self {
        Self { workflow, language }
    }

    pub fn text(&self, label: &Label) -> String {
        match self.language {
            Language::Id => label.id.clone(),
            Language::En => label.en.clone().unwrap_or_else(|| label.id.clone()),
        }
    }

    fn named(&self, id: &str, label: Option<&Label>) -> Named {
        Named {
            id: id.to_owned(),
            label: label.map_or_else(|| id.to_owned(), |l| self.text(l)),
        }
    }

    pub fn stage(&self, id: &str) -> Named {
        self.named(id, self.workflow.stage(id).map(|s| &s.label))
    }

    pub fn transition(&self, id: &str) -> Named {
        self.named(id, self.workflow.transition(id).map(|t| &t.label))
    }

    pub fn role(&self, id: &str) -> Named {
        if id == swakelola_core::model::SYSTEM_ROLE {
            return Named {
                id: id.to_owned(),
                label: self.msg("role-system").to_owned(),
            };
        }
        // The administrator who ran a workflow migration; no workflow declares it.
        if id == "operator" && self.workflow.role(id).is_none() {
            return Named {
                id: id.to_owned(),
                label: self.msg("role-operator").to_owned(),
            };
        }
        self.named(id, self.workflow.role(id).map(|r| &r.label))
    }

    pub fn document(&self, id: &str) -> Named {
        self.named(id, self.workflow.document(id).map(|d| &d.label))
    }

    /// Who a signer of a joint sign-off is, in words: a role's label, or the member
    /// organisation (`@yayasan-x` → `yayasan-x`).
    pub fn signer(&self, signer: &str) -> String {
        match swakelola_core::state::signer_organisation(signer) {
            Some(organisation) => organisation.to_owned(),
            None => self.role(signer).label,
        }
    }

    pub fn party(&self, id: &str) -> Named {
        self.named(id, self.workflow.party(id).map(|p| &p.label))
    }

    /// A field of the case, or of a kind of record (`pembayaran.jumlah`, named
    /// «Pembayaran termin · Jumlah»).
    pub fn field(&self, id: &str) -> Named {
        if let Some((record, field)) = id.split_once('.')
            && let Some(kind) = self.workflow.record(record)
            && let Some(def) = kind.field(field)
        {
            let mut named = self.named(id, Some(&def.label));
            named.label = format!("{} · {}", self.text(&kind.label), named.label);
            return named;
        }
        self.named(id, self.workflow.field(id).map(|f| &f.label))
    }

    pub fn record(&self, id: &str) -> Named {
        self.named(id, self.workflow.record(id).map(|r| &r.label))
    }

    /// The definition of a field of the case or of a kind of record (`pembayaran.jumlah`).
    fn field_def(&self, id: &str) -> Option<&'w swakelola_core::model::FieldDef> {
        match id.split_once('.') {
            Some((record, field)) => self.workflow.record(record)?.field(field),
            None => self.workflow.field(id),
        }
    }

    pub fn rule(&self, id: &str) -> Named {
        self.named(
            id,
            self.workflow
                .rules
                .iter()
                .find(|r| r.id == id)
                .map(|r| &r.label),
        )
    }

    pub fn date(&self, date: Date) -> String {
        format::date(date, self.language)
    }

    /// A value of `field` as people write it: `Rp34.500.000`, `10 Desember 2024`, `2025`, and
    /// an enum value by its label (`APBD Perubahan`).
    pub fn value(&self, field: &str, value: &swakelola_core::FieldValue) -> String {
        match value {
            swakelola_core::FieldValue::Date(date) => self.date(*date),
            swakelola_core::FieldValue::Enum(id) => self
                .field_def(field)
                .and_then(|f| f.value_labels.get(id))
                .map_or_else(|| id.clone(), |label| self.text(label)),
            other => other.to_string(),
        }
    }

    /// A message of the catalogue in this language.
    pub fn msg(&self, id: &str) -> String {
        catalogue::message(self.language, id, &[])
    }

    /// What an obligation is, in words: "Tenggat tahap «Reviu KAK oleh instansi»", "Laporan
    /// kemajuan Oktober 2025", "Setoran pajak Triwulan III 2026".
    pub fn obligation(&self, source: &ObligationSource) -> String {
        match source {
            ObligationSource::StageDeadline { stage } => format!(
                "{} «{}»",
                self.msg("obligation-stage-deadline"),
                self.stage(stage).label
            ),
            ObligationSource::Recurring {
                rule, period_start, ..
            } => {
                let recurring = self
                    .workflow
                    .stages
                    .iter()
                    .flat_map(|s| &s.recurring)
                    .find(|r| &r.id == rule);
                let name = recurring.map_or_else(|| rule.clone(), |r| self.text(&r.label));
                let period = recurring.map_or(Period::Month, |r| r.period);
                format!("{name} {}", self.period(period, *period_start))
            }
        }
    }

    /// A reporting period as people name it: `Oktober 2025`, `Triwulan III 2026`, `minggu
    /// 13 Oktober 2025`.
    pub fn period(&self, period: Period, start: Date) -> String {
        match period {
            Period::Month => {
                let full = self.date(start);
                // "1 Oktober 2025" → "Oktober 2025"
                full.split_once(' ')
                    .map_or(full.clone(), |(_, rest)| rest.to_owned())
            }
            Period::Quarter => {
                let quarter =
                    ["I", "II", "III", "IV"][usize::try_from((start.month() - 1) / 3).unwrap_or(0)];
                format!("{} {quarter} {}", self.msg("period-quarter"), start.year())
            }
            Period::Week => format!("{} {}", self.msg("period-week"), self.date(start)),
        }
    }

    /// An obligation named by its key alone (as events carry it): `deadline:<stage>:<rev>`
    /// or `recurring:<stage>:<rev>:<rule>:<period start>`.
    pub fn obligation_key(&self, key: &str) -> String {
        let parts: Vec<&str> = key.split(':').collect();
        match parts.as_slice() {
            ["deadline", stage, ..] => self.obligation(&ObligationSource::StageDeadline {
                stage: (*stage).to_owned(),
            }),
            ["recurring", _, _, rule, start] => match start.parse::<Date>() {
                Ok(period_start) => self.obligation(&ObligationSource::Recurring {
                    rule: (*rule).to_owned(),
                    period_start,
                    period_end: period_start,
                    document: String::new(),
                }),
                Err(_) => key.to_owned(),
            },
            _ => key.to_owned(),
        }
    }

    /// What a kind of notification is called.
    pub fn notification(&self, kind: NotificationKind) -> String {
        match kind {
            NotificationKind::Reminder => self.msg("notice-reminder"),
            NotificationKind::OverdueReminder => self.msg("notice-overdue-reminder"),
            NotificationKind::Overdue => self.msg("notice-overdue"),
            NotificationKind::Escalation => self.msg("notice-escalation"),
            NotificationKind::Transitioned => self.msg("notice-transitioned"),
            NotificationKind::DeadlineMoved => self.msg("notice-deadline-moved"),
            NotificationKind::LateEntry => self.msg("notice-late-entry"),
        }
    }

    /// The note a provisional date carries.
    pub fn provisional_note(&self) -> String {
        self.msg("provisional-note")
    }
}

/// A field as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldLine {
    pub field: Named,
    /// As people write it: `Rp34.500.000`, `2025`, `10 Desember 2024`.
    pub value: String,
}

/// The records of one kind on a case: each as its labelled values, and the totals of its
/// amount and number fields.
#[derive(Debug, Clone, Serialize)]
pub struct RecordsView {
    pub record: Named,
    /// The labels of its fields, in order (the columns of a table).
    pub columns: Vec<Named>,
    /// One row per record, oldest first: the values as people write them ("" when unset).
    pub rows: Vec<Vec<String>>,
    /// `«Jumlah» Rp20.700.000` for each rupiah or integer field.
    pub totals: Vec<FieldLine>,
    /// What is left under each bound a rule puts on a total (`nilai_kontrak >=
    /// sum(pembayaran.jumlah)`: the contract value not paid yet), labelled with the bound.
    pub remaining: Vec<FieldLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentLine {
    pub document: Named,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    pub attached_at: Timestamp,
    pub attached_by: String,
    pub role: Named,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObligationLine {
    pub key: String,
    /// `stage_deadline` or `recurring`.
    pub kind: &'static str,
    /// What it is, in words.
    pub label: String,
    /// The document that meets a recurring obligation.
    pub document: Option<Named>,
    pub due_date: Date,
    /// `10 Desember 2024`.
    pub due: String,
    pub due_at: Timestamp,
    pub overdue: bool,
    pub provisional: bool,
}

/// What a transition still needs before it can fire.
#[derive(Debug, Clone, Serialize)]
pub struct Need {
    /// `document`, `field`, `condition` or `comment`.
    pub kind: &'static str,
    pub id: Option<String>,
    /// In words: "Kerangka Acuan Kerja (KAK) belum dilampirkan".
    pub text: String,
}

/// A transition out of the current stage.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    pub transition: Named,
    pub to: Named,
    /// The roles that may fire it (of those asked about).
    pub roles: Vec<Named>,
    pub needs: Vec<Need>,
    /// A comment (a reason) must be written when firing it.
    pub comment_required: bool,
    pub ready: bool,
    /// For a joint sign-off: each role whose approval is needed, with who gave it so far.
    pub approvals: Vec<ApprovalLine>,
    /// The asker has approved this joint sign-off in each of their roles it needs.
    pub signed: bool,
}

/// One role of a joint sign-off and, once given, who approved for it.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalLine {
    pub role: Named,
    pub approved_by: Option<String>,
}

/// A case as a person sees it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: String,
    pub business_key: String,
    pub organisation: String,
    pub workflow: Named,
    pub workflow_version: u32,
    pub stage: Named,
    pub phase: Option<Named>,
    pub revision: u64,
    pub closed: bool,
    /// The parties named on the case, in the workflow's order: each with its lead and, for a
    /// coalition, its other members (organisations still to accept are marked).
    pub parties: Vec<PartyLine>,
    pub fields: Vec<FieldLine>,
    /// The case's records by kind (every kind the workflow declares, empty ones too).
    pub records: Vec<RecordsView>,
    pub documents: Vec<DocumentLine>,
    pub obligations: Vec<ObligationLine>,
    pub actions: Vec<ActionView>,
    pub missing_documents: Vec<Named>,
    pub next_due_at: Option<Timestamp>,
}

/// For each rule `FIELD >= sum(RECORD.X)` over `record` with FIELD set: FIELD minus the sum
/// (the contract value still to be paid), as people write it.
fn remaining(labels: Labels<'_>, state: &CaseState, record: &str) -> Vec<FieldLine> {
    use swakelola_core::model::{Comparison, Operand};
    labels
        .workflow
        .rules
        .iter()
        .filter_map(|rule| {
            let condition = &rule.condition;
            let Some(sum @ Operand::Sum { record: kind, .. }) = &condition.value_of else {
                return None;
            };
            if kind != record || condition.op != Comparison::Ge {
                return None;
            }
            let bound = match state.fields.get(&condition.field)? {
                swakelola_core::FieldValue::Rupiah(n) | swakelola_core::FieldValue::Integer(n) => {
                    *n
                }
                _ => return None,
            };
            let total = match sum.resolve(&state.fields, &state.records)? {
                swakelola_core::FieldValue::Rupiah(n) | swakelola_core::FieldValue::Integer(n) => n,
                _ => return None,
            };
            let left = bound.saturating_sub(total);
            Some(FieldLine {
                field: labels.field(&condition.field),
                value: match state.fields.get(&condition.field)? {
                    swakelola_core::FieldValue::Rupiah(_) => format::rupiah(left),
                    _ => left.to_string(),
                },
            })
        })
        .collect()
}

/// The catalogue key naming a link seen from one end: `outgoing` from the case that follows
/// (replicates, relates to) the other.
pub fn link_message(link: swakelola_core::LinkKind, outgoing: bool) -> &'static str {
    use swakelola_core::LinkKind;
    match (link, outgoing) {
        (LinkKind::Follows, true) => "link-follows",
        (LinkKind::Follows, false) => "link-followed-by",
        (LinkKind::Replicates, true) => "link-replicates",
        (LinkKind::Replicates, false) => "link-replicated-by",
        (LinkKind::Related, _) => "link-related",
    }
}

/// One party of a case and the organisations that make it up.
#[derive(Debug, Clone, Serialize)]
pub struct PartyLine {
    pub party: Named,
    /// Lead first, then the other members, each with whether it has accepted yet.
    pub organisations: Vec<PartyMember>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartyMember {
    pub organisation: String,
    pub lead: bool,
    /// Named but not yet accepted by one of its staff: it sees nothing of the case yet.
    pub invited: bool,
}

impl CaseView {
    /// The view of `case` for someone acting in `roles` (every role when `None`), at `now`;
    /// its records listed from `entries` (`Store::records_of`; empty where a list of cases
    /// does not show them).
    pub fn build(
        labels: Labels<'_>,
        case: &CaseRecord,
        entries: &RecordEntries,
        roles: Option<&[&str]>,
        now: Timestamp,
    ) -> Self {
        let workflow = labels.workflow;
        let state = &case.state;
        let stage = workflow.stage(&state.stage);
        let phase = stage.and_then(|s| s.phase.as_deref()).map(|phase| {
            let label = workflow
                .phases
                .iter()
                .find(|p| p.id == phase)
                .map(|p| &p.label);
            labels.named(phase, label)
        });
        let fields = workflow
            .fields
            .iter()
            .filter_map(|f| {
                state.fields.get(&f.id).map(|value| FieldLine {
                    field: labels.field(&f.id),
                    value: labels.value(&f.id, value),
                })
            })
            .collect();
        let records = workflow
            .records
            .iter()
            .map(|kind| {
                let entries = entries.get(&kind.id).map_or(&[][..], Vec::as_slice);
                let path = |f: &str| format!("{}.{f}", kind.id);
                RecordsView {
                    record: labels.record(&kind.id),
                    columns: kind
                        .fields
                        .iter()
                        .map(|f| labels.named(&f.id, Some(&f.label)))
                        .collect(),
                    rows: entries
                        .iter()
                        .map(|entry| {
                            kind.fields
                                .iter()
                                .map(|f| {
                                    entry
                                        .fields
                                        .get(&f.id)
                                        .map(|v| labels.value(&path(&f.id), v))
                                        .unwrap_or_default()
                                })
                                .collect()
                        })
                        .collect(),
                    totals: kind
                        .fields
                        .iter()
                        // Amounts add up; a sum of instalment numbers would mean nothing.
                        .filter(|f| {
                            f.field_type == swakelola_core::FieldType::Rupiah
                                && state.records.get(&kind.id).is_some_and(|t| t.count > 0)
                        })
                        .filter_map(|f| {
                            let sum = swakelola_core::model::Operand::Sum {
                                record: kind.id.clone(),
                                field: f.id.clone(),
                                rupiah: f.field_type == swakelola_core::FieldType::Rupiah,
                            };
                            sum.resolve(&state.fields, &state.records)
                                .map(|v| FieldLine {
                                    field: labels.named(&f.id, Some(&f.label)),
                                    value: v.to_string(),
                                })
                        })
                        .collect(),
                    remaining: remaining(labels, state, &kind.id),
                }
            })
            .collect();
        let documents = state
            .documents
            .iter()
            .map(|d| DocumentLine {
                document: labels.document(&d.document_type),
                file_name: d.file_name.clone(),
                size: d.size,
                sha256: d.sha256.clone(),
                attached_at: d.attached_at,
                attached_by: d.attached_by.name.clone(),
                role: labels.role(&d.attached_by.role),
            })
            .collect();
        let mut obligations: Vec<ObligationLine> = state
            .obligations
            .values()
            .map(|o| obligation_line(labels, o, now))
            .collect();
        obligations.sort_by_key(|o| o.due_at);
        Self {
            id: case.id.clone(),
            business_key: case.business_key.clone(),
            organisation: case.organisation.clone(),
            workflow: labels.named(&workflow.id, Some(&workflow.label)),
            workflow_version: case.workflow_version,
            stage: labels.stage(&state.stage),
            phase,
            revision: state.revision,
            closed: state.is_closed(),
            parties: workflow
                .parties
                .iter()
                .filter(|p| case.parties.organisations.contains_key(&p.id))
                .map(|p| PartyLine {
                    party: labels.party(&p.id),
                    organisations: case
                        .parties
                        .organisations_of(&p.id)
                        .enumerate()
                        .map(|(n, o)| PartyMember {
                            organisation: o.to_owned(),
                            lead: n == 0,
                            invited: case.pending_organisations.iter().any(|p| p == o),
                        })
                        .collect(),
                })
                .collect(),
            fields,
            records,
            documents,
            obligations,
            actions: actions(labels, state, roles),
            missing_documents: missing_documents(workflow, state)
                .into_iter()
                .map(|d| labels.document(d))
                .collect(),
            next_due_at: state.next_due_at(),
        }
    }
}

fn obligation_line(labels: Labels<'_>, o: &Obligation, now: Timestamp) -> ObligationLine {
    ObligationLine {
        key: o.key.clone(),
        kind: match o.source {
            ObligationSource::StageDeadline { .. } => "stage_deadline",
            ObligationSource::Recurring { .. } => "recurring",
        },
        label: labels.obligation(&o.source),
        document: match &o.source {
            ObligationSource::Recurring { document, .. } => Some(labels.document(document)),
            ObligationSource::StageDeadline { .. } => None,
        },
        due_date: o.due_date,
        due: labels.date(o.due_date),
        due_at: o.due_at,
        overdue: o.overdue || o.due_at <= now,
        provisional: o.provisional,
    }
}

/// The transitions out of the current stage that `roles` (all when `None`) may fire.
fn actions(labels: Labels<'_>, state: &CaseState, roles: Option<&[&str]>) -> Vec<ActionView> {
    let workflow = labels.workflow;
    workflow
        .transitions_from(&state.stage)
        .filter_map(|t| {
            let allowed: Vec<Named> = t
                .roles
                .iter()
                .filter(|r| roles.is_none_or(|mine| mine.contains(&r.as_str())))
                .map(|r| labels.role(r))
                .collect();
            if allowed.is_empty() {
                return None;
            }
            let needs: Vec<Need> = guard_failures(workflow, state, t, Some("-"))
                .into_iter()
                .map(|failure| need(labels, failure))
                .collect();
            let given = state.approvals.get(&t.id);
            // A joint sign-off the asker has signed in every role of theirs it needs: nothing
            // left for them to do but wait (or decline). One who signs for a member
            // organisation (a role of the party whose members each sign) is never counted as
            // done here: which organisation they act for is not known to the view.
            let mine = |r: &&String| roles.is_none_or(|mine| mine.contains(&r.as_str()));
            let my_signatures: Vec<&String> = t.requires_all.iter().filter(mine).collect();
            let signs_for_a_member = t.requires_each_member_of.as_deref().is_some_and(|party| {
                t.roles.iter().filter(mine).any(|r| {
                    !t.requires_all.contains(r)
                        && workflow.role(r).and_then(|r| r.party.as_deref()) == Some(party)
                })
            });
            let signed = !my_signatures.is_empty()
                && !signs_for_a_member
                && my_signatures
                    .iter()
                    .all(|r| given.is_some_and(|g| g.contains_key(*r)));
            // Every signer: the roles, then each member organisation when all of a party's
            // members sign.
            let approvals = swakelola_core::step::signers(state, t)
                .iter()
                .map(|signer| ApprovalLine {
                    role: Named {
                        id: signer.clone(),
                        label: labels.signer(signer),
                    },
                    approved_by: given.and_then(|g| g.get(signer)).map(|a| a.actor.clone()),
                })
                .collect();
            Some(ActionView {
                transition: labels.transition(&t.id),
                to: labels.stage(&t.to),
                roles: allowed,
                ready: needs.is_empty() && !signed,
                needs,
                comment_required: t.guard.comment,
                approvals,
                signed,
            })
        })
        .collect()
}

fn need(labels: Labels<'_>, failure: GuardFailure) -> Need {
    let text = refusal::guard_failure(refusal::Names::new(labels.language, Some(labels)), &failure);
    let (kind, id) = match failure {
        GuardFailure::MissingDocument { id, .. } => ("document", Some(id)),
        GuardFailure::MissingField { id, .. } => ("field", Some(id)),
        GuardFailure::Condition { .. } => ("condition", None),
        GuardFailure::CommentRequired => ("comment", None),
    };
    Need { kind, id, text }
}

/// One line of a case's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryLine {
    pub revision: u64,
    pub at: Timestamp,
    pub actor: String,
    pub role: Named,
    /// `opened`, `transitioned`, `document_attached`, `field_set`, `timer_fired`,
    /// `deadlines_moved`.
    pub kind: &'static str,
    /// What happened, in words, with labels.
    pub text: String,
}

impl HistoryLine {
    pub fn build(labels: Labels<'_>, stored: &StoredEvent) -> Self {
        let event = &stored.event;
        let (kind, text) = describe(labels, &event.kind);
        Self {
            revision: event.revision,
            at: event.at,
            actor: event.actor.name.clone(),
            role: labels.role(&event.actor.role),
            kind,
            text,
        }
    }
}

/// `«PPK», «Pimpinan Ormas»`.
fn quoted_roles(labels: Labels<'_>, roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| format!("«{}»", labels.signer(r)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(labels: Labels<'_>, kind: &EventKind) -> (&'static str, String) {
    let l = labels;
    match kind {
        EventKind::Opened { stage, .. } => (
            "opened",
            format!("{} «{}»", l.msg("history-opened"), l.stage(stage).label),
        ),
        EventKind::Approved {
            transition,
            comment,
            outstanding,
        } => {
            let mut text = format!(
                "{} «{}»; {} {}",
                l.msg("history-approved"),
                l.transition(transition).label,
                l.msg("history-still-waiting"),
                quoted_roles(l, outstanding)
            );
            if let Some(comment) = comment {
                text.push_str(&format!(" — “{comment}”"));
            }
            ("approved", text)
        }
        EventKind::Declined {
            transition,
            comment,
            cleared,
        } => {
            let mut text = format!(
                "{} «{}» — “{comment}”",
                l.msg("history-declined"),
                l.transition(transition).label
            );
            if !cleared.is_empty() {
                text.push_str(&format!(
                    "; {} {}",
                    l.msg("history-approvals-cleared"),
                    quoted_roles(l, cleared)
                ));
            }
            ("declined", text)
        }
        EventKind::Transitioned {
            transition,
            to,
            comment,
            approved_by,
            ..
        } => {
            let mut text = format!(
                "«{}» → «{}»",
                l.transition(transition).label,
                l.stage(to).label
            );
            if !approved_by.is_empty() {
                text.push_str(&format!(
                    " ({} {})",
                    l.msg("history-approved-by-all"),
                    quoted_roles(l, approved_by)
                ));
            }
            if let Some(comment) = comment {
                text.push_str(&format!(" — “{comment}”"));
            }
            ("transitioned", text)
        }
        EventKind::DocumentAttached { document, .. } => (
            "document_attached",
            format!(
                "{} «{}»: {}",
                l.msg("history-attached"),
                l.document(&document.document_type).label,
                document.file_name
            ),
        ),
        EventKind::FieldSet { field, value, .. } => (
            "field_set",
            format!("«{}» = {}", l.field(field).label, l.value(field, value)),
        ),
        EventKind::RecordAdded {
            record,
            number,
            fields,
        } => {
            // In the order the workflow declares the record's fields.
            let order = |field: &str| {
                l.workflow
                    .record(record)
                    .and_then(|kind| kind.fields.iter().position(|f| f.id == field))
                    .unwrap_or(usize::MAX)
            };
            let mut ordered: Vec<_> = fields.iter().collect();
            ordered.sort_by_key(|(field, _)| order(field));
            let values: Vec<String> = ordered
                .into_iter()
                .map(|(field, value)| {
                    let path = format!("{record}.{field}");
                    let name = l
                        .field_def(&path)
                        .map_or_else(|| field.clone(), |def| l.text(&def.label));
                    format!("«{name}» = {}", l.value(&path, value))
                })
                .collect();
            (
                "record_added",
                format!(
                    "{} «{}» {}: {}",
                    l.msg("history-record-added"),
                    l.record(record).label,
                    catalogue::message(l.language, "record-number", &[("n", &number.to_string())]),
                    values.join(", ")
                ),
            )
        }
        EventKind::TimerFired { effect, .. } => {
            let about =
                |what: &str, obligation: &str| format!("{what}: {}", l.obligation_key(obligation));
            let text = match effect {
                TimerEffect::Reminded { obligation } => {
                    about(&l.msg("history-reminded"), obligation)
                }
                TimerEffect::BecameOverdue { obligation } => {
                    about(&l.msg("history-overdue"), obligation)
                }
                TimerEffect::Expired {
                    obligation,
                    transition,
                    to,
                    ..
                } => format!(
                    "{}; {} «{}» → «{}»",
                    about(&l.msg("history-overdue"), obligation),
                    l.msg("history-automatically"),
                    l.transition(transition).label,
                    l.stage(to).label
                ),
                TimerEffect::Escalated { obligation } => {
                    about(&l.msg("history-escalated"), obligation)
                }
                TimerEffect::PeriodOpened { obligation } => {
                    about(&l.msg("period-opened"), obligation)
                }
            };
            ("timer_fired", text)
        }
        EventKind::Linked {
            link, business_key, ..
        } => (
            "linked",
            format!("{}: {business_key}", l.msg(link_message(*link, true))),
        ),
        EventKind::MemberAdded {
            party,
            organisation,
        } => (
            "member_added",
            format!(
                "{} «{}»: {organisation}",
                l.msg("history-member-added"),
                l.party(party).label
            ),
        ),
        EventKind::MemberWithdrawn {
            party,
            organisation,
            reason,
        } => (
            "member_withdrawn",
            format!(
                "{} «{}»: {organisation} — “{reason}”",
                l.msg("history-member-withdrawn"),
                l.party(party).label
            ),
        ),
        EventKind::ContactsChanged { role, contacts } => {
            let people: Vec<String> = contacts
                .iter()
                .map(|c| {
                    if c.name.is_empty() {
                        c.address.clone()
                    } else {
                        format!("{} <{}>", c.name, c.address)
                    }
                })
                .collect();
            (
                "contacts_changed",
                format!(
                    "{} «{}»: {}",
                    l.msg("history-contacts-changed"),
                    l.role(role).label,
                    if people.is_empty() {
                        l.msg("history-no-contacts")
                    } else {
                        people.join(", ")
                    }
                ),
            )
        }
        EventKind::DeadlinesMoved {
            moved, confirmed, ..
        } => {
            let mut parts: Vec<String> = moved
                .iter()
                .map(|m| {
                    format!(
                        "{} {} → {}",
                        l.obligation_key(&m.obligation),
                        l.date(m.from),
                        l.date(m.to)
                    )
                })
                .collect();
            parts.extend(
                confirmed
                    .iter()
                    .map(|key| format!("{} {}", l.obligation_key(key), l.msg("history-confirmed"))),
            );
            (
                "deadlines_moved",
                format!("{}: {}", l.msg("history-deadlines-moved"), parts.join("; ")),
            )
        }
        EventKind::Migrated {
            plan,
            from_version,
            to_version,
            from_stage,
            to_stage,
            moved,
            defaulted,
            dropped,
        } => {
            let mut parts = vec![catalogue::message(
                l.language,
                "history-migrated",
                &[
                    ("from", &from_version.to_string()),
                    ("to", &to_version.to_string()),
                    ("plan", plan),
                ],
            )];
            if from_stage != to_stage {
                parts.push(format!(
                    "«{}» → «{}»",
                    l.stage(from_stage).label,
                    l.stage(to_stage).label
                ));
            }
            parts.extend(moved.iter().map(|m| {
                format!(
                    "{} {} → {}",
                    l.obligation_key(&m.obligation),
                    l.date(m.from),
                    l.date(m.to)
                )
            }));
            parts.extend(defaulted.iter().map(|(field, value)| {
                format!("«{}» = {}", l.field(field).label, l.value(field, value))
            }));
            if !dropped.is_empty() {
                let values: Vec<String> = dropped
                    .iter()
                    .map(|(field, value)| format!("{field} = {}", l.value(field, value)))
                    .collect();
                parts.push(format!(
                    "{}: {}",
                    l.msg("history-migrated-dropped"),
                    values.join(", ")
                ));
            }
            ("migrated", parts.join("; "))
        }
    }
}

/// Something that falls due: a reminder, a deadline, an escalation or a new period.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaEntry {
    pub at: Timestamp,
    /// Already due: waits for a runner.
    pub due_now: bool,
    pub case_id: String,
    pub business_key: String,
    pub stage: Named,
    /// `reminder`, `due`, `escalation`, `period_start`.
    pub kind: &'static str,
    /// In words: "pengingat", "tenggat", "eskalasi", "periode laporan baru".
    pub what: String,
    pub obligation: Option<String>,
    pub due_date: Option<Date>,
    pub due: Option<String>,
    pub provisional: bool,
    /// Who hears of it.
    pub recipients: Vec<Named>,
}

impl AgendaEntry {
    /// The entry for the pending timer `key` of `case`, or `None` when the case no longer
    /// has it.
    pub fn build(labels: Labels<'_>, case: &CaseRecord, key: &str, now: Timestamp) -> Option<Self> {
        let state = &case.state;
        let timer = state.timers.get(key)?;
        let workflow = labels.workflow;
        let stage = workflow.stage(&state.stage);
        let obligation = match &timer.kind {
            TimerKind::Reminder { obligation, .. }
            | TimerKind::Due { obligation }
            | TimerKind::Escalation { obligation, .. } => state.obligations.get(obligation),
            TimerKind::PeriodStart { .. } => None,
        };
        let follow_up = obligation.and_then(|o| match &o.source {
            ObligationSource::StageDeadline { .. } => stage
                .and_then(|s| s.deadline.as_ref())
                .map(|d| &d.follow_up),
            ObligationSource::Recurring { rule, .. } => stage
                .and_then(|s| s.recurring.iter().find(|r| &r.id == rule))
                .map(|r| &r.follow_up),
        });
        let to: Vec<String> = match (&timer.kind, follow_up) {
            (TimerKind::Reminder { reminder, .. }, Some(f)) => {
                let to = &f.reminders[*reminder].to;
                if to.is_empty() {
                    f.responsible.clone()
                } else {
                    to.clone()
                }
            }
            (TimerKind::Escalation { escalation, .. }, Some(f)) => {
                f.escalations[*escalation].to.clone()
            }
            (TimerKind::Due { .. }, Some(f)) => f.responsible.clone(),
            _ => Vec::new(),
        };
        let what = match &timer.kind {
            TimerKind::Reminder { .. } => labels.msg("agenda-reminder"),
            TimerKind::Due { .. } => labels.msg("agenda-due"),
            TimerKind::Escalation { .. } => labels.msg("agenda-escalation"),
            TimerKind::PeriodStart { .. } => labels.msg("period-opened"),
        };
        Some(Self {
            at: timer.due_at,
            due_now: timer.due_at <= now,
            case_id: case.id.clone(),
            business_key: case.business_key.clone(),
            stage: labels.stage(&state.stage),
            kind: timer.kind.name(),
            what: what.to_owned(),
            obligation: obligation.map(|o| labels.obligation(&o.source)),
            due_date: obligation.map(|o| o.due_date),
            due: obligation.map(|o| labels.date(o.due_date)),
            provisional: obligation.is_some_and(|o| o.provisional),
            recipients: to.iter().map(|r| labels.role(r)).collect(),
        })
    }
}

/// A case's nearest deadline, as lists show it: "tenggat 8 Januari 2025 (3 hari kerja lagi)".
#[derive(Debug, Clone, Serialize)]
pub struct NextDeadline {
    pub text: String,
    /// Working days until it (negative when late).
    pub working_days_left: i64,
    pub overdue: bool,
}

/// A deadline this many working days away or fewer is "soon" (*Tugas saya* counts it apart).
pub const SOON_WORKING_DAYS: u32 = 3;

/// The instant before which a deadline counts as soon on `calendar`: the end of the
/// [`SOON_WORKING_DAYS`]th working day from today (a deadline's instant is the end of its day).
pub fn soon_until(calendar: &swakelola_core::Calendar, now: Timestamp) -> Option<Timestamp> {
    let today = calendar.date_of(now);
    calendar.end_of_day(calendar.add_working_days(today, SOON_WORKING_DAYS)?)
}

impl NextDeadline {
    /// Whether it is late, soon (within [`SOON_WORKING_DAYS`]) or later.
    pub fn is_soon(&self) -> bool {
        !self.overdue && self.working_days_left <= i64::from(SOON_WORKING_DAYS)
    }

    pub fn of(
        labels: Labels<'_>,
        case: &CaseRecord,
        calendar: &swakelola_core::Calendar,
        now: Timestamp,
    ) -> Option<Self> {
        let language = labels.language;
        let obligation = case.state.obligations.values().min_by_key(|o| o.due_at)?;
        let today = calendar.date_of(now);
        let left = calendar.working_days_between(today, obligation.due_date);
        let overdue = obligation.due_at <= now;
        let mut when = if overdue {
            let days = (-left.min(0)).to_string();
            catalogue::message(language, "working-days-overdue", &[("days", days.as_str())])
        } else if left == 0 {
            catalogue::message(language, "due-today", &[])
        } else {
            let days = left.to_string();
            catalogue::message(language, "working-days-left", &[("days", days.as_str())])
        };
        if obligation.provisional {
            when = format!("{when}; {}", labels.provisional_note());
        }
        let date = format::date(obligation.due_date, language);
        Some(NextDeadline {
            text: catalogue::message(
                language,
                "deadline-in",
                &[("date", date.as_str()), ("when", when.as_str())],
            ),
            working_days_left: if overdue { left.min(-1) } else { left },
            overdue,
        })
    }
}

/// What people call a calendar's time zone: `WIB`, `WITA`, `WIT`, else its IANA name.
pub fn zone_name(calendar: &swakelola_core::Calendar) -> String {
    match calendar.time_zone().iana_name() {
        Some("Asia/Jakarta" | "Asia/Pontianak") => "WIB".into(),
        Some("Asia/Makassar") => "WITA".into(),
        Some("Asia/Jayapura") => "WIT".into(),
        Some(other) => other.into(),
        None => "UTC".into(),
    }
}

/// An instant as people of the calendar's region write it: `10 Desember 2024 10.00 WIB`.
pub fn local_time(
    instant: Timestamp,
    calendar: &swakelola_core::Calendar,
    language: Language,
) -> String {
    let local = calendar.time_zone().to_datetime(instant);
    format!(
        "{} {:02}.{:02} {}",
        format::date(local.date(), language),
        local.hour(),
        local.minute(),
        zone_name(calendar)
    )
}

/// A partnership over the years, as people compare it: each year's case with its stage and its
/// amounts (every rupiah field of the workflow that any of the cases has set), the change of
/// each amount from the year before, and the replications elsewhere.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesView {
    pub years: Vec<SeriesRow>,
    pub replications: Vec<SeriesRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesRow {
    pub id: String,
    pub business_key: String,
    pub organisation: String,
    pub fiscal_year: Option<i16>,
    pub stage: Named,
    pub closed: bool,
    pub amounts: Vec<SeriesAmount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesAmount {
    pub field: Named,
    /// Whole rupiah, when set.
    pub value: Option<i64>,
    /// As people write it (`Rp34.500.000`), or `—` when not set.
    pub text: String,
    /// Change from the year before, in percent, when both years have the amount.
    pub growth_percent: Option<f64>,
    /// The change as people write it (`+44,9 %`).
    pub growth: Option<String>,
}

impl SeriesView {
    /// `labels_of` gives the labels of each case's own workflow version (a series may span
    /// versions); the amounts shown are the rupiah fields of the first year's workflow.
    pub fn build<'w>(
        series: &swakelola_store::Series,
        labels_of: impl Fn(&CaseRecord) -> Option<Labels<'w>>,
    ) -> Self {
        let amount_fields: Vec<String> = series
            .chain
            .first()
            .and_then(&labels_of)
            .map(|labels| {
                labels
                    .workflow
                    .fields
                    .iter()
                    .filter(|f| f.field_type == swakelola_core::FieldType::Rupiah)
                    .filter(|f| {
                        series
                            .chain
                            .iter()
                            .chain(&series.replications)
                            .any(|c| c.state.fields.contains_key(&f.id))
                    })
                    .map(|f| f.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let row = |case: &CaseRecord, before: Option<&CaseRecord>| {
            let labels = labels_of(case);
            let named = |id: &str, f: &dyn Fn(&Labels<'w>) -> Named| {
                labels.as_ref().map_or_else(
                    || Named {
                        id: id.to_owned(),
                        label: id.to_owned(),
                    },
                    f,
                )
            };
            let rupiah = |c: &CaseRecord, field: &str| match c.state.fields.get(field) {
                Some(swakelola_core::FieldValue::Rupiah(n)) => Some(*n),
                _ => None,
            };
            let language = labels.as_ref().map_or(Language::Id, |l| l.language);
            SeriesRow {
                id: case.id.clone(),
                business_key: case.business_key.clone(),
                organisation: case.organisation.clone(),
                fiscal_year: case.state.fields.values().find_map(|v| match v {
                    swakelola_core::FieldValue::FiscalYear(year) => Some(*year),
                    _ => None,
                }),
                stage: named(&case.state.stage, &|l| l.stage(&case.state.stage)),
                closed: case.state.is_closed(),
                amounts: amount_fields
                    .iter()
                    .map(|field| {
                        let value = rupiah(case, field);
                        let growth_percent = match (before.and_then(|b| rupiah(b, field)), value) {
                            (Some(earlier), Some(now)) if earlier > 0 => {
                                Some((now - earlier) as f64 * 100.0 / earlier as f64)
                            }
                            _ => None,
                        };
                        SeriesAmount {
                            field: named(field, &|l| l.field(field)),
                            value,
                            text: value.map_or_else(|| "—".to_owned(), format::rupiah),
                            growth_percent,
                            growth: growth_percent.map(|p| percent(p, language)),
                        }
                    })
                    .collect(),
            }
        };
        SeriesView {
            years: series
                .chain
                .iter()
                .enumerate()
                .map(|(n, case)| row(case, n.checked_sub(1).map(|p| &series.chain[p])))
                .collect(),
            replications: series.replications.iter().map(|c| row(c, None)).collect(),
        }
    }
}

/// A signed change in percent as people write it: `+44,9 %` in Indonesian, `+44.9%` in
/// English.
pub fn percent(value: f64, language: Language) -> String {
    let text = format!("{value:+.1}");
    match language {
        Language::Id => format!("{} %", text.replace('.', ",")),
        Language::En => format!("{text}%"),
    }
}

/// A link of a case to another, as `case show` and the case page list it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkLine {
    /// `Lanjutan dari`, `Dilanjutkan oleh`, …
    pub relation: String,
    pub link: swakelola_core::LinkKind,
    pub outgoing: bool,
    pub case_id: String,
    pub business_key: String,
    pub organisation: String,
    pub stage: Named,
}

impl LinkLine {
    /// `other_labels` are those of the other case's workflow, when known.
    pub fn build(
        language: Language,
        link: &swakelola_store::CaseLink,
        other_labels: Option<Labels<'_>>,
    ) -> Self {
        let stage = &link.case.state.stage;
        LinkLine {
            relation: catalogue::message(language, link_message(link.link, link.outgoing), &[]),
            link: link.link,
            outgoing: link.outgoing,
            case_id: link.case.id.clone(),
            business_key: link.case.business_key.clone(),
            organisation: link.case.organisation.clone(),
            stage: other_labels.map_or_else(
                || Named {
                    id: stage.clone(),
                    label: stage.clone(),
                },
                |l| l.stage(stage),
            ),
        }
    }
}
