//! The pure heart of swakelola: the workflow model, the working-day calendar and the
//! case state machine.
//!
//! Everything that decides what a case may do next lives here, in one function:
//! [`step`]`(workflow, case state, command, now, calendar) → Ok(outcome) | Err(rejection)`.
//! Callers (the store, the CLI, the runner, the HTTP API) only load state, call [`step`]
//! and persist the [`Outcome`] it returns.
//!
//! This crate must never do IO, never be async and never read a clock: `now` is always
//! an argument, time zones arrive as values, and nothing here depends on tokio or sqlx.
//! That keeps every rule deterministic and testable with fixed inputs.

pub mod calendar;
pub mod duration;
pub mod format;
pub mod model;
pub mod state;
pub mod step;
pub mod value;

pub use calendar::{Calendar, Holiday, HolidayKind};
pub use duration::Duration;
pub use model::Workflow;
pub use state::{Actor, CaseState, Event, EventKind, LinkKind, Notification, Obligation, Timer};
pub use step::{Action, Command, Outcome, Rejection, step};
pub use value::{FieldType, FieldValue};
