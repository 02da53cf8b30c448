//! Refusals and errors as people read them. The core and the store say what went wrong as a
//! code with data ([`Rejection`], [`Error`]); this module turns that into a sentence of the
//! catalogue, naming stages, transitions, roles, documents and fields by their labels when the
//! workflow is known (`«Reviu KAK»`) and by their ids otherwise (`` `reviu_kak` ``).

use swakelola_core::format::Language;
use swakelola_core::model::{Comparison, Condition, Operand};
use swakelola_core::step::migrate::MigrationRefusal;
use swakelola_core::step::{Act, DocumentProblem, GuardFailure, Rejection};
use swakelola_core::value::ValueError;
use swakelola_store::{AddressProblem, Conflict, Error, InputProblem, Invalid};

use crate::{Labels, catalogue};

/// Names things in one language, by label when the workflow is at hand.
#[derive(Debug, Clone, Copy)]
pub struct Names<'w> {
    pub language: Language,
    pub labels: Option<Labels<'w>>,
}

impl<'w> Names<'w> {
    pub fn new(language: Language, labels: Option<Labels<'w>>) -> Self {
        Self { language, labels }
    }

    fn msg(&self, id: &str, args: &[(&str, &str)]) -> String {
        catalogue::message(self.language, id, args)
    }

    fn quote(&self, id: &str, label: impl Fn(&Labels<'w>) -> String) -> String {
        match &self.labels {
            Some(labels) => format!("«{}»", label(labels)),
            None => format!("`{id}`"),
        }
    }

    pub fn stage(&self, id: &str) -> String {
        self.quote(id, |l| l.stage(id).label)
    }

    pub fn transition(&self, id: &str) -> String {
        self.quote(id, |l| l.transition(id).label)
    }

    pub fn role(&self, id: &str) -> String {
        self.quote(id, |l| l.role(id).label)
    }

    pub fn document(&self, id: &str) -> String {
        self.quote(id, |l| l.document(id).label)
    }

    pub fn party(&self, id: &str) -> String {
        self.quote(id, |l| l.party(id).label)
    }

    pub fn field(&self, id: &str) -> String {
        self.quote(id, |l| l.field(id).label)
    }

    pub fn record(&self, id: &str) -> String {
        self.quote(id, |l| l.record(id).label)
    }

    pub fn rule(&self, id: &str) -> String {
        self.quote(id, |l| l.rule(id).label)
    }

    /// What a condition compares with: `«Pagu anggaran»`, `akhir «Tahun anggaran»`.
    pub fn operand(&self, operand: &Operand) -> String {
        match operand {
            Operand::Field(f) => self.field(f),
            Operand::StartOfYear(f) => {
                self.msg("operand-start-of-year", &[("field", &self.field(f))])
            }
            Operand::EndOfYear(f) => self.msg("operand-end-of-year", &[("field", &self.field(f))]),
            Operand::Sum { record, field, .. } => self.msg(
                "operand-sum",
                &[("field", &self.field(&format!("{record}.{field}")))],
            ),
            Operand::Count(record) => {
                self.msg("operand-count", &[("record", &self.record(record))])
            }
        }
    }

    /// A condition in words: `«Nilai kontrak» ≤ «Pagu anggaran»`, `«Pagu anggaran» > Rp0`.
    pub fn condition(&self, condition: &Condition) -> String {
        let field = self.field(&condition.field);
        match (&condition.op, &condition.value, &condition.value_of) {
            (Comparison::IsSet, _, _) => format!("{field} {}", self.msg("condition-is-set", &[])),
            (Comparison::IsUnset, _, _) => {
                format!("{field} {}", self.msg("condition-is-unset", &[]))
            }
            (op, Some(value), _) => {
                let value = match &self.labels {
                    Some(labels) => labels.value(&condition.field, value),
                    None => value.to_string(),
                };
                format!("{field} {} {value}", op.symbol())
            }
            (op, None, Some(operand)) => {
                format!("{field} {} {}", op.symbol(), self.operand(operand))
            }
            (op, None, None) => format!("{field} {}", op.symbol()),
        }
    }

    fn list(&self, items: &[String], name: impl Fn(&str) -> String) -> String {
        if items.is_empty() {
            self.msg("none", &[])
        } else {
            items
                .iter()
                .map(|item| name(item))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// Roles by label (or id), or "(tidak ada)".
    pub fn roles(&self, roles: &[String]) -> String {
        self.list(roles, |r| self.role(r))
    }

    fn plain_list(&self, items: &[String]) -> String {
        self.list(items, |item| format!("`{item}`"))
    }
}

/// What a failed guard still needs, in words.
pub fn guard_failure(names: Names<'_>, failure: &GuardFailure) -> String {
    let language = names.language;
    match failure {
        GuardFailure::MissingDocument { id, .. } => format!(
            "{} {}",
            names.document(id),
            catalogue::message(language, "need-document", &[])
        ),
        GuardFailure::MissingField { id, .. } => format!(
            "{} {}",
            names.field(id),
            catalogue::message(language, "need-field", &[])
        ),
        GuardFailure::CommentRequired => catalogue::message(language, "need-comment", &[]),
        GuardFailure::Condition { condition } => format!(
            "{} {}",
            catalogue::message(language, "need-condition", &[]),
            names.condition(condition)
        ),
    }
}

/// What a role was refused to do, in words.
pub fn act(names: Names<'_>, act: &Act) -> String {
    match act {
        Act::Open => names.msg("act-open", &[]),
        Act::Fire { transition } => {
            names.msg("act-fire", &[("transition", &names.transition(transition))])
        }
        Act::Attach { document } => {
            names.msg("act-attach", &[("document", &names.document(document))])
        }
        Act::SetField { field } => names.msg("act-set-field", &[("field", &names.field(field))]),
        Act::AddRecord { record } => {
            names.msg("act-add-record", &[("record", &names.record(record))])
        }
        Act::SetContacts { role } => names.msg("act-set-contacts", &[("role", &names.role(role))]),
        Act::Link => names.msg("act-link", &[]),
        Act::ChangeMembers { party } => {
            names.msg("act-change-members", &[("party", &names.party(party))])
        }
        Act::FireTimers => names.msg("act-fire-timers", &[]),
        Act::RecomputeDeadlines => names.msg("act-recompute-deadlines", &[]),
    }
}

fn document_problem(names: Names<'_>, problem: DocumentProblem) -> String {
    match problem {
        DocumentProblem::EmptyName => names.msg("document-empty-name", &[]),
        DocumentProblem::NameTooLong => names.msg(
            "document-name-too-long",
            &[(
                "max",
                &swakelola_core::step::MAX_FILE_NAME_CHARS.to_string(),
            )],
        ),
        DocumentProblem::NotAPlainName => names.msg("document-not-a-plain-name", &[]),
        DocumentProblem::EmptyFile => names.msg("document-empty-file", &[]),
        DocumentProblem::BadDigest => names.msg("document-bad-digest", &[]),
    }
}

/// A value that does not fit its field's type, in words.
pub fn value_error(language: Language, error: &ValueError) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
    match error {
        ValueError::EmptyText => msg("value-empty-text", &[]),
        ValueError::TextTooLong => msg(
            "value-text-too-long",
            &[("max", &swakelola_core::value::MAX_TEXT_CHARS.to_string())],
        ),
        ValueError::NotAnInteger(value) => {
            msg("value-not-integer", &[("value", &format!("`{value}`"))])
        }
        ValueError::NotADate(value) => msg("value-not-date", &[("value", &format!("`{value}`"))]),
        ValueError::NotRupiah(value) => {
            msg("value-not-rupiah", &[("value", &format!("`{value}`"))])
        }
        ValueError::NotAFiscalYear(value) => {
            msg("value-not-fiscal-year", &[("value", &format!("`{value}`"))])
        }
        ValueError::NotInEnum { value, allowed } => msg(
            "value-not-in-enum",
            &[
                ("value", &format!("`{value}`")),
                ("allowed", &allowed.join(", ")),
            ],
        ),
    }
}

/// A refusal of the workflow, in words.
pub fn rejection(names: Names<'_>, rejection: &Rejection) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| names.msg(id, args);
    match rejection {
        Rejection::AlreadyOpen => msg("refusal-already-open", &[]),
        Rejection::NotOpened => msg("refusal-not-opened", &[]),
        Rejection::Closed { stage } => msg("refusal-closed", &[("stage", &names.stage(stage))]),
        Rejection::MissingActor => msg("refusal-missing-actor", &[]),
        Rejection::UnknownRole { role, known } => msg(
            "refusal-unknown-role",
            &[
                ("role", &format!("`{role}`")),
                ("known", &names.list(known, |r| names.role(r))),
            ],
        ),
        Rejection::RoleNotAllowed {
            role,
            act: what,
            allowed,
        } => msg(
            "refusal-role-not-allowed",
            &[
                ("role", &names.role(role)),
                ("act", &act(names, what)),
                ("allowed", &names.list(allowed, |r| names.role(r))),
            ],
        ),
        Rejection::UnknownTransition {
            transition,
            stage,
            allowed,
        } => msg(
            "refusal-unknown-transition",
            &[
                ("transition", &format!("`{transition}`")),
                ("stage", &names.stage(stage)),
                ("allowed", &names.list(allowed, |t| names.transition(t))),
            ],
        ),
        Rejection::WrongStage {
            transition,
            stage,
            allowed,
        } => msg(
            "refusal-wrong-stage",
            &[
                ("transition", &names.transition(transition)),
                ("stage", &names.stage(stage)),
                ("allowed", &names.list(allowed, |t| names.transition(t))),
            ],
        ),
        Rejection::GuardsNotMet {
            transition,
            failures,
        } => msg(
            "refusal-guards-not-met",
            &[
                ("transition", &names.transition(transition)),
                (
                    "needs",
                    &failures
                        .iter()
                        .map(|f| guard_failure(names, f))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ],
        ),
        Rejection::CommentTooLong => msg(
            "refusal-comment-too-long",
            &[("max", &swakelola_core::step::MAX_COMMENT_CHARS.to_string())],
        ),
        Rejection::UnknownDocumentType {
            document_type,
            known,
        } => msg(
            "refusal-unknown-document-type",
            &[
                ("document", &format!("`{document_type}`")),
                ("known", &names.list(known, |d| names.document(d))),
            ],
        ),
        Rejection::InvalidDocument { problem } => msg(
            "refusal-invalid-document",
            &[("problem", &document_problem(names, *problem))],
        ),
        Rejection::UnknownField { field, known } => msg(
            "refusal-unknown-field",
            &[
                ("field", &format!("`{field}`")),
                ("known", &names.list(known, |f| names.field(f))),
            ],
        ),
        Rejection::DuplicateField { field } => {
            msg("refusal-duplicate-field", &[("field", &names.field(field))])
        }
        Rejection::AlreadyApproved { transition, role } => msg(
            "refusal-already-approved",
            &[
                ("role", &names.role(role)),
                ("transition", &names.transition(transition)),
            ],
        ),
        Rejection::UnknownParty { party, known } => msg(
            "refusal-unknown-party",
            &[
                ("party", &format!("`{party}`")),
                ("known", &names.list(known, |p| names.party(p))),
            ],
        ),
        Rejection::MembersFixed { party } => {
            msg("refusal-members-fixed", &[("party", &names.party(party))])
        }
        Rejection::ReasonRequired => msg("refusal-reason-required", &[]),
        Rejection::AlreadyMember {
            party,
            organisation,
        } => msg(
            "refusal-already-member",
            &[
                ("organisation", &format!("`{organisation}`")),
                ("party", &names.party(party)),
            ],
        ),
        Rejection::NotAMember {
            party,
            organisation,
        } => msg(
            "refusal-not-a-member",
            &[
                ("organisation", &format!("`{organisation}`")),
                ("party", &names.party(party)),
            ],
        ),
        Rejection::LeadStays {
            party,
            organisation,
        } => msg(
            "refusal-lead-stays",
            &[
                ("organisation", &format!("`{organisation}`")),
                ("party", &names.party(party)),
            ],
        ),
        Rejection::OrganisationNeeded { party, transition } => msg(
            "refusal-organisation-needed",
            &[
                ("party", &names.party(party)),
                ("transition", &names.transition(transition)),
            ],
        ),
        Rejection::NotASigner {
            party,
            organisation,
            transition,
        } => msg(
            "refusal-not-a-signer",
            &[
                ("organisation", &format!("`{organisation}`")),
                ("party", &names.party(party)),
                ("transition", &names.transition(transition)),
            ],
        ),
        Rejection::NotJoint { transition } => msg(
            "refusal-not-joint",
            &[("transition", &names.transition(transition))],
        ),
        Rejection::UnknownRecord { record, known } => msg(
            "refusal-unknown-record",
            &[
                ("record", &format!("`{record}`")),
                ("known", &names.list(known, |r| names.record(r))),
            ],
        ),
        Rejection::RuleBroken { rule, condition } => msg(
            "refusal-rule-broken",
            &[
                ("rule", &names.rule(rule)),
                ("condition", &names.condition(condition)),
            ],
        ),
        Rejection::InvalidFieldValue { field, error } => msg(
            "refusal-invalid-field-value",
            &[
                ("field", &names.field(field)),
                ("problem", &value_error(names.language, error)),
            ],
        ),
        Rejection::MissingRequiredFields { fields } => msg(
            "refusal-missing-required-fields",
            &[("fields", &names.list(fields, |f| names.field(f)))],
        ),
        Rejection::TimerNotPending { key } => {
            msg("refusal-timer-not-pending", &[("key", &format!("`{key}`"))])
        }
        Rejection::TimerNotDue { key, due_at } => msg(
            "refusal-timer-not-due",
            &[("key", &format!("`{key}`")), ("due", &due_at.to_string())],
        ),
        Rejection::DateOutOfRange => msg("refusal-date-out-of-range", &[]),
        Rejection::NothingToRecompute => msg("refusal-nothing-to-recompute", &[]),
    }
}

/// What is wrong with one value of a request, in words (without its path).
pub fn input_problem(names: Names<'_>, problem: &InputProblem) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| names.msg(id, args);
    match problem {
        InputProblem::Empty => msg("input-empty", &[]),
        InputProblem::TooLong { max } => msg("input-too-long", &[("max", &max.to_string())]),
        InputProblem::ControlCharacter { code } => msg(
            "input-control-character",
            &[("code", &format!("{code:04X}"))],
        ),
        InputProblem::NotAParty { workflow, known } => msg(
            "input-not-a-party",
            &[
                ("workflow", &format!("`{workflow}`")),
                ("known", &names.plain_list(known)),
            ],
        ),
        InputProblem::NoLead => msg("input-no-lead", &[]),
        InputProblem::NotAnOrigin => msg("input-not-an-origin", &[]),
        InputProblem::CarryWithoutOrigin => msg("input-carry-without-origin", &[]),
        InputProblem::NotSetOnOrigin { business_key } => msg(
            "input-not-set-on-origin",
            &[("case", &format!("`{business_key}`"))],
        ),
        InputProblem::OnlyAtOpening => msg("input-only-at-opening", &[]),
        InputProblem::LinkToItself => msg("input-link-to-itself", &[]),
        InputProblem::AlreadyLinked => msg("input-already-linked", &[]),
        InputProblem::AlreadyMember {
            organisation,
            party,
        } => msg(
            "input-already-member",
            &[
                ("organisation", &format!("`{organisation}`")),
                ("party", &names.party(party)),
            ],
        ),
        InputProblem::NotARole { workflow, known } => msg(
            "input-not-a-role",
            &[
                ("workflow", &format!("`{workflow}`")),
                ("known", &names.plain_list(known)),
            ],
        ),
        InputProblem::NotANetwork { entry } => {
            msg("input-not-a-network", &[("entry", &format!("`{entry}`"))])
        }
        InputProblem::Address(problem) => address_problem(names.language, problem),
    }
}

/// Why a contact address cannot be used, in words.
pub fn address_problem(language: Language, problem: &AddressProblem) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
    match problem {
        AddressProblem::TooLong { max } => msg("address-too-long", &[("max", &max.to_string())]),
        AddressProblem::Spaces => msg("address-spaces", &[]),
        AddressProblem::NotEmail { email } => {
            msg("address-not-email", &[("email", &format!("`{email}`"))])
        }
        AddressProblem::NotHttpUrl { url } => {
            msg("address-not-http-url", &[("url", &format!("`{url}`"))])
        }
        AddressProblem::Credentials => msg("address-credentials", &[]),
        AddressProblem::NoScheme => msg("address-no-scheme", &[]),
        AddressProblem::NotHttps { host, scheme } => msg(
            "address-not-https",
            &[("host", &format!("`{host}`")), ("scheme", scheme)],
        ),
        AddressProblem::InternalAddress => msg("address-internal", &[]),
    }
}

fn conflict(names: Names<'_>, conflict: &Conflict) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| names.msg(id, args);
    match conflict {
        Conflict::ChangedMeanwhile => msg("conflict-changed-meanwhile", &[]),
        Conflict::StaleRevision { current, expected } => msg(
            "conflict-stale-revision",
            &[
                ("current", &current.to_string()),
                ("expected", &expected.to_string()),
            ],
        ),
        Conflict::BusinessKeyTaken {
            business_key,
            case_id,
        } => msg(
            "conflict-business-key-taken",
            &[("key", &format!("`{business_key}`")), ("case", case_id)],
        ),
        Conflict::IdempotencyKeyReused { key } => msg(
            "conflict-idempotency-key-reused",
            &[("key", &format!("`{key}`"))],
        ),
    }
}

fn invalid(names: Names<'_>, invalid: &Invalid) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| names.msg(id, args);
    let quoted = |text: &str| format!("`{text}`");
    match invalid {
        Invalid::NoFailedTimer { case_id, key } => msg(
            "invalid-no-failed-timer",
            &[("case", &quoted(case_id)), ("key", &quoted(key))],
        ),
        Invalid::NoOutboxMessage { key } => {
            msg("invalid-no-outbox-message", &[("key", &quoted(key))])
        }
        Invalid::OutboxNotFailed { key, state } => msg(
            "invalid-outbox-not-failed",
            &[("key", &quoted(key)), ("state", state)],
        ),
        Invalid::NoToken { id } => msg("invalid-no-token", &[("id", &quoted(id))]),
        Invalid::UnsupportedDatabaseUrl { url } => {
            msg("invalid-unsupported-database-url", &[("url", &quoted(url))])
        }
        Invalid::UnusableSqlite { detail } => msg("invalid-unusable-sqlite", &[("detail", detail)]),
        Invalid::ScratchNeedsPostgres => msg("invalid-scratch-needs-postgres", &[]),
        Invalid::MalformedIdempotencyKey { key, max } => msg(
            "invalid-malformed-idempotency-key",
            &[("key", &quoted(key)), ("max", &max.to_string())],
        ),
        Invalid::AttachmentWithoutContent => msg("invalid-attachment-without-content", &[]),
        Invalid::DocumentTooLarge { bytes, max } => msg(
            "invalid-document-too-large",
            &[("bytes", &bytes.to_string()), ("max", &max.to_string())],
        ),
        Invalid::DocumentMismatch => msg("invalid-document-mismatch", &[]),
        Invalid::UnreadableFile { detail } => msg("invalid-unreadable-file", &[("detail", detail)]),
        Invalid::TokenWithoutRole => msg("invalid-token-without-role", &[]),
        Invalid::ExpiryNotInFuture => msg("invalid-expiry-not-in-future", &[]),
        Invalid::NoRandomness { detail } => msg("invalid-no-randomness", &[("detail", detail)]),
        Invalid::NoUser { email } => msg("invalid-no-user", &[("email", &quoted(email))]),
        Invalid::EmailTaken { email } => msg("invalid-email-taken", &[("email", &quoted(email))]),
        Invalid::LinkNotValid => msg("invalid-link-not-valid", &[]),
        Invalid::PasswordTooShort { min } => {
            msg("invalid-password-too-short", &[("min", &min.to_string())])
        }
        Invalid::SignInRefused => msg("invalid-sign-in-refused", &[]),
        Invalid::TooManySignIns { minutes } => msg(
            "invalid-too-many-sign-ins",
            &[("minutes", &minutes.to_string())],
        ),
        Invalid::NotAPair { text, option } => msg(
            "invalid-not-a-pair",
            &[("text", &quoted(text)), ("option", option)],
        ),
    }
}

/// An error of the store or a front end, in words. `names.labels` should be the workflow the
/// error was decided under (see [`Error::Rejected`]'s `workflow`), when it can be loaded.
pub fn error(names: Names<'_>, error: &Error) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| names.msg(id, args);
    match error {
        Error::Rejected { rejection: r, .. } => rejection(names, r),
        Error::CaseNotFound(case) => msg("error-case-not-found", &[("case", &format!("`{case}`"))]),
        Error::MigrationRefused { case_id, refusal } => msg(
            "error-migration-refused",
            &[
                ("case", &format!("`{case_id}`")),
                ("reason", &migration_refusal(names, refusal)),
            ],
        ),
        Error::AmbiguousCase {
            reference,
            candidates,
        } => msg(
            "error-ambiguous-case",
            &[
                ("reference", &format!("`{reference}`")),
                ("candidates", &candidates.join(", ")),
            ],
        ),
        Error::WorkflowNotFound(workflow) => msg(
            "error-workflow-not-found",
            &[("workflow", &format!("`{workflow}`"))],
        ),
        Error::InvalidWorkflow(diagnostics) => {
            let mut text = msg("error-invalid-workflow", &[]);
            for diagnostic in diagnostics.iter().filter(|d| d.is_error()) {
                text.push('\n');
                text.push_str(&diagnostic.to_string());
            }
            text
        }
        Error::InvalidPlan(diagnostics) => {
            let mut text = msg("migrate-plan-invalid", &[]);
            for diagnostic in diagnostics.iter().filter(|d| d.is_error()) {
                text.push('\n');
                text.push_str(&diagnostic.to_string());
            }
            text
        }
        Error::Conflict(c) => conflict(names, c),
        Error::InvalidRequest(i) => invalid(names, i),
        Error::InvalidInput { path, problem } => msg(
            "error-input",
            &[
                ("path", &format!("`{path}`")),
                ("problem", &input_problem(names, problem)),
            ],
        ),
        Error::DocumentNotFound(document) => {
            msg("error-document-not-found", &[("document", document)])
        }
        Error::Corrupt(detail) => msg("error-corrupt", &[("detail", detail)]),
        Error::Database(detail) => msg("error-database", &[("detail", &detail.to_string())]),
        Error::Query(detail) => msg("error-query", &[("detail", &detail.to_string())]),
        Error::Migration(detail) => msg("error-migration", &[("detail", &detail.to_string())]),
    }
}

/// Why one case cannot move onto a migration's target version, in words. `names` are those
/// of the target version when it can be loaded.
pub fn migration_refusal(names: Names<'_>, refusal: &MigrationRefusal) -> String {
    let msg = |id: &str, args: &[(&str, &str)]| names.msg(id, args);
    match refusal {
        MigrationRefusal::Closed => msg("migrate-closed", &[]),
        MigrationRefusal::StageNotInTarget { stage } => msg(
            "migrate-stage-not-in-target",
            &[("stage", &format!("`{stage}`"))],
        ),
        MigrationRefusal::TerminalTarget { stage } => {
            msg("migrate-terminal-target", &[("stage", &names.stage(stage))])
        }
        MigrationRefusal::FieldTypeChanged { field, to, .. } => msg(
            "migrate-field-type-changed",
            &[("field", &names.field(field)), ("type", to)],
        ),
        MigrationRefusal::InvalidDefault { field, error } => msg(
            "migrate-invalid-default",
            &[
                ("field", &names.field(field)),
                ("reason", &value_error(names.language, error)),
            ],
        ),
        MigrationRefusal::UnknownDefault { field } => msg(
            "migrate-unknown-default",
            &[("field", &format!("`{field}`"))],
        ),
        MigrationRefusal::PartyNotInTarget { party } => msg(
            "migrate-party-not-in-target",
            &[("party", &format!("`{party}`"))],
        ),
        MigrationRefusal::DateOutOfRange => msg("migrate-date-out-of-range", &[]),
    }
}
