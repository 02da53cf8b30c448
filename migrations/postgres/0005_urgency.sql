-- *Tugas saya* lists an organisation's open cases most urgent first, and counts them, without
-- reading the cases: each organisation's row of a case keeps the due instant of the case's
-- earliest open obligation (NULL when nothing is due), whether the case is closed, and its
-- workflow version (each version counts working days on its own calendar). The store writes
-- them with the case's state; an index serves the order and the counts.
ALTER TABLE case_organisations ADD COLUMN attention_at BIGINT;
ALTER TABLE case_organisations ADD COLUMN closed_at BIGINT;
ALTER TABLE case_organisations ADD COLUMN workflow_id TEXT NOT NULL DEFAULT '';
ALTER TABLE case_organisations ADD COLUMN workflow_version BIGINT NOT NULL DEFAULT 0;

UPDATE case_organisations p SET
    workflow_id = c.workflow_id,
    workflow_version = c.workflow_version,
    closed_at = c.closed_at,
    attention_at = (
        SELECT MIN(FLOOR(EXTRACT(EPOCH FROM (o.value ->> 'due_at')::timestamptz) * 1000)::BIGINT)
        FROM jsonb_each(c.state::jsonb -> 'obligations') o
    )
FROM cases c WHERE c.id = p.case_id;

CREATE INDEX case_organisations_by_urgency
    ON case_organisations (organisation, COALESCE(attention_at, 9000000000000000), case_id,
                           workflow_id, workflow_version)
    WHERE closed_at IS NULL AND accepted_at IS NOT NULL;
