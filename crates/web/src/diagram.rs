//! A workflow drawn as an SVG image, laid out by `layout-rs` (a Graphviz-style layered
//! layout in pure Rust: nothing to install, nothing fetched), stages named by their labels
//! in the reader's language, the current stage highlighted and the stages a case has
//! already been through shaded.

use std::collections::{BTreeMap, BTreeSet};

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;
use swakelola_core::Workflow;
use swakelola_core::state::{EventKind, TimerEffect};
use swakelola_store::StoredEvent;
use swakelola_view::Labels;

/// The stages a case has entered, from its history.
pub fn visited_stages(history: &[StoredEvent]) -> BTreeSet<String> {
    history
        .iter()
        .filter_map(|stored| match &stored.event.kind {
            EventKind::Opened { stage, .. } => Some(stage.clone()),
            EventKind::Transitioned { to, .. } => Some(to.clone()),
            EventKind::TimerFired {
                effect: TimerEffect::Expired { to, .. },
                ..
            } => Some(to.clone()),
            _ => None,
        })
        .collect()
}

/// A stage reached from more stages than this (cancellation, postponement) gets no arrows:
/// they would cross the whole drawing. The page says so next to the image.
const MAX_ARROWS_IN: usize = 5;

/// Stages the diagram draws without their incoming arrows (see [`MAX_ARROWS_IN`]).
pub fn crowded_stages(workflow: &Workflow) -> Vec<&swakelola_core::model::Stage> {
    let sources = arrows(workflow);
    workflow
        .stages
        .iter()
        .filter(|stage| sources.iter().filter(|(_, to)| *to == stage.id).count() > MAX_ARROWS_IN)
        .collect()
}

/// One arrow per pair of stages, however many transitions join them.
fn arrows(workflow: &Workflow) -> BTreeSet<(&str, &str)> {
    let mut edges = BTreeSet::new();
    for transition in &workflow.transitions {
        for from in &transition.from {
            if from != &transition.to {
                edges.insert((from.as_str(), transition.to.as_str()));
            }
        }
    }
    edges
}

/// The diagram as an SVG document. `None` when the layout fails: the page then goes
/// without it rather than failing.
pub fn svg(
    workflow: &Workflow,
    labels: Labels<'_>,
    current: Option<&str>,
    visited: &BTreeSet<String>,
) -> Option<String> {
    let label: BTreeMap<String, String> = workflow
        .stages
        .iter()
        .map(|s| (s.id.clone(), labels.text(&s.label)))
        .collect();
    // The layout library asserts on shapes it cannot place; a diagram is not worth a
    // failed page. Nothing it touches is shared with the rest of the request.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        draw(workflow, &label, current, visited)
    }))
    .ok()
}

fn draw(
    workflow: &Workflow,
    label: &BTreeMap<String, String>,
    current: Option<&str>,
    visited: &BTreeSet<String>,
) -> String {
    let ink = Color::new(0x1f2933ff);
    let plain = StyleAttr::new(ink, 1, Some(Color::new(0xffffffff)), 6, 13);
    let done = StyleAttr::new(ink, 1, Some(Color::new(0xd9ead3ff)), 6, 13);
    let here = StyleAttr::new(
        Color::new(0x0b5394ff),
        4,
        Some(Color::new(0xcfe2f3ff)),
        6,
        13,
    );
    let mut graph = VisualGraph::new(Orientation::TopToBottom);
    let mut nodes = BTreeMap::new();
    for stage in &workflow.stages {
        let look = if current == Some(stage.id.as_str()) {
            here.clone()
        } else if visited.contains(&stage.id) {
            done.clone()
        } else {
            plain.clone()
        };
        let text = wrap(
            label
                .get(&stage.id)
                .map_or(stage.id.as_str(), String::as_str),
        );
        // The library does not measure text: size each box to its lines.
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(1);
        let lines = text.lines().count().max(1);
        let element = Element::create(
            ShapeKind::new_box(&text),
            look,
            Orientation::LeftToRight,
            Point::new(widest as f64 * 7.6 + 20.0, lines as f64 * 17.0 + 14.0),
        );
        nodes.insert(stage.id.as_str(), graph.add_node(element));
    }
    let crowded: BTreeSet<&str> = crowded_stages(workflow)
        .into_iter()
        .map(|s| s.id.as_str())
        .collect();
    for (from, to) in arrows(workflow)
        .into_iter()
        .filter(|(_, to)| !crowded.contains(to))
    {
        if let (Some(&a), Some(&b)) = (nodes.get(from), nodes.get(to)) {
            graph.add_edge(Arrow::simple(""), a, b);
        }
    }
    let mut writer = SVGWriter::new();
    graph.do_it(false, false, false, &mut writer);
    // The library writes a serif font; the pages use the system's sans-serif.
    writer.finalize().replace(
        "font-family: Times, serif",
        "font-family: system-ui, sans-serif",
    )
}

/// Breaks a long label into lines of about 22 characters, at spaces.
fn wrap(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + word.chars().count() < 22 => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use swakelola_core::format::Language;

    fn shipped() -> Workflow {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../workflows");
        let read = |path: &str| std::fs::read_to_string(format!("{root}/{path}")).unwrap();
        let calendars: Vec<_> = ["indonesia-2025.yaml", "indonesia-2026.yaml"]
            .iter()
            .map(|f| swakelola_definition::CalendarFile {
                file: f.to_string(),
                text: read(&format!("calendars/{f}")),
            })
            .collect();
        let bundle = swakelola_definition::load_sources(
            &[(
                "swakelola-tipe-3.yaml".into(),
                read("swakelola-tipe-3.yaml"),
            )],
            &calendars,
        );
        bundle.workflows[0].workflow.clone()
    }

    #[test]
    fn the_shipped_workflow_is_drawn_with_its_labels_and_the_current_stage() {
        let workflow = shipped();
        let labels = Labels::new(&workflow, Language::Id);
        let visited: BTreeSet<String> = ["audiensi".to_owned()].into();
        let svg = svg(&workflow, labels, Some("penyusunan_kak"), &visited).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        for stage in &workflow.stages {
            let first_word = labels.text(&stage.label);
            let first_word = first_word.split_whitespace().next().unwrap();
            assert!(svg.contains(first_word), "{} missing", stage.id);
        }
        // Current stage: the highlight colour; visited: the shade; both exactly once.
        assert_eq!(svg.matches("#cfe2f3").count(), 1, "{svg}");
        assert_eq!(svg.matches("#d9ead3").count(), 1);
        let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/tmp");
        std::fs::create_dir_all(out).unwrap();
        std::fs::write(format!("{out}/diagram.svg"), &svg).unwrap();
    }

    #[test]
    fn long_labels_wrap_at_spaces() {
        assert_eq!(
            wrap("Penyusunan Kerangka Acuan Kerja (KAK)"),
            "Penyusunan Kerangka\nAcuan Kerja (KAK)"
        );
        assert_eq!(wrap("Audiensi"), "Audiensi");
    }
}
