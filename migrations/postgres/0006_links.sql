-- Cases that belong together: a partnership continued the next year (`follows`), carried
-- out elsewhere on a template (`replicates`), or otherwise related. A link is written in the
-- transaction of the `linked` event on its case and read from both ends: the index on the
-- target answers "which cases follow this one".
CREATE TABLE case_links (
    case_id    TEXT    NOT NULL REFERENCES cases (id),
    kind       TEXT    NOT NULL,
    target_id  TEXT    NOT NULL REFERENCES cases (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, kind, target_id)
);
CREATE INDEX case_links_by_target ON case_links (target_id, kind, case_id);
