//! Consent of the organisations named on a case. The organisation that opens a case is in at
//! once; every other organisation named as a party is invited, and is involved — sees the
//! case, acts in its roles, hears of it in lists and the agenda — only after one of its staff
//! accepts. Naming an organisation therefore never puts anything in its lists uninvited.

use jiff::Timestamp;
use serde::Serialize;

use crate::sql::{SqlStore, instant, json, millis, parse_json};
use crate::{Error, Result};

/// A case another organisation has named yours on, waiting for your acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub case_id: String,
    pub workflow_id: String,
    pub business_key: String,
    /// The organisation that opened the case and named yours.
    pub invited_by: String,
    /// The parties your organisation is named as (e.g. `ormas`).
    pub parties: Vec<String>,
    pub opened_at: Timestamp,
}

impl SqlStore {
    /// The invitations waiting for `organisation`, oldest first.
    pub async fn invitations(&self, organisation: &str) -> Result<Vec<Invitation>> {
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT c.id, c.workflow_id, c.business_key, c.organisation, c.parties, c.opened_at
               FROM case_organisations p JOIN cases c ON c.id = p.case_id
              WHERE p.organisation = $1 AND p.accepted_at IS NULL
              ORDER BY c.opened_at, c.id",
        )
        .bind(organisation)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(
                |(case_id, workflow_id, business_key, invited_by, parties, opened_at)| {
                    let parties: crate::Parties = parse_json(&parties, "case parties")?;
                    Ok(Invitation {
                        case_id,
                        workflow_id,
                        business_key,
                        invited_by,
                        parties: parties
                            .organisations
                            .into_iter()
                            .filter(|(_, o)| o == organisation)
                            .map(|(party, _)| party)
                            .collect(),
                        opened_at: instant(opened_at)?,
                    })
                },
            )
            .collect()
    }

    /// `organisation` accepts its invitation to a case, by `person`. A case it was not
    /// invited to (or already accepted) is "not found", exactly like a case that does not
    /// exist.
    pub async fn accept_invitation(
        &self,
        case_id: &str,
        organisation: &str,
        person: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let accepted = sqlx::query(
            "UPDATE case_organisations SET accepted_at = $1, accepted_by = $2
              WHERE case_id = $3 AND organisation = $4 AND accepted_at IS NULL",
        )
        .bind(millis(now))
        .bind(person)
        .bind(case_id)
        .bind(organisation)
        .execute(&mut *tx)
        .await?;
        if accepted.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(Error::CaseNotFound(case_id.to_owned()));
        }
        let pending: Vec<String> = sqlx::query_scalar(
            "SELECT organisation FROM case_organisations
              WHERE case_id = $1 AND accepted_at IS NULL ORDER BY organisation",
        )
        .bind(case_id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("UPDATE cases SET pending_organisations = $1 WHERE id = $2")
            .bind(json(&pending))
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
