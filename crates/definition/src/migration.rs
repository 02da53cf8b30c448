//! Migration plans: how an administrator moves running cases from one deployed version of a
//! workflow to another.
//!
//! A plan is a small YAML file ([`raw::Plan`]). [`check_plan`] checks it against the
//! versions it names — every source stage has a place in the target, mapped stages exist,
//! fields keep fitting their types or have defaults — and reports problems like workflow
//! diagnostics (`file:line:col`, stable codes from `docs/diagnostics.md`). It touches no
//! case: what happens to each case is [`swakelola_core::step::migrate::migrate_case`]'s.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Location;
use swakelola_core::Workflow;
use swakelola_core::step::migrate::{DeadlinePolicy, MigrationRules};

use crate::diagnostic::{Code, Diagnostic};
use crate::parse::parse_reporting_all;

/// The plan as written.
pub mod raw {
    use serde::Deserialize;

    use crate::raw::S;

    #[derive(Debug, Deserialize)]
    pub struct Plan {
        /// The plan's name, recorded in every migrated case's history.
        pub migration: S<String>,
        pub workflow: S<String>,
        /// The source versions.
        pub from: S<Vec<u32>>,
        /// The target version.
        pub to: S<u32>,
        /// `recompute` (default) or `keep`.
        pub deadlines: Option<S<String>>,
        #[serde(default)]
        pub stages: Vec<StageMapping>,
        #[serde(default)]
        pub defaults: Vec<FieldDefault>,
        #[serde(default)]
        pub cases: Option<Selection>,
    }

    #[derive(Debug, Deserialize)]
    pub struct StageMapping {
        pub from: S<String>,
        pub to: S<String>,
    }

    #[derive(Debug, Deserialize)]
    pub struct FieldDefault {
        pub field: S<String>,
        /// As people type it: `Rp34.500.000`, `2026-03-31`, `2027`.
        pub value: S<String>,
    }

    #[derive(Debug, Default, Deserialize)]
    pub struct Selection {
        #[serde(default)]
        pub stages: Vec<S<String>>,
        #[serde(default)]
        pub fiscal_years: Vec<i64>,
        #[serde(default)]
        pub organisations: Vec<String>,
        #[serde(default)]
        pub business_keys: Vec<String>,
    }
}

/// A checked plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub workflow: String,
    pub from: Vec<u32>,
    /// What each case's move needs: the target version, the stage mapping, the defaults and
    /// the deadline policy.
    pub rules: MigrationRules,
    pub selection: Selection,
}

/// Which open cases a plan takes; an empty list does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub stages: Vec<String>,
    pub fiscal_years: Vec<i64>,
    pub organisations: Vec<String>,
    pub business_keys: Vec<String>,
}

impl Selection {
    /// Whether a case in `stage`, of `fiscal_year`, led by `organisation`, known as
    /// `business_key`, is one the plan takes.
    pub fn takes(
        &self,
        stage: &str,
        fiscal_year: Option<i64>,
        organisation: &str,
        business_key: &str,
    ) -> bool {
        (self.stages.is_empty() || self.stages.iter().any(|s| s == stage))
            && (self.fiscal_years.is_empty()
                || fiscal_year.is_some_and(|y| self.fiscal_years.contains(&y)))
            && (self.organisations.is_empty()
                || self.organisations.iter().any(|o| o == organisation))
            && (self.business_keys.is_empty()
                || self.business_keys.iter().any(|k| k == business_key))
    }
}

/// Reads a plan's text; the versions it names are known only once it parses.
pub fn parse_plan(file: &str, text: &str) -> (Option<raw::Plan>, Vec<Diagnostic>) {
    parse_reporting_all::<raw::Plan>(file, text)
}

/// Checks `plan` (from `file`) against the deployed versions of its workflow (`deployed`,
/// by version). Returns the checked plan when there is no error, and every diagnostic.
pub fn check_plan(
    file: &str,
    plan: &raw::Plan,
    deployed: &BTreeMap<u32, &Workflow>,
) -> (Option<Plan>, Vec<Diagnostic>) {
    let mut checker = PlanChecker {
        file,
        diagnostics: Vec::new(),
    };
    let checked = checker.check(plan, deployed);
    let mut diagnostics = checker.diagnostics;
    diagnostics.sort_by_key(|d| (d.line, d.column));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    (checked.filter(|_| !has_errors), diagnostics)
}

struct PlanChecker<'a> {
    file: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl PlanChecker<'_> {
    fn report(&mut self, at: Location, code: Code, message: String, hint: String) {
        self.diagnostics.push(Diagnostic {
            severity: code.severity(),
            code,
            file: self.file.to_owned(),
            line: at.line(),
            column: at.column(),
            message,
            hint: Some(hint),
        });
    }

    fn check(&mut self, plan: &raw::Plan, deployed: &BTreeMap<u32, &Workflow>) -> Option<Plan> {
        let workflow_id = &plan.workflow.value;
        let listed = || {
            let versions: Vec<String> = deployed.keys().map(|v| v.to_string()).collect();
            versions.join(", ")
        };
        if deployed.is_empty() {
            self.report(
                plan.workflow.referenced,
                Code::E060,
                format!("workflow `{workflow_id}` is not deployed"),
                "check the id with `swakelola workflow list`".into(),
            );
            return None;
        }
        let Some(target) = deployed.get(&plan.to.value) else {
            self.report(
                plan.to.referenced,
                Code::E060,
                format!("version {} of `{workflow_id}` is not deployed", plan.to.value),
                format!(
                    "deployed versions: {}; deploy the new version first with `swakelola workflow deploy FILE`",
                    listed()
                ),
            );
            return None;
        };
        let mut sources: Vec<(u32, &Workflow)> = Vec::new();
        if plan.from.value.is_empty() {
            self.report(
                plan.from.referenced,
                Code::E060,
                "`from` lists no version".into(),
                format!(
                    "list the versions whose cases move, e.g. `from: [1]`; deployed: {}",
                    listed()
                ),
            );
        }
        for version in &plan.from.value {
            if *version == plan.to.value {
                self.report(
                    plan.from.referenced,
                    Code::E060,
                    format!("version {version} is both a source and the target"),
                    "list only the versions whose cases move under `from`".into(),
                );
            } else if let Some(workflow) = deployed.get(version) {
                sources.push((*version, workflow));
            } else {
                self.report(
                    plan.from.referenced,
                    Code::E060,
                    format!("version {version} of `{workflow_id}` is not deployed"),
                    format!("deployed versions: {}", listed()),
                );
            }
        }
        let deadlines = match plan.deadlines.as_ref().map(|d| d.value.as_str()) {
            None | Some("recompute") => DeadlinePolicy::Recompute,
            Some("keep") => DeadlinePolicy::Keep,
            Some(other) => {
                let at = plan.deadlines.as_ref().map(|d| d.referenced);
                self.report(
                    at.unwrap_or(plan.migration.referenced),
                    Code::E005,
                    format!("`deadlines: {other}` is neither `recompute` nor `keep`"),
                    "`recompute` computes due dates under the new rules from when each stage began; `keep` keeps the dates cases have".into(),
                );
                DeadlinePolicy::Recompute
            }
        };

        // The stage mapping: both sides exist; every source stage lands somewhere.
        let mut stages = BTreeMap::new();
        for mapping in &plan.stages {
            let from_known = sources
                .iter()
                .any(|(_, w)| w.stage(&mapping.from.value).is_some());
            if !from_known {
                let known = source_stages(&sources);
                self.report(
                    mapping.from.referenced,
                    Code::E062,
                    format!(
                        "stage `{}` is not a stage of the source version(s)",
                        mapping.from.value
                    ),
                    suggestion(&mapping.from.value, &known, "source stages"),
                );
            }
            match target.stage(&mapping.to.value) {
                None => {
                    let known: Vec<&str> = target.stages.iter().map(|s| s.id.as_str()).collect();
                    self.report(
                        mapping.to.referenced,
                        Code::E062,
                        format!(
                            "stage `{}` is not a stage of version {}",
                            mapping.to.value, plan.to.value
                        ),
                        suggestion(&mapping.to.value, &known, "target stages"),
                    );
                }
                Some(stage) if stage.terminal => {
                    let open_source = sources
                        .iter()
                        .any(|(_, w)| w.stage(&mapping.from.value).is_some_and(|s| !s.terminal));
                    if open_source {
                        self.report(
                            mapping.to.referenced,
                            Code::E063,
                            format!(
                                "open stage `{}` is mapped to terminal stage `{}`",
                                mapping.from.value, mapping.to.value
                            ),
                            "a migration does not close cases: map it to an open stage, and close the cases with their workflow's own transitions".into(),
                        );
                    }
                }
                Some(_) => {}
            }
            stages.insert(mapping.from.value.clone(), mapping.to.value.clone());
        }
        for (version, workflow) in &sources {
            for stage in workflow.stages.iter().filter(|s| !s.terminal) {
                let lands = stages.get(&stage.id).unwrap_or(&stage.id);
                if !stages.contains_key(&stage.id) && target.stage(lands).is_none() {
                    self.report(
                        plan.migration.referenced,
                        Code::E061,
                        format!(
                            "stage `{}` of version {version} is not in version {}, and the plan does not map it",
                            stage.id, plan.to.value
                        ),
                        format!(
                            "add under `stages:` `- from: {}` with `to:` one of the new version's stages",
                            stage.id
                        ),
                    );
                }
            }
        }

        // Fields: a value that no longer fits its type needs a default; defaults must parse.
        let mut defaults = BTreeMap::new();
        for default in &plan.defaults {
            let id = &default.field.value;
            match target.field(id) {
                None => self.report(
                    default.field.referenced,
                    Code::E065,
                    format!("version {} has no field `{id}`", plan.to.value),
                    suggestion(
                        id,
                        &target
                            .fields
                            .iter()
                            .map(|f| f.id.as_str())
                            .collect::<Vec<_>>(),
                        "fields",
                    ),
                ),
                Some(field) => {
                    if let Err(error) = field.field_type.parse(&default.value.value) {
                        self.report(
                            default.value.referenced,
                            Code::E065,
                            format!(
                                "`{}` is not a value of `{id}`: {error}",
                                default.value.value
                            ),
                            format!(
                                "write it as for `case set`; `{id}` is of type {}",
                                field.field_type.name()
                            ),
                        );
                    }
                }
            }
            defaults.insert(id.clone(), default.value.value.clone());
        }
        for (version, workflow) in &sources {
            for field in &workflow.fields {
                let Some(new) = target.field(&field.id) else {
                    self.report(
                        plan.migration.referenced,
                        Code::W010,
                        format!(
                            "field `{}` of version {version} is not in version {}: its values leave the cases' data",
                            field.id, plan.to.value
                        ),
                        "they stay in each case's history (the `migrated` event); if they still matter, keep the field in the new version".into(),
                    );
                    continue;
                };
                if new.field_type != field.field_type && !defaults.contains_key(&field.id) {
                    self.report(
                        plan.migration.referenced,
                        Code::E064,
                        format!(
                            "field `{}` changes type from {} (version {version}) to {}, and the plan gives no default",
                            field.id,
                            field.field_type.name(),
                            new.field_type.name()
                        ),
                        format!(
                            "add under `defaults:` `- field: {}` with a `value:` of the new type",
                            field.id
                        ),
                    );
                }
            }
        }

        // What cases will newly need to move on: listed, not refused.
        for (version, workflow) in &sources {
            for transition in &target.transitions {
                let Some(old) = workflow.transition(&transition.id) else {
                    continue;
                };
                let documents: Vec<&String> = transition
                    .guard
                    .documents
                    .iter()
                    .filter(|d| !old.guard.documents.contains(d))
                    .collect();
                let fields: Vec<&String> = transition
                    .guard
                    .fields
                    .iter()
                    .filter(|f| !old.guard.fields.contains(f) && !defaults.contains_key(*f))
                    .collect();
                if documents.is_empty() && fields.is_empty() {
                    continue;
                }
                let mut needs: Vec<String> = documents
                    .iter()
                    .map(|d| format!("document `{d}`"))
                    .collect();
                needs.extend(fields.iter().map(|f| format!("field `{f}`")));
                self.report(
                    plan.migration.referenced,
                    Code::W009,
                    format!(
                        "transition `{}` newly requires {} (not required in version {version})",
                        transition.id,
                        needs.join(", ")
                    ),
                    "cases that reach it will need them; the dry run lists the cases that no longer meet its guard".into(),
                );
            }
        }

        let selection = plan
            .cases
            .as_ref()
            .map_or_else(Selection::default, |cases| {
                let known = source_stages(&sources);
                for stage in &cases.stages {
                    if !known.contains(&stage.value.as_str()) {
                        self.report(
                            stage.referenced,
                            Code::E062,
                            format!(
                                "stage `{}` is not a stage of the source version(s)",
                                stage.value
                            ),
                            suggestion(&stage.value, &known, "source stages"),
                        );
                    }
                }
                Selection {
                    stages: cases.stages.iter().map(|s| s.value.clone()).collect(),
                    fiscal_years: cases.fiscal_years.clone(),
                    organisations: cases.organisations.clone(),
                    business_keys: cases.business_keys.clone(),
                }
            });
        Some(Plan {
            workflow: workflow_id.clone(),
            from: sources.iter().map(|(v, _)| *v).collect(),
            rules: MigrationRules {
                plan: plan.migration.value.clone(),
                to_version: plan.to.value,
                stages,
                defaults,
                deadlines,
            },
            selection,
        })
    }
}

fn source_stages<'a>(sources: &[(u32, &'a Workflow)]) -> Vec<&'a str> {
    let mut known: BTreeSet<&str> = BTreeSet::new();
    for (_, workflow) in sources {
        known.extend(workflow.stages.iter().map(|s| s.id.as_str()));
    }
    known.into_iter().collect()
}

fn suggestion(name: &str, known: &[&str], what: &str) -> String {
    match crate::check::closest(name, known) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("{what}: {}", known.join(", ")),
    }
}
