//! Cases that belong together. A case opened as the continuation of another (`follows`) or as
//! a replication of a template case (`replicates`) is linked to it by its second event, in the
//! transaction that opens it; any two cases may be marked `related` later. Links are stored
//! once (`case_links`) and read from both ends. Whether the reader may see the case at the
//! other end is the caller's business (the API filters by organisation): this module answers
//! for the installation.

use std::collections::BTreeSet;

use swakelola_core::LinkKind;
use swakelola_core::step::Action;

use crate::error::InputProblem;
use crate::input::invalid;
use crate::sql::SqlStore;
use crate::{CaseLink, CaseRecord, Error, OpenCase, Result, Series};

/// The origin of a case being opened, as found.
pub(crate) struct Found {
    pub link: LinkKind,
    pub case: CaseRecord,
}

/// How far a series is followed in either direction: a partnership renewed every year for a
/// century is still far below it, and a corrupt chain cannot loop the reader.
const MAX_SERIES: usize = 100;

impl SqlStore {
    /// The request as it will be opened — with the fields (and, for a continuation, the
    /// parties) taken over from its origin — and the origin found.
    pub(crate) async fn with_origin(
        &self,
        request: &OpenCase,
    ) -> Result<(OpenCase, Option<Found>)> {
        let Some(origin) = &request.origin else {
            return Ok((request.clone(), None));
        };
        if origin.link == LinkKind::Related {
            return Err(invalid("origin.link", InputProblem::NotAnOrigin));
        }
        let source = self.record(&origin.case_id).await?;
        let mut expanded = request.clone();
        for field in &origin.carry {
            if expanded.fields.iter().any(|(given, _)| given == field) {
                continue;
            }
            let Some(value) = source.state.fields.get(field) else {
                return Err(invalid(
                    format!("carry.{field}"),
                    InputProblem::NotSetOnOrigin {
                        business_key: source.business_key.clone(),
                    },
                ));
            };
            // Displayed values read back as typed (`Rp34.500.000`, `2025-07-01`).
            expanded.fields.push((field.clone(), value.to_string()));
        }
        if origin.link == LinkKind::Follows && expanded.parties.organisations.is_empty() {
            expanded.parties = source.parties.clone();
        }
        Ok((
            expanded,
            Some(Found {
                link: origin.link,
                case: source,
            }),
        ))
    }

    /// Every link of the case, both ways, oldest first.
    pub async fn links(&self, case_id: &str) -> Result<Vec<CaseLink>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT kind, case_id, target_id FROM case_links WHERE case_id = $1
             UNION ALL
             SELECT kind, case_id, target_id FROM case_links WHERE target_id = $1",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        let mut links = Vec::with_capacity(rows.len());
        for (kind, from, to) in rows {
            let link = LinkKind::parse(&kind)
                .ok_or_else(|| Error::Corrupt(format!("unknown link kind `{kind}`")))?;
            let outgoing = from == case_id;
            let other = if outgoing { to } else { from };
            links.push(CaseLink {
                link,
                outgoing,
                case: self.record(&other).await?,
            });
        }
        links.sort_by(|a, b| {
            (a.case.state.opened_at, &a.case.id).cmp(&(b.case.state.opened_at, &b.case.id))
        });
        Ok(links)
    }

    /// The partnership `case_id` belongs to: back along `follows` to its first year, then
    /// forward through every case following one of the chain, and the replications of any of
    /// them.
    pub async fn series(&self, case_id: &str) -> Result<Series> {
        let mut first = self.record(case_id).await?;
        let mut seen = BTreeSet::from([first.id.clone()]);
        while seen.len() < MAX_SERIES {
            let earlier: Option<String> = sqlx::query_scalar(
                "SELECT target_id FROM case_links WHERE case_id = $1 AND kind = 'follows'
                 ORDER BY target_id LIMIT 1",
            )
            .bind(first.id.as_str())
            .fetch_optional(self.pool())
            .await?;
            match earlier {
                Some(id) if seen.insert(id.clone()) => first = self.record(&id).await?,
                _ => break,
            }
        }
        let mut chain = vec![first];
        let mut seen = BTreeSet::from([chain[0].id.clone()]);
        let mut next = 0;
        while next < chain.len() && chain.len() < MAX_SERIES {
            let later: Vec<String> = sqlx::query_scalar(
                "SELECT case_id FROM case_links WHERE target_id = $1 AND kind = 'follows'",
            )
            .bind(chain[next].id.as_str())
            .fetch_all(self.pool())
            .await?;
            for id in later {
                if seen.insert(id.clone()) {
                    chain.push(self.record(&id).await?);
                }
            }
            next += 1;
        }
        chain.sort_by(|a, b| (a.state.opened_at, &a.id).cmp(&(b.state.opened_at, &b.id)));
        let mut replications = Vec::new();
        for case in &chain {
            let copies: Vec<String> = sqlx::query_scalar(
                "SELECT case_id FROM case_links WHERE target_id = $1 AND kind = 'replicates'",
            )
            .bind(case.id.as_str())
            .fetch_all(self.pool())
            .await?;
            for id in copies {
                if seen.insert(id.clone()) {
                    replications.push(self.record(&id).await?);
                }
            }
        }
        replications.sort_by(|a, b| (a.state.opened_at, &a.id).cmp(&(b.state.opened_at, &b.id)));
        Ok(Series {
            chain,
            replications,
        })
    }

    /// Whether a link asked for on a running case can be made: only `related` (a continuation
    /// or replication is made when its case is opened), to another case that exists, once.
    pub(crate) async fn check_link(&self, case_id: &str, action: &Action) -> Result<()> {
        let Action::Link {
            link,
            case_id: target,
            ..
        } = action
        else {
            return Ok(());
        };
        if *link != LinkKind::Related {
            return Err(invalid("link", InputProblem::OnlyAtOpening));
        }
        if target == case_id {
            return Err(invalid("case", InputProblem::LinkToItself));
        }
        self.record(target).await?;
        let existing: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM case_links
              WHERE (case_id = $1 AND target_id = $2) OR (case_id = $2 AND target_id = $1)",
        )
        .bind(case_id)
        .bind(target.as_str())
        .fetch_one(self.pool())
        .await?;
        if existing > 0 {
            return Err(invalid("case", InputProblem::AlreadyLinked));
        }
        Ok(())
    }
}
