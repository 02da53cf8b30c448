//! Workflow and calendar definitions: YAML in, checked core model out.
//!
//! This crate reads definition files, parses them (with serde-saphyr, behind one function in
//! [`parse`]), checks their meaning and reports *every* problem as a [`Diagnostic`] with
//! `file:line:col`, a stable code and a hint. It also draws workflows as diagrams.
//!
//! It must never hand out a workflow that has errors, never panic on any input (hostile
//! input is refused with a diagnostic), and never touch a database or the network; the only
//! IO it does is reading the definition files it is pointed at ([`load`]).

pub mod calendar;
pub mod check;
pub mod diagnostic;
pub mod diff;
pub mod graph;
pub mod load;
pub mod migration;
pub mod parse;
pub mod raw;

pub use calendar::{CalendarFile, load_calendars};
pub use check::check_workflow;
pub use diagnostic::{Code, Diagnostic, Severity};
pub use load::{Bundle, Definition, LoadError, built_in_calendars, load, load_sources};
