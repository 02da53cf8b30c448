//! What changed between two versions of a workflow: the stages, transitions, rules, fields,
//! documents, records, roles and parties added, removed or changed — and, for a changed one,
//! which of its keys (`deadline`, `to`, `roles`, `guard` …). Pure: it reads two checked
//! workflows and says nothing about cases (what a change means for a running case is the
//! migration's business).

use std::collections::BTreeMap;

use serde::Serialize;
use swakelola_core::Workflow;

/// The differences of one kind of element (stages, transitions, …), each list sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Id → the keys whose value differs (`label`, `deadline`, …).
    pub changed: BTreeMap<String, Vec<String>>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Every difference between `before` and `after`, by kind of element, in the order an
/// administrator reads a workflow file; kinds without a difference are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkflowDiff {
    /// Settings of the workflow itself that differ (`calendar`, `notify_at`, `open_by` …).
    pub settings: Vec<String>,
    pub kinds: Vec<(&'static str, Changes)>,
}

impl WorkflowDiff {
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty() && self.kinds.is_empty()
    }
}

pub fn diff(before: &Workflow, after: &Workflow) -> WorkflowDiff {
    let old = serde_json::to_value(before).expect("a workflow serialises");
    let new = serde_json::to_value(after).expect("a workflow serialises");
    let mut result = WorkflowDiff::default();
    const KINDS: [&str; 8] = [
        "parties",
        "roles",
        "documents",
        "fields",
        "records",
        "rules",
        "stages",
        "transitions",
    ];
    if let (Some(old), Some(new)) = (old.as_object(), new.as_object()) {
        result.settings = old
            .keys()
            .chain(new.keys())
            .filter(|key| !KINDS.contains(&key.as_str()) && old.get(*key) != new.get(*key))
            .cloned()
            .collect();
        result.settings.sort();
        result.settings.dedup();
        for kind in KINDS {
            let changes = compare(old.get(kind), new.get(kind));
            if !changes.is_empty() {
                result.kinds.push((kind, changes));
            }
        }
    }
    result
}

/// Elements of one kind, matched by their `id`.
fn compare(old: Option<&serde_json::Value>, new: Option<&serde_json::Value>) -> Changes {
    let by_id = |list: Option<&serde_json::Value>| -> BTreeMap<String, serde_json::Value> {
        list.and_then(|l| l.as_array())
            .into_iter()
            .flatten()
            .filter_map(|item| Some((item.get("id")?.as_str()?.to_owned(), item.clone())))
            .collect()
    };
    let (old, new) = (by_id(old), by_id(new));
    let mut changes = Changes::default();
    for (id, after) in &new {
        match old.get(id) {
            None => changes.added.push(id.clone()),
            Some(before) if before != after => {
                let keys = differing_keys(before, after);
                changes.changed.insert(id.clone(), keys);
            }
            Some(_) => {}
        }
    }
    changes.removed = old
        .keys()
        .filter(|id| !new.contains_key(*id))
        .cloned()
        .collect();
    changes
}

fn differing_keys(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return vec!["value".to_owned()];
    };
    let mut keys: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|key| before.get(*key) != after.get(*key))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Workflow {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
        let bundle = crate::load(&[dir]).unwrap();
        bundle
            .workflows
            .into_iter()
            .find(|d| d.workflow.id == "swakelola-tipe-3")
            .unwrap()
            .workflow
    }

    #[test]
    fn a_workflow_does_not_differ_from_itself() {
        let workflow = shipped();
        assert!(diff(&workflow, &workflow).is_empty());
    }

    #[test]
    fn additions_removals_and_changed_keys_are_named() {
        let before = shipped();
        let mut after = before.clone();
        // A stage renamed in spirit: one removed, one added; a transition retargeted; a
        // deadline and a label changed; a setting changed.
        let mut stage = after.stages.remove(
            after
                .stages
                .iter()
                .position(|s| s.id == "revisi_kak")
                .unwrap(),
        );
        stage.id = "revisi_kak_instansi".into();
        after.stages.push(stage);
        let transition = after
            .transitions
            .iter_mut()
            .find(|t| t.id == "minta_revisi_kak")
            .unwrap();
        transition.to = "revisi_kak_instansi".into();
        let reviu = after
            .stages
            .iter_mut()
            .find(|s| s.id == "reviu_kak")
            .unwrap();
        reviu.deadline = None;
        reviu.label.id = "Reviu KAK".into();
        after.notify_at = "09:00".parse().unwrap();
        let d = diff(&before, &after);
        assert_eq!(d.settings, ["notify_at"]);
        let stages = &d.kinds.iter().find(|(k, _)| *k == "stages").unwrap().1;
        assert_eq!(stages.added, ["revisi_kak_instansi"]);
        assert_eq!(stages.removed, ["revisi_kak"]);
        assert_eq!(stages.changed["reviu_kak"], ["deadline", "label"]);
        let transitions = &d.kinds.iter().find(|(k, _)| *k == "transitions").unwrap().1;
        assert!(transitions.added.is_empty() && transitions.removed.is_empty());
        assert_eq!(transitions.changed["minta_revisi_kak"], ["to"]);
        assert!(
            d.kinds
                .iter()
                .all(|(k, _)| *k == "stages" || *k == "transitions")
        );
    }
}
