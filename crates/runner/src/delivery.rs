//! Delivering notification messages: the `log` channel (a JSON line on stdout), the `email`
//! channel (SMTP; `Message-ID` derived from the message's deterministic key) and the
//! `webhook` channel (an HTTP POST signed per the Standard Webhooks convention: headers
//! `webhook-id` — the message's deterministic key, so receivers can drop duplicates —,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
//!
//! Delivery happens after the transaction that wrote the message has committed, and a
//! message is marked sent only after delivery succeeded: at least once, never lost.

use crate::messages::Rendered;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;
use swakelola_store::OutboxMessage;
use swakelola_store::input::{Address, WebhookPolicy};

/// How failed deliveries are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts before a message is dead (visible in `swakelola outbox list --failed`).
    pub max_attempts: u32,
    /// Wait after the first failure; doubles with each further failure, at most one hour.
    pub base: SignedDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: SignedDuration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// When to try again after `attempts` failed attempts, or `None` when the message is dead.
    /// Jitter (±20 %) is derived from the message key so that messages failing together do
    /// not retry together, while a given message's schedule stays reproducible.
    pub fn next_attempt(&self, key: &str, attempts: u32, now: Timestamp) -> Option<Timestamp> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = attempts.saturating_sub(1).min(16);
        let backoff = self
            .base
            .as_millis()
            .saturating_mul(1 << exponent)
            .min(3_600_000);
        let spread = key.bytes().fold(u64::from(attempts), |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        }) % 41;
        let jittered = backoff * (80 + spread as i128) / 100;
        now.checked_add(SignedDuration::from_millis(jittered as i64))
            .ok()
    }
}

/// The webhook channel, enabled by a signing secret.
#[derive(Debug, Clone)]
pub struct Webhooks {
    secret: Vec<u8>,
    agent: ureq::Agent,
    timeout: Duration,
}

impl Webhooks {
    /// `secret` as Standard Webhooks writes it (`whsec_<base64>`), or any other text, used as
    /// is; each delivery gives up after `timeout` (connecting, sending and answering).
    pub fn new(secret: &str, timeout: Duration) -> Self {
        let key = secret
            .strip_prefix("whsec_")
            .and_then(|b64| BASE64.decode(b64).ok())
            .unwrap_or_else(|| secret.as_bytes().to_vec());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // A receiver answering 4xx/5xx is a failed delivery, but never a redirect to follow
            // somewhere the policy did not check.
            .max_redirects(0)
            .build()
            .into();
        Self {
            secret: key,
            agent,
            timeout,
        }
    }

    /// POSTs the message; `Err` says why it failed in words safe to show (HTTP status,
    /// timeout, no connection), never the internal detail, which goes to the log.
    ///
    /// The destination is checked again here against `policy` (contacts were checked when
    /// given; a name may since resolve elsewhere). The check resolves the name once and the
    /// HTTP client resolves it again, so a name that changes its address in between is not
    /// caught: operators who fear DNS rebinding allow no internal network at all.
    pub async fn deliver(
        &self,
        message: &OutboxMessage,
        text: &Rendered,
        now: Timestamp,
        policy: &WebhookPolicy,
    ) -> Result<(), String> {
        let url = match Address::parse(&message.recipient) {
            Ok(Address::Webhook(url)) => url,
            _ => return Err("the recipient is not a webhook address".to_owned()),
        };
        policy.check_url(&url).map_err(|p| p.to_string())?;
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let resolved: Vec<std::net::IpAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|error| {
                tracing::warn!(event = "webhook_resolve_failed", key = %message.key, %error, "cannot resolve the webhook host");
                "the webhook host name cannot be resolved".to_owned()
            })?
            .map(|a| a.ip())
            .collect();
        policy
            .check_resolved(&resolved)
            .map_err(|p| p.to_string())?;
        let body = serde_json::json!({
            "type": "swakelola.notification",
            "timestamp": now,
            "data": {
                "case_id": message.case_id,
                "notification": message.payload["notification"],
                "subject": text.subject,
                "text": text.body,
            },
        })
        .to_string();
        let timestamp = now.as_second().to_string();
        let signature = sign(&self.secret, &message.key, &timestamp, &body);
        let agent = self.agent.clone();
        let id = message.key.clone();
        let timeout = self.timeout;
        let outcome = tokio::task::spawn_blocking(move || {
            agent
                .post(url.as_str())
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", &timestamp)
                .header("webhook-signature", &signature)
                .send(&body)
                .map(|_| ())
        })
        .await
        .map_err(|e| format!("delivery task failed: {e}"))?;
        outcome.map_err(|error| {
            tracing::warn!(event = "webhook_failed", key = %message.key, %error, "webhook delivery failed");
            match error {
                ureq::Error::StatusCode(status) => format!("the receiver answered HTTP {status}"),
                ureq::Error::Timeout(_) => format!(
                    "the receiver did not answer within {} s",
                    timeout.as_secs()
                ),
                ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                    "could not connect to the receiver".to_owned()
                }
                ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
                    "the TLS connection to the receiver failed".to_owned()
                }
                _ => "the delivery failed (details in the runner's log)".to_owned(),
            }
        })
    }
}

/// The email channel: SMTP through lettre.
#[derive(Clone)]
pub struct Email {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Email {
    /// `url`: `smtp://user:password@host:587?tls=required` (STARTTLS), `smtps://…:465` (TLS),
    /// or `smtp://host:25` (plain, for a local relay). `from`: `Nama <alamat@domain>`.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| format!("bad SMTP URL: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("bad sender address `{from}`: {e}"))?;
        Ok(Self { transport, from })
    }

    /// Sends one email that is not an outbox message (the link to set a password).
    pub async fn send_text(
        &self,
        name: &str,
        email: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), String> {
        use lettre::AsyncTransport;
        let to = lettre::message::Mailbox::new(
            Some(name.to_owned()),
            email
                .parse()
                .map_err(|e| format!("bad recipient `{email}`: {e}"))?,
        );
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| format!("cannot build the email: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub async fn deliver(&self, message: &OutboxMessage, text: &Rendered) -> Result<(), String> {
        use lettre::AsyncTransport;
        let address = message
            .recipient
            .strip_prefix("email:")
            .ok_or_else(|| format!("`{}` is not an email address", message.recipient))?;
        let to: lettre::message::Mailbox = address
            .parse()
            .map_err(|e| format!("bad recipient `{address}`: {e}"))?;
        let email = lettre::Message::builder()
            .message_id(Some(message_id(&message.key)))
            .from(self.from.clone())
            .to(to)
            .subject(text.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text.body.clone())
            .map_err(|e| format!("cannot build the email: {e}"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[async_trait::async_trait]
impl swakelola_web::Mailer for Email {
    async fn send(&self, name: &str, email: &str, subject: &str, body: &str) -> Result<(), String> {
        self.send_text(name, email, subject, body).await
    }
}

/// A `Message-ID` that is the same for every delivery of one message, so mail clients and
/// receivers can drop duplicates.
pub fn message_id(key: &str) -> String {
    let local: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=+".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<{local}@swakelola>")
}

/// `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.
pub fn sign(secret: &[u8], id: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_ends_in_a_dead_letter() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base: SignedDuration::from_secs(10),
        };
        let now: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let wait = |attempts| {
            policy
                .next_attempt("case/timer:x/role:ppk", attempts, now)
                .map(|t| t.duration_since(now).as_secs_f64())
        };
        let (first, second, third) = (wait(1).unwrap(), wait(2).unwrap(), wait(3).unwrap());
        assert!((8.0..=12.0).contains(&first), "{first}");
        assert!((16.0..=24.0).contains(&second), "{second}");
        assert!((32.0..=48.0).contains(&third), "{third}");
        assert_eq!(wait(4), None);
        // Deterministic for one message.
        assert_eq!(wait(2), wait(2));
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // Secret, id, timestamp and body from the Standard Webhooks reference test vector.
        let secret = BASE64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
