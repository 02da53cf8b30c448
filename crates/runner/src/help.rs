//! The command-line help in the reader's language. The English help is written once, as the
//! doc comments of the commands; the Indonesian help (the default) comes from the catalogue
//! (`crates/view/locales/help-id.ftl`) and replaces it, command by command and argument by
//! argument, before clap parses anything, so that `swakelola case open --help` and the errors
//! of a wrong command line read in Indonesian.

use clap::Command;
use swakelola_core::format::Language;
use swakelola_view::catalogue;

/// The language asked for before the command line is parsed: `--lang` (as `--lang en` or
/// `--lang=en`), else `SWAKELOLA_LANG`, else Indonesian. (The config file's `lang` cannot
/// change the help: it is read after parsing.)
pub fn requested_language(args: &[String], environment: Option<&str>) -> Language {
    let from_args = args.windows(2).find_map(|pair| match pair[0].as_str() {
        "--lang" => Some(pair[1].clone()),
        _ => None,
    });
    let from_args = from_args.or_else(|| {
        args.iter()
            .find_map(|arg| arg.strip_prefix("--lang=").map(str::to_owned))
    });
    match from_args.as_deref().or(environment) {
        Some(lang) if lang.trim().eq_ignore_ascii_case("en") => Language::En,
        _ => Language::Id,
    }
}

/// The catalogue id of a command's help (`help-case-open`) given its path of names.
pub fn command_id(path: &[&str]) -> String {
    std::iter::once("help")
        .chain(path.iter().copied())
        .collect::<Vec<_>>()
        .join("-")
}

/// The Indonesian help of argument `arg` of the command `command_id`: its own, or the one
/// shared by every command (`help-arg--case`).
pub fn argument_text(command_id: &str, arg: &str) -> Option<String> {
    catalogue::help(&format!("{command_id}--{arg}"))
        .or_else(|| catalogue::help(&format!("help-arg--{arg}")))
}

/// The first paragraph (the short help) and, when there is more, the whole text.
fn short_and_long(text: &str) -> (String, Option<String>) {
    match text.split_once("\n\n") {
        Some((first, _)) => (
            first.trim().trim_end_matches('.').to_owned(),
            Some(text.trim().to_owned()),
        ),
        None => (text.trim().trim_end_matches('.').to_owned(), None),
    }
}

/// `command` ready to parse: its help, and that of every argument and subcommand, in
/// `language`, and global options shown only on the commands that use them.
///
/// Everything is changed before clap builds the tree: clap indexes the arguments while it
/// builds, and changing one afterwards breaks the parser.
pub fn prepared(command: Command, language: Language) -> Command {
    let command = hide_ignored_globals(command);
    match language {
        Language::En => command,
        Language::Id => indonesian(command, &[])
            // clap's `help` subcommand cannot be translated; `swakelola help case open` is
            // answered as `swakelola case open --help` instead (see [`help_subcommand`]).
            .disable_help_subcommand(true)
            .disable_version_flag(true)
            .arg(
                clap::Arg::new("version")
                    .short('V')
                    .long("version")
                    .action(clap::ArgAction::Version)
                    .help(word("help-clap-version"))
                    .help_heading(word("help-clap-options")),
            )
            .after_help(word("help-clap-after")),
    }
}

/// `swakelola help case open` as `swakelola case open --help`, for the Indonesian help (which
/// has no `help` subcommand of clap's).
pub fn help_subcommand(mut args: Vec<String>) -> Vec<String> {
    if args.get(1).map(String::as_str) == Some("help") {
        args.remove(1);
        args.push("--help".to_owned());
    }
    args
}

/// Commands that open the database (and read the config file's database settings).
const DATABASE_COMMANDS: &[&str] = &[
    "run", "serve", "token", "user", "agenda", "outbox", "timer", "db", "workflow", "case",
];

/// Whether the top-level command `command` uses the global option `option`.
pub fn uses_global(command: &str, option: &str) -> bool {
    match option {
        "database_url" | "webhook_allow" | "config" => DATABASE_COMMANDS.contains(&command),
        "log_format" => matches!(command, "run" | "serve"),
        "json" => !matches!(
            command,
            "demo" | "simulate" | "graph" | "explain" | "run" | "serve"
        ),
        _ => true,
    }
}

/// Hides, in each command's help, the global options it ignores; they stay accepted, so that
/// one command line (an alias, a config) can carry them all. clap copies a global option to a
/// subcommand only when the subcommand has none of that name, so a hidden copy placed on the
/// subcommand first is the one its subtree inherits.
fn hide_ignored_globals(mut command: Command) -> Command {
    let globals: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for sub in subcommands {
        let hidden: Vec<clap::Arg> = globals
            .iter()
            .filter(|g| !uses_global(&sub, g.get_id().as_str()))
            .map(|g| g.clone().hide(true))
            .collect();
        command = command.mut_subcommand(&sub, |c| c.args(hidden));
    }
    command
}

/// clap's own words (headings, its `--help` and `--version`), in Indonesian from the
/// catalogue's `help-clap-*` messages.
fn word(id: &str) -> String {
    catalogue::help(id).unwrap_or_else(|| id.to_owned())
}

/// clap's page layout with the Indonesian word for "Usage".
fn indonesian_template() -> String {
    format!(
        "{{before-help}}{{about-with-newline}}\n{}: {{usage}}\n\n{{all-args}}{{after-help}}",
        word("help-clap-usage")
    )
}

fn indonesian(mut command: Command, parents: &[&str]) -> Command {
    let name = command.get_name().to_owned();
    let mut path: Vec<&str> = parents.to_vec();
    if !parents.is_empty() || name != "swakelola" {
        path.push(&name);
    }
    let id = command_id(&path);
    if let Some(text) = catalogue::help(&id) {
        let (short, long) = short_and_long(&text);
        command = command.about(short);
        if let Some(long) = long {
            command = command.long_about(long);
        }
    }
    let arguments: Vec<(String, bool)> = command
        .get_arguments()
        .map(|arg| (arg.get_id().to_string(), arg.is_positional()))
        .collect();
    for (arg, positional) in arguments {
        let text = argument_text(&id, &arg);
        command = command.mut_arg(&arg, |a| {
            let a = a.help_heading(word(if positional {
                "help-clap-arguments"
            } else {
                "help-clap-options"
            }));
            match &text {
                Some(text) => {
                    let (short, long) = short_and_long(text);
                    let a = a.help(short);
                    match long {
                        Some(long) => a.long_help(long),
                        None => a,
                    }
                }
                None => a,
            }
        });
    }
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for sub in subcommands {
        command = command.mut_subcommand(&sub, |c| indonesian(c, &path));
    }
    // Every command's page, the top one included, with clap's words in Indonesian.
    command
        .subcommand_help_heading(word("help-clap-commands"))
        .help_template(indonesian_template())
        .disable_help_flag(true)
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .help(word("help-clap-help"))
                .help_heading(word("help-clap-options")),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_found_before_parsing() {
        let args = |text: &str| text.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            requested_language(&args("swakelola case open --help"), None),
            Language::Id
        );
        assert_eq!(
            requested_language(&args("swakelola --lang en demo"), None),
            Language::En
        );
        assert_eq!(
            requested_language(&args("swakelola --lang=en demo"), None),
            Language::En
        );
        assert_eq!(
            requested_language(&args("swakelola demo"), Some("en")),
            Language::En
        );
        assert_eq!(
            requested_language(&args("swakelola --lang id demo"), Some("en")),
            Language::Id
        );
    }
}
