-- A timer whose firing fails for a reason retrying may not fix (data the database refuses, a
-- workflow that no longer loads, a case that runs away) is retried with backoff and then set
-- aside as `dead`, with the error, so that it can never block other cases' work. Operators
-- see dead timers with `swakelola timer list --failed` and retry them with `timer retry`.
ALTER TABLE timers ADD COLUMN last_error TEXT;

-- Installation-wide settings. `calendar_version` counts changes to calendar_files: every
-- process compares it with the calendars it has cached before it computes a deadline, so
-- the runner, the API and the CLI never count working days on different calendars.
CREATE TABLE installation (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO installation (key, value) VALUES ('calendar_version', '1');

-- Consent: an organisation named as a party by another one is involved only once one of its
-- staff accepts. Until then it sees nothing of the case and cannot act on it. Organisations
-- already on cases are taken as having accepted.
ALTER TABLE case_organisations ADD COLUMN accepted_at BIGINT;
ALTER TABLE case_organisations ADD COLUMN accepted_by TEXT;
UPDATE case_organisations SET accepted_at = 0, accepted_by = 'migration';
-- The organisations still to accept, as a JSON array (read with every case).
ALTER TABLE cases ADD COLUMN pending_organisations TEXT NOT NULL DEFAULT '[]';
