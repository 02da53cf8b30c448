//! Consent of the organisations named on a case. The organisation that opens a case is in at
//! once; every other organisation named as a party is invited, and is involved — sees the
//! case, acts in its roles, hears of it in lists and the agenda — only after one of its staff
//! accepts. Naming an organisation therefore never puts anything in its lists uninvited.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::{Any, Transaction};
use swakelola_core::{CaseState, EventKind};

use crate::sql::{SqlStore, instant, json, millis, parse_json};
use crate::{Error, Parties, Result};

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
                        parties: parties.parties_of(organisation),
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
        refresh_pending(&mut tx, case_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies a change of a party's members, in the transaction of the event that records
    /// it: the parties as stored, and who may see the case. A new organisation is invited
    /// (it sees the case once one of its staff accepts); one withdrawn from its last party
    /// loses access at once — unless it opened the case.
    pub(crate) async fn change_members(
        &self,
        tx: &mut Transaction<'static, Any>,
        case_id: &str,
        parties: &Parties,
        change: &EventKind,
        state: &CaseState,
    ) -> Result<()> {
        let (organisation, joined) = match change {
            EventKind::MemberAdded { organisation, .. } => (organisation, true),
            EventKind::MemberWithdrawn { organisation, .. } => (organisation, false),
            _ => return Ok(()),
        };
        // The core decided the new membership; the stored parties take it over as it is.
        let changed = Parties {
            contacts: parties.contacts.clone(),
            ..Parties::from_lists(&state.parties)
        };
        sqlx::query("UPDATE cases SET parties = $1 WHERE id = $2")
            .bind(json(&changed))
            .bind(case_id)
            .execute(&mut **tx)
            .await?;
        let opener: String = sqlx::query_scalar("SELECT organisation FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut **tx)
            .await?;
        let was_in =
            *organisation == opener || parties.all_organisations().contains(&organisation.as_str());
        let still_in =
            *organisation == opener || changed.all_organisations().contains(&organisation.as_str());
        if joined && !was_in {
            sqlx::query(
                "INSERT INTO case_organisations (case_id, organisation, workflow_id, workflow_version,
                                                 attention_at, closed_at)
                 SELECT id, $2, workflow_id, workflow_version, $3, NULL FROM cases WHERE id = $1",
            )
            .bind(case_id)
            .bind(organisation.as_str())
            .bind(state.attention_at().map(millis))
            .execute(&mut **tx)
            .await?;
        } else if !joined && !still_in {
            sqlx::query("DELETE FROM case_organisations WHERE case_id = $1 AND organisation = $2")
                .bind(case_id)
                .bind(organisation.as_str())
                .execute(&mut **tx)
                .await?;
        } else {
            return Ok(());
        }
        refresh_pending(tx, case_id).await
    }
}

/// Keeps the case's list of organisations still to accept (read with every case) equal to
/// its invitations.
async fn refresh_pending(tx: &mut Transaction<'static, Any>, case_id: &str) -> Result<()> {
    let pending: Vec<String> = sqlx::query_scalar(
        "SELECT organisation FROM case_organisations
          WHERE case_id = $1 AND accepted_at IS NULL ORDER BY organisation",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query("UPDATE cases SET pending_organisations = $1 WHERE id = $2")
        .bind(json(&pending))
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
