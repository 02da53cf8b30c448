//! Finding a case by what people call it: its id, a short prefix of the id, or its business
//! key (`DP3A-2025-001`), which is unique per workflow and organisation. A reference that fits
//! several cases is refused with the candidates, never resolved by guessing.

use crate::sql::SqlStore;
use crate::{Error, Result};

/// The shortest id prefix accepted: shorter ones match too much to be meant.
pub const MIN_ID_PREFIX: usize = 8;

impl SqlStore {
    /// The id of the case `reference` names. With `visible_to`, only cases that organisation
    /// is an accepted party to are considered, so another organisation's business key is "not
    /// found" exactly like one that does not exist.
    pub async fn resolve_case(&self, reference: &str, visible_to: Option<&str>) -> Result<String> {
        let reference = reference.trim();
        // A full id needs no search (and answers "not found" later like any missing case).
        if uuid::Uuid::parse_str(reference).is_ok() {
            return Ok(reference.to_owned());
        }
        let visible = "($2 = '' OR EXISTS (SELECT 1 FROM case_organisations p
                         WHERE p.case_id = cases.id AND p.organisation = $2 AND p.accepted_at IS NOT NULL))";
        let by_key: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, workflow_id, organisation FROM cases WHERE business_key = $1 AND {visible}
             ORDER BY opened_at, id LIMIT 10"
        )))
        .bind(reference)
        .bind(visible_to.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let candidates = if !by_key.is_empty() {
            by_key
        } else if reference.len() >= MIN_ID_PREFIX
            && reference.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, workflow_id, organisation FROM cases WHERE id LIKE $1 AND {visible}
                 ORDER BY opened_at, id LIMIT 10"
            )))
            .bind(format!("{}%", reference.to_ascii_lowercase()))
            .bind(visible_to.unwrap_or(""))
            .fetch_all(self.pool())
            .await?
        } else {
            Vec::new()
        };
        match candidates.as_slice() {
            [] => Err(Error::CaseNotFound(reference.to_owned())),
            [(id, _, _)] => Ok(id.clone()),
            several => Err(Error::AmbiguousCase {
                reference: reference.to_owned(),
                candidates: several
                    .iter()
                    .map(|(id, workflow, organisation)| {
                        format!("{id} ({workflow}, {organisation})")
                    })
                    .collect(),
            }),
        }
    }

    /// How many open cases each deployed workflow version still carries (versions without
    /// any are absent). For the operator: across every organisation.
    pub async fn open_cases_by_version(
        &self,
    ) -> Result<std::collections::BTreeMap<(String, u32), u64>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT workflow_id, workflow_version, COUNT(*) FROM cases
              WHERE closed_at IS NULL GROUP BY workflow_id, workflow_version",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, version, count)| ((id, version as u32), count as u64))
            .collect())
    }
}
