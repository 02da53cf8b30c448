//! What people and other systems may store: checked once, at the store's boundary, so that
//! the CLI and the HTTP API refuse the same input with the same path and message, and
//! nothing that a database cannot hold (a NUL byte on PostgreSQL) or a runner cannot deliver
//! ever reaches a transaction.
//!
//! Contact addresses are parsed into an [`Address`] here and nowhere else. Where a webhook
//! may point is a policy of the installation ([`WebhookPolicy`]): https only, and never a
//! private, loopback or link-local address unless the operator allows that network.

use std::net::IpAddr;

use crate::{AddressProblem, CaseCommand, Error, InputProblem, OpenCase, Result};
use swakelola_core::step::Action;

/// Longest organisation, business key, token name or contact name.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest field value or comment as typed by a person.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest contact address.
pub const MAX_ADDRESS_CHARS: usize = 2_000;

pub(crate) fn invalid(path: impl Into<String>, problem: impl Into<InputProblem>) -> Error {
    Error::InvalidInput {
        path: path.into(),
        problem: problem.into(),
    }
}

/// A one-line name: 1–[`MAX_NAME_CHARS`] characters, no control characters.
pub fn check_name(path: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(invalid(path, InputProblem::Empty));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            path,
            InputProblem::TooLong {
                max: MAX_NAME_CHARS,
            },
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(invalid(
            path,
            InputProblem::ControlCharacter { code: u32::from(c) },
        ));
    }
    Ok(())
}

/// Free text (a field value, a comment): at most [`MAX_TEXT_CHARS`] characters; line breaks
/// and tabs are kept, every other control character is refused.
pub fn check_text(path: &str, value: &str) -> Result<()> {
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            path,
            InputProblem::TooLong {
                max: MAX_TEXT_CHARS,
            },
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid(
            path,
            InputProblem::ControlCharacter { code: u32::from(c) },
        ));
    }
    Ok(())
}

/// Where a notification goes, as parsed from `email:…` or `webhook:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Email(String),
    Webhook(url::Url),
}

impl Address {
    /// Parses a contact address; the error says what a valid one looks like.
    pub fn parse(text: &str) -> std::result::Result<Self, AddressProblem> {
        if text.chars().count() > MAX_ADDRESS_CHARS {
            return Err(AddressProblem::TooLong {
                max: MAX_ADDRESS_CHARS,
            });
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(AddressProblem::Spaces);
        }
        if let Some(email) = text.strip_prefix("email:") {
            let valid = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.contains('.')
            });
            if !valid {
                return Err(AddressProblem::NotEmail {
                    email: email.to_owned(),
                });
            }
            return Ok(Address::Email(email.to_owned()));
        }
        if let Some(url) = text.strip_prefix("webhook:") {
            let not_http = || AddressProblem::NotHttpUrl {
                url: url.to_owned(),
            };
            let parsed = url::Url::parse(url).map_err(|_| not_http())?;
            if !matches!(parsed.scheme(), "https" | "http") || parsed.host().is_none() {
                return Err(not_http());
            }
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return Err(AddressProblem::Credentials);
            }
            return Ok(Address::Webhook(parsed));
        }
        Err(AddressProblem::NoScheme)
    }

    /// The outbox channel that delivers to this address.
    pub fn channel(&self) -> &'static str {
        match self {
            Address::Email(_) => "email",
            Address::Webhook(_) => "webhook",
        }
    }
}

/// Which webhook destinations an installation may reach. By default only `https` URLs to
/// public addresses; `allow` lists networks (CIDR, e.g. `127.0.0.1/32`, `10.20.0.0/16`) that
/// may be reached although they are private, loopback or link-local, and over plain `http`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    pub allow: Vec<ipnet::IpNet>,
}

impl WebhookPolicy {
    /// Parses the allow-list as written in the config (`127.0.0.1/32`, or a bare address).
    pub fn from_allow_list<S: AsRef<str>>(
        entries: &[S],
    ) -> std::result::Result<Self, InputProblem> {
        let mut allow = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let net = entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| InputProblem::NotANetwork {
                    entry: entry.to_owned(),
                })?;
            allow.push(net);
        }
        Ok(Self { allow })
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|net| net.contains(&ip))
    }

    /// Checks a URL before anything is resolved: the scheme, and the host when it is an
    /// address or `localhost`. Names are checked again, resolved, by [`Self::check_resolved`].
    pub fn check_url(&self, url: &url::Url) -> std::result::Result<(), AddressProblem> {
        let literal: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            Some(url::Host::Domain(name))
                if name.eq_ignore_ascii_case("localhost")
                    || name.to_ascii_lowercase().ends_with(".localhost") =>
            {
                Some(IpAddr::from([127, 0, 0, 1]))
            }
            _ => None,
        };
        if let Some(ip) = literal {
            self.check_resolved(&[ip])?;
        }
        if url.scheme() != "https" && !literal.is_some_and(|ip| self.allowed(ip)) {
            return Err(AddressProblem::NotHttps {
                host: url.host_str().unwrap_or_default().to_owned(),
                scheme: url.scheme().to_owned(),
            });
        }
        Ok(())
    }

    /// Checks the addresses a webhook host resolved to: all must be public, or allowed.
    pub fn check_resolved(&self, ips: &[IpAddr]) -> std::result::Result<(), AddressProblem> {
        match ips
            .iter()
            .find(|ip| is_internal(**ip) && !self.allowed(**ip))
        {
            Some(_) => Err(AddressProblem::InternalAddress),
            None => Ok(()),
        }
    }
}

/// Addresses that belong to this machine or its private network, never the public internet.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 0
                // 100.64.0.0/10, carrier-grade NAT.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Every text of a request to open a case, checked with the path the API reports; webhook
/// contacts also against the installation's `policy`.
pub fn check_open(request: &OpenCase, policy: &WebhookPolicy) -> Result<()> {
    check_name("business_key", &request.business_key)?;
    check_name("organisation", &request.organisation)?;
    check_name("actor", &request.actor.name)?;
    for (field, value) in &request.fields {
        check_name("fields", field)?;
        check_text(&format!("fields.{field}"), value)?;
    }
    for (party, organisation) in &request.parties.organisations {
        check_name("parties", party)?;
        check_name(&format!("parties.{party}"), organisation)?;
    }
    for (party, members) in &request.parties.members {
        let Some(lead) = request.parties.organisations.get(party) else {
            return Err(invalid(format!("members.{party}"), InputProblem::NoLead));
        };
        for (index, member) in members.iter().enumerate() {
            let path = format!("members.{party}[{index}]");
            check_name(&path, member)?;
            if member == lead || members[..index].contains(member) {
                return Err(invalid(
                    path,
                    InputProblem::AlreadyMember {
                        organisation: member.clone(),
                        party: party.clone(),
                    },
                ));
            }
        }
    }
    for (role, contacts) in &request.parties.contacts {
        check_name("contacts", role)?;
        for (index, contact) in contacts.iter().enumerate() {
            // A contact without a name is greeted by the role's label.
            if !contact.name.is_empty() {
                check_name(&format!("contacts.{role}[{index}].name"), &contact.name)?;
            }
            let path = || format!("contacts.{role}[{index}].address");
            match Address::parse(&contact.address).map_err(|message| invalid(path(), message))? {
                Address::Webhook(url) => policy
                    .check_url(&url)
                    .map_err(|message| invalid(path(), message))?,
                Address::Email(_) => {}
            }
        }
    }
    Ok(())
}

/// What only the workflow can tell: every party is one the workflow defines, every contact is
/// for one of its roles.
pub fn check_open_against(request: &OpenCase, workflow: &swakelola_core::Workflow) -> Result<()> {
    for party in request.parties.organisations.keys() {
        if !workflow.parties.iter().any(|p| p.id == *party) {
            return Err(invalid(
                format!("parties.{party}"),
                InputProblem::NotAParty {
                    workflow: workflow.id.clone(),
                    known: workflow.parties.iter().map(|p| p.id.clone()).collect(),
                },
            ));
        }
    }
    for role in request.parties.contacts.keys() {
        if workflow.role(role).is_none() {
            return Err(invalid(
                format!("contacts.{role}"),
                InputProblem::NotARole {
                    workflow: workflow.id.clone(),
                    known: workflow.roles.iter().map(|r| r.id.clone()).collect(),
                },
            ));
        }
    }
    Ok(())
}

/// Every text of a command on a case; new contacts also against the installation's webhook
/// `policy`.
pub fn check_command(command: &CaseCommand, policy: &WebhookPolicy) -> Result<()> {
    check_name("actor", &command.actor.name)?;
    match &command.action {
        Action::SetContacts { role, contacts } => {
            check_name("role", role)?;
            for (index, contact) in contacts.iter().enumerate() {
                if !contact.name.is_empty() {
                    check_name(&format!("contacts[{index}].name"), &contact.name)?;
                }
                let path = || format!("contacts[{index}].address");
                match Address::parse(&contact.address).map_err(|m| invalid(path(), m))? {
                    Address::Webhook(url) => {
                        policy.check_url(&url).map_err(|m| invalid(path(), m))?
                    }
                    Address::Email(_) => {}
                }
            }
            Ok(())
        }
        Action::Fire {
            comment: Some(comment),
            ..
        } => check_text("comment", comment),
        Action::SetField { field, value } => check_text(&format!("fields.{field}"), value),
        Action::Attach { file_name, .. } => check_name("file_name", file_name),
        Action::AddMember { organisation, .. } => check_name("organisation", organisation),
        Action::WithdrawMember {
            organisation,
            reason,
            ..
        } => {
            check_name("organisation", organisation)?;
            check_text("reason", reason)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_control_characters_and_overlong_text() {
        assert!(check_name("p", "Yayasan Intan Maharani").is_ok());
        assert!(check_name("p", "a\u{0}b").is_err());
        assert!(check_name("p", "a\nb").is_err());
        assert!(check_name("p", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(check_name("p", "  ").is_err());
        assert!(check_text("c", "baris satu\nbaris dua\tkolom").is_ok());
        assert!(check_text("c", "a\u{0}b").is_err());
        assert!(check_text("c", "a\u{1b}[31m").is_err());
    }

    #[test]
    fn addresses_parse_once() {
        assert_eq!(
            Address::parse("email:budi@dp3a.example"),
            Ok(Address::Email("budi@dp3a.example".into()))
        );
        assert!(Address::parse("email:a\u{0}b@example.org").is_err());
        assert!(Address::parse("email:nobody").is_err());
        assert!(Address::parse("email:a@b@c.d").is_err());
        assert!(Address::parse("webhook:ftp://example.org/x").is_err());
        assert!(Address::parse("webhook:https://user:pw@example.org/x").is_err());
        assert!(Address::parse("sms:+62").is_err());
        assert_eq!(
            Address::parse("webhook:https://hooks.example.org/a").map(|a| a.channel()),
            Ok("webhook")
        );
    }

    #[test]
    fn webhooks_stay_out_of_internal_networks_unless_allowed() {
        let strict = WebhookPolicy::default();
        let url = |u: &str| url::Url::parse(u).unwrap();
        assert!(
            strict
                .check_url(&url("https://hooks.example.org/x"))
                .is_ok()
        );
        for bad in [
            "http://hooks.example.org/x",
            "https://127.0.0.1:8080/x",
            "https://localhost/x",
            "https://169.254.169.254/latest/meta-data",
            "https://10.1.2.3/x",
            "https://192.168.1.1/x",
            "https://[::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://0.0.0.0/x",
        ] {
            assert!(
                strict.check_url(&url(bad)).is_err(),
                "{bad} must be refused"
            );
        }
        let lab = WebhookPolicy::from_allow_list(&["127.0.0.1/32", "10.0.0.0/8"]).unwrap();
        assert!(lab.check_url(&url("http://127.0.0.1:9000/x")).is_ok());
        assert!(lab.check_url(&url("https://10.9.9.9/x")).is_ok());
        assert!(lab.check_url(&url("https://169.254.169.254/x")).is_err());
        assert!(WebhookPolicy::from_allow_list(&["nonsense"]).is_err());
        assert!(
            strict
                .check_resolved(&["93.184.216.34".parse().unwrap()])
                .is_ok()
        );
        assert!(
            strict
                .check_resolved(&["127.0.0.1".parse().unwrap()])
                .is_err()
        );
    }
}
