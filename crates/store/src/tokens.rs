//! API bearer tokens: issued once, kept only as the SHA-256 of the secret, listed and revoked.
//!
//! A token is a principal: one organisation and the workflow roles its holder acts in (plus
//! `admin` for managing workflows and tokens). The secret is 32 random bytes; since it has
//! that much entropy a plain SHA-256 (not a slow password hash) is enough to keep a stolen
//! table useless.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::hash::sha256_hex;
use crate::input::check_name;
use crate::sql::{SqlStore, instant, json, millis, parse_json};
use crate::{Error, Invalid, Result};

/// The role that manages its own organisation's tokens and reads the outbox of its
/// organisation's cases through the API.
pub const ADMIN_ROLE: &str = "admin";

/// The installation-wide role: deploys workflows and calendars and reads the metrics. Granted
/// only from the command line (`swakelola token create --role operator`), never through the
/// API, so that no organisation's administrator can make itself the operator.
pub const OPERATOR_ROLE: &str = "operator";

/// What the secret of every token starts with, so it is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "swk_";

/// A token as stored (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub organisation: String,
    pub roles: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }

    pub fn is_operator(&self) -> bool {
        self.roles.iter().any(|r| r == OPERATOR_ROLE)
    }
}

/// Why a presented secret does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    #[error("the bearer token is not known; ask an administrator for a token")]
    Unknown,
    #[error("the bearer token was revoked; ask an administrator for a new one")]
    Revoked,
    #[error("the bearer token has expired; ask an administrator for a new one")]
    Expired,
}

type TokenRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

fn token_from_row(row: TokenRow) -> Result<ApiToken> {
    let (id, name, organisation, roles, created_at, expires_at, revoked_at) = row;
    Ok(ApiToken {
        id,
        name,
        organisation,
        roles: parse_json(&roles, "token roles")?,
        created_at: instant(created_at)?,
        expires_at: expires_at.map(instant).transpose()?,
        revoked_at: revoked_at.map(instant).transpose()?,
    })
}

const TOKEN_COLUMNS: &str =
    "id, name, organisation, roles, created_at, expires_at, revoked_at FROM api_tokens";

impl SqlStore {
    /// Issues a token and returns it with its secret, which is not stored and cannot be shown
    /// again.
    pub async fn create_token(
        &self,
        name: &str,
        organisation: &str,
        roles: &[String],
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(ApiToken, String)> {
        check_name("name", name)?;
        check_name("organisation", organisation)?;
        if roles.is_empty() {
            return Err(Error::InvalidRequest(Invalid::TokenWithoutRole));
        }
        for role in roles {
            check_name("roles", role)?;
        }
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::InvalidRequest(Invalid::ExpiryNotInFuture));
        }
        let secret = format!("{TOKEN_PREFIX}{}", crate::hash::random_secret()?);
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        let token = ApiToken {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_owned(),
            organisation: organisation.to_owned(),
            roles,
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, name, organisation, roles, secret_hash, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(token.id.as_str())
        .bind(token.name.as_str())
        .bind(token.organisation.as_str())
        .bind(json(&token.roles))
        .bind(sha256_hex(secret.as_bytes()))
        .bind(millis(now))
        .bind(expires_at.map(millis))
        .execute(self.pool())
        .await?;
        Ok((token, secret))
    }

    /// Every token of the installation (for the command line).
    pub async fn tokens(&self) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} ORDER BY created_at, id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(token_from_row).collect()
    }

    /// The tokens of one organisation (for its administrators).
    pub async fn organisation_tokens(&self, organisation: &str) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} WHERE organisation = $1 ORDER BY created_at, id"
        )))
        .bind(organisation)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(token_from_row).collect()
    }

    /// One token by id.
    pub async fn token(&self, id: &str) -> Result<Option<ApiToken>> {
        let row: Option<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(token_from_row).transpose()
    }

    /// Revokes a token by id (`None` when there is no such token); revoking twice keeps the
    /// first revocation time.
    pub async fn revoke_token(&self, id: &str, now: Timestamp) -> Result<Option<ApiToken>> {
        let updated = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
        )
        .bind(millis(now))
        .bind(id)
        .execute(self.pool())
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        let row: TokenRow = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        token_from_row(row).map(Some)
    }

    /// The principal a presented secret stands for, or why it does not authenticate.
    pub async fn authenticate(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<std::result::Result<ApiToken, TokenRefused>> {
        let row: Option<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} WHERE secret_hash = $1"
        )))
        .bind(sha256_hex(secret.as_bytes()))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(Err(TokenRefused::Unknown));
        };
        let token = token_from_row(row)?;
        if token.revoked_at.is_some() {
            return Ok(Err(TokenRefused::Revoked));
        }
        if token.expires_at.is_some_and(|at| at <= now) {
            return Ok(Err(TokenRefused::Expired));
        }
        Ok(Ok(token))
    }
}
