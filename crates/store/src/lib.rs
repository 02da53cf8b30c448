//! Durable cases: deployed workflow versions, cases, their append-only hash-chained history,
//! documents, timers and the notification outbox — and the HTTP API's tokens and the
//! organisations each case is visible to — on SQLite (the embedded default) or PostgreSQL.
//!
//! Every command is one database transaction: load the case, run `swakelola_core::step`
//! with the caller's `now`, append the event, update the case only if its revision is
//! unchanged, replace its timers, insert outbox rows — all or nothing. A runner's claimed
//! batch of due timers is one transaction too (`fire_timers`), and a workflow migration one
//! transaction per case (`run_migration`), both decided by the core. This crate never
//! decides a transition itself, never reads the wall clock (callers pass `now`) and never
//! does network IO inside a write transaction.

mod error;
mod hash;
pub mod input;
mod links;
mod lookup;
mod parties;
pub mod people;
mod records;
mod sql;
mod tokens;
mod work;

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use swakelola_core::step::Action;
use swakelola_core::{Actor, CaseState, Event};

pub use error::{AddressProblem, Conflict, Error, InputProblem, Invalid, WorkflowRef};
pub use hash::{random_secret, sha256_hex};
pub use lookup::MIN_ID_PREFIX;
pub use parties::Invitation;
pub use sql::migration::{CaseMigrated, CheckedPlan, MigrationCandidate, MigrationMode};
pub use sql::{Dialect, SqlStore};
pub use tokens::{ADMIN_ROLE, ApiToken, OPERATOR_ROLE, TOKEN_PREFIX, TokenRefused};
pub use work::{ClaimedTimer, Fired, OutboxMessage, TimerRecord};

pub type Result<T> = std::result::Result<T, Error>;

/// Largest document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 25 * 1024 * 1024;
/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// A deployed workflow version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployedWorkflow {
    pub id: String,
    pub version: u32,
    pub content_hash: String,
    pub deployed_at: Timestamp,
}

/// What `deploy` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub workflow: DeployedWorkflow,
    /// `false` when identical content was already deployed (nothing was written).
    pub created: bool,
    /// Open cases whose pending deadlines moved because the calendars changed.
    pub rescheduled: u64,
}

/// The sides of a partnership and how to reach the people in each role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parties {
    /// Party id (e.g. `instansi`, `ormas`, `fasilitator`) → organisation id; for a coalition,
    /// its lead organisation.
    pub organisations: BTreeMap<String, String>,
    /// Party id → the coalition's other member organisations, besides the lead.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<String, Vec<String>>,
    /// Role → contacts.
    pub contacts: BTreeMap<String, Vec<Contact>>,
}

impl Parties {
    /// Names `organisation` in `party`: the first organisation named leads it, every
    /// further one joins as a member (naming one twice changes nothing).
    pub fn name(&mut self, party: &str, organisation: &str) {
        match self.organisations.get(party) {
            None => {
                self.organisations
                    .insert(party.to_owned(), organisation.to_owned());
            }
            Some(lead) if lead == organisation => {}
            Some(_) => {
                let members = self.members.entry(party.to_owned()).or_default();
                if !members.iter().any(|m| m == organisation) {
                    members.push(organisation.to_owned());
                }
            }
        }
    }

    /// The organisations of `party`, its lead first.
    pub fn organisations_of<'a>(&'a self, party: &str) -> impl Iterator<Item = &'a str> {
        self.organisations
            .get(party)
            .map(String::as_str)
            .into_iter()
            .chain(
                self.members
                    .get(party)
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            )
    }

    /// Whether `organisation` belongs to `party` (as its lead or a member).
    pub fn has_member(&self, party: &str, organisation: &str) -> bool {
        self.organisations_of(party).any(|o| o == organisation)
    }

    /// Every organisation named in any party (leads and members), each once, sorted.
    pub fn all_organisations(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .organisations
            .values()
            .chain(self.members.values().flatten())
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The parties of lists of organisations, lead first (the core's form), without contacts.
    pub fn from_lists(lists: &BTreeMap<String, Vec<String>>) -> Self {
        let mut parties = Parties::default();
        for (party, organisations) in lists {
            for organisation in organisations {
                parties.name(party, organisation);
            }
        }
        parties
    }

    /// Each party's organisations, lead first: what the core keeps of them.
    pub fn as_lists(&self) -> BTreeMap<String, Vec<String>> {
        self.organisations
            .keys()
            .map(|party| {
                (
                    party.clone(),
                    self.organisations_of(party).map(str::to_owned).collect(),
                )
            })
            .collect()
    }

    /// The parties `organisation` belongs to, as lead or member.
    pub fn parties_of(&self, organisation: &str) -> Vec<String> {
        self.organisations
            .keys()
            .filter(|party| self.has_member(party, organisation))
            .cloned()
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    /// `email:someone@example.org` or `webhook:https://…`.
    pub address: String,
}

/// A request to open a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenCase {
    pub workflow_id: String,
    /// The organisation opening the case; business keys are unique per workflow and
    /// organisation.
    pub organisation: String,
    pub business_key: String,
    pub actor: Actor,
    pub fields: Vec<(String, String)>,
    pub parties: Parties,
    /// The case this one continues or replicates, and what it takes over from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// Where a new case comes from: next year's partnership `follows` this year's; another
/// agency's `replicates` a template case. The new case is linked to it (visible from both), and
/// takes over the `carry` fields it is not given, and — when it follows and names no parties —
/// its parties and contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub link: swakelola_core::LinkKind,
    /// The earlier case's id (resolved by the caller, who may see it).
    pub case_id: String,
    pub carry: Vec<String>,
}

/// A link between two cases, seen from one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLink {
    pub link: swakelola_core::LinkKind,
    /// `true` when the case looked at links to `case` (it follows `case`); `false` when
    /// `case` links to it (`case` follows it).
    pub outgoing: bool,
    pub case: CaseRecord,
}

/// A partnership over the years: the chain of cases each following the one before, oldest
/// first, and the cases replicating any of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub chain: Vec<CaseRecord>,
    pub replications: Vec<CaseRecord>,
}

/// A command on an existing case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCommand {
    pub case_id: String,
    pub actor: Actor,
    pub action: Action,
    /// Refuse with a conflict unless the case is still at this revision.
    pub expected_revision: Option<u64>,
    /// A retried request with the same key is applied once.
    pub idempotency_key: Option<String>,
    /// The bytes of an attached document (for [`Action::Attach`]).
    pub content: Option<Vec<u8>>,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRecord {
    pub id: String,
    pub workflow_id: String,
    pub workflow_version: u32,
    pub organisation: String,
    pub business_key: String,
    pub parties: Parties,
    pub state: CaseState,
    /// Organisations named as parties that have not accepted yet: they see nothing of the
    /// case and cannot act on it until one of their staff accepts.
    pub pending_organisations: Vec<String>,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub case: CaseRecord,
    /// `None` when an identical earlier request was replayed (nothing was written).
    pub event: Option<Event>,
    /// `false` for a replay of an earlier request or an already open case.
    pub created: bool,
}

/// One entry of a case's history as stored, with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    pub event: Event,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of recomputing a case's hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub events: u64,
    /// The first event whose stored content or hash does not match the chain.
    pub first_tampered: Option<u64>,
}

/// Until when a deadline of a workflow version counts as "soon" (its calendar decides how
/// many working days that is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoonUntil {
    pub workflow_id: String,
    pub workflow_version: u32,
    pub until: Timestamp,
}

/// Open cases of an organisation by urgency, counted by the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UrgencyCounts {
    pub overdue: u64,
    pub soon: u64,
    pub open: u64,
}

/// Filters for listing cases.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub workflow_id: Option<String>,
    pub stage: Option<String>,
    pub organisation: Option<String>,
    pub fiscal_year: Option<i16>,
    /// Only cases with an obligation past due at this instant.
    pub overdue_at: Option<Timestamp>,
    /// Only cases where this organisation is a party (the opener or a named party).
    pub visible_to: Option<String>,
    /// Only cases whose business key, opening organisation or field values (a title, the
    /// Ormas's name) contain this text, ignoring case.
    pub text: Option<String>,
    /// Only cases listed after this case id (keyset pagination).
    pub after: Option<String>,
    pub limit: u32,
}

/// The persistence of cases. Both the SQLite and the PostgreSQL store implement it and pass
/// the same conformance suite.
#[async_trait]
pub trait Store: Send + Sync {
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<()>;
    /// Stores a new workflow version (validated first) with the calendars it uses; identical
    /// content is a no-op.
    async fn deploy(
        &self,
        file: &str,
        source: &str,
        calendars: &[(String, String)],
        now: Timestamp,
    ) -> Result<Deployment>;
    async fn workflows(&self) -> Result<Vec<DeployedWorkflow>>;
    /// Opens a case, or returns the existing one for the same business key and parameters.
    async fn open(&self, request: &OpenCase, now: Timestamp) -> Result<Applied>;
    /// Applies one command in one transaction.
    async fn execute(&self, command: &CaseCommand, now: Timestamp) -> Result<Applied>;
    async fn case(&self, id: &str) -> Result<CaseRecord>;
    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRecord>>;
    /// The open cases `organisation` takes part in, most urgent first: by the due instant of
    /// their earliest open obligation (overdue ones first), cases with nothing due last, then
    /// by id; `offset` and `limit` page through them. Served by an index, so it costs the
    /// same with ten cases or ten thousand.
    async fn cases_by_urgency(
        &self,
        organisation: &str,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<CaseRecord>>;
    /// How many of the open cases `organisation` takes part in are overdue at `now`, due
    /// before their workflow version's entry in `soon_until` (cases of a version not listed
    /// are never "soon"), and open at all.
    async fn urgency_counts(
        &self,
        organisation: &str,
        now: Timestamp,
        soon_until: &[SoonUntil],
    ) -> Result<UrgencyCounts>;
    async fn history(&self, id: &str) -> Result<Vec<StoredEvent>>;
    async fn verify(&self, id: &str) -> Result<Verification>;
    /// The bytes of a document by its SHA-256.
    async fn document(&self, sha256: &str) -> Result<Vec<u8>>;
    /// The deployed workflow and calendar a case runs on.
    async fn engine_for(&self, workflow_id: &str, version: u32) -> Result<std::sync::Arc<Engine>>;
}

/// A deployed workflow version with the calendar it counts working days with.
#[derive(Debug)]
pub struct Engine {
    pub workflow: swakelola_core::Workflow,
    pub calendar: swakelola_core::Calendar,
}
