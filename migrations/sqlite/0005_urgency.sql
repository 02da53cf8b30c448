-- *Tugas saya* lists an organisation's open cases most urgent first, and counts them, without
-- reading the cases: each organisation's row of a case keeps the due instant of the case's
-- earliest open obligation (NULL when nothing is due), whether the case is closed, and its
-- workflow version (each version counts working days on its own calendar). The store writes
-- them with the case's state; an index serves the order and the counts.
ALTER TABLE case_organisations ADD COLUMN attention_at INTEGER;
ALTER TABLE case_organisations ADD COLUMN closed_at INTEGER;
ALTER TABLE case_organisations ADD COLUMN workflow_id TEXT NOT NULL DEFAULT '';
ALTER TABLE case_organisations ADD COLUMN workflow_version INTEGER NOT NULL DEFAULT 0;

UPDATE case_organisations SET
    workflow_id = (SELECT c.workflow_id FROM cases c WHERE c.id = case_organisations.case_id),
    workflow_version = (SELECT c.workflow_version FROM cases c WHERE c.id = case_organisations.case_id),
    closed_at = (SELECT c.closed_at FROM cases c WHERE c.id = case_organisations.case_id),
    attention_at = (
        SELECT MIN(CAST(ROUND((julianday(json_extract(o.value, '$.due_at')) - 2440587.5) * 86400000) AS INTEGER))
        FROM cases c, json_each(c.state, '$.obligations') o
        WHERE c.id = case_organisations.case_id
    );

CREATE INDEX case_organisations_by_urgency
    ON case_organisations (organisation, COALESCE(attention_at, 9000000000000000), case_id,
                           workflow_id, workflow_version)
    WHERE closed_at IS NULL AND accepted_at IS NOT NULL;
