//! A case's repeating records (termin payments …) as people list them. Each is a row of
//! `case_records`, appended in the transaction of the `RecordAdded` event that adds it; the
//! case state keeps only their count and totals, which is all a decision needs.

use swakelola_core::state::RecordEntries;

use crate::Result;
use crate::sql::{SqlStore, parse_json};

impl SqlStore {
    /// The case's records by kind, oldest first, as people list them (decisions need only
    /// the totals in the case state).
    pub async fn records_of(&self, case_id: &str) -> Result<RecordEntries> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT kind, entry FROM case_records WHERE case_id = $1 ORDER BY kind, number",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        let mut entries = RecordEntries::new();
        for (kind, entry) in rows {
            entries
                .entry(kind)
                .or_default()
                .push(parse_json(&entry, "case record")?);
        }
        Ok(entries)
    }
}
