-- swakelola schema, SQLite dialect. Instants are epoch milliseconds (INTEGER).

CREATE TABLE workflows (
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    deployed_at  INTEGER NOT NULL,
    PRIMARY KEY (id, version),
    UNIQUE (id, content_hash)
);

-- The calendar files deployed with the newest workflow; deadlines always use the newest.
CREATE TABLE calendar_files (
    file        TEXT    NOT NULL PRIMARY KEY,
    source      TEXT    NOT NULL,
    deployed_at INTEGER NOT NULL
);

CREATE TABLE cases (
    id                TEXT    NOT NULL PRIMARY KEY,
    workflow_id       TEXT    NOT NULL,
    workflow_version  INTEGER NOT NULL,
    organisation      TEXT    NOT NULL,
    business_key      TEXT    NOT NULL,
    open_request_hash TEXT    NOT NULL,
    stage             TEXT    NOT NULL,
    revision          INTEGER NOT NULL,
    -- Hash of the newest event: the head of the chain, so a removed tail is noticed.
    last_hash         TEXT    NOT NULL DEFAULT '',
    state             TEXT    NOT NULL,
    parties           TEXT    NOT NULL,
    fiscal_year       INTEGER,
    next_due_at       INTEGER,
    opened_at         INTEGER NOT NULL,
    closed_at         INTEGER,
    UNIQUE (workflow_id, organisation, business_key),
    FOREIGN KEY (workflow_id, workflow_version) REFERENCES workflows (id, version)
);
CREATE INDEX cases_next_due ON cases (next_due_at) WHERE next_due_at IS NOT NULL;

-- Append-only: each event's hash covers its content and the previous event's hash.
CREATE TABLE events (
    case_id   TEXT    NOT NULL REFERENCES cases (id),
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    payload   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE blobs (
    sha256  TEXT NOT NULL PRIMARY KEY,
    content BLOB NOT NULL
);

CREATE TABLE documents (
    case_id       TEXT    NOT NULL REFERENCES cases (id),
    seq           INTEGER NOT NULL,
    document_type TEXT    NOT NULL,
    file_name     TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT    NOT NULL REFERENCES blobs (sha256),
    attached_at   INTEGER NOT NULL,
    attached_by   TEXT    NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE timers (
    case_id     TEXT    NOT NULL REFERENCES cases (id),
    key         TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending',
    lease_owner TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, key)
);
CREATE INDEX timers_pending ON timers (due_at) WHERE state = 'pending';

CREATE TABLE outbox (
    key             TEXT    NOT NULL PRIMARY KEY,
    case_id         TEXT    NOT NULL REFERENCES cases (id),
    channel         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';

CREATE TABLE idempotency (
    key          TEXT    NOT NULL PRIMARY KEY,
    case_id      TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
