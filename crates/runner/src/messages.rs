//! Notification texts: the workflow's templates (`messages:`), or the built-in ones, rendered
//! with MiniJinja in the workflow's language (Indonesian by default) with the case's facts.
//!
//! A template that fails at render time (it compiled at deploy, so this is rare: e.g. a
//! filter applied to the wrong kind of value) falls back to the built-in text, so that a
//! mistake in a template never stops a reminder from going out.

use jiff::Timestamp;
use serde::Serialize;
use swakelola_core::format::{Language, date};
use swakelola_core::state::{LateEntry, Notification, NotificationKind};
use swakelola_store::{CaseRecord, Engine};
use swakelola_view::catalogue;

/// A rendered notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The facts of a notification as the built-in text uses them.
struct Facts<'a> {
    language: Language,
    title: &'a str,
    recipient: &'a str,
    business_key: &'a str,
    case_title: Option<&'a str>,
    workflow: &'a str,
    stage: &'a str,
    /// Who did which transition, for a transition notice.
    transition: Option<(&'a str, &'a str)>,
    deadline: &'a str,
    days_left: i64,
    provisional: bool,
    /// The stage's day that had passed before it began (`10 Desember 2024`), for a
    /// late-entry notice; with `rerouted` when a later window now counts instead.
    passed_at_entry: Option<(&'a str, bool)>,
    time_zone: &'a str,
    missing: &'a [String],
    /// Joint sign-offs begun and not complete: "«Tandatangani kontrak»: «Pimpinan Ormas»".
    awaiting: &'a [(String, String)],
    link: Option<&'a str>,
}

impl Facts<'_> {
    fn text(&self, id: &str, args: &[(&str, &str)]) -> String {
        catalogue::message(self.language, id, args)
    }

    /// `[swakelola] Pengingat: tahap Reviu KAK, tenggat 8 Januari 2025`.
    fn subject(&self) -> String {
        let mut args = vec![("title", self.title), ("stage", self.stage)];
        if self.deadline.is_empty() {
            self.text("notify-subject", &args)
        } else {
            args.push(("deadline", self.deadline));
            self.text("notify-subject-due", &args)
        }
    }

    /// The built-in body: greeting, what and which case, the stage or the transition, the
    /// deadline with the working days left, what is missing and the link.
    fn body(&self) -> String {
        let mut body = self.text("notify-greeting", &[("recipient", self.recipient)]);
        body.push_str("\n\n");
        let case = match self.case_title {
            Some(title) => format!("{} — {title}", self.business_key),
            None => self.business_key.to_owned(),
        };
        body.push_str(&self.text(
            "notify-about",
            &[
                ("title", self.title),
                ("case", &case),
                ("workflow", self.workflow),
            ],
        ));
        body.push_str("\n\n");
        match self.transition {
            Some((by, transition)) => body.push_str(&self.text(
                "notify-transition",
                &[
                    ("by", by),
                    ("transition", transition),
                    ("stage", self.stage),
                ],
            )),
            None => body.push_str(&self.text("notify-stage", &[("stage", self.stage)])),
        }
        body.push('\n');
        if let Some((passed, rerouted)) = self.passed_at_entry {
            body.push_str(&self.text("notify-late-entry", &[("passed", passed)]));
            body.push(' ');
            body.push_str(&self.text(
                if rerouted {
                    "notify-late-entry-window"
                } else {
                    "notify-late-entry-routed"
                },
                &[],
            ));
            body.push('\n');
        }
        if !self.deadline.is_empty() {
            body.push_str(&self.text(
                "notify-due",
                &[("deadline", self.deadline), ("zone", self.time_zone)],
            ));
            let days = self.days_left.unsigned_abs().to_string();
            let when = match self.days_left {
                0 => self.text("notify-today", &[]),
                left if left > 0 => self.text("notify-days-left", &[("days", &days)]),
                _ => self.text("notify-days-late", &[("days", &days)]),
            };
            body.push_str(" — ");
            body.push_str(&when);
            body.push('\n');
            if self.provisional {
                body.push_str(&self.text("notify-provisional", &[]));
                body.push('\n');
            }
        }
        if !self.missing.is_empty() {
            body.push_str(&self.text("notify-missing", &[]));
            body.push('\n');
            for document in self.missing {
                body.push_str(&format!("- {document}\n"));
            }
        }
        for (transition, roles) in self.awaiting {
            body.push_str(&self.text(
                "notify-awaiting",
                &[("transition", transition), ("roles", roles)],
            ));
            body.push('\n');
        }
        if let Some(link) = self.link {
            body.push('\n');
            body.push_str(&self.text("notify-link", &[("link", link)]));
            body.push('\n');
        }
        body
    }
}

/// Where people open a case: `<public_url>/kasus/<business key>`.
pub fn case_link(public_url: &str, business_key: &str) -> String {
    let mut url = public_url.trim_end_matches('/').to_owned();
    url.push_str("/kasus/");
    url.extend(url::form_urlencoded::byte_serialize(
        business_key.as_bytes(),
    ));
    url
}

/// The case's title: its first required text field (`nama_kegiatan`, `judul`), if set.
fn case_title(engine: &Engine, case: &CaseRecord) -> Option<String> {
    engine
        .workflow
        .fields
        .iter()
        .find(|f| f.required && f.field_type == swakelola_core::FieldType::Text)
        .and_then(|f| case.state.fields.get(&f.id))
        .map(ToString::to_string)
}

/// Subject and body of `notification` on `case` for the contact at `recipient`, as of `now`;
/// with `public_url`, a link to the case.
pub fn render(
    engine: &Engine,
    case: &CaseRecord,
    notification: &Notification,
    recipient: &str,
    now: Timestamp,
    public_url: Option<&str>,
) -> Rendered {
    let workflow = &engine.workflow;
    let language = workflow.language;
    let labels = swakelola_view::Labels::new(workflow, language);
    let pick = |label: &swakelola_core::model::Label| labels.text(label);
    // The contact's name; a contact given without one (or with the role id for a name) is
    // greeted by the role's label, never by an id or an address.
    let recipient_name = case
        .parties
        .contacts
        .iter()
        .flat_map(|(role, contacts)| contacts.iter().map(move |c| (role, c)))
        .find(|(_, c)| c.address == recipient)
        .map(|(role, contact)| {
            if contact.name.trim().is_empty() || workflow.role(&contact.name).is_some() {
                workflow
                    .role(role)
                    .map_or_else(|| role.clone(), |r| pick(&r.label))
            } else {
                contact.name.clone()
            }
        })
        .or_else(|| {
            recipient
                .strip_prefix("role:")
                .and_then(|role| workflow.role(role))
                .map(|r| pick(&r.label))
        })
        .unwrap_or_else(|| recipient.to_owned());
    let stage_label = workflow
        .stage(&notification.stage)
        .map_or_else(|| notification.stage.clone(), |s| pick(&s.label));
    let today = engine.calendar.time_zone().to_datetime(now).date();
    let (deadline, days_left) = match &notification.obligation {
        // A stage begun after its day, with no later window: that day is no deadline to
        // count down or up to.
        Some(obligation)
            if notification.kind == NotificationKind::LateEntry
                && matches!(obligation.late_entry(), Some(LateEntry::Routed { .. })) =>
        {
            (String::new(), 0)
        }
        Some(obligation) => (
            date(obligation.due_date, language),
            today
                .until(obligation.due_date)
                .map_or(0, |span| i64::from(span.get_days())),
        ),
        None => (String::new(), 0),
    };
    let missing: Vec<String> = notification
        .missing_documents
        .iter()
        .map(|d| {
            workflow
                .document(d)
                .map_or_else(|| d.clone(), |d| pick(&d.label))
        })
        .collect();
    let title = labels.notification(notification.kind);
    let passed_at_entry = notification
        .obligation
        .as_ref()
        .filter(|_| notification.kind == NotificationKind::LateEntry)
        .and_then(|o| match o.late_entry()? {
            LateEntry::InWindow { passed } => Some((date(passed, language), true)),
            LateEntry::Routed { passed } => Some((date(passed, language), false)),
        });
    let case_title = case_title(engine, case);
    let by = notification.by.clone().unwrap_or_default();
    let link = public_url.map(|url| case_link(url, &case.business_key));
    let workflow_label = pick(&workflow.label);
    let time_zone = swakelola_view::zone_name(&engine.calendar);
    let transition_label = notification
        .transition
        .as_deref()
        .and_then(|t| workflow.transition(t))
        .map(|t| pick(&t.label));
    // Approvals still awaited, while the case is in the stage the notice is about.
    let awaiting: Vec<(String, String)> = if case.state.stage == notification.stage {
        case.state
            .approvals
            .iter()
            .filter_map(|(transition, given)| {
                let t = workflow.transition(transition)?;
                let outstanding: Vec<String> = swakelola_core::step::signers(&case.state, t)
                    .iter()
                    .filter(|s| !given.contains_key(*s))
                    .map(|s| format!("«{}»", labels.signer(s)))
                    .collect();
                (!outstanding.is_empty())
                    .then(|| (format!("«{}»", pick(&t.label)), outstanding.join(", ")))
            })
            .collect()
    } else {
        Vec::new()
    };
    let facts = Facts {
        language,
        title: &title,
        recipient: &recipient_name,
        business_key: &case.business_key,
        case_title: case_title.as_deref(),
        workflow: &workflow_label,
        stage: &stage_label,
        transition: transition_label.as_deref().map(|t| (by.as_str(), t)),
        deadline: &deadline,
        days_left,
        provisional: notification
            .obligation
            .as_ref()
            .is_some_and(|o| o.provisional),
        passed_at_entry: passed_at_entry
            .as_ref()
            .map(|(passed, rerouted)| (passed.as_str(), *rerouted)),
        time_zone: &time_zone,
        missing: &missing,
        awaiting: &awaiting,
        link: link.as_deref(),
    };
    let custom = workflow
        .messages
        .iter()
        .find(|m| m.kind == notification.kind);
    // The workflow's own template when it has one and it renders; the built-in text else. The
    // template's variables are gathered only for a workflow that has templates.
    let context = custom.map(|_| {
        let fields: std::collections::BTreeMap<&str, String> = case
            .state
            .fields
            .iter()
            .map(|(id, value)| (id.as_str(), value.to_string()))
            .collect();
        minijinja::context! {
            title => facts.title,
            kind => notification.kind,
            recipient => facts.recipient,
            case => minijinja::context! {
                id => case.id,
                business_key => case.business_key,
                organisation => case.organisation,
                title => facts.case_title,
            },
            transition => notification.transition.as_deref().map(|id| {
                minijinja::context! { id => id, label => transition_label.as_deref().unwrap_or(id) }
            }),
            by => notification.by,
            link => facts.link,
            workflow => facts.workflow,
            stage => minijinja::context! { id => notification.stage, label => facts.stage },
            deadline => facts.deadline,
            days_left => facts.days_left,
            provisional => facts.provisional,
            passed => facts.passed_at_entry.map(|(passed, _)| passed),
            time_zone => facts.time_zone,
            missing => facts.missing,
            fields => fields,
        }
    });
    let environment = minijinja::Environment::new();
    let render = |template: Option<String>| {
        let context = context.as_ref()?;
        template.and_then(|template| match environment.render_str(&template, context) {
            Ok(text) => Some(text),
            Err(error) => {
                tracing::warn!(workflow = %workflow.id, %error, "a notification template failed; the built-in text was sent instead");
                None
            }
        })
    };
    Rendered {
        // A subject is one line, whatever a template does.
        subject: render(custom.map(|m| pick(&m.subject)))
            .unwrap_or_else(|| facts.subject())
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        body: render(custom.map(|m| pick(&m.body))).unwrap_or_else(|| facts.body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swakelola_core::CaseState;
    use swakelola_core::state::{NotificationKind, Obligation, ObligationSource};
    use swakelola_definition::{CalendarFile, load_sources};
    use swakelola_store::{Contact, Parties};

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

    /// The shipped workflow with `extra` appended to its YAML.
    fn engine(extra: &str) -> Engine {
        let source = std::fs::read_to_string(format!("{ROOT}/workflows/swakelola-tipe-3.yaml"))
            .unwrap()
            + extra;
        let calendars: Vec<CalendarFile> = ["indonesia-2025.yaml", "indonesia-2026.yaml"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(format!("{ROOT}/workflows/calendars/{f}"))
                    .unwrap_or_else(|e| panic!("the shipped calendar {f}: {e}"));
                CalendarFile {
                    file: (*f).to_owned(),
                    text,
                }
            })
            .collect();
        let mut bundle = load_sources(&[("w.yaml".into(), source)], &calendars);
        assert!(!bundle.has_errors(), "{:?}", bundle.diagnostics);
        let definition = bundle.workflows.remove(0);
        let calendar = bundle.calendars.remove("indonesia").unwrap();
        Engine {
            workflow: definition.workflow,
            calendar,
        }
    }

    fn case() -> CaseRecord {
        let opened: Timestamp = "2024-12-10T02:00:00Z".parse().unwrap();
        let mut state = CaseState {
            stage: "penyusunan_kak".into(),
            revision: 3,
            opened_at: opened,
            closed_at: None,
            stage_entered_at: opened,
            stage_entered_revision: 3,
            fields: Default::default(),
            documents: Vec::new(),
            obligations: Default::default(),
            timers: Default::default(),
            records: Default::default(),
            parties: Default::default(),
            approvals: Default::default(),
        };
        state.fields.insert(
            "pagu".into(),
            swakelola_core::value::FieldValue::Rupiah(34_500_000),
        );
        let mut parties = Parties::default();
        parties.contacts.insert(
            "ppk".into(),
            vec![Contact {
                name: "Budi Santoso".into(),
                address: "email:budi@dp3a.example".into(),
            }],
        );
        CaseRecord {
            pending_organisations: Vec::new(),
            id: "0193-case".into(),
            workflow_id: "swakelola-tipe-3".into(),
            workflow_version: 1,
            organisation: "dp3a-palembang".into(),
            business_key: "DP3A-2025-001".into(),
            parties,
            state,
        }
    }

    fn escalation() -> Notification {
        Notification {
            key: "timer:x".into(),
            kind: NotificationKind::Escalation,
            to: vec!["ppk".into()],
            stage: "penyusunan_kak".into(),
            obligation: Some(Obligation {
                key: "deadline:penyusunan_kak:3".into(),
                source: ObligationSource::StageDeadline {
                    stage: "penyusunan_kak".into(),
                },
                due_date: "2024-12-20".parse().unwrap(),
                due_at: "2024-12-20T16:59:59Z".parse().unwrap(),
                overdue: true,
                provisional: false,
                passed_at_entry: None,
            }),
            missing_documents: vec!["kak".into()],
            transition: None,
            by: None,
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_reminder_names_the_approvals_a_joint_sign_off_still_awaits() {
        let mut case = case();
        case.state.stage = "penyusunan_kontrak".into();
        case.state.approvals.insert(
            "tandatangani_kontrak".into(),
            [(
                "ppk".to_owned(),
                swakelola_core::state::Approval {
                    actor: "Budi Santoso".into(),
                    at: at("2025-07-01T02:00:00Z"),
                    comment: None,
                },
            )]
            .into(),
        );
        let mut reminder = escalation();
        reminder.kind = NotificationKind::Reminder;
        reminder.stage = "penyusunan_kontrak".into();
        reminder.missing_documents.clear();
        let text = render(
            &engine(""),
            &case,
            &reminder,
            "role:pimpinan_ormas",
            at("2025-07-02T02:00:00Z"),
            None,
        );
        assert!(
            text.body.contains(
                "Persetujuan bersama «Tandatangani kontrak» masih menunggu: «Pimpinan Ormas»"
            ),
            "{}",
            text.body
        );
        // A notice about another stage says nothing of it.
        reminder.stage = "penyusunan_kak".into();
        let other = render(
            &engine(""),
            &case,
            &reminder,
            "role:pimpinan_ormas",
            at("2025-07-02T02:00:00Z"),
            None,
        );
        assert!(
            !other.body.contains("Persetujuan bersama"),
            "{}",
            other.body
        );
    }

    #[test]
    fn a_late_entry_says_which_day_had_passed_and_chases_nobody() {
        let mut routed = escalation();
        routed.kind = NotificationKind::LateEntry;
        let obligation = routed.obligation.as_mut().unwrap();
        obligation.overdue = false;
        obligation.passed_at_entry = Some("2024-08-31".parse().unwrap());
        obligation.due_date = "2025-06-30".parse().unwrap();
        let text = render(
            &engine(""),
            &case(),
            &routed,
            "email:budi@dp3a.example",
            at("2024-12-10T03:00:00Z"),
            None,
        );
        assert!(
            text.subject
                .starts_with("[swakelola] Tahap dimulai setelah tenggatnya lewat:"),
            "{}",
            text.subject
        );
        assert!(
            text.body.contains(
                "Tanggal 31 Agustus 2024 sudah lewat sebelum tahap ini dimulai, jadi ini bukan keterlambatan siapa pun. Yang kini berlaku adalah jendela berikutnya di bawah ini."
            ),
            "{}",
            text.body
        );
        assert!(text.body.contains("Tenggat: 30 Juni 2025"), "{}", text.body);
        // Without a later window the case is routed, and no count of days late is given.
        let obligation = routed.obligation.as_mut().unwrap();
        obligation.due_date = "2024-08-31".parse().unwrap();
        let text = render(
            &engine(""),
            &case(),
            &routed,
            "email:budi@dp3a.example",
            at("2024-12-10T03:00:00Z"),
            None,
        );
        assert!(
            text.body
                .contains("Kasus dialihkan menurut alur kerja; tidak ada eskalasi."),
            "{}",
            text.body
        );
        assert!(!text.body.contains("Tenggat:"), "{}", text.body);
        assert!(!text.subject.contains(", tenggat"), "{}", text.subject);
        assert!(!text.body.contains("— terlambat"), "{}", text.body);
        // A workflow's own template for it can name the day that had passed.
        let custom = "messages:\n  - kind: late_entry\n    subject: \"Terlambat sejak awal: {{ passed }}\"\n    body: \"{{ stage.label }}\"\n";
        let text = render(
            &engine(custom),
            &case(),
            &routed,
            "email:budi@dp3a.example",
            at("2024-12-10T03:00:00Z"),
            None,
        );
        assert_eq!(text.subject, "Terlambat sejak awal: 31 Agustus 2024");
    }

    #[test]
    fn built_in_indonesian_text_carries_the_case_facts() {
        let text = render(
            &engine(""),
            &case(),
            &escalation(),
            "email:budi@dp3a.example",
            at("2024-12-23T02:00:00Z"),
            None,
        );
        assert_eq!(
            text.subject,
            "[swakelola] Eskalasi: tahap Penyusunan KAK dan RAB, tenggat 20 Desember 2024"
        );
        assert!(text.body.starts_with("Yth. Budi Santoso,"), "{}", text.body);
        assert!(text.body.contains("— terlambat 3 hari"), "{}", text.body);
        assert!(
            text.body.contains("- Kerangka Acuan Kerja (KAK)"),
            "{}",
            text.body
        );
        // Two days before the deadline it counts down instead.
        let early = render(
            &engine(""),
            &case(),
            &escalation(),
            "email:budi@dp3a.example",
            at("2024-12-18T02:00:00Z"),
            None,
        );
        assert!(early.body.contains("— 2 hari lagi"), "{}", early.body);
        // Never a shell command; a link to the case when the pages have an address.
        assert!(!text.body.contains("swakelola case"), "{}", text.body);
        let linked = render(
            &engine(""),
            &case(),
            &escalation(),
            "email:budi@dp3a.example",
            at("2024-12-23T02:00:00Z"),
            Some("https://swakelola.dp3a.example/"),
        );
        assert!(
            linked
                .body
                .contains("Buka kasus: https://swakelola.dp3a.example/kasus/DP3A-2025-001"),
            "{}",
            linked.body
        );
    }

    #[test]
    fn a_contact_without_a_name_is_greeted_by_the_role_label_and_a_transition_says_who() {
        let mut case = case();
        case.parties.contacts.get_mut("ppk").unwrap()[0].name = String::new();
        let notice = Notification {
            kind: NotificationKind::Transitioned,
            transition: Some("serahkan_kak".into()),
            by: Some("Siti Aminah".into()),
            obligation: None,
            ..escalation()
        };
        let text = render(
            &engine(""),
            &case,
            &notice,
            "email:budi@dp3a.example",
            at("2024-12-23T02:00:00Z"),
            None,
        );
        let ppk = engine("").workflow.role("ppk").unwrap().label.id.clone();
        assert!(
            text.body.starts_with(&format!("Yth. {ppk},")),
            "{}",
            text.body
        );
        assert!(
            text.body
                .contains("Siti Aminah menjalankan «Serahkan KAK dan RAB»"),
            "{}",
            text.body
        );
        assert!(!text.body.contains("ppk"), "no role id in: {}", text.body);
    }

    #[test]
    fn english_workflows_use_english_labels_and_text() {
        let text = render(
            &engine("language: en\n"),
            &case(),
            &escalation(),
            "email:someone@else.example",
            at("2024-12-20T02:00:00Z"),
            None,
        );
        assert!(
            text.subject.starts_with("[swakelola] Escalation: stage "),
            "{}",
            text.subject
        );
        assert!(
            text.subject.ends_with("due 20 December 2024"),
            "{}",
            text.subject
        );
        // A contact not in the case is addressed by its address.
        assert!(
            text.body.starts_with("Dear email:someone@else.example,"),
            "{}",
            text.body
        );
        assert!(text.body.contains("— today"), "{}", text.body);
    }

    #[test]
    fn a_workflow_template_replaces_the_built_in_text_and_a_broken_one_falls_back() {
        let custom = "messages:\n  - kind: escalation\n    subject: \"ESKALASI {{ case.business_key }} ({{ fields.pagu }})\"\n    body: \"{% for d in missing %}{{ d }};{% endfor %} {{ days_left }}\"\n";
        let text = render(
            &engine(custom),
            &case(),
            &escalation(),
            "email:budi@dp3a.example",
            at("2024-12-23T02:00:00Z"),
            None,
        );
        assert_eq!(text.subject, "ESKALASI DP3A-2025-001 (Rp34.500.000)");
        assert_eq!(text.body, "Kerangka Acuan Kerja (KAK); -3");
        // Compiles, but fails when rendered (a number is not iterable): the built-in text.
        let broken = "messages:\n  - kind: escalation\n    subject: \"{% for x in days_left %}{{ x }}{% endfor %}\"\n    body: \"ok\"\n";
        let text = render(
            &engine(broken),
            &case(),
            &escalation(),
            "email:budi@dp3a.example",
            at("2024-12-23T02:00:00Z"),
            None,
        );
        assert!(
            text.subject.starts_with("[swakelola] Eskalasi"),
            "{}",
            text.subject
        );
        assert_eq!(text.body, "ok");
    }
}
