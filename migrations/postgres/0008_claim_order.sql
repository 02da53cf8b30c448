-- Claims take due timers in (due_at, case_id, key) order and ready messages in
-- (next_attempt_at, key) order. Every deadline of a day falls due at the same instant (the end
-- of the day), so an index on the due time alone left the database to read and sort every
-- timer due at that instant to hand out the first hundred. Indexes in the claim's own order
-- let it stop after the rows it takes.
DROP INDEX timers_pending;
CREATE INDEX timers_claim ON timers (due_at, case_id, key) WHERE state = 'pending';
DROP INDEX outbox_pending;
CREATE INDEX outbox_claim ON outbox (next_attempt_at, key) WHERE state = 'pending';
