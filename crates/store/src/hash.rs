//! The hash chain over a case's events: each event's hash covers the previous hash and the
//! event's stored columns, so editing, removing or reordering a row breaks the chain.

use sha2::{Digest, Sha256};

/// The `prev_hash` of a case's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The columns of an event row that the chain covers.
pub struct Row<'a> {
    pub case_id: &'a str,
    pub seq: i64,
    pub at: i64,
    pub actor: &'a str,
    pub role: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
}

pub fn chain(prev_hash: &str, row: &Row<'_>) -> String {
    let mut hasher = Sha256::new();
    // Length-prefixed fields: no two different rows hash the same bytes.
    for part in [
        prev_hash,
        row.case_id,
        &row.seq.to_string(),
        &row.at.to_string(),
        row.actor,
        row.role,
        row.kind,
        row.payload,
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// 32 random bytes in hex: the secret of a token, a session or a password link. Kept only as
/// its SHA-256, which is enough for that much entropy.
pub fn random_secret() -> crate::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        crate::Error::InvalidRequest(crate::Invalid::NoRandomness {
            detail: e.to_string(),
        })
    })?;
    Ok(hex::encode(bytes))
}
