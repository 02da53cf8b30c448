//! `swakelola user …`: accounts of the people who sign in to the web pages. Each account is
//! in one organisation with its roles, like a token; its holder sets the password through a
//! one-time link, which this command prints (send it to the person; it works once, for 72
//! hours).

use std::process::ExitCode;

use clap::Subcommand;
use jiff::Timestamp;
use serde_json::json;
use swakelola_core::format::Language;
use swakelola_store::people::User;
use swakelola_view::catalogue;

use crate::cases::{Database, fail, open_store, runtime};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print the one-time link with which its holder sets a password.
    ///
    /// Example: swakelola user create --name "Budi Santoso" --email budi@dp3a.example
    /// --organisation dp3a-palembang --role ppk --public-url https://swakelola.dp3a.example
    Create {
        /// The person's name, shown on the pages and recorded as the actor of what they do.
        #[arg(long)]
        name: String,
        /// The email address they sign in with.
        #[arg(long)]
        email: String,
        /// The organisation they act for (as named in the parties of cases).
        #[arg(long, value_name = "ORG")]
        organisation: String,
        /// A workflow role they may act in, or `admin`; repeat for several.
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<String>,
        /// Where the web pages are served, to print the link in full.
        #[arg(long, env = "SWAKELOLA_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
    },
    /// List accounts: organisation, roles, and whether each is active, invited or disabled.
    List,
    /// Disable an account: its sessions end at once and it cannot sign in.
    Disable {
        /// The account's email address.
        #[arg(value_name = "EMAIL")]
        email: String,
    },
    /// Print a new one-time link to set the password (a forgotten password); the account's
    /// sessions end and a disabled account is enabled again.
    Reset {
        /// The account's email address.
        #[arg(value_name = "EMAIL")]
        email: String,
        /// Where the web pages are served, to print the link in full.
        #[arg(long, env = "SWAKELOLA_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
    },
}

/// Where a person sets their password: `<public_url>/sandi/<secret>`, or the path alone.
pub fn password_link(public_url: Option<&str>, secret: &str) -> String {
    format!(
        "{}/sandi/{secret}",
        public_url.unwrap_or_default().trim_end_matches('/')
    )
}

fn status(user: &User, language: Language) -> String {
    let id = if user.disabled_at.is_some() {
        "user-disabled"
    } else if user.active {
        "user-active"
    } else {
        "user-invited"
    };
    catalogue::message(language, id, &[])
}

pub fn user(database: &Database, command: &UserCommand) -> ExitCode {
    let language: Language = database.lang.into();
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            let now = Timestamp::now();
            let print_link = |user: &User, link: &str, public_url: Option<&str>| {
                let link = password_link(public_url, link);
                if database.json {
                    println!("{}", json!({ "user": user, "link": link }));
                } else {
                    println!("{link}");
                    eprintln!(
                        "{}",
                        catalogue::message(
                            language,
                            "user-link-printed",
                            &[("name", &user.name), ("email", &user.email)]
                        )
                    );
                }
            };
            match command {
                UserCommand::Create {
                    name,
                    email,
                    organisation,
                    roles,
                    public_url,
                } => {
                    let (user, link) = store
                        .create_user(name, email, organisation, roles, now)
                        .await?;
                    print_link(&user, &link, public_url.as_deref());
                }
                UserCommand::List => {
                    let users = store.users().await?;
                    if database.json {
                        println!("{}", json!(users));
                    } else if users.is_empty() {
                        println!("{}", catalogue::message(language, "user-none", &[]));
                    } else {
                        for user in &users {
                            println!(
                                "{:<32} {:<24} {:<20} {:<12} {}",
                                user.email,
                                user.name,
                                user.organisation,
                                status(user, language),
                                user.roles.join(", ")
                            );
                        }
                    }
                }
                UserCommand::Disable { email } => {
                    let user = store.disable_user(email, now).await?;
                    if database.json {
                        println!("{}", json!(user));
                    } else {
                        println!(
                            "{}",
                            catalogue::message(
                                language,
                                "user-disabled-now",
                                &[("email", &user.email)]
                            )
                        );
                    }
                }
                UserCommand::Reset { email, public_url } => {
                    let (user, link) = store.reset_user(email, now).await?;
                    print_link(&user, &link, public_url.as_deref());
                }
            }
            Ok::<_, swakelola_store::Error>(())
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error, database, None),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_full_urls_when_the_address_is_known() {
        assert_eq!(
            password_link(Some("https://swakelola.example/"), "abc"),
            "https://swakelola.example/sandi/abc"
        );
        assert_eq!(password_link(None, "abc"), "/sandi/abc");
    }
}
