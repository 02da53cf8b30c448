//! Finding and reading definition files.
//!
//! A directory holds workflows (`*.yaml`, `*.yml`) and, in its `calendars/` folder, calendar
//! files. A workflow file given on its own uses the `calendars/` folder next to it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use swakelola_core::{Calendar, Workflow};

use crate::calendar::{CalendarFile, load_calendars};
use crate::check::check_workflow;
use crate::diagnostic::{Code, Diagnostic};
use crate::parse::{MAX_FILE_BYTES, parse_reporting_all};
use crate::raw;

/// A checked workflow and where it came from.
#[derive(Debug, Clone)]
pub struct Definition {
    pub file: String,
    /// The file's text, as deployed.
    pub source: String,
    pub workflow: Workflow,
}

/// Everything loaded from a set of paths.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// Workflows without errors.
    pub workflows: Vec<Definition>,
    /// Calendars without errors, by id.
    pub calendars: BTreeMap<String, Calendar>,
    /// Every problem found, in file order.
    pub diagnostics: Vec<Diagnostic>,
    pub workflow_files: usize,
    pub calendar_files: usize,
}

impl Bundle {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The calendar a workflow counts its working days with.
    pub fn calendar_for(&self, workflow: &Workflow) -> Option<&Calendar> {
        self.calendars.get(&workflow.calendar)
    }
}

/// Why nothing could be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "`{path}` does not exist; give a workflow file or a folder of workflows (e.g. `workflows/`)"
    )]
    NotFound { path: String },
    #[error(
        "`{path}` holds no workflow files (*.yaml or *.yml); give a folder that does, or a workflow file"
    )]
    NoWorkflows { path: String },
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The calendars shipped with swakelola (`workflows/calendars/`), built into the binary: used
/// when a workflow has no `calendars/` folder next to it, so a workflow file on its own still
/// counts working days with the Indonesian holidays.
pub fn built_in_calendars() -> Vec<CalendarFile> {
    const FILES: &[(&str, &str)] = &[
        (
            "indonesia-2024.yaml",
            include_str!("../../../workflows/calendars/indonesia-2024.yaml"),
        ),
        (
            "indonesia-2025.yaml",
            include_str!("../../../workflows/calendars/indonesia-2025.yaml"),
        ),
        (
            "indonesia-2026.yaml",
            include_str!("../../../workflows/calendars/indonesia-2026.yaml"),
        ),
    ];
    FILES
        .iter()
        .map(|(file, text)| CalendarFile {
            file: (*file).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

/// Reads and checks the workflows and calendars at `paths`. Without any calendar file next
/// to them, the built-in calendars are used.
pub fn load(paths: &[PathBuf]) -> Result<Bundle, LoadError> {
    let mut workflow_paths: Vec<PathBuf> = Vec::new();
    let mut calendar_paths: Vec<PathBuf> = Vec::new();
    for path in paths {
        let display = path.display().to_string();
        if path.is_dir() {
            let found = yaml_files(path)?;
            if found.is_empty() {
                return Err(LoadError::NoWorkflows { path: display });
            }
            workflow_paths.extend(found);
            calendar_paths.extend(calendars_next_to(path)?);
        } else if path.is_file() {
            workflow_paths.push(path.clone());
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            calendar_paths.extend(calendars_next_to(parent)?);
        } else {
            return Err(LoadError::NotFound { path: display });
        }
    }
    calendar_paths.sort();
    calendar_paths.dedup();
    workflow_paths.dedup();
    let mut read_problems = Vec::new();
    let mut read = |path: &PathBuf| {
        let file = path.display().to_string();
        match read_text(path) {
            Ok(text) => Some((file, text)),
            Err(diagnostic) => {
                read_problems.push(diagnostic);
                None
            }
        }
    };
    let workflows: Vec<(String, String)> = workflow_paths.iter().filter_map(&mut read).collect();
    let mut calendars: Vec<CalendarFile> = calendar_paths
        .iter()
        .filter_map(&mut read)
        .map(|(file, text)| CalendarFile { file, text })
        .collect();
    if calendar_paths.is_empty() {
        calendars = built_in_calendars()
            .into_iter()
            .map(|c| CalendarFile {
                file: format!("(built in) {}", c.file),
                text: c.text,
            })
            .collect();
    }
    let mut bundle = load_sources(&workflows, &calendars);
    bundle.workflow_files = workflow_paths.len();
    bundle.calendar_files = calendar_paths.len();
    bundle.diagnostics.splice(0..0, read_problems);
    Ok(bundle)
}

/// Checks workflows and calendars given as `(file name, text)`; no file system involved.
pub fn load_sources(workflows: &[(String, String)], calendar_files: &[CalendarFile]) -> Bundle {
    let (calendars, mut diagnostics) = load_calendars(calendar_files);
    let known = calendars.keys().cloned().collect();
    let mut definitions: Vec<Definition> = Vec::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (file, text) in workflows {
        let (raw, structural) = parse_reporting_all::<raw::Workflow>(file, text);
        let unknown_keys = !structural.is_empty();
        let Some(raw) = raw else {
            diagnostics.extend(structural);
            continue;
        };
        if let Some(first) = ids.get(&raw.id.value) {
            diagnostics.push(Diagnostic {
                severity: Code::E010.severity(),
                code: Code::E010,
                file: file.clone(),
                line: raw.id.referenced.line(),
                column: raw.id.referenced.column(),
                message: format!("workflow `{}` is also defined in {first}", raw.id.value),
                hint: Some("give each workflow its own id".into()),
            });
        } else {
            ids.insert(raw.id.value.clone(), file.clone());
        }
        let (workflow, mut found) = check_workflow(file, &raw, &known);
        // Structural and semantic problems together, in file order.
        found.extend(structural);
        found.sort_by_key(|d| (d.line, d.column));
        diagnostics.extend(found);
        // A workflow with unknown keys was checked to report its other problems too, but is
        // not handed out: a key that means nothing is a mistake somewhere.
        if let Some(workflow) = workflow
            && !unknown_keys
        {
            definitions.push(Definition {
                file: file.clone(),
                source: text.clone(),
                workflow,
            });
        }
    }
    Bundle {
        workflows: definitions,
        calendars,
        diagnostics,
        workflow_files: workflows.len(),
        calendar_files: calendar_files.len(),
    }
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn calendars_next_to(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let folder = dir.join("calendars");
    if folder.is_dir() {
        yaml_files(&folder)
    } else {
        Ok(Vec::new())
    }
}

fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let problem = |message: String| Diagnostic {
        severity: Code::E008.severity(),
        code: Code::E008,
        file: path.display().to_string(),
        line: 0,
        column: 0,
        message,
        hint: Some("check that the file exists, is readable and is UTF-8 text".into()),
    };
    let metadata =
        std::fs::metadata(path).map_err(|e| problem(format!("cannot read the file: {e}")))?;
    if metadata.len() > MAX_FILE_BYTES as u64 {
        return Err(Diagnostic {
            code: Code::E002,
            severity: Code::E002.severity(),
            message: format!(
                "the file is {} bytes; definitions may be at most {MAX_FILE_BYTES} bytes",
                metadata.len()
            ),
            hint: Some("split the workflow, or check that this is the file you meant".into()),
            ..problem(String::new())
        });
    }
    let bytes = std::fs::read(path).map_err(|e| problem(format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| problem(format!("the file is not UTF-8 text ({e})")))
}
