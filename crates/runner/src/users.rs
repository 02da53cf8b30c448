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
use swakelola_view::people::user_status;
use swakelola_web::password_link;

use crate::cases::{Database, fail, open_store, runtime};

/// How the link to set a password reaches its holder: by email through this SMTP server,
/// else printed.
#[derive(Debug, clap::Args)]
pub struct MailOptions {
    /// SMTP server (as for `run`) to email the link to the person instead of printing it.
    #[arg(
        long,
        env = "SWAKELOLA_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    smtp_url: Option<String>,
    /// Sender of that email.
    #[arg(
        long,
        env = "SWAKELOLA_SMTP_FROM",
        default_value = "swakelola <swakelola@localhost>"
    )]
    smtp_from: String,
}

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
        #[command(flatten)]
        mail: MailOptions,
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
        #[command(flatten)]
        mail: MailOptions,
    },
}

pub fn user(database: &Database, command: &UserCommand) -> ExitCode {
    let language: Language = database.lang.into();
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            let now = Timestamp::now();
            let hand_over =
                |user: User, secret: String, public_url: Option<String>, mail: &MailOptions| {
                    let link = password_link(public_url.as_deref(), &secret);
                    let mailer = mail
                        .smtp_url
                        .as_deref()
                        .map(|url| crate::delivery::Email::new(url, &mail.smtp_from));
                    async move {
                        let hours = swakelola_store::people::LINK_VALIDITY
                            .as_hours()
                            .to_string();
                        let sent = match mailer {
                            Some(Ok(mailer)) => {
                                let subject = catalogue::message(language, "invite-subject", &[]);
                                let body = catalogue::message(
                                    language,
                                    "invite-body",
                                    &[("name", &user.name), ("link", &link), ("hours", &hours)],
                                );
                                mailer
                                    .send_text(&user.name, &user.email, &subject, &body)
                                    .await
                            }
                            Some(Err(error)) => Err(error),
                            None => Err(String::new()),
                        };
                        match sent {
                            Ok(()) => {
                                if database.json {
                                    println!("{}", json!({ "user": user, "sent_to": user.email }));
                                } else {
                                    println!(
                                        "{}",
                                        catalogue::message(
                                            language,
                                            "web-link-sent",
                                            &[("email", &user.email)]
                                        )
                                    );
                                }
                            }
                            Err(error) => {
                                // Not sent (no SMTP, or it failed): the link is printed, nothing lost.
                                if !error.is_empty() {
                                    eprintln!(
                                        "{}",
                                        catalogue::message(
                                            language,
                                            "user-link-not-sent",
                                            &[("email", &user.email), ("error", &error)]
                                        )
                                    );
                                }
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
                            }
                        }
                    }
                };
            match command {
                UserCommand::Create {
                    name,
                    email,
                    organisation,
                    roles,
                    public_url,
                    mail,
                } => {
                    let (user, link) = store
                        .create_user(name, email, organisation, roles, now)
                        .await?;
                    hand_over(user, link, public_url.clone(), mail).await;
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
                                user_status(user, language),
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
                UserCommand::Reset {
                    email,
                    public_url,
                    mail,
                } => {
                    let (user, link) = store.reset_user(email, now).await?;
                    hand_over(user, link, public_url.clone(), mail).await;
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
