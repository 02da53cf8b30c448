//! Store errors as codes and data. The sentences people read are rendered from the message
//! catalogue by `swakelola-view` (in Indonesian or English, with the workflow's labels); the
//! `Display` texts here are the English one-liners for logs.

use swakelola_core::step::Rejection;
use swakelola_definition::Diagnostic;

/// The workflow version a rejection was decided under, so that the edge can name stages,
/// transitions and roles by their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRef {
    pub id: String,
    pub version: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The workflow refused the command; nothing was written.
    #[error("{rejection}")]
    Rejected {
        rejection: Rejection,
        workflow: Option<WorkflowRef>,
    },
    #[error("case `{0}` does not exist")]
    CaseNotFound(String),
    /// The case cannot move onto the migration plan's target version; nothing was written.
    #[error("case `{case_id}` cannot be migrated: {refusal}")]
    MigrationRefused {
        case_id: String,
        refusal: swakelola_core::step::migrate::MigrationRefusal,
    },
    /// A business key or id prefix that fits several cases.
    #[error("`{reference}` fits several cases: {}", .candidates.join(", "))]
    AmbiguousCase {
        reference: String,
        candidates: Vec<String>,
    },
    #[error("workflow `{0}` is not deployed")]
    WorkflowNotFound(String),
    #[error("the workflow has errors and was not deployed:\n{}", render(.0))]
    InvalidWorkflow(Vec<Diagnostic>),
    /// A workflow migration plan with errors; no case was touched.
    #[error("the migration plan has errors:\n{}", render(.0))]
    InvalidPlan(Vec<Diagnostic>),
    #[error("conflict: {0}")]
    Conflict(Conflict),
    #[error("invalid request: {0}")]
    InvalidRequest(Invalid),
    /// One value of the request cannot be stored; `path` names it as the API does
    /// (`parties.ormas`, `contacts.ppk[0].address`, `comment`).
    #[error("`{path}` {problem}")]
    InvalidInput { path: String, problem: InputProblem },
    #[error("document {0} is not stored")]
    DocumentNotFound(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the database is unavailable or refused the request ({0})")]
    Database(#[source] sqlx::Error),
    /// The database is up but refused this statement (a value it cannot hold, a constraint):
    /// a defect or bad data, not an outage, so retrying the same request will not help.
    #[error("the database refused the request ({0})")]
    Query(#[source] sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl From<Rejection> for Error {
    fn from(rejection: Rejection) -> Self {
        Error::Rejected {
            rejection,
            workflow: None,
        }
    }
}

impl Error {
    /// A rejection decided under workflow `id` version `version`.
    pub fn rejected_under(rejection: Rejection, id: &str, version: u32) -> Self {
        Error::Rejected {
            rejection,
            workflow: Some(WorkflowRef {
                id: id.to_owned(),
                version,
            }),
        }
    }
}

/// The request fits the stored state no longer (or never did); reloading may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another writer changed the case between reading and writing it.
    #[error("the case changed at the same time")]
    ChangedMeanwhile,
    /// The caller decided on an older revision of the case.
    #[error("the case is at revision {current}, not {expected}")]
    StaleRevision { current: u64, expected: u64 },
    #[error("business key `{business_key}` is taken by case {case_id} with different parameters")]
    BusinessKeyTaken {
        business_key: String,
        case_id: String,
    },
    #[error("idempotency key `{key}` was used for a different request")]
    IdempotencyKeyReused { key: String },
}

impl Conflict {
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::ChangedMeanwhile => "changed_meanwhile",
            Conflict::StaleRevision { .. } => "stale_revision",
            Conflict::BusinessKeyTaken { .. } => "business_key_taken",
            Conflict::IdempotencyKeyReused { .. } => "idempotency_key_reused",
        }
    }
}

/// A request that cannot be carried out as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("case `{case_id}` has no failed timer `{key}`")]
    NoFailedTimer { case_id: String, key: String },
    #[error("there is no outbox message `{key}`")]
    NoOutboxMessage { key: String },
    #[error("outbox message `{key}` is {state}, not failed")]
    OutboxNotFailed { key: String, state: String },
    #[error("there is no token `{id}`")]
    NoToken { id: String },
    #[error("unsupported database URL `{url}`")]
    UnsupportedDatabaseUrl { url: String },
    #[error("the SQLite database cannot be used ({detail})")]
    UnusableSqlite { detail: String },
    #[error("scratch databases are created on PostgreSQL only")]
    ScratchNeedsPostgres,
    #[error("malformed idempotency key `{key}`")]
    MalformedIdempotencyKey { key: String, max: usize },
    #[error("an attachment needs its content")]
    AttachmentWithoutContent,
    #[error("the document is {bytes} bytes, more than {max}")]
    DocumentTooLarge { bytes: usize, max: usize },
    #[error("the document's size or SHA-256 does not match its content")]
    DocumentMismatch,
    #[error("the file cannot be read: {detail}")]
    UnreadableFile { detail: String },
    #[error("a token needs at least one role")]
    TokenWithoutRole,
    #[error("the expiry is not in the future")]
    ExpiryNotInFuture,
    #[error("no randomness available: {detail}")]
    NoRandomness { detail: String },
    #[error("there is no account with email `{email}`")]
    NoUser { email: String },
    #[error("an account with email `{email}` exists already")]
    EmailTaken { email: String },
    #[error("the link to set a password is unknown, used or expired")]
    LinkNotValid,
    #[error("the password is shorter than {min} characters")]
    PasswordTooShort { min: usize },
    #[error("wrong email or password")]
    SignInRefused,
    #[error("too many failed sign-ins; wait {minutes} minutes")]
    TooManySignIns { minutes: u64 },
    /// A command-line pair (`--field NAME=VALUE`, `--party`, `--contact`) without its `=`.
    #[error("`{text}` is not NAME=VALUE")]
    NotAPair { text: String, option: String },
}

impl Invalid {
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::NoFailedTimer { .. } => "no_failed_timer",
            Invalid::NoOutboxMessage { .. } => "no_outbox_message",
            Invalid::OutboxNotFailed { .. } => "outbox_not_failed",
            Invalid::NoToken { .. } => "no_token",
            Invalid::UnsupportedDatabaseUrl { .. } => "unsupported_database_url",
            Invalid::UnusableSqlite { .. } => "unusable_sqlite",
            Invalid::ScratchNeedsPostgres => "scratch_needs_postgres",
            Invalid::MalformedIdempotencyKey { .. } => "malformed_idempotency_key",
            Invalid::AttachmentWithoutContent => "attachment_without_content",
            Invalid::DocumentTooLarge { .. } => "document_too_large",
            Invalid::DocumentMismatch => "document_mismatch",
            Invalid::UnreadableFile { .. } => "unreadable_file",
            Invalid::TokenWithoutRole => "token_without_role",
            Invalid::ExpiryNotInFuture => "expiry_not_in_future",
            Invalid::NoRandomness { .. } => "no_randomness",
            Invalid::NotAPair { .. } => "not_a_pair",
            Invalid::NoUser { .. } => "no_user",
            Invalid::EmailTaken { .. } => "email_taken",
            Invalid::LinkNotValid => "link_not_valid",
            Invalid::PasswordTooShort { .. } => "password_too_short",
            Invalid::SignInRefused => "sign_in_refused",
            Invalid::TooManySignIns { .. } => "too_many_sign_ins",
        }
    }
}

/// What is wrong with one value of a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputProblem {
    #[error("must not be empty")]
    Empty,
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains the control character U+{code:04X}")]
    ControlCharacter { code: u32 },
    #[error("is not a party of workflow `{workflow}` (parties: {})", .known.join(", "))]
    NotAParty {
        workflow: String,
        known: Vec<String>,
    },
    #[error(
        "a case is opened only as the continuation (`follows`) or replication (`replicates`) of another"
    )]
    NotAnOrigin,
    #[error("takes fields over from an earlier case; name the case it follows or replicates too")]
    CarryWithoutOrigin,
    #[error("is not set on `{business_key}`, so there is nothing to carry over")]
    NotSetOnOrigin { business_key: String },
    #[error(
        "a continuation or replication is linked when its case is opened; link running cases as `related`"
    )]
    OnlyAtOpening,
    #[error("a case cannot be linked to itself")]
    LinkToItself,
    #[error("the two cases are already linked")]
    AlreadyLinked,
    #[error("is not a role of workflow `{workflow}` (roles: {})", .known.join(", "))]
    NotARole {
        workflow: String,
        known: Vec<String>,
    },
    #[error("names coalition members of a party without its lead; name the lead first")]
    NoLead,
    #[error("`{organisation}` is already in party `{party}`")]
    AlreadyMember { organisation: String, party: String },
    #[error("`{entry}` is not a network")]
    NotANetwork { entry: String },
    #[error("{0}")]
    Address(#[from] AddressProblem),
}

/// Why a contact address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressProblem {
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains spaces or control characters")]
    Spaces,
    #[error("`{email}` is not an email address")]
    NotEmail { email: String },
    #[error("`{url}` is not an http(s) URL with a host")]
    NotHttpUrl { url: String },
    #[error("a webhook URL must not carry a user name or password")]
    Credentials,
    #[error("must start with `email:` or `webhook:`")]
    NoScheme,
    #[error("webhooks must use https (`{host}` is {scheme})")]
    NotHttps { host: String, scheme: String },
    #[error("the webhook points to a private, loopback or link-local address")]
    InternalAddress,
}

impl InputProblem {
    pub fn code(&self) -> &'static str {
        match self {
            InputProblem::Empty => "empty",
            InputProblem::TooLong { .. } => "too_long",
            InputProblem::ControlCharacter { .. } => "control_character",
            InputProblem::NotAParty { .. } => "not_a_party",
            InputProblem::NoLead => "no_lead",
            InputProblem::NotAnOrigin => "not_an_origin",
            InputProblem::CarryWithoutOrigin => "carry_without_origin",
            InputProblem::NotSetOnOrigin { .. } => "not_set_on_origin",
            InputProblem::OnlyAtOpening => "only_at_opening",
            InputProblem::LinkToItself => "link_to_itself",
            InputProblem::AlreadyLinked => "already_linked",
            InputProblem::AlreadyMember { .. } => "already_member",
            InputProblem::NotARole { .. } => "not_a_role",
            InputProblem::NotANetwork { .. } => "not_a_network",
            InputProblem::Address(problem) => match problem {
                AddressProblem::TooLong { .. } => "address_too_long",
                AddressProblem::Spaces => "address_spaces",
                AddressProblem::NotEmail { .. } => "not_an_email",
                AddressProblem::NotHttpUrl { .. } => "not_an_http_url",
                AddressProblem::Credentials => "url_credentials",
                AddressProblem::NoScheme => "address_without_scheme",
                AddressProblem::NotHttps { .. } => "not_https",
                AddressProblem::InternalAddress => "internal_address",
            },
        }
    }
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        // A lost race on a unique key (two writers appending the same event number, two
        // opens of one business key) is a conflict the caller can retry, not a failure.
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            return Error::Conflict(Conflict::ChangedMeanwhile);
        }
        // PostgreSQL classes 08 (connection), 53 (insufficient resources) and 57 (operator
        // intervention: shutdown, starting up), SQLite BUSY (5) and LOCKED (6): the server is
        // there but cannot serve now — unavailable, worth retrying.
        if let sqlx::Error::Database(db) = &error
            && db.code().is_some_and(|code| {
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57")
                    || code == "5"
                    || code == "6"
            })
        {
            return Error::Database(error);
        }
        match error {
            // The server answered, and said no to this statement.
            sqlx::Error::Database(_)
            | sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::Encode(_)
            | sqlx::Error::TypeNotFound { .. }
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::ColumnIndexOutOfBounds { .. }
            | sqlx::Error::RowNotFound => Error::Query(error),
            // No answer: the server is down, unreachable or overloaded.
            other => Error::Database(other),
        }
    }
}

impl Error {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Rejected { rejection, .. } => rejection.code(),
            Error::CaseNotFound(_) => "case_not_found",
            Error::MigrationRefused { refusal, .. } => refusal.code(),
            Error::AmbiguousCase { .. } => "ambiguous_case",
            Error::WorkflowNotFound(_) => "workflow_not_found",
            Error::InvalidWorkflow(_) => "invalid_workflow",
            Error::InvalidPlan(_) => "invalid_plan",
            Error::Conflict(_) => "conflict",
            Error::InvalidRequest(_) => "invalid_request",
            Error::InvalidInput { .. } => "invalid_input",
            Error::DocumentNotFound(_) => "document_not_found",
            Error::Corrupt(_) => "corrupt",
            Error::Database(_) => "database_unavailable",
            Error::Query(_) => "database_error",
            Error::Migration(_) => "migration_failed",
        }
    }
}
