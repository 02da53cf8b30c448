//! Definitions end to end: the shipped workflows and calendars are valid, and every broken
//! fixture under `tests/fixtures/` is diagnosed with the expected code at the expected line
//! and column (`# expect CODE at LINE:COL` on its first line), with all diagnostics
//! snapshot-tested.

use std::path::{Path, PathBuf};

use swakelola_definition::diagnostic::{Code, documented_codes, explain};
use swakelola_definition::{Bundle, CalendarFile, load, load_sources};

fn root() -> PathBuf {
    swakelola_tests::root().to_path_buf()
}

fn shipped_calendars() -> Vec<CalendarFile> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("workflows/calendars"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| CalendarFile {
            file: path.file_name().unwrap().to_string_lossy().into_owned(),
            text: std::fs::read_to_string(&path).unwrap(),
        })
        .collect()
}

/// `# expect E011 at 51:9 — …` → ("E011", 51, 9).
fn expectation(text: &str) -> Option<(String, u64, u64)> {
    let rest = text.lines().next()?.strip_prefix("# expect ")?;
    let mut words = rest.split_whitespace();
    let code = words.next()?.to_owned();
    let (line, column) = words.nth(1)?.split_once(':')?;
    Some((code, line.parse().ok()?, column.parse().ok()?))
}

fn render(bundle: &Bundle) -> String {
    bundle
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn fixture_name(path: &Path) -> String {
    let folder = path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    format!("{folder}/{}", path.file_name().unwrap().to_string_lossy())
}

fn check_expectation(name: &str, text: &str, bundle: &Bundle) {
    let (code, line, column) = expectation(text)
        .unwrap_or_else(|| panic!("{name}: first line must be `# expect CODE at L:C — …`"));
    assert!(
        bundle
            .diagnostics
            .iter()
            .any(|d| format!("{:?}", d.code) == code && d.line == line && d.column == column),
        "{name}: expected {code} at {line}:{column}, got:\n{}",
        render(bundle)
    );
    let is_warning = code.starts_with('W');
    assert_eq!(
        bundle.has_errors(),
        !is_warning,
        "{name}: a warning fixture must not have errors, an error fixture must:\n{}",
        render(bundle)
    );
}

#[test]
fn shipped_workflows_and_calendars_are_valid() {
    let bundle = load(&[root().join("workflows")]).unwrap();
    assert!(!bundle.has_errors(), "{}", render(&bundle));
    let ids: Vec<&str> = bundle
        .workflows
        .iter()
        .map(|d| d.workflow.id.as_str())
        .collect();
    assert_eq!(ids, ["persetujuan-dokumen", "swakelola-tipe-3"]);
    let calendar = &bundle.calendars["indonesia"];
    assert!(calendar.covers(2025) && calendar.covers(2026));
    // Only the unconfirmed 2026 dates may warn.
    assert!(
        bundle.diagnostics.iter().all(|d| d.code == Code::W002),
        "{}",
        render(&bundle)
    );
}

/// The README's figures for the shipped workflow are those of the file.
#[test]
fn the_readme_counts_what_the_shipped_workflow_holds() {
    let bundle = load(&[root().join("workflows")]).unwrap();
    let workflow = &bundle
        .workflows
        .iter()
        .find(|d| d.workflow.id == "swakelola-tipe-3")
        .unwrap()
        .workflow;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("`workflows/swakelola-tipe-3.yaml` — the full Swakelola Tipe III process:")
        .expect("the README describes the shipped workflow");
    let text: String = readme[start..]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (count, what) in [
        (workflow.stages.len(), "stages"),
        (workflow.transitions.len(), "transitions"),
        (workflow.roles.len(), "roles"),
        (workflow.documents.len(), "document types"),
    ] {
        assert!(
            text.contains(&format!("{count} {what}")),
            "README should say {count} {what}"
        );
    }
}

#[test]
fn broken_workflows_are_diagnosed_at_the_right_place() {
    let calendars = shipped_calendars();
    insta::glob!("fixtures/invalid/*.yaml", |path| {
        let name = fixture_name(path);
        let text = std::fs::read_to_string(path).unwrap();
        let mut bundle = load_sources(&[(name.clone(), text.clone())], &calendars);
        bundle.diagnostics.retain(|d| d.file == name);
        // Every fixture states the code and position it is about.
        check_expectation(&name, &text, &bundle);
        insta::assert_snapshot!(render(&bundle));
    });
}

#[test]
fn broken_calendars_are_diagnosed_at_the_right_place() {
    insta::glob!("fixtures/invalid-calendars/*.yaml", |path| {
        let name = fixture_name(path);
        let text = std::fs::read_to_string(path).unwrap();
        let files = [CalendarFile {
            file: name.clone(),
            text: text.clone(),
        }];
        let bundle = load_sources(&[], &files);
        check_expectation(&name, &text, &bundle);
        assert_eq!(
            bundle.calendars.is_empty(),
            bundle.has_errors(),
            "{name}: a calendar with errors is left out"
        );
        insta::assert_snapshot!(render(&bundle));
    });
}

#[test]
fn a_workflow_with_many_problems_reports_them_all_in_file_order() {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/invalid/many-problems-at-once.yaml"))
            .unwrap();
    let mut bundle = load_sources(&[("many.yaml".into(), text)], &shipped_calendars());
    bundle.diagnostics.retain(|d| d.file == "many.yaml");
    let codes: Vec<Code> = bundle
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    for code in [Code::E035, Code::E030, Code::E012, Code::E011] {
        assert!(codes.contains(&code), "{code:?} missing from {codes:?}");
    }
    let lines: Vec<u64> = bundle.diagnostics.iter().map(|d| d.line).collect();
    assert!(lines.is_sorted(), "{lines:?}");
}

#[test]
fn a_huge_file_is_refused_before_parsing() {
    let mut text = String::from("id: huge\nlabel: Huge\nroles: []\nstages: []\ntransitions: []\n");
    while text.len() <= 2 * 1024 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let bundle = load_sources(&[("huge.yaml".into(), text)], &[]);
    assert_eq!(bundle.diagnostics.len(), 1, "{}", render(&bundle));
    assert_eq!(bundle.diagnostics[0].code, Code::E002);
    assert!(bundle.workflows.is_empty());
}

#[test]
fn files_of_one_calendar_must_agree() {
    let year = |year: i16, zone: &str| CalendarFile {
        file: format!("indonesia-{year}.yaml"),
        text: format!(
            "calendar: indonesia\nyear: {year}\ntime_zone: {zone}\nweekend: [saturday, sunday]\nholidays: []\n"
        ),
    };
    let bundle = load_sources(
        &[],
        &[year(2025, "Asia/Jakarta"), year(2026, "Asia/Makassar")],
    );
    let e054: Vec<_> = bundle
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::E054)
        .collect();
    assert_eq!(e054.len(), 1, "{}", render(&bundle));
    assert_eq!(
        (e054[0].file.as_str(), e054[0].line, e054[0].column),
        ("indonesia-2026.yaml", 3, 12)
    );
    assert!(bundle.calendars.is_empty());

    let twice = load_sources(
        &[],
        &[year(2025, "Asia/Jakarta"), year(2025, "Asia/Jakarta")],
    );
    assert!(
        twice
            .diagnostics
            .iter()
            .any(|d| d.code == Code::E054 && d.line == 2),
        "{}",
        render(&twice)
    );
}

#[test]
fn two_files_may_not_declare_the_same_workflow() {
    let text = std::fs::read_to_string(root().join("workflows/persetujuan-dokumen.yaml")).unwrap();
    let bundle = load_sources(
        &[("a.yaml".into(), text.clone()), ("b.yaml".into(), text)],
        &shipped_calendars(),
    );
    let duplicate = bundle
        .diagnostics
        .iter()
        .find(|d| d.code == Code::E010)
        .expect("E010");
    assert_eq!((duplicate.file.as_str(), duplicate.line), ("b.yaml", 4));
    assert!(duplicate.message.contains("a.yaml"));
}

#[test]
fn every_code_is_documented_and_explained() {
    let documented = documented_codes();
    for code in Code::ALL {
        let name = format!("{code:?}");
        assert!(
            documented.contains(&name.as_str()),
            "{name} is not in docs/diagnostics.md"
        );
        assert!(explain(&name.to_lowercase()).unwrap().starts_with(&name));
    }
    assert_eq!(
        documented.len(),
        Code::ALL.len(),
        "docs/diagnostics.md documents a code that does not exist"
    );
    assert!(explain("E999").is_none());
}

/// A file that cannot be read as text is E008, with its hint.
#[test]
fn an_unreadable_file_is_e008() {
    let dir = swakelola_tests::temp_dir("swakelola-e008");
    let file = dir.join("bukan-teks.yaml");
    std::fs::write(&file, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let bundle = load(&[file]).unwrap();
    let problem = bundle
        .diagnostics
        .iter()
        .find(|d| d.code == Code::E008)
        .unwrap_or_else(|| panic!("{:?}", bundle.diagnostics));
    assert!(problem.message.contains("not UTF-8"), "{problem}");
    assert!(problem.hint.is_some());
}

/// Two files of one calendar that disagree on the time zone are E054, at the second one.
#[test]
fn calendar_files_that_disagree_are_e054() {
    let read =
        |f: &str| std::fs::read_to_string(root().join("workflows/calendars").join(f)).unwrap();
    let clash = read("indonesia-2026.yaml").replace("Asia/Jakarta", "Asia/Makassar");
    let files = [
        CalendarFile {
            file: "indonesia-2025.yaml".into(),
            text: read("indonesia-2025.yaml"),
        },
        CalendarFile {
            file: "indonesia-2026.yaml".into(),
            text: clash,
        },
    ];
    let bundle = load_sources(&[], &files);
    let problem = bundle
        .diagnostics
        .iter()
        .find(|d| d.code == Code::E054)
        .unwrap_or_else(|| panic!("{:?}", bundle.diagnostics));
    assert_eq!(problem.file, "indonesia-2026.yaml");
    assert!(problem.hint.is_some());
}

/// Every diagnostic code has a fixture (named after it, with its `# expect` header) or one
/// of the tests above, and every diagnostic any fixture produces has a hint.
#[test]
fn every_code_is_exercised_and_hinted() {
    // E064 and W010 need a target version whose fields differ: see the test above.
    let tested_elsewhere = ["E008", "E054", "E064", "W010"];
    let mut fixtures: Vec<String> = Vec::new();
    for folder in [
        "tests/fixtures/invalid",
        "tests/fixtures/invalid-calendars",
        "tests/fixtures/invalid-migrations",
    ] {
        for entry in std::fs::read_dir(root().join(folder)).unwrap() {
            fixtures.push(entry.unwrap().file_name().to_string_lossy().to_uppercase());
        }
    }
    for code in Code::ALL {
        let code = format!("{code:?}");
        assert!(
            tested_elsewhere.contains(&code.as_str())
                || fixtures.iter().any(|f| f.starts_with(&format!("{code}-"))),
            "no fixture for {code}"
        );
    }
    let calendars = shipped_calendars();
    for entry in std::fs::read_dir(root().join("tests/fixtures/invalid")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let bundle = load_sources(&[("f.yaml".into(), text)], &calendars);
        for diagnostic in &bundle.diagnostics {
            assert!(
                diagnostic.hint.is_some(),
                "{}: {diagnostic} has no hint",
                path.display()
            );
        }
    }
}

/// The shipped workflow as version 1, and a text edit of it (or the example's version 2) as
/// version 2.
fn versions(v2_text: &str) -> (swakelola_core::Workflow, swakelola_core::Workflow) {
    let calendars = shipped_calendars();
    let load_one = |name: &str, text: String| {
        let bundle = load_sources(&[(name.to_owned(), text)], &calendars);
        assert!(!bundle.has_errors(), "{}", render(&bundle));
        bundle.workflows[0].workflow.clone()
    };
    let v1 = std::fs::read_to_string(root().join("workflows/swakelola-tipe-3.yaml")).unwrap();
    (
        load_one("v1.yaml", v1),
        load_one("v2.yaml", v2_text.to_owned()),
    )
}

fn check_plan_text(
    name: &str,
    text: &str,
    v1: &swakelola_core::Workflow,
    v2: &swakelola_core::Workflow,
) -> (
    Option<swakelola_definition::migration::Plan>,
    Vec<swakelola_definition::Diagnostic>,
) {
    use swakelola_definition::migration::{check_plan, parse_plan};
    let (raw, mut diagnostics) = parse_plan(name, text);
    let raw = raw.unwrap_or_else(|| panic!("{name}: does not parse: {diagnostics:?}"));
    let deployed = [(1, v1), (2, v2)].into_iter().collect();
    let (plan, found) = check_plan(name, &raw, &deployed);
    diagnostics.extend(found);
    (plan, diagnostics)
}

/// Every broken migration plan under `tests/fixtures/invalid-migrations/` is diagnosed with
/// its expected code, line and column (against the shipped workflow as version 1 and the
/// example's version 2), errors leave no plan to run, and every diagnostic has a hint.
#[test]
fn broken_migration_plans_are_diagnosed_at_the_right_place() {
    let v2 = std::fs::read_to_string(root().join("workflows/migrations/swakelola-tipe-3-v2.yaml"))
        .unwrap();
    let (v1, v2) = versions(&v2);
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("tests/fixtures/invalid-migrations")).unwrap() {
        let path = entry.unwrap().path();
        let name = fixture_name(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        let (code, line, column) = expectation(&text)
            .unwrap_or_else(|| panic!("{name}: first line must be `# expect CODE at L:C — …`"));
        let (plan, diagnostics) = check_plan_text(&name, &text, &v1, &v2);
        let rendered: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        assert!(
            diagnostics
                .iter()
                .any(|d| format!("{:?}", d.code) == code && d.line == line && d.column == column),
            "{name}: expected {code} at {line}:{column}, got:\n{}",
            rendered.join("\n")
        );
        let has_errors = diagnostics.iter().any(|d| d.is_error());
        assert_eq!(has_errors, !code.starts_with('W'), "{name}: {rendered:?}");
        assert_eq!(
            plan.is_some(),
            !has_errors,
            "{name}: a plan only without errors"
        );
        assert!(
            diagnostics.iter().all(|d| d.hint.is_some()),
            "{name}: {rendered:?}"
        );
        seen += 1;
    }
    assert!(seen >= 6);
    // The shipped example plan is valid against the shipped version 2.
    let example =
        std::fs::read_to_string(root().join("workflows/migrations/plans/2027-v1-ke-v2.yaml"))
            .unwrap();
    let (plan, diagnostics) = check_plan_text("2027-v1-ke-v2.yaml", &example, &v1, &v2);
    let plan = plan.unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(plan.rules.stages["reviu_kak"], "reviu_kak_instansi");
    assert_eq!(plan.from, [1]);
}

/// A field whose type changes needs a default (E064); a field the new version drops is
/// listed (W010) and does not stop the plan.
#[test]
fn a_field_that_changes_type_needs_a_default_and_a_dropped_one_is_listed() {
    let shipped = std::fs::read_to_string(root().join("workflows/swakelola-tipe-3.yaml")).unwrap();
    let retyped = shipped.replacen(
        "    label_en: Procurement plan code\n    type: text\n",
        "    label_en: Procurement plan code\n    type: integer\n",
        1,
    );
    let activity = "  - id: nama_kegiatan\n    label: Nama kegiatan\n    label_en: Activity\n    type: text\n    required: true\n";
    let edited = retyped.replacen(activity, "", 1);
    assert!(
        edited.len() < retyped.len() && retyped != shipped,
        "the edits apply"
    );
    let (v1, v2) = versions(&edited);
    let plan = "migration: kode-rup-angka\nworkflow: swakelola-tipe-3\nfrom: [1]\nto: 2\n";
    let (checked, diagnostics) = check_plan_text("plan.yaml", plan, &v1, &v2);
    assert!(checked.is_none());
    let codes: Vec<String> = diagnostics
        .iter()
        .map(|d| format!("{:?}", d.code))
        .collect();
    assert!(codes.contains(&"E064".to_owned()), "{codes:?}");
    assert!(codes.contains(&"W010".to_owned()), "{codes:?}");
    let with_default = format!("{plan}defaults:\n  - field: kode_rup\n    value: \"52719384\"\n");
    let (checked, diagnostics) = check_plan_text("plan.yaml", &with_default, &v1, &v2);
    let checked = checked.unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(checked.rules.defaults["kode_rup"], "52719384");
    assert!(
        diagnostics
            .iter()
            .all(|d| !d.is_error() && d.hint.is_some())
    );
}
