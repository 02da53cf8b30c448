//! The message catalogue: every sentence and word swakelola shows people, in Indonesian
//! (`locales/id.ftl`, the default) and English (`locales/en.ftl`), held in Project Fluent
//! files and read with `fluent-bundle`. Code names a message by its id; the text lives here.
//! Workflow labels (`label`/`label_en`) come from the workflow files, not from here.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use swakelola_core::format::Language;

pub const INDONESIAN: &str = include_str!("../locales/id.ftl");
pub const ENGLISH: &str = include_str!("../locales/en.ftl");
/// The command-line help in Indonesian; the English help is the commands' doc comments.
pub const HELP_INDONESIAN: &str = include_str!("../locales/help-id.ftl");

fn bundle(language: &str, sources: &[&str]) -> FluentBundle<FluentResource> {
    let mut bundle =
        FluentBundle::new_concurrent(vec![language.parse().expect("a language identifier")]);
    // Plain text for terminals, mail and JSON: no bidi isolation marks around arguments.
    bundle.set_use_isolating(false);
    for source in sources {
        let resource =
            FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(_, errors)| {
                panic!("the {language} catalogue does not parse: {errors:?}")
            });
        bundle.add_resource(resource).unwrap_or_else(|errors| {
            panic!("the {language} catalogue defines a message twice: {errors:?}")
        });
    }
    bundle
}

static BUNDLES: LazyLock<(FluentBundle<FluentResource>, FluentBundle<FluentResource>)> =
    LazyLock::new(|| {
        (
            bundle("id", &[INDONESIAN, HELP_INDONESIAN]),
            bundle("en", &[ENGLISH]),
        )
    });

/// The Indonesian help text `id` (see `locales/help-id.ftl`), if the catalogue has it.
pub fn help(id: &str) -> Option<String> {
    BUNDLES.0.get_message(id)?.value()?;
    Some(message(Language::Id, id, &[]))
}

/// The message `id` in `language`, with `args` (`{ $name }` in the catalogue). A message
/// missing from the catalogue shows its id, which the catalogue tests never let ship.
pub fn message(language: Language, id: &str, args: &[(&str, &str)]) -> String {
    let bundle = match language {
        Language::Id => &BUNDLES.0,
        Language::En => &BUNDLES.1,
    };
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, *value);
    }
    let mut errors = Vec::new();
    bundle
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned()
}

/// The ids a catalogue source defines.
pub fn ids(source: &str) -> std::collections::BTreeSet<String> {
    source
        .lines()
        .filter(|line| !line.starts_with(['#', ' ', '\t', '.']) && line.contains(" ="))
        .filter_map(|line| line.split_once(" =").map(|(id, _)| id.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message exists in both languages.
    #[test]
    fn both_languages_have_every_message() {
        let (id, en) = (ids(INDONESIAN), ids(ENGLISH));
        let only_id: Vec<_> = id.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&id).collect();
        assert!(only_id.is_empty(), "missing in en.ftl: {only_id:?}");
        assert!(only_en.is_empty(), "missing in id.ftl: {only_en:?}");
        assert!(id.len() > 20);
    }

    /// Every message the code asks for is in the catalogue (the code names them as
    /// `msg("…")` or `message(…, "…"`).
    #[test]
    fn every_message_used_is_defined() {
        let known = ids(INDONESIAN);
        let sources = [
            include_str!("lib.rs"),
            include_str!("refusal.rs"),
            include_str!("../../api/src/error.rs"),
            include_str!("../../api/src/auth.rs"),
            include_str!("../../api/src/cases.rs"),
            include_str!("../../api/src/extract.rs"),
            include_str!("../../api/src/system.rs"),
            include_str!("../../api/src/workflows.rs"),
            include_str!("../../web/src/pages.rs"),
            include_str!("../../web/src/render.rs"),
            include_str!("../../runner/src/cases.rs"),
            include_str!("../../runner/src/simulate.rs"),
            include_str!("../../runner/src/demo.rs"),
            include_str!("../../runner/src/main.rs"),
            include_str!("../../runner/src/messages.rs"),
        ];
        let mut used = std::collections::BTreeSet::new();
        for source in sources {
            // Message ids written as literals anywhere: `"api-…"` (the API's own answers).
            for prefix in ["\"api-", "\"web-"] {
                for (i, _) in source.match_indices(prefix) {
                    let rest = &source[i + 1..];
                    if let Some(end) = rest.find('"') {
                        used.insert(rest[..end].to_owned());
                    }
                }
            }

            // `msg("…"` and `text("…"` (the helpers that wrap `message`), and `if … { "…" }`
            // choices passed to them, written as message ids.
            for pattern in ["msg(\"", "text(\""] {
                for (i, _) in source.match_indices(pattern) {
                    let rest = &source[i + pattern.len()..];
                    if let Some(end) = rest.find('"') {
                        used.insert(rest[..end].to_owned());
                    }
                }
            }
            // `catalogue::message(language, "id", …)`: the first string literal after it.
            for (i, _) in source.match_indices("catalogue::message(") {
                // Within the call: up to its first closing parenthesis.
                let call = &source[i..];
                let rest = &call[..call.find(')').unwrap_or(call.len())];
                if let Some(start) = rest.find('"') {
                    let rest = &rest[start + 1..];
                    if let Some(end) = rest.find('"') {
                        used.insert(rest[..end].to_owned());
                    }
                }
            }
        }
        // The web pages' templates name messages as `t("…")` or `t('…')`.
        let templates = [
            include_str!("../../web/templates/base.html"),
            include_str!("../../web/templates/masuk.html"),
            include_str!("../../web/templates/sandi.html"),
            include_str!("../../web/templates/tugas.html"),
            include_str!("../../web/templates/kasus.html"),
            include_str!("../../web/templates/galat.html"),
            include_str!("../../web/templates/daftar.html"),
            include_str!("../../web/templates/admin-alur.html"),
            include_str!("../../web/templates/agenda.html"),
        ];
        for source in templates {
            for pattern in ["t(\"", "t('"] {
                for (i, _) in source.match_indices(pattern) {
                    let rest = &source[i + pattern.len()..];
                    if let Some(end) = rest.find(['"', '\'']) {
                        used.insert(rest[..end].to_owned());
                    }
                }
            }
        }
        let unknown: Vec<_> = used.iter().filter(|id| !known.contains(*id)).collect();
        assert!(
            unknown.is_empty(),
            "used but not in the catalogue: {unknown:?}"
        );
        assert!(used.len() > 20, "{used:?}");
    }

    #[test]
    fn messages_take_arguments() {
        assert_eq!(
            message(Language::En, "no-such-message", &[]),
            "no-such-message"
        );
        assert_eq!(message(Language::Id, "period-quarter", &[]), "Triwulan");
        assert_eq!(message(Language::En, "period-quarter", &[]), "Quarter");
    }
}
