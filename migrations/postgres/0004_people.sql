-- People who sign in to the web pages: accounts, one-time links to set a password,
-- sessions and failed sign-ins (for throttling).

-- An account belongs to one organisation and acts in its roles, exactly like a token.
CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL UNIQUE,
    organisation  TEXT    NOT NULL,
    roles         TEXT    NOT NULL,
    -- Argon2id PHC string; NULL until the person sets a password through a link.
    password_hash TEXT,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

-- One-time links to set a password (invitation or reset): only the SHA-256 of the secret.
CREATE TABLE user_links (
    secret_hash TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id),
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

-- Signed-in browsers: only the SHA-256 of the cookie's secret, and the form token that
-- every state-changing form of the session must carry.
CREATE TABLE sessions (
    secret_hash  TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    csrf         TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins by account and by address, counted over a sliding window.
CREATE TABLE sign_in_failures (
    subject TEXT    NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_subject ON sign_in_failures (subject, at);

-- The pages (and the CLI) find a case by its business key alone: `/kasus/DP3A-2025-001`. The
-- unique key (workflow, organisation, business key) cannot serve that search.
CREATE INDEX cases_by_business_key ON cases (business_key);
