-- A case's repeating records (termin payments …) in rows of their own, appended with the event
-- that adds each: the case state keeps only their count and totals, so a case with hundreds
-- of payments is written and read as cheaply as one without. Records stored inside the state
-- until now are copied here; the state reads them back as totals and is rewritten in the new
-- form with the case's next command.
CREATE TABLE case_records (
    case_id  TEXT   NOT NULL REFERENCES cases (id),
    kind     TEXT   NOT NULL,
    number   BIGINT NOT NULL,
    entry    TEXT   NOT NULL,
    PRIMARY KEY (case_id, kind, number)
);

INSERT INTO case_records (case_id, kind, number, entry)
    SELECT c.id, kind.key, entry.ordinality, entry.value::text
      FROM cases c,
           jsonb_each(COALESCE(c.state::jsonb -> 'records', '{}'::jsonb)) kind,
           jsonb_array_elements(CASE WHEN jsonb_typeof(kind.value) = 'array' THEN kind.value ELSE '[]'::jsonb END)
               WITH ORDINALITY AS entry(value, ordinality);
