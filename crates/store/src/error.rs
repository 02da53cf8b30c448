//! Store errors: each says what went wrong and what to do next.

use swakelola_core::step::Rejection;
use swakelola_definition::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The workflow refused the command; nothing was written.
    #[error("{0}")]
    Rejected(#[from] Rejection),
    #[error("case `{0}` does not exist; check the id or business key with `swakelola case list`")]
    CaseNotFound(String),
    /// A business key or id prefix that fits several cases.
    #[error("`{reference}` fits several cases: {}; give the full id", .candidates.join(", "))]
    AmbiguousCase {
        reference: String,
        candidates: Vec<String>,
    },
    #[error("workflow `{0}` is not deployed; deploy it with `swakelola workflow deploy <file>`")]
    WorkflowNotFound(String),
    #[error("the workflow has errors and was not deployed:\n{}", render(.0))]
    InvalidWorkflow(Vec<Diagnostic>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// One value of the request cannot be stored; `path` names it as the API does
    /// (`parties.ormas`, `contacts.ppk[0].address`, `comment`).
    #[error("`{path}` {message}")]
    InvalidInput { path: String, message: String },
    #[error("document {0} is not stored")]
    DocumentNotFound(String),
    #[error("stored data is corrupt: {0}; run `swakelola case verify` and restore from a backup")]
    Corrupt(String),
    #[error(
        "the database is unavailable or refused the request ({0}); check `--database-url` / SWAKELOLA_DATABASE_URL and that the server is running"
    )]
    Database(#[source] sqlx::Error),
    /// The database is up but refused this statement (a value it cannot hold, a constraint):
    /// a defect or bad data, not an outage, so retrying the same request will not help.
    #[error("the database refused the request ({0}); this is a defect — report it with the log")]
    Query(#[source] sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
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
            return Error::Conflict(
                "another request changed this case at the same time; reload it and try again"
                    .into(),
            );
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
            Error::Rejected(rejection) => rejection.code(),
            Error::CaseNotFound(_) => "case_not_found",
            Error::AmbiguousCase { .. } => "ambiguous_case",
            Error::WorkflowNotFound(_) => "workflow_not_found",
            Error::InvalidWorkflow(_) => "invalid_workflow",
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
