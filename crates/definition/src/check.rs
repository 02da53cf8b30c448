//! Semantic checks of a parsed workflow, and its conversion into the core model.
//!
//! The checker reports every problem it finds, not the first: an administrator fixes a
//! file in one round. A [`Workflow`] is handed out only when there is no error.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use jiff::civil::{Date, Time};
use serde_saphyr::Location;
use swakelola_core::Duration;
use swakelola_core::format::Language;
use swakelola_core::model::{
    Anchor, Comparison, Condition, Deadline, DocumentType, Due, Escalation, FieldDef, FollowUp,
    Guard, Label, MessageTemplate, Operand, Party, Period, Phase, RecordType, Recurring, Reminder,
    ReminderWhen, Role, Rule, SYSTEM_ROLE, Stage, Transition, Workflow,
};
use swakelola_core::state::NotificationKind;
use swakelola_core::value::FieldType;

use crate::diagnostic::{Code, Diagnostic};
use crate::raw::{self, S};

/// Default time of day for reminders and escalations.
pub const DEFAULT_NOTIFY_AT: Time = Time::constant(8, 0, 0, 0);
/// Calendar used when a workflow names none.
pub const DEFAULT_CALENDAR: &str = "indonesia";
const MAX_ID_CHARS: usize = 64;

/// Checks a parsed workflow. `calendars` are the ids of the calendars that are loaded.
pub fn check_workflow(
    file: &str,
    raw: &raw::Workflow,
    calendars: &BTreeSet<String>,
) -> (Option<Workflow>, Vec<Diagnostic>) {
    let mut checker = Checker {
        file,
        diagnostics: Vec::new(),
    };
    let workflow = checker.workflow(raw, calendars);
    let has_errors = checker.diagnostics.iter().any(Diagnostic::is_error);
    let mut diagnostics = checker.diagnostics;
    diagnostics.sort_by_key(|d| (d.line, d.column, d.code));
    (workflow.filter(|_| !has_errors), diagnostics)
}

struct Checker<'f> {
    file: &'f str,
    diagnostics: Vec<Diagnostic>,
}

/// The ids declared in a workflow, with where each was first declared.
#[derive(Default)]
struct Names {
    parties: BTreeMap<String, Location>,
    phases: BTreeMap<String, Location>,
    roles: BTreeMap<String, Location>,
    /// The party of each role that has one.
    role_parties: BTreeMap<String, String>,
    documents: BTreeMap<String, Location>,
    fields: BTreeMap<String, FieldType>,
    /// Fields whose type is unknown (E035): their values are not checked again.
    untyped_fields: BTreeSet<String>,
    /// Kinds of record with the types of their fields.
    records: BTreeMap<String, BTreeMap<String, FieldType>>,
    stages: BTreeMap<String, Location>,
    transitions: BTreeMap<String, Location>,
}

fn values<T: Clone>(items: &[S<T>]) -> Vec<T> {
    items.iter().map(|s| s.value.clone()).collect()
}

impl Checker<'_> {
    /// The label of the object `id`; a missing one is reported (E006) and the id stands in.
    fn label(&mut self, id: &S<String>, label: Option<&str>, en: Option<&String>) -> Label {
        let text = match label {
            Some(text) => text.to_owned(),
            None => {
                self.report(
                    id.referenced,
                    Code::E006,
                    format!("`{}` has no `label`, which is required", id.value),
                    format!(
                        "add `label: …` (what people read; `label_en:` for English) under `id: {}`",
                        id.value
                    ),
                );
                id.value.clone()
            }
        };
        Label {
            id: text,
            en: en.cloned(),
        }
    }

    fn report(
        &mut self,
        at: Location,
        code: Code,
        message: String,
        hint: impl Into<Option<String>>,
    ) {
        self.diagnostics.push(Diagnostic {
            severity: code.severity(),
            code,
            file: self.file.to_owned(),
            line: at.line(),
            column: at.column(),
            message,
            hint: hint.into(),
        });
    }

    /// Checks id syntax and uniqueness, recording the id in `seen`.
    fn declare(&mut self, kind: &str, id: &S<String>, seen: &mut BTreeMap<String, Location>) {
        let value = &id.value;
        let well_formed = value.len() <= MAX_ID_CHARS
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !well_formed {
            self.report(
                id.referenced,
                Code::E007,
                format!("{kind} id `{value}` is not a lower-case identifier"),
                format!(
                    "use lower-case letters, digits, `_` or `-`, starting with a letter, at most {MAX_ID_CHARS} characters (e.g. `kak_review`)"
                ),
            );
        }
        if let Some(first) = seen.get(value) {
            let line = first.line();
            self.report(
                id.referenced,
                Code::E010,
                format!("{kind} `{value}` is defined twice"),
                format!("the first definition is on line {line}; rename or remove one of them"),
            );
        } else {
            seen.insert(value.clone(), id.referenced);
        }
    }

    fn reference(
        &mut self,
        reference: &S<String>,
        known: &BTreeMap<String, impl Sized>,
        kind: &str,
        code: Code,
    ) -> bool {
        if known.contains_key(&reference.value) {
            return true;
        }
        let known_list: Vec<&str> = known.keys().map(String::as_str).collect();
        let hint = match closest(&reference.value, &known_list) {
            Some(guess) => format!("did you mean `{guess}`?"),
            None if known_list.is_empty() => match kind {
                "party" => "no party is defined yet; declare them at the top of the workflow:\n      parties:\n        - id: instansi\n          label: Instansi pemerintah\n        - id: ormas\n          label: Ormas pelaksana".to_owned(),
                "phase" => "no phase is defined yet; declare them at the top of the workflow:\n      phases:\n        - id: persiapan\n          label: Persiapan".to_owned(),
                _ => format!("no {kind} is defined yet"),
            },
            None => format!("known {kind}s: {}", known_list.join(", ")),
        };
        self.report(
            reference.referenced,
            code,
            format!("unknown {kind} `{}`", reference.value),
            hint,
        );
        false
    }

    fn roles(&mut self, names: &Names, roles: &[S<String>]) -> Vec<String> {
        for role in roles {
            self.reference(role, &names.roles, "role", Code::E012);
        }
        values(roles)
    }

    fn duration(&mut self, text: &S<String>) -> Option<Duration> {
        match text.value.parse::<Duration>() {
            Ok(duration) => Some(duration),
            Err(error) => {
                self.report(
                    text.referenced,
                    Code::E030,
                    error.to_string(),
                    "write a whole number and a unit: `10 working days`, `3 days`, `2 weeks`, `1 month` (or `10 hari kerja`, `3 hari`, `2 minggu`, `1 bulan`)".to_owned(),
                );
                None
            }
        }
    }

    fn workflow(&mut self, raw: &raw::Workflow, calendars: &BTreeSet<String>) -> Option<Workflow> {
        let mut names = Names::default();
        let mut workflow_ids = BTreeMap::new();
        self.declare("workflow", &raw.id, &mut workflow_ids);
        for party in &raw.parties {
            self.declare("party", &party.id, &mut names.parties);
        }
        let phases = raw
            .phases
            .iter()
            .map(|p| {
                self.declare("phase", &p.id, &mut names.phases);
                Phase {
                    id: p.id.value.clone(),
                    label: self.label(&p.id, p.label.as_deref(), p.label_en.as_ref()),
                }
            })
            .collect();
        for role in &raw.roles.value {
            self.declare("role", &role.id, &mut names.roles);
            if let Some(party) = &role.party {
                names
                    .role_parties
                    .insert(role.id.value.clone(), party.value.clone());
            }
            if role.id.value == SYSTEM_ROLE {
                self.report(
                    role.id.referenced,
                    Code::E044,
                    format!("the role id `{SYSTEM_ROLE}` is reserved for the runner"),
                    "choose another id, e.g. `sekretariat`".to_owned(),
                );
            }
        }
        if raw.roles.value.is_empty() {
            self.report(
                raw.roles.referenced,
                Code::E046,
                "the workflow defines no roles, so nobody could act on a case".into(),
                "declare at least one role".to_owned(),
            );
        }
        // Parties after the roles are declared: `members_by` names roles.
        let parties = raw
            .parties
            .iter()
            .map(|p| Party {
                id: p.id.value.clone(),
                label: self.label(&p.id, p.label.as_deref(), p.label_en.as_ref()),
                members_by: self.roles(&names, &p.members_by),
            })
            .collect();
        let roles: Vec<Role> = raw
            .roles
            .value
            .iter()
            .map(|r| {
                if let Some(party) = &r.party {
                    self.reference(party, &names.parties, "party", Code::E016);
                }
                let lead_only = r.lead_only.as_ref().is_some_and(|l| l.value);
                if let Some(flag) = &r.lead_only
                    && flag.value
                    && r.party.is_none()
                {
                    self.report(
                        flag.referenced,
                        Code::E049,
                        format!(
                            "role `{}` is restricted to a coalition's lead, but belongs to no party",
                            r.id.value
                        ),
                        "name the party whose lead holds it (`party: ormas`), or drop `lead_only`"
                            .to_owned(),
                    );
                }
                Role {
                    id: r.id.value.clone(),
                    label: self.label(&r.id, r.label.as_deref(), r.label_en.as_ref()),
                    party: r.party.as_ref().map(|p| p.value.clone()),
                    lead_only,
                }
            })
            .collect();
        for document in &raw.documents {
            self.declare("document type", &document.id, &mut names.documents);
        }
        let documents: Vec<DocumentType> = raw
            .documents
            .iter()
            .map(|d| DocumentType {
                id: d.id.value.clone(),
                label: self.label(&d.id, d.label.as_deref(), d.label_en.as_ref()),
                attach_by: self.roles(&names, &d.attach_by),
            })
            .collect();
        let fields = self.fields(raw, &mut names);
        let records = self.records(raw, &mut names);
        let fiscal_year_field = raw.fiscal_year_field.as_ref().map(|f| {
            if self.reference(f, &names.fields, "field", Code::E014)
                && names.fields[&f.value] != FieldType::FiscalYear
            {
                self.report(
                    f.referenced,
                    Code::E041,
                    format!(
                        "fiscal_year_field `{}` is not of type `fiscal_year`",
                        f.value
                    ),
                    "point it at a field declared with `type: fiscal_year`".to_owned(),
                );
            }
            f.value.clone()
        });
        let notify_at = match &raw.notify_at {
            None => DEFAULT_NOTIFY_AT,
            Some(text) => match parse_time(&text.value) {
                Some(time) => time,
                None => {
                    self.report(
                        text.referenced,
                        Code::E033,
                        format!("`{}` is not a time of day", text.value),
                        "write it as HH:MM on a 24-hour clock, e.g. `08:00`".to_owned(),
                    );
                    DEFAULT_NOTIFY_AT
                }
            },
        };
        let calendar = match &raw.calendar {
            None => DEFAULT_CALENDAR.to_owned(),
            Some(name) => name.value.clone(),
        };
        if !calendars.contains(&calendar) {
            let at = raw
                .calendar
                .as_ref()
                .map_or(raw.id.referenced, |c| c.referenced);
            let loaded: Vec<&str> = calendars.iter().map(String::as_str).collect();
            self.report(
                at,
                Code::E017,
                format!("calendar `{calendar}` is not loaded"),
                if loaded.is_empty() {
                    "put its files (e.g. calendars/indonesia-2025.yaml) in a `calendars/` folder next to the workflow".to_owned()
                } else {
                    format!("loaded calendars: {}", loaded.join(", "))
                },
            );
        }
        let open_by = self.roles(&names, &raw.open_by);
        let language = self.language(raw.language.as_ref());
        let messages = self.messages(&raw.messages);
        for stage in &raw.stages.value {
            self.declare("stage", &stage.id, &mut names.stages);
        }
        for transition in &raw.transitions {
            self.declare("transition", &transition.id, &mut names.transitions);
        }
        let transitions: Vec<Transition> = raw
            .transitions
            .iter()
            .map(|t| self.transition(t, &names))
            .collect();
        let stages: Vec<Stage> = raw
            .stages
            .value
            .iter()
            .map(|s| self.stage(s, raw, &names, &transitions))
            .collect();
        let rules = self.rules(raw, &names);
        let stage_references_ok = !self.diagnostics.iter().any(|d| d.code == Code::E011);
        self.structure(raw, &stages, &transitions, stage_references_ok);
        let workflow = Workflow {
            id: raw.id.value.clone(),
            label: self.label(&raw.id, raw.label.as_deref(), raw.label_en.as_ref()),
            description: raw
                .description
                .as_ref()
                .map(|d| text_label(d, raw.description_en.as_ref())),
            calendar,
            notify_at,
            fiscal_year_field,
            open_by,
            parties,
            phases,
            roles,
            documents,
            fields,
            stages,
            transitions,
            language,
            messages,
            rules,
            records,
        };
        self.expiry_loops(raw, &workflow);
        self.warnings(raw, &workflow);
        Some(workflow)
    }

    fn fields(&mut self, raw: &raw::Workflow, names: &mut Names) -> Vec<FieldDef> {
        let (mut types, mut untyped) = (BTreeMap::new(), BTreeSet::new());
        let mut fields = self.field_defs(&raw.fields, &mut types, &mut untyped);
        names.fields = types;
        names.untyped_fields = untyped;

        // Roles are checked here so that the field list above is complete first.
        for (def, field) in fields.iter_mut().zip(&raw.fields) {
            def.set_by = self.roles(names, &field.set_by);
        }
        fields
    }

    /// Field definitions (of the case, or of a kind of record), their types into `types`.
    fn field_defs(
        &mut self,
        raw_fields: &[raw::Field],
        types: &mut BTreeMap<String, FieldType>,
        untyped: &mut BTreeSet<String>,
    ) -> Vec<FieldDef> {
        let mut seen = BTreeMap::new();
        let mut fields = Vec::new();
        for field in raw_fields {
            self.declare("field", &field.id, &mut seen);
            let field_type = match (field.field_type.value.as_str(), &field.values) {
                ("enum", Some(values)) if !values.value.is_empty() => {
                    FieldType::Enum(values.value.clone())
                }
                ("enum", _) => {
                    self.report(
                        field.field_type.referenced,
                        Code::E035,
                        format!("enum field `{}` lists no values", field.id.value),
                        "add `values: [first, second]`".to_owned(),
                    );
                    FieldType::Enum(Vec::new())
                }
                (name, values) => {
                    let field_type = match name {
                        "text" => Some(FieldType::Text),
                        "integer" => Some(FieldType::Integer),
                        "date" => Some(FieldType::Date),
                        "rupiah" => Some(FieldType::Rupiah),
                        "fiscal_year" => Some(FieldType::FiscalYear),
                        _ => None,
                    };
                    if field_type.is_none() {
                        untyped.insert(field.id.value.clone());
                        self.report(
                            field.field_type.referenced,
                            Code::E035,
                            format!("unknown field type `{name}`"),
                            "use one of: text, integer, date, rupiah, fiscal_year, enum".to_owned(),
                        );
                    }
                    if let Some(values) = values {
                        self.report(
                            values.referenced,
                            Code::E035,
                            format!(
                                "`values` only applies to enum fields, and `{}` is `{name}`",
                                field.id.value
                            ),
                            "remove `values`, or make the field `type: enum`".to_owned(),
                        );
                    }
                    field_type.unwrap_or(FieldType::Text)
                }
            };
            types
                .entry(field.id.value.clone())
                .or_insert_with(|| field_type.clone());
            let value_labels = self.value_labels(field, &field_type);
            fields.push(FieldDef {
                id: field.id.value.clone(),
                label: self.label(&field.id, field.label.as_deref(), field.label_en.as_ref()),
                field_type,
                value_labels,
                required: field.required,
                set_by: Vec::new(),
            });
        }
        fields
    }

    /// The labels of an enum field's values: every labelled value must be one of its values,
    /// and an English label needs the Indonesian one.
    fn value_labels(
        &mut self,
        field: &raw::Field,
        field_type: &FieldType,
    ) -> BTreeMap<String, Label> {
        let mut labels = BTreeMap::new();
        let allowed: &[String] = match field_type {
            FieldType::Enum(values) => values,
            _ => &[],
        };
        for (given, english) in [(&field.value_labels, false), (&field.value_labels_en, true)] {
            let Some(given) = given else { continue };
            for (value, text) in &given.value {
                if !allowed.contains(value) {
                    self.report(
                        given.referenced,
                        Code::E035,
                        format!(
                            "`{value}` is labelled but is not a value of field `{}`",
                            field.id.value
                        ),
                        format!(
                            "label only the values listed in `values`: {}",
                            allowed.join(", ")
                        ),
                    );
                    continue;
                }
                if english {
                    match labels.get_mut(value) {
                        Some(Label { en, .. }) => *en = Some(text.clone()),
                        None => self.report(
                            given.referenced,
                            Code::E035,
                            format!("`{value}` has an English label but no Indonesian one"),
                            format!("add it under `value_labels:` too: `{value}: …`"),
                        ),
                    }
                } else {
                    labels.insert(value.clone(), Label::new(text.clone()));
                }
            }
        }
        labels
    }

    fn language(&mut self, raw: Option<&S<String>>) -> Language {
        match raw.map(|l| (l, l.value.as_str())) {
            None | Some((_, "id")) => Language::Id,
            Some((_, "en")) => Language::En,
            Some((at, other)) => {
                self.report(
                    at.referenced,
                    Code::E057,
                    format!("`{other}` is not a notification language"),
                    "write `id` (Indonesian, the default) or `en` (English)".to_owned(),
                );
                Language::Id
            }
        }
    }

    /// Notification templates: a known kind, once each, and text MiniJinja can compile.
    fn messages(&mut self, raw: &[raw::Message]) -> Vec<MessageTemplate> {
        const KINDS: [(&str, NotificationKind); 7] = [
            ("reminder", NotificationKind::Reminder),
            ("overdue", NotificationKind::Overdue),
            ("overdue_reminder", NotificationKind::OverdueReminder),
            ("escalation", NotificationKind::Escalation),
            ("transitioned", NotificationKind::Transitioned),
            ("deadline_moved", NotificationKind::DeadlineMoved),
            ("late_entry", NotificationKind::LateEntry),
        ];
        let mut seen = BTreeMap::new();
        let mut messages = Vec::new();
        for message in raw {
            let Some((_, kind)) = KINDS.iter().find(|(name, _)| *name == message.kind.value) else {
                self.report(
                    message.kind.referenced,
                    Code::E056,
                    format!("there is no kind of notification `{}`", message.kind.value),
                    format!("known kinds: {}", KINDS.map(|(name, _)| name).join(", ")),
                );
                continue;
            };
            self.declare("message", &message.kind, &mut seen);
            let texts = [
                Some(&message.subject),
                Some(&message.body),
                message.subject_en.as_ref(),
                message.body_en.as_ref(),
            ];
            for text in texts.into_iter().flatten() {
                if let Err(error) = minijinja::Environment::new().template_from_str(&text.value) {
                    self.report(
                        text.referenced,
                        Code::E056,
                        format!("the template does not compile: {}", error.detail().unwrap_or("syntax error")),
                        "templates use MiniJinja syntax: `{{ stage.label }}`, `{% if missing %}…{% endif %}`; see `swakelola explain E056` for the variables".to_owned(),
                    );
                }
            }
            messages.push(MessageTemplate {
                kind: *kind,
                subject: text_label(
                    &message.subject.value,
                    message.subject_en.as_ref().map(|s| &s.value),
                ),
                body: text_label(
                    &message.body.value,
                    message.body_en.as_ref().map(|s| &s.value),
                ),
            });
        }
        messages
    }

    fn transition(&mut self, raw: &raw::Transition, names: &Names) -> Transition {
        for from in &raw.from.value {
            self.reference(from, &names.stages, "stage", Code::E011);
        }
        if raw.from.value.is_empty() {
            self.report(
                raw.from.referenced,
                Code::E011,
                format!("transition `{}` starts from no stage", raw.id.value),
                "list the stages it leaves, e.g. `from: [audiensi]`".to_owned(),
            );
        }
        self.reference(&raw.to, &names.stages, "stage", Code::E011);
        if raw.roles.value.is_empty() {
            self.report(
                raw.roles.referenced,
                Code::E046,
                format!("nobody may fire transition `{}`", raw.id.value),
                "list the roles that may fire it; for a transition only deadlines fire, still name who may fire it by hand".to_owned(),
            );
        }
        let roles = self.roles(names, &raw.roles.value);
        let guard = &raw.requires;
        for document in &guard.documents {
            self.reference(document, &names.documents, "document type", Code::E013);
        }
        for field in &guard.fields {
            self.reference(field, &names.fields, "field", Code::E014);
        }
        let conditions = guard
            .conditions
            .iter()
            .filter_map(|c| self.condition(c, names))
            .collect();
        let requires_all = match &raw.requires_all {
            None => Vec::new(),
            Some(all) => {
                let listed = self.roles(names, &all.value);
                let mut distinct = listed.clone();
                distinct.sort();
                distinct.dedup();
                // With every member of a party signing too, one role beside them is a joint
                // sign-off already.
                let fewest = if raw.requires_each_member_of.is_some() {
                    1
                } else {
                    2
                };
                if distinct.len() < fewest || distinct.len() != listed.len() {
                    self.report(
                        all.referenced,
                        Code::E048,
                        format!(
                            "`requires_all` of `{}` needs two or more different roles",
                            raw.id.value
                        ),
                        "list each role whose approval is needed once, e.g. `requires_all: [ppk, pimpinan_ormas]`; a single role fires the transition by itself".to_owned(),
                    );
                }
                for role in &all.value {
                    if !raw.roles.value.iter().any(|r| r.value == role.value)
                        && names.roles.contains_key(&role.value)
                    {
                        self.report(
                            role.referenced,
                            Code::E048,
                            format!(
                                "`{}` must approve `{}` but is not among the roles that may fire it",
                                role.value, raw.id.value
                            ),
                            format!("add `{}` to `roles`", role.value),
                        );
                    }
                }
                listed
            }
        };
        let requires_each_member_of = raw.requires_each_member_of.as_ref().map(|party| {
            if self.reference(party, &names.parties, "party", Code::E016) {
                let signs = |role: &S<String>| {
                    names.role_parties.get(&role.value) == Some(&party.value)
                };
                if !raw.roles.value.iter().any(signs) {
                    self.report(
                        party.referenced,
                        Code::E048,
                        format!(
                            "every member of `{}` must approve `{}`, but none of the party's roles may fire it",
                            party.value, raw.id.value
                        ),
                        format!(
                            "add a role of `{}` (e.g. its head) to `roles`",
                            party.value
                        ),
                    );
                }
                if let Some(all) = &raw.requires_all
                    && let Some(role) = all.value.iter().find(|r| signs(r))
                {
                    self.report(
                        role.referenced,
                        Code::E048,
                        format!(
                            "`{}` belongs to `{}`, whose members sign `{}` each: list it in `requires_all` or sign as a member, not both",
                            role.value, party.value, raw.id.value
                        ),
                        format!("remove `{}` from `requires_all`", role.value),
                    );
                }
            }
            party.value.clone()
        });
        Transition {
            requires_all,
            requires_each_member_of,
            id: raw.id.value.clone(),
            label: self.label(&raw.id, raw.label.as_deref(), raw.label_en.as_ref()),
            from: values(&raw.from.value),
            to: raw.to.value.clone(),
            roles,
            guard: Guard {
                documents: values(&guard.documents),
                fields: values(&guard.fields),
                comment: guard.comment,
                conditions,
            },
            notify: self.roles(names, &raw.notify),
        }
    }

    fn condition(&mut self, raw: &S<raw::Condition>, names: &Names) -> Option<Condition> {
        let condition = &raw.value;
        let field_known = self.reference(&condition.field, &names.fields, "field", Code::E014);
        let op = match condition.op.value.as_str() {
            "=" | "==" => Comparison::Eq,
            "!=" => Comparison::Ne,
            "<" => Comparison::Lt,
            "<=" => Comparison::Le,
            ">" => Comparison::Gt,
            ">=" => Comparison::Ge,
            "is_set" => Comparison::IsSet,
            "is_unset" => Comparison::IsUnset,
            other => {
                self.report(
                    condition.op.referenced,
                    Code::E042,
                    format!("unknown comparison `{other}`"),
                    "use one of: =, !=, <, <=, >, >=, is_set, is_unset".to_owned(),
                );
                return None;
            }
        };
        let needs_value = !matches!(op, Comparison::IsSet | Comparison::IsUnset);
        if let (Some(_), Some(other)) = (&condition.value, &condition.value_of) {
            self.report(
                other.referenced,
                Code::E042,
                "a condition has either `value` or `value_of`, not both".to_owned(),
                "keep `value: …` to compare with a constant, or `value_of: …` to compare with another value of the case".to_owned(),
            );
            return None;
        }
        if let Some(other) = &condition.value_of {
            if !needs_value {
                self.report(
                    other.referenced,
                    Code::E042,
                    format!("`{}` takes no `value_of`", condition.op.value),
                    "remove `value_of`".to_owned(),
                );
                return None;
            }
            let operand = self.operand(other, names)?;
            if !field_known || names.untyped_fields.contains(&condition.field.value) {
                return None;
            }
            let field_type = &names.fields[&condition.field.value];
            let operand_type = match &operand {
                Operand::Field(f) => names.fields[f].clone(),
                Operand::StartOfYear(_) | Operand::EndOfYear(_) => FieldType::Date,
                Operand::Sum { rupiah: true, .. } => FieldType::Rupiah,
                Operand::Sum { rupiah: false, .. } | Operand::Count(_) => FieldType::Integer,
            };
            if field_type.name() != operand_type.name() {
                self.report(
                    other.referenced,
                    Code::E059,
                    format!(
                        "field `{}` is {} but `{}` is {}: they cannot be compared",
                        condition.field.value,
                        field_type.name(),
                        other.value,
                        operand_type.name()
                    ),
                    "compare a field with a value of the same type (an amount with an amount, a date with a date)".to_owned(),
                );
                return None;
            }
            if self.orders_names(condition, op, field_type) {
                return None;
            }
            return Some(Condition {
                field: condition.field.value.clone(),
                op,
                value: None,
                value_of: Some(operand),
            });
        }
        let value = match (&condition.value, needs_value) {
            (None, true) => {
                self.report(
                    raw.referenced,
                    Code::E042,
                    format!("comparison `{}` needs a `value`", condition.op.value),
                    "add `value: …` to compare the field with a constant, or `value_of: …` to compare it with another field".to_owned(),
                );
                return None;
            }
            (Some(value), false) => {
                self.report(
                    value.referenced,
                    Code::E042,
                    format!("`{}` takes no value", condition.op.value),
                    "remove `value`".to_owned(),
                );
                return None;
            }
            (None, false) => None,
            (Some(text), true) => {
                if !field_known {
                    return None;
                }
                let field_type = &names.fields[&condition.field.value];
                // A field of unknown type, or an enum without values, is E035 already: its
                // values cannot be checked.
                if names.untyped_fields.contains(&condition.field.value)
                    || matches!(field_type, FieldType::Enum(values) if values.is_empty())
                {
                    return None;
                }
                if self.orders_names(condition, op, field_type) {
                    return None;
                }
                match field_type.parse(&text.value) {
                    Ok(value) => Some(value),
                    Err(error) => {
                        self.report(
                            text.referenced,
                            Code::E042,
                            format!(
                                "value `{}` does not fit field `{}`: {error}",
                                text.value, condition.field.value
                            ),
                            value_hint(field_type),
                        );
                        return None;
                    }
                }
            }
        };
        Some(Condition {
            field: condition.field.value.clone(),
            op,
            value,
            value_of: None,
        })
    }

    /// Reports (E042) an ordering comparison (`<`, `<=`, `>`, `>=`) of a text or enum field,
    /// which would compare names alphabetically; true when it did.
    fn orders_names(
        &mut self,
        condition: &raw::Condition,
        op: Comparison,
        field_type: &FieldType,
    ) -> bool {
        let ordering = matches!(
            op,
            Comparison::Lt | Comparison::Le | Comparison::Gt | Comparison::Ge
        );
        if !(ordering && matches!(field_type, FieldType::Text | FieldType::Enum(_))) {
            return false;
        }
        self.report(
            condition.op.referenced,
            Code::E042,
            format!(
                "`{}` orders numbers, amounts, dates and years; field `{}` is {}",
                condition.op.value,
                condition.field.value,
                field_type.name()
            ),
            "compare text and enum fields with `=` or `!=`".to_owned(),
        );
        true
    }

    /// `pagu`, `start_of_year(tahun_anggaran)` or `end_of_year(tahun_anggaran)`.
    fn operand(&mut self, raw: &S<String>, names: &Names) -> Option<Operand> {
        let text = raw.value.trim();
        let at = |value: &str| S::new(value.to_owned(), raw.referenced, raw.defined);
        let Some((function, rest)) = text.split_once('(') else {
            let field = at(text);
            return self
                .reference(&field, &names.fields, "field", Code::E014)
                .then(|| Operand::Field(text.to_owned()));
        };
        let argument = rest.strip_suffix(')').map(str::trim);
        if matches!(function.trim(), "sum" | "count") {
            return self.over_records(raw, function.trim(), argument.unwrap_or_default(), names);
        }
        let make: fn(String) -> Operand = match function.trim() {
            "start_of_year" => Operand::StartOfYear,
            "end_of_year" => Operand::EndOfYear,
            other => {
                self.report(
                    raw.referenced,
                    Code::E045,
                    format!("unknown function `{other}` in `value_of`"),
                    "use a field id, `start_of_year(FIELD)`, `end_of_year(FIELD)`, `sum(RECORD.FIELD)` or `count(RECORD)`".to_owned(),
                );
                return None;
            }
        };
        let Some(argument) = argument.filter(|a| !a.is_empty()) else {
            self.report(
                raw.referenced,
                Code::E045,
                format!("`{text}` is not `{}(FIELD)`", function.trim()),
                "name the fiscal-year field between the parentheses".to_owned(),
            );
            return None;
        };
        if !self.reference(&at(argument), &names.fields, "field", Code::E014) {
            return None;
        }
        if names.fields[argument] != FieldType::FiscalYear {
            self.report(
                raw.referenced,
                Code::E059,
                format!(
                    "`{}` needs a fiscal-year field; `{argument}` is {}",
                    function.trim(),
                    names.fields[argument].name()
                ),
                "give a field of `type: fiscal_year`".to_owned(),
            );
            return None;
        }
        Some(make(argument.to_owned()))
    }

    /// `sum(RECORD.FIELD)` over a numeric field, or `count(RECORD)`.
    fn over_records(
        &mut self,
        raw: &S<String>,
        function: &str,
        argument: &str,
        names: &Names,
    ) -> Option<Operand> {
        let (record, field) = match argument.split_once('.') {
            Some((record, field)) => (record.trim(), Some(field.trim())),
            None => (argument, None),
        };
        let Some(types) = names.records.get(record) else {
            let known: Vec<&str> = names.records.keys().map(String::as_str).collect();
            let hint = match closest(record, &known) {
                Some(guess) => format!("did you mean `{guess}`?"),
                None if known.is_empty() => {
                    "declare the kind of record under `records:` first".to_owned()
                }
                None => format!("known records: {}", known.join(", ")),
            };
            self.report(
                raw.referenced,
                Code::E045,
                format!("`{function}` over an unknown kind of record `{record}`"),
                hint,
            );
            return None;
        };
        match (function, field) {
            ("count", None) => Some(Operand::Count(record.to_owned())),
            ("sum", Some(field)) => {
                let Some(field_type) = types.get(field) else {
                    let reference =
                        S::new(format!("{record}.{field}"), raw.referenced, raw.defined);
                    let known: BTreeMap<String, ()> = types
                        .keys()
                        .map(|f| (format!("{record}.{f}"), ()))
                        .collect();
                    self.reference(&reference, &known, "field", Code::E014);
                    return None;
                };
                match field_type {
                    FieldType::Rupiah | FieldType::Integer => Some(Operand::Sum {
                        record: record.to_owned(),
                        field: field.to_owned(),
                        rupiah: *field_type == FieldType::Rupiah,
                    }),
                    other => {
                        self.report(
                            raw.referenced,
                            Code::E059,
                            format!(
                                "`sum` adds numbers and amounts; `{record}.{field}` is {}",
                                other.name()
                            ),
                            "sum a field of `type: rupiah` or `type: integer`, or `count(…)` the records".to_owned(),
                        );
                        None
                    }
                }
            }
            _ => {
                self.report(
                    raw.referenced,
                    Code::E045,
                    format!(
                        "`{}` is not `sum(RECORD.FIELD)` or `count(RECORD)`",
                        raw.value
                    ),
                    "write `sum(pembayaran.jumlah)` or `count(pembayaran)`".to_owned(),
                );
                None
            }
        }
    }

    fn records(&mut self, raw: &raw::Workflow, names: &mut Names) -> Vec<RecordType> {
        // A rule names fields and kinds of record alike: one namespace for both.
        let mut seen: BTreeMap<String, Location> = raw
            .fields
            .iter()
            .map(|f| (f.id.value.clone(), f.id.referenced))
            .collect();
        let mut records = Vec::new();
        for record in &raw.records {
            self.declare("field or record", &record.id, &mut seen);
            let (mut types, mut untyped) = (BTreeMap::new(), BTreeSet::new());
            let fields = self.field_defs(&record.fields, &mut types, &mut untyped);
            names.records.insert(record.id.value.clone(), types);
            records.push(RecordType {
                id: record.id.value.clone(),
                label: self.label(
                    &record.id,
                    record.label.as_deref(),
                    record.label_en.as_ref(),
                ),
                add_by: self.roles(names, &record.add_by),
                fields,
            });
        }
        records
    }

    fn rules(&mut self, raw: &raw::Workflow, names: &Names) -> Vec<Rule> {
        let mut seen = BTreeMap::new();
        let mut rules = Vec::new();
        for rule in &raw.rules {
            self.declare("rule", &rule.id, &mut seen);
            let label = self.label(&rule.id, rule.label.as_deref(), rule.label_en.as_ref());
            if let Some(condition) = self.condition(&rule.condition, names) {
                rules.push(Rule {
                    id: rule.id.value.clone(),
                    label,
                    condition,
                });
            }
        }
        rules
    }

    fn stage(
        &mut self,
        raw: &raw::Stage,
        workflow: &raw::Workflow,
        names: &Names,
        transitions: &[Transition],
    ) -> Stage {
        if let Some(phase) = &raw.phase {
            self.reference(phase, &names.phases, "phase", Code::E016);
        }
        let id = &raw.id.value;
        // Who acts in this stage: default recipients of its reminders.
        let mut actors: Vec<String> = Vec::new();
        for transition in transitions.iter().filter(|t| t.from.contains(id)) {
            for role in &transition.roles {
                if !actors.contains(role) {
                    actors.push(role.clone());
                }
            }
        }
        if raw.is_terminal() {
            if let Some(deadline) = &raw.deadline {
                self.report(
                    deadline.referenced,
                    Code::E043,
                    format!("terminal stage `{id}` has a deadline, which can never fire: the case is closed there"),
                    "remove the deadline, or make the stage non-terminal".to_owned(),
                );
            }
            if let Some(recurring) = raw.recurring.first() {
                self.report(
                    recurring.referenced,
                    Code::E043,
                    format!(
                        "terminal stage `{id}` has recurring obligations, which can never fire"
                    ),
                    "move them to the stage where the work happens".to_owned(),
                );
            }
        }
        let deadline = raw
            .deadline
            .as_ref()
            .and_then(|d| self.deadline(d, id, workflow, names, transitions, &actors));
        let mut seen = BTreeMap::new();
        let recurring = raw
            .recurring
            .iter()
            .filter_map(|r| {
                self.declare("recurring obligation", &r.value.id, &mut seen);
                self.recurring(r, names, &actors)
            })
            .collect();
        Stage {
            id: id.clone(),
            label: self.label(&raw.id, raw.label.as_deref(), raw.label_en.as_ref()),
            phase: raw.phase.as_ref().map(|p| p.value.clone()),
            initial: raw.is_initial(),
            terminal: raw.is_terminal(),
            legal_basis: raw.legal_basis.clone(),
            deadline,
            recurring,
        }
    }

    fn deadline(
        &mut self,
        raw: &S<raw::Deadline>,
        stage: &str,
        workflow: &raw::Workflow,
        names: &Names,
        transitions: &[Transition],
        actors: &[String],
    ) -> Option<Deadline> {
        let deadline = &raw.value;
        let due = match (&deadline.after, &deadline.on) {
            (Some(_), Some(on)) => {
                self.report(
                    on.referenced,
                    Code::E040,
                    format!("the deadline of `{stage}` says both `after` and `on`"),
                    "keep one: `after` for a relative deadline, `on` for a fixed day of the budget year".to_owned(),
                );
                None
            }
            (None, None) => {
                self.report(
                    raw.referenced,
                    Code::E040,
                    format!("the deadline of `{stage}` does not say when it is due"),
                    "add `after: 10 working days` (from entering the stage) or `on: 11-30` with `year: fiscal_year - 1`".to_owned(),
                );
                None
            }
            (Some(after), None) => {
                if let Some(year) = &deadline.year {
                    self.report(
                        year.referenced,
                        Code::E040,
                        "`year` only applies to deadlines given with `on`".into(),
                        "remove `year`".to_owned(),
                    );
                }
                let offset = self.duration(after);
                let anchor = match &deadline.from_field {
                    None => Some(Anchor::StageEntered),
                    Some(field) => {
                        if self.reference(field, &names.fields, "field", Code::E014) {
                            if names.fields[&field.value] == FieldType::Date {
                                Some(Anchor::Field(field.value.clone()))
                            } else {
                                self.report(
                                    field.referenced,
                                    Code::E041,
                                    format!(
                                        "`from_field` must name a date field, and `{}` is not one",
                                        field.value
                                    ),
                                    "point it at a field declared with `type: date`".to_owned(),
                                );
                                None
                            }
                        } else {
                            None
                        }
                    }
                };
                offset
                    .zip(anchor)
                    .map(|(offset, anchor)| Due::After { anchor, offset })
            }
            (None, Some(on)) => {
                if let Some(field) = &deadline.from_field {
                    self.report(
                        field.referenced,
                        Code::E040,
                        "`from_field` only applies to deadlines given with `after`".into(),
                        "remove `from_field`".to_owned(),
                    );
                }
                if workflow.fiscal_year_field.is_none() {
                    self.needs_fiscal_year(on.referenced, "a deadline on a fixed day");
                }
                self.fixed_day(on, deadline.year.as_ref())
            }
        };
        let follow_up = self.follow_up(
            &deadline.responsible,
            &deadline.reminders,
            &deadline.escalate,
            names,
            actors,
            due.as_ref(),
        );
        let on_expiry = deadline.on_expiry.as_ref().and_then(|name| {
            if !self.reference(name, &names.transitions, "transition", Code::E015) {
                return None;
            }
            let transition = transitions.iter().find(|t| t.id == name.value)?;
            if !transition.from.iter().any(|f| f == stage) {
                self.report(
                    name.referenced,
                    Code::E039,
                    format!("on_expiry transition `{}` does not leave stage `{stage}`", name.value),
                    format!("add `{stage}` to its `from`, or pick a transition that leaves `{stage}`"),
                );
            } else if !transition.guard.is_empty() {
                self.report(
                    name.referenced,
                    Code::E039,
                    format!("on_expiry transition `{}` has requirements, so it could not fire on its own", name.value),
                    "use a transition without `requires` for expiry".to_owned(),
                );
            } else {
                // The case leaves the stage at the deadline: nothing after it can go out.
                let never: Vec<Location> = deadline
                    .escalate
                    .iter()
                    .map(|e| e.referenced)
                    .chain(
                        deadline
                            .reminders
                            .iter()
                            .filter(|r| r.value.every.is_some())
                            .map(|r| r.referenced),
                    )
                    .collect();
                for location in never {
                    self.report(
                        location,
                        Code::W007,
                        format!(
                            "stage `{stage}` moves on by itself when its deadline passes (`on_expiry: {}`), so this notice after the deadline never goes out",
                            name.value
                        ),
                        format!(
                            "tell those people through the `notify` of `{}`, and remove this entry",
                            name.value
                        ),
                    );
                }
            }
            Some(name.value.clone())
        });
        let late_entry = deadline
            .late_entry
            .as_ref()
            .and_then(|late| self.late_entry(late, stage, due.as_ref()));
        let within_fiscal_year = match &deadline.within_fiscal_year {
            Some(flag) if flag.value && workflow.fiscal_year_field.is_none() => {
                self.needs_fiscal_year(flag.referenced, "`within_fiscal_year`");
                false
            }
            Some(flag) => flag.value,
            None => false,
        };
        Some(Deadline {
            due: due?,
            late_entry,
            within_fiscal_year,
            follow_up,
            on_expiry,
        })
    }

    /// E040: `what` counts from the fiscal year, which the workflow does not name.
    fn needs_fiscal_year(&mut self, at: Location, what: &str) {
        self.report(
            at,
            Code::E040,
            format!("{what} needs the workflow's `fiscal_year_field`"),
            "declare a `type: fiscal_year` field and name it in `fiscal_year_field`".to_owned(),
        );
    }

    /// A fixed day of a budget year: `on: MM-DD` and `year: fiscal_year - 1`.
    fn fixed_day(&mut self, on: &S<String>, year: Option<&S<String>>) -> Option<Due> {
        let day = parse_month_day(&on.value);
        if day.is_none() {
            self.report(
                on.referenced,
                Code::E031,
                format!("`{}` is not a day of the year", on.value),
                "write it as MM-DD, e.g. `11-30` for 30 November (29 February is not allowed: it does not exist every year)".to_owned(),
            );
        }
        let year_offset = match year {
            None => Some(0),
            Some(text) => {
                let offset = parse_year_expression(&text.value);
                if offset.is_none() {
                    self.report(
                        text.referenced,
                        Code::E032,
                        format!("`{}` is not a fiscal-year expression", text.value),
                        "write `fiscal_year`, `fiscal_year - 1` or `fiscal_year + 1`".to_owned(),
                    );
                }
                offset
            }
        };
        day.zip(year_offset)
            .map(|((month, day), year_offset)| Due::OnDate {
                month,
                day,
                year_offset,
            })
    }

    /// `late_entry`: the fixed day that replaces the deadline when the stage begins after
    /// it has passed (the revised budget's window after the main budget's). It must come
    /// later than the day it replaces, or it would never be the one still ahead.
    fn late_entry(
        &mut self,
        raw: &S<raw::LateEntry>,
        stage: &str,
        due: Option<&Due>,
    ) -> Option<Due> {
        let late = self.fixed_day(&raw.value.on, raw.value.year.as_ref())?;
        match (due?, &late) {
            (
                Due::OnDate {
                    month,
                    day,
                    year_offset,
                },
                Due::OnDate {
                    month: late_month,
                    day: late_day,
                    year_offset: late_offset,
                },
            ) => {
                if (late_offset, late_month, late_day) <= (year_offset, month, day) {
                    self.report(
                        raw.value.on.referenced,
                        Code::E040,
                        format!("the `late_entry` day of `{stage}` is not after its deadline"),
                        "give the later window: the day that still counts when the stage begins after the first one has passed".to_owned(),
                    );
                    return None;
                }
                Some(late)
            }
            _ => {
                self.report(
                    raw.referenced,
                    Code::E040,
                    format!("`late_entry` of `{stage}` only applies to a deadline on a fixed day"),
                    "give the deadline with `on` and `year`, or remove `late_entry`".to_owned(),
                );
                None
            }
        }
    }

    fn follow_up(
        &mut self,
        responsible: &[S<String>],
        reminders: &[S<raw::Reminder>],
        escalations: &[S<raw::Escalation>],
        names: &Names,
        default_responsible: &[String],
        due: Option<&Due>,
    ) -> FollowUp {
        let responsible = if responsible.is_empty() {
            default_responsible.to_vec()
        } else {
            self.roles(names, responsible)
        };
        let reminders = reminders
            .iter()
            .filter_map(|r| {
                let when = self.reminder_when(r, due)?;
                Some(Reminder {
                    when,
                    to: self.roles(names, &r.value.to),
                })
            })
            .collect();
        let escalations = escalations
            .iter()
            .filter_map(|e| {
                let to = self.roles(names, &e.value.to.value);
                if to.is_empty() {
                    self.report(
                        e.value.to.referenced,
                        Code::E037,
                        "this escalation goes to nobody, so it can never be delivered".into(),
                        "list the roles to escalate to, e.g. `to: [pa_kpa]`".to_owned(),
                    );
                }
                Some(Escalation {
                    after: self.duration(&e.value.after)?,
                    to,
                })
            })
            .collect();
        FollowUp {
            responsible,
            reminders,
            escalations,
        }
    }

    fn reminder_when(&mut self, raw: &S<raw::Reminder>, due: Option<&Due>) -> Option<ReminderWhen> {
        let reminder = &raw.value;
        let at_due = reminder.at_due.as_ref().filter(|a| a.value);
        let given = [
            reminder.before.is_some(),
            at_due.is_some(),
            reminder.every.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.report(
                raw.referenced,
                Code::E038,
                "a reminder must say exactly one of `before`, `at_due: true` or `every`".into(),
                "split it into one reminder per moment".to_owned(),
            );
            return None;
        }
        if let Some(before) = &reminder.before {
            let duration = self.duration(before)?;
            if let Some(Due::After {
                anchor: Anchor::StageEntered,
                offset,
            }) = due
                && reminder_before_entry(duration, *offset)
            {
                self.report(
                    before.referenced,
                    Code::E037,
                    format!("this reminder comes {duration} before a deadline that is only {offset} after entering the stage, so it can never fire"),
                    format!("remind less than {offset} before the deadline"),
                );
            }
            return Some(ReminderWhen::Before(duration));
        }
        if let Some(every) = &reminder.every {
            let duration = self.duration(every)?;
            if duration.is_zero() {
                self.report(
                    every.referenced,
                    Code::E037,
                    "a reminder repeating every 0 days would never stop".into(),
                    "repeat at least every 1 working day".to_owned(),
                );
            }
            return Some(ReminderWhen::EveryAfterDue(duration));
        }
        Some(ReminderWhen::AtDue)
    }

    fn recurring(
        &mut self,
        raw: &S<raw::Recurring>,
        names: &Names,
        actors: &[String],
    ) -> Option<Recurring> {
        let recurring = &raw.value;
        let period = match recurring.every.value.as_str() {
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            "quarter" => Some(Period::Quarter),
            other => {
                self.report(
                    recurring.every.referenced,
                    Code::E047,
                    format!("unknown period `{other}`"),
                    "use `week`, `month` or `quarter`".to_owned(),
                );
                None
            }
        };
        let due = self.duration(&recurring.due);
        self.reference(
            &recurring.document,
            &names.documents,
            "document type",
            Code::E013,
        );
        let after = due.map(|offset| Due::After {
            anchor: Anchor::StageEntered,
            offset,
        });
        let follow_up = self.follow_up(
            &recurring.responsible,
            &recurring.reminders,
            &recurring.escalate,
            names,
            actors,
            after.as_ref(),
        );
        Some(Recurring {
            id: recurring.id.value.clone(),
            label: self.label(
                &recurring.id,
                recurring.label.as_deref(),
                recurring.label_en.as_ref(),
            ),
            period: period?,
            due_after_period: due?,
            document: recurring.document.value.clone(),
            follow_up,
        })
    }

    /// Initial and terminal stages, reachability, dead ends.
    fn structure(
        &mut self,
        raw: &raw::Workflow,
        stages: &[Stage],
        transitions: &[Transition],
        reachability: bool,
    ) {
        let initial: Vec<&raw::Stage> =
            raw.stages.value.iter().filter(|s| s.is_initial()).collect();
        match initial.as_slice() {
            [] => self.report(
                raw.stages.referenced,
                Code::E020,
                "no stage is marked `initial: true`".into(),
                "mark the stage where every case starts with `initial: true`".to_owned(),
            ),
            [_] => {}
            [first, rest @ ..] => {
                for stage in rest {
                    self.report(
                        stage.flag_location(&stage.initial),
                        Code::E021,
                        format!(
                            "stage `{}` is marked initial, but so is `{}`",
                            stage.id.value, first.id.value
                        ),
                        "a case starts in exactly one stage; keep `initial: true` on one of them"
                            .to_owned(),
                    );
                }
            }
        }
        for stage in &raw.stages.value {
            if stage.is_initial() && stage.is_terminal() {
                self.report(
                    stage.flag_location(&stage.terminal),
                    Code::E025,
                    format!("stage `{}` is both initial and terminal, so every case would close as soon as it opens", stage.id.value),
                    "add a stage for the work between opening and closing".to_owned(),
                );
            }
        }
        for (transition, raw_transition) in transitions.iter().zip(&raw.transitions) {
            for (from, raw_from) in transition.from.iter().zip(&raw_transition.from.value) {
                // The first definition of the id is the stage (a duplicate is E010 already).
                if stages
                    .iter()
                    .find(|s| &s.id == from)
                    .is_some_and(|s| s.terminal)
                {
                    self.report(
                        raw_from.referenced,
                        Code::E024,
                        format!("transition `{}` leaves terminal stage `{from}`", transition.id),
                        "a closed case never moves again: remove the stage from `from`, or make it non-terminal".to_owned(),
                    );
                }
            }
        }
        // Reachability over broken stage references would only repeat those errors.
        if !reachability {
            return;
        }
        let edges: Vec<(&str, &str)> = transitions
            .iter()
            .flat_map(|t| t.from.iter().map(move |f| (f.as_str(), t.to.as_str())))
            .collect();
        // Stages no case can enter (E022) are not also reported as dead ends (E023).
        let mut unreachable: BTreeSet<&str> = BTreeSet::new();
        if let [start] = initial.as_slice() {
            let reached = reachable(&[start.id.value.as_str()], &edges, false);
            unreachable.extend(
                raw.stages
                    .value
                    .iter()
                    .map(|s| s.id.value.as_str())
                    .filter(|id| !reached.contains(id)),
            );
            for stage in &raw.stages.value {
                if !reached.contains(stage.id.value.as_str()) {
                    self.report(
                        stage.id.referenced,
                        Code::E022,
                        format!(
                            "stage `{}` cannot be reached from the initial stage `{}`",
                            stage.id.value, start.id.value
                        ),
                        "add a transition into it, or remove it".to_owned(),
                    );
                }
            }
        }
        let terminals: Vec<&str> = stages
            .iter()
            .filter(|s| s.terminal)
            .map(|s| s.id.as_str())
            .collect();
        let can_finish = reachable(&terminals, &edges, true);
        for stage in &raw.stages.value {
            if !stage.is_terminal()
                && !can_finish.contains(stage.id.value.as_str())
                && !unreachable.contains(stage.id.value.as_str())
            {
                self.report(
                    stage.id.referenced,
                    Code::E023,
                    format!("no terminal stage can be reached from stage `{}`: a case there could never close", stage.id.value),
                    "add a transition towards a terminal stage (e.g. a cancellation), or mark it `terminal: true`".to_owned(),
                );
            }
        }
    }

    /// Automatic moves (`on_expiry`) that can go round in a loop without time passing: every
    /// stage of the loop has a deadline that may already be over when the case arrives (zero
    /// length, a fixed day of the year, or counted from a field). A runner would fire such a
    /// case without end, so it is an error; one stage whose deadline counts a positive time
    /// from entering the stage breaks the loop.
    fn expiry_loops(&mut self, raw: &raw::Workflow, workflow: &Workflow) {
        let next = |stage: &Stage| -> Option<&str> {
            let transition = stage.deadline.as_ref()?.on_expiry.as_ref()?;
            workflow.transition(transition).map(|t| t.to.as_str())
        };
        let advances_time = |stage: &Stage| match stage.deadline.as_ref().map(|d| &d.due) {
            Some(Due::After {
                anchor: Anchor::StageEntered,
                offset,
            }) => !matches!(
                offset,
                Duration::Days(0)
                    | Duration::WorkingDays(0)
                    | Duration::Weeks(0)
                    | Duration::Months(0)
            ),
            _ => false,
        };
        let mut reported: BTreeSet<&str> = BTreeSet::new();
        for (start, raw_stage) in workflow.stages.iter().zip(&raw.stages.value) {
            // Follow the automatic moves from `start`; each stage has at most one, so a walk
            // longer than the number of stages has gone round.
            let mut path: Vec<&Stage> = vec![start];
            let mut current = start;
            let mut looped = false;
            for _ in 0..workflow.stages.len() {
                let Some(target) = next(current).and_then(|id| workflow.stage(id)) else {
                    break;
                };
                if target.id == start.id {
                    looped = true;
                    break;
                }
                if path.iter().any(|s| s.id == target.id) {
                    break;
                }
                path.push(target);
                current = target;
            }
            if !looped
                || path.iter().any(|s| advances_time(s))
                || path.iter().any(|s| reported.contains(s.id.as_str()))
            {
                continue;
            }
            reported.extend(path.iter().map(|s| s.id.as_str()));
            let at = raw_stage
                .deadline
                .as_ref()
                .and_then(|d| d.value.on_expiry.as_ref())
                .map_or(raw_stage.id.referenced, |t| t.referenced);
            let cycle: Vec<&str> = path
                .iter()
                .map(|s| s.id.as_str())
                .chain([start.id.as_str()])
                .collect();
            self.report(
                at,
                Code::E058,
                format!(
                    "automatic moves loop without time passing: {}; a case there would move round forever",
                    cycle.join(" → ")
                ),
                "give one stage of the loop a deadline counted from entering it (`after: 5 working days`), or end the loop in a stage without `on_expiry`".to_owned(),
            );
        }
    }

    /// W008: once a case holds a field that a rule keeps within the fiscal year
    /// (`tanggal_selesai <= end_of_year(tahun_anggaran)`: the contract is signed), its work is
    /// paid from that year's budget, so a deadline counted from entering a later stage must
    /// not run past 31 December — unless it says `within_fiscal_year: true` (capped), or
    /// `false` (the stage may run on into the next year, on purpose).
    fn past_the_fiscal_year(&mut self, raw: &raw::Workflow, workflow: &Workflow) {
        let bounded: Vec<&str> = workflow
            .rules
            .iter()
            .filter(|r| {
                matches!(r.condition.op, Comparison::Le | Comparison::Lt)
                    && matches!(r.condition.value_of, Some(Operand::EndOfYear(_)))
            })
            .map(|r| r.condition.field.as_str())
            .collect();
        let mut reached: Vec<&str> = workflow
            .transitions
            .iter()
            .filter(|t| t.guard.fields.iter().any(|f| bounded.contains(&f.as_str())))
            .map(|t| t.to.as_str())
            .collect();
        let mut next = 0;
        while next < reached.len() {
            let stage = reached[next];
            next += 1;
            for t in workflow
                .transitions
                .iter()
                .filter(|t| t.from.iter().any(|f| f == stage))
            {
                if !reached.contains(&t.to.as_str()) {
                    reached.push(&t.to);
                }
            }
        }
        for (stage, raw_stage) in workflow.stages.iter().zip(&raw.stages.value) {
            let Some(deadline) = &stage.deadline else {
                continue;
            };
            let relative = matches!(
                deadline.due,
                Due::After {
                    anchor: Anchor::StageEntered,
                    ..
                }
            );
            // `within_fiscal_year: false` says the stage may run on past the year on purpose.
            let said = raw_stage
                .deadline
                .as_ref()
                .is_some_and(|d| d.value.within_fiscal_year.is_some());
            if relative && !said && reached.contains(&stage.id.as_str()) {
                let at = raw_stage
                    .deadline
                    .as_ref()
                    .and_then(|d| d.value.after.as_ref().map(|a| a.referenced))
                    .unwrap_or(raw_stage.id.referenced);
                self.report(
                    at,
                    Code::W008,
                    format!(
                        "stage `{}` comes after the contract, whose work must end within the fiscal year, but its deadline may run past 31 December",
                        stage.id
                    ),
                    "add `within_fiscal_year: true` to the deadline (it is then never later than the last working day of the fiscal year), or `within_fiscal_year: false` if the stage may run on into the next year".to_owned(),
                );
            }
        }
    }

    fn warnings(&mut self, raw: &raw::Workflow, workflow: &Workflow) {
        for (stage, raw_stage) in workflow.stages.iter().zip(&raw.stages.value) {
            if !stage.terminal
                && stage.deadline.is_none()
                && raw_stage.deadline.is_none()
                && stage.recurring.is_empty()
            {
                self.report(
                    raw_stage.id.referenced,
                    Code::W001,
                    format!(
                        "stage `{}` has no deadline: nobody will be reminded if a case stays there",
                        stage.id
                    ),
                    "add a `deadline:` unless waiting there is harmless".to_owned(),
                );
            }
            if let Some(Deadline {
                due:
                    Due::After {
                        anchor: Anchor::Field(field),
                        ..
                    },
                ..
            }) = &stage.deadline
            {
                let set_on_entry = workflow
                    .transitions
                    .iter()
                    .filter(|t| t.to == stage.id)
                    .all(|t| t.guard.fields.contains(field))
                    && (!stage.initial || workflow.field(field).is_some_and(|f| f.required));
                if !set_on_entry {
                    let at = raw_stage
                        .deadline
                        .as_ref()
                        .map_or(raw_stage.id.referenced, |d| {
                            d.value
                                .from_field
                                .as_ref()
                                .map_or(d.referenced, |f| f.referenced)
                        });
                    self.report(
                        at,
                        Code::W005,
                        format!("the deadline of `{}` counts from field `{field}`, which may still be unset when a case arrives", stage.id),
                        format!("require `{field}` on the transitions into `{}`; until it is set the stage has no deadline", stage.id),
                    );
                }
            }
        }
        self.past_the_fiscal_year(raw, workflow);
        for (document, raw_document) in workflow.documents.iter().zip(&raw.documents) {
            let used = workflow
                .transitions
                .iter()
                .any(|t| t.guard.documents.contains(&document.id))
                || workflow
                    .stages
                    .iter()
                    .flat_map(|s| &s.recurring)
                    .any(|r| r.document == document.id);
            if !used && !raw_document.informative {
                self.report(
                    raw_document.id.referenced,
                    Code::W003,
                    format!("document type `{}` is never required", document.id),
                    "require it on the transition it supports, or mark it `informative: true`"
                        .to_owned(),
                );
            }
        }
        // With a misspelt role somewhere (E012) the uses of the declared roles are unknown, and
        // the reserved role is E044 already: W006 would only repeat those errors.
        let roles_misspelt = self.diagnostics.iter().any(|d| d.code == Code::E012);
        for (role, raw_role) in workflow.roles.iter().zip(&raw.roles.value) {
            if !roles_misspelt && role.id != SYSTEM_ROLE && !role_is_used(workflow, &role.id) {
                self.report(
                    raw_role.id.referenced,
                    Code::W006,
                    format!("role `{}` can do nothing in this workflow", role.id),
                    "give it a transition, a document to attach or a reminder, or remove it"
                        .to_owned(),
                );
            }
        }
    }
}

fn role_is_used(workflow: &Workflow, role: &str) -> bool {
    let named = |roles: &[String]| roles.iter().any(|r| r == role);
    let follow_up_names = |f: &FollowUp| {
        named(&f.responsible)
            || f.reminders.iter().any(|r| named(&r.to))
            || f.escalations.iter().any(|e| named(&e.to))
    };
    named(&workflow.open_by)
        || workflow
            .transitions
            .iter()
            .any(|t| named(&t.roles) || named(&t.notify))
        || workflow.documents.iter().any(|d| named(&d.attach_by))
        || workflow.fields.iter().any(|f| named(&f.set_by))
        || workflow.stages.iter().any(|s| {
            s.deadline
                .as_ref()
                .is_some_and(|d| follow_up_names(&d.follow_up))
                || s.recurring.iter().any(|r| follow_up_names(&r.follow_up))
        })
}

/// Whether a reminder `before` a deadline `offset` after entering the stage always falls
/// on or before the day of entry.
fn reminder_before_entry(before: Duration, offset: Duration) -> bool {
    use Duration::{Days, Months, Weeks, WorkingDays};
    match (before, offset) {
        (WorkingDays(b), WorkingDays(o))
        | (Days(b), Days(o))
        | (Weeks(b), Weeks(o))
        | (Months(b), Months(o)) => b >= o,
        _ => before.calendar_days_bounds().0 >= offset.calendar_days_bounds().1,
    }
}

/// Stages reachable from `starts` following `edges` (backwards when `reverse`).
/// What a person should write for a value of `field_type`.
fn value_hint(field_type: &FieldType) -> String {
    match field_type {
        FieldType::Text => "give some text".to_owned(),
        FieldType::Integer => "give a whole number, e.g. `12`".to_owned(),
        FieldType::Date => "give a date as YYYY-MM-DD, e.g. `2025-06-30`".to_owned(),
        FieldType::Rupiah => "give an amount in rupiah, e.g. `Rp34.500.000`".to_owned(),
        FieldType::FiscalYear => "give a fiscal year, e.g. `2025`".to_owned(),
        FieldType::Enum(values) => format!("give one of: {}", values.join(", ")),
    }
}

fn reachable<'a>(
    starts: &[&'a str],
    edges: &[(&'a str, &'a str)],
    reverse: bool,
) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = starts.iter().copied().collect();
    let mut queue: VecDeque<&str> = starts.iter().copied().collect();
    while let Some(stage) = queue.pop_front() {
        for &(from, to) in edges {
            let (a, b) = if reverse { (to, from) } else { (from, to) };
            if a == stage && seen.insert(b) {
                queue.push_back(b);
            }
        }
    }
    seen
}

/// `HH:MM` on a 24-hour clock.
fn parse_time(text: &str) -> Option<Time> {
    let (hour, minute) = text.trim().split_once(':')?;
    if hour.len() != 2 || minute.len() != 2 {
        return None;
    }
    Time::new(hour.parse().ok()?, minute.parse().ok()?, 0, 0).ok()
}

/// `MM-DD`, checked against a non-leap year so the day exists every year.
fn parse_month_day(text: &str) -> Option<(i8, i8)> {
    let (month, day) = text.trim().split_once('-')?;
    if month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (month, day): (i8, i8) = (month.parse().ok()?, day.parse().ok()?);
    Date::new(2025, month, day).ok().map(|_| (month, day))
}

/// `fiscal_year`, `fiscal_year - 1`, `fiscal_year + 2` → the offset in years.
fn parse_year_expression(text: &str) -> Option<i16> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = compact.strip_prefix("fiscal_year")?;
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, number) = match rest.split_at(1) {
        ("+", n) => (1, n),
        ("-", n) => (-1, n),
        _ => return None,
    };
    let number: i16 = number.parse().ok().filter(|n| *n <= 10)?;
    Some(sign * number)
}

/// The known name closest to `name`, if it is close enough to be a typo.
pub(crate) fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// A text given in Indonesian with an optional English version.
fn text_label(id: &str, en: Option<&String>) -> Label {
    Label {
        id: id.to_owned(),
        en: en.cloned(),
    }
}
