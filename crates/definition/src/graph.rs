//! Diagrams of a workflow: Mermaid (renders on GitHub/GitLab) and Graphviz DOT
//! (`swakelola graph … --format dot | dot -Tsvg > workflow.svg`).

use std::fmt::Write;

use swakelola_core::Workflow;
use swakelola_core::model::Stage;

fn node_id(id: &str) -> String {
    id.replace('-', "_")
}

fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn deadline_note(stage: &Stage) -> Option<String> {
    use swakelola_core::model::Due;
    let deadline = stage.deadline.as_ref()?;
    Some(match &deadline.due {
        Due::After { offset, .. } => format!("⏱ {offset}"),
        Due::OnDate {
            month,
            day,
            year_offset,
        } => match year_offset {
            0 => format!("⏱ {month:02}-{day:02} FY"),
            offset => format!("⏱ {month:02}-{day:02} FY{offset:+}"),
        },
    })
}

/// A Mermaid `stateDiagram-v2`.
pub fn mermaid(workflow: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "---\ntitle: {}\n---\nstateDiagram-v2",
        workflow.label.id.replace('\n', " ")
    );
    for stage in &workflow.stages {
        let mut text = stage.label.id.replace(':', " ");
        if let Some(note) = deadline_note(stage) {
            text.push_str(&format!(" ({note})"));
        }
        let _ = writeln!(out, "    {}: {text}", node_id(&stage.id));
    }
    for stage in workflow.stages.iter().filter(|s| s.initial) {
        let _ = writeln!(out, "    [*] --> {}", node_id(&stage.id));
    }
    for transition in &workflow.transitions {
        for from in &transition.from {
            let _ = writeln!(
                out,
                "    {} --> {}: {} [{}]",
                node_id(from),
                node_id(&transition.to),
                transition.label.id.replace(':', " "),
                transition.roles.join(", ")
            );
        }
    }
    for stage in workflow.stages.iter().filter(|s| s.terminal) {
        let _ = writeln!(out, "    {} --> [*]", node_id(&stage.id));
    }
    out
}

/// A Graphviz digraph, with one cluster per phase.
pub fn dot(workflow: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", quoted(&workflow.id));
    let _ = writeln!(
        out,
        "    label=\"{}\";\n    labelloc=t;",
        quoted(&workflow.label.id)
    );
    let _ = writeln!(
        out,
        "    rankdir=TB;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];"
    );
    let node = |stage: &Stage| {
        let shape = if stage.terminal {
            ", shape=doubleoctagon"
        } else if stage.initial {
            ", penwidth=2"
        } else {
            ""
        };
        let mut text = quoted(&stage.label.id);
        if let Some(note) = deadline_note(stage) {
            text.push_str(&format!("\\n{note}"));
        }
        format!("\"{}\" [label=\"{text}\"{shape}];", quoted(&stage.id))
    };
    for phase in &workflow.phases {
        let _ = writeln!(out, "    subgraph \"cluster_{}\" {{", quoted(&phase.id));
        let _ = writeln!(
            out,
            "        label=\"{}\";\n        style=dashed;",
            quoted(&phase.label.id)
        );
        for stage in workflow
            .stages
            .iter()
            .filter(|s| s.phase.as_deref() == Some(&phase.id))
        {
            let _ = writeln!(out, "        {}", node(stage));
        }
        let _ = writeln!(out, "    }}");
    }
    for stage in workflow.stages.iter().filter(|s| s.phase.is_none()) {
        let _ = writeln!(out, "    {}", node(stage));
    }
    for transition in &workflow.transitions {
        for from in &transition.from {
            let _ = writeln!(
                out,
                "    \"{}\" -> \"{}\" [label=\"{}\\n[{}]\"];",
                quoted(from),
                quoted(&transition.to),
                quoted(&transition.label.id),
                quoted(&transition.roles.join(", "))
            );
        }
    }
    out.push_str("}\n");
    out
}
