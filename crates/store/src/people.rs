//! People who sign in to the web pages: accounts, one-time links to set a password, sessions
//! and the throttling of failed sign-ins.
//!
//! An account is a principal exactly like a token — one organisation and the roles its holder
//! acts in — so the web pages authorise with the API's rules. Passwords are kept as Argon2id
//! hashes; link and session secrets (32 random bytes) only as their SHA-256, like token
//! secrets. Sessions live in the database, so several `serve` processes share them.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::hash::sha256_hex;
use crate::input::check_name;
use crate::sql::{SqlStore, instant, json, millis, parse_json};
use crate::{ApiToken, Error, Invalid, Result};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// How long a link to set a password stays valid.
pub const LINK_VALIDITY: SignedDuration = SignedDuration::from_hours(72);
/// A session ends after this long without a request …
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(8);
/// … and after this long in any case.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 7);
/// Failed sign-ins allowed per account and per address within [`THROTTLE_WINDOW`].
pub const MAX_FAILED_SIGN_INS: i64 = 5;
pub const THROTTLE_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// An account as stored (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub roles: Vec<String>,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
    /// Whether a password was set (the invitation was taken up).
    pub active: bool,
}

impl User {
    /// The principal this person acts as: the same shape as a token, so that one
    /// authorization path serves the API and the pages.
    pub fn principal(&self) -> ApiToken {
        ApiToken {
            id: format!("user:{}", self.id),
            name: self.name.clone(),
            organisation: self.organisation.clone(),
            roles: self.roles.clone(),
            created_at: self.created_at,
            expires_at: None,
            revoked_at: self.disabled_at,
        }
    }
}

/// A signed-in browser: who, and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

type UserRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

/// A user row followed by its session's form token, creation and last use.
type SessionRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    String,
    i64,
    i64,
);

const USER_COLUMNS: &str =
    "id, name, email, organisation, roles, created_at, disabled_at, password_hash FROM users";

fn user_from_row(row: UserRow) -> Result<(User, Option<String>)> {
    let (id, name, email, organisation, roles, created_at, disabled_at, hash) = row;
    Ok((
        User {
            id,
            name,
            email,
            organisation,
            roles: parse_json(&roles, "user roles")?,
            created_at: instant(created_at)?,
            disabled_at: disabled_at.map(instant).transpose()?,
            active: hash.is_some(),
        },
        hash,
    ))
}

use crate::hash::random_secret as secret;

/// An email address as stored and compared: trimmed, lower case.
fn normalised(email: &str) -> String {
    email.trim().to_lowercase()
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| {
        Error::InvalidRequest(Invalid::NoRandomness {
            detail: e.to_string(),
        })
    })?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::Corrupt(format!("cannot encode a salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Corrupt(format!("cannot hash a password: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl SqlStore {
    /// Creates an account and returns it with the secret of its one-time link to set a
    /// password (valid for [`LINK_VALIDITY`]).
    pub async fn create_user(
        &self,
        name: &str,
        email: &str,
        organisation: &str,
        roles: &[String],
        now: Timestamp,
    ) -> Result<(User, String)> {
        check_name("name", name)?;
        check_name("organisation", organisation)?;
        let email = normalised(email);
        if !crate::input::Address::parse(&format!("email:{email}"))
            .is_ok_and(|a| matches!(a, crate::input::Address::Email(_)))
        {
            return Err(Error::InvalidInput {
                path: "email".into(),
                problem: crate::InputProblem::Address(crate::AddressProblem::NotEmail {
                    email: email.clone(),
                }),
            });
        }
        if roles.is_empty() {
            return Err(Error::InvalidRequest(Invalid::TokenWithoutRole));
        }
        for role in roles {
            check_name("roles", role)?;
        }
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        let user = User {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_owned(),
            email: email.clone(),
            organisation: organisation.to_owned(),
            roles,
            created_at: now,
            disabled_at: None,
            active: false,
        };
        let link = secret()?;
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, name, email, organisation, roles, password_hash, created_at, disabled_at)
             VALUES ($1, $2, $3, $4, $5, NULL, $6, NULL)",
        )
        .bind(user.id.as_str())
        .bind(user.name.as_str())
        .bind(user.email.as_str())
        .bind(user.organisation.as_str())
        .bind(json(&user.roles))
        .bind(millis(now))
        .execute(&mut *tx)
        .await;
        if let Err(sqlx::Error::Database(db)) = &inserted
            && db.is_unique_violation()
        {
            return Err(Error::InvalidRequest(Invalid::EmailTaken { email }));
        }
        inserted?;
        insert_link(&mut tx, &user.id, &link, now).await?;
        tx.commit().await?;
        Ok((user, link))
    }

    /// Every account (for the command line and the administrators of the installation).
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} ORDER BY organisation, email"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| user_from_row(row).map(|(user, _)| user))
            .collect()
    }

    /// The accounts of one organisation (for its administrator's page).
    pub async fn organisation_users(&self, organisation: &str) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} WHERE organisation = $1 ORDER BY email"
        )))
        .bind(organisation)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| user_from_row(row).map(|(user, _)| user))
            .collect()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} WHERE email = $1"
        )))
        .bind(normalised(email))
        .fetch_optional(self.pool())
        .await?;
        row.map(user_from_row).transpose()
    }

    /// Disables an account: its sessions end at once and it cannot sign in again.
    pub async fn disable_user(&self, email: &str, now: Timestamp) -> Result<User> {
        let (user, _) = self
            .user_by_email(email)
            .await?
            .ok_or_else(|| unknown_user(email))?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2")
            .bind(millis(now))
            .bind(user.id.as_str())
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, &user.id).await?;
        tx.commit().await?;
        Ok(User {
            disabled_at: user.disabled_at.or(Some(now)),
            ..user
        })
    }

    /// A new one-time link to set the password of an account (a forgotten password); the
    /// account's sessions end, and it is enabled again.
    pub async fn reset_user(&self, email: &str, now: Timestamp) -> Result<(User, String)> {
        let (user, _) = self
            .user_by_email(email)
            .await?
            .ok_or_else(|| unknown_user(email))?;
        let link = secret()?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1")
            .bind(user.id.as_str())
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, &user.id).await?;
        insert_link(&mut tx, &user.id, &link, now).await?;
        tx.commit().await?;
        Ok((
            User {
                disabled_at: None,
                ..user
            },
            link,
        ))
    }

    /// The account a password link is for, if the link is still good.
    pub async fn link_user(&self, link: &str, now: Timestamp) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} WHERE id = (SELECT user_id FROM user_links WHERE secret_hash = $1 AND used_at IS NULL AND expires_at > $2)"
        )))
        .bind(sha256_hex(link.as_bytes()))
        .bind(millis(now))
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| user_from_row(row).map(|(user, _)| user))
            .transpose()
    }

    /// Sets the password through a one-time link; the link is used up.
    pub async fn set_password(&self, link: &str, password: &str, now: Timestamp) -> Result<User> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(Error::InvalidRequest(Invalid::PasswordTooShort {
                min: MIN_PASSWORD_CHARS,
            }));
        }
        let user = self
            .link_user(link, now)
            .await?
            .ok_or(Error::InvalidRequest(Invalid::LinkNotValid))?;
        // Hashing is slow on purpose: done before the write transaction.
        let hash = hash_password(password)?;
        let mut tx = self.begin().await?;
        let used = sqlx::query(
            "UPDATE user_links SET used_at = $1 WHERE secret_hash = $2 AND used_at IS NULL",
        )
        .bind(millis(now))
        .bind(sha256_hex(link.as_bytes()))
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(Error::InvalidRequest(Invalid::LinkNotValid));
        }
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user.id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(User {
            active: true,
            ..user
        })
    }

    /// Signs in with email and password from `address`, and returns the new session's secret
    /// (for the cookie) with the session. After [`MAX_FAILED_SIGN_INS`] failures within
    /// [`THROTTLE_WINDOW`] for the account or the address, every attempt is refused until the
    /// window has passed — even with the right password.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<(String, Session)> {
        let subjects = [
            format!("email:{}", normalised(email)),
            format!("addr:{address}"),
        ];
        let since = millis(now) - THROTTLE_WINDOW.as_millis() as i64;
        for subject in &subjects {
            let failures: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sign_in_failures WHERE subject = $1 AND at > $2",
            )
            .bind(subject.as_str())
            .bind(since)
            .fetch_one(self.pool())
            .await?;
            if failures >= MAX_FAILED_SIGN_INS {
                return Err(Error::InvalidRequest(Invalid::TooManySignIns {
                    minutes: THROTTLE_WINDOW.as_mins() as u64,
                }));
            }
        }
        let found = self.user_by_email(email).await?;
        let signed_in = match &found {
            Some((user, Some(hash))) if user.disabled_at.is_none() => {
                password_matches(password, hash)
            }
            _ => {
                // As slow as a real check, so that timing does not tell which emails exist.
                let _ = hash_password(password);
                false
            }
        };
        let Some((user, _)) = found.filter(|_| signed_in) else {
            for subject in &subjects {
                sqlx::query("INSERT INTO sign_in_failures (subject, at) VALUES ($1, $2)")
                    .bind(subject.as_str())
                    .bind(millis(now))
                    .execute(self.pool())
                    .await?;
            }
            return Err(Error::InvalidRequest(Invalid::SignInRefused));
        };
        let cookie = secret()?;
        let csrf = secret()?;
        sqlx::query(
            "INSERT INTO sessions (secret_hash, user_id, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(sha256_hex(cookie.as_bytes()))
        .bind(user.id.as_str())
        .bind(csrf.as_str())
        .bind(millis(now))
        .execute(self.pool())
        .await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1 OR at <= $2")
            .bind(subjects[0].as_str())
            .bind(since)
            .execute(self.pool())
            .await?;
        Ok((cookie, Session { user, csrf }))
    }

    /// The session of a cookie's secret, if it is still alive (not idle for
    /// [`SESSION_IDLE`], younger than [`SESSION_LIFETIME`], its account enabled); a live
    /// session's last use moves to `now`.
    pub async fn session(&self, cookie: &str, now: Timestamp) -> Result<Option<Session>> {
        let secret_hash = sha256_hex(cookie.as_bytes());
        // The session and its account in one round trip: this runs for every page.
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT u.id, u.name, u.email, u.organisation, u.roles, u.created_at, u.disabled_at,
                    u.password_hash, s.csrf, s.created_at, s.last_seen_at
               FROM sessions s JOIN users u ON u.id = s.user_id
              WHERE s.secret_hash = $1",
        )
        .bind(secret_hash.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some((
            id,
            name,
            email,
            organisation,
            roles,
            user_created,
            disabled_at,
            hash,
            csrf,
            created_at,
            last_seen_at,
        )) = row
        else {
            return Ok(None);
        };
        let now_ms = millis(now);
        let expired = now_ms - last_seen_at > SESSION_IDLE.as_millis() as i64
            || now_ms - created_at > SESSION_LIFETIME.as_millis() as i64;
        let (user, _) = user_from_row((
            id,
            name,
            email,
            organisation,
            roles,
            user_created,
            disabled_at,
            hash,
        ))?;
        let user = Some(user);
        match user {
            Some(user) if !expired && user.disabled_at.is_none() => {
                // A minute's precision is enough for idle expiry, and spares a write per page.
                if now_ms - last_seen_at > 60_000 {
                    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE secret_hash = $2")
                        .bind(now_ms)
                        .bind(secret_hash.as_str())
                        .execute(self.pool())
                        .await?;
                }
                Ok(Some(Session { user, csrf }))
            }
            _ => {
                self.sign_out(cookie).await?;
                Ok(None)
            }
        }
    }

    /// Ends one session.
    pub async fn sign_out(&self, cookie: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
            .bind(sha256_hex(cookie.as_bytes()))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every session of an account ("sign out everywhere").
    pub async fn sign_out_everywhere(&self, user_id: &str) -> Result<u64> {
        let mut tx = self.begin().await?;
        let ended = end_sessions(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

/// Ends every session of an account, in `tx`.
async fn end_sessions(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &str,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

fn unknown_user(email: &str) -> Error {
    Error::InvalidRequest(Invalid::NoUser {
        email: normalised(email),
    })
}

async fn insert_link(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &str,
    link: &str,
    now: Timestamp,
) -> Result<()> {
    let expires = now
        .checked_add(LINK_VALIDITY)
        .map_err(|_| Error::from(swakelola_core::Rejection::DateOutOfRange))?;
    sqlx::query("INSERT INTO user_links (secret_hash, user_id, expires_at, used_at) VALUES ($1, $2, $3, NULL)")
        .bind(sha256_hex(link.as_bytes()))
        .bind(user_id)
        .bind(millis(expires))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
