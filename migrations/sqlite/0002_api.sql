-- HTTP API: which organisations may see a case, and bearer tokens.

-- Every organisation that is a party to a case (the opener and each named party). The API
-- shows a case only to callers from one of these organisations.
CREATE TABLE case_organisations (
    case_id      TEXT NOT NULL REFERENCES cases (id),
    organisation TEXT NOT NULL,
    PRIMARY KEY (case_id, organisation)
);
CREATE INDEX case_organisations_by_organisation ON case_organisations (organisation, case_id);

INSERT INTO case_organisations (case_id, organisation)
    SELECT id, organisation FROM cases
    UNION
    SELECT cases.id, party.value
      FROM cases, json_each(json_extract(cases.parties, '$.organisations')) AS party;

-- Bearer tokens: only the SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    organisation TEXT    NOT NULL,
    roles        TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);
