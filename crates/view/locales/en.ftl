# What people read of swakelola, in English. Every message here has its Indonesian twin in
# id.ftl; a test fails when one is missing.

role-system = system
obligation-stage-deadline = Deadline of stage
period-quarter = Quarter
period-week = week of
notice-reminder = Reminder
notice-overdue-reminder = Reminder: past due
notice-overdue = Deadline missed
notice-escalation = Escalation
notice-transitioned = Notice
notice-deadline-moved = Deadline moved because the working-day calendar changed
provisional-note = provisional: the holiday calendar for that year is not loaded yet, the date may move
need-document = is not attached
need-field = is not filled in
need-condition = condition:
need-comment = a comment is required
history-opened = case opened at stage
history-attached = document attached
history-reminded = reminder sent
history-overdue = deadline missed
history-automatically = automatically
history-escalated = escalated
period-opened = new reporting period
history-confirmed = now final
history-deadlines-moved = deadlines moved with the working-day calendar
agenda-reminder = reminder
agenda-due = deadline
agenda-escalation = escalation
agenda-line-due = due { $due }
agenda-line-due-provisional = due { $due }; { provisional-note }
agenda-nothing-due = nothing falls due in the next { $days } days

# case show
case = Case
version = version
organisation = Organisation
stage = Stage
revision = revision
closed = CLOSED
overdue = OVERDUE
pending = pending
documents-missing = Documents still missing
for-role = for
no-next-step = No next step
next-steps = Next steps
ready = ready
not-ready = not yet
reason-required = a reason must be written

# contacts
history-contacts-changed = contacts replaced for
history-no-contacts = none (notices go to the log only)

# case verify
verify-intact = intact: { $events } events, hash chain unchanged
verify-tampered = TAMPERED: event #{ $event } does not match the hash chain ({ $events } events stored); restore the case from a backup

# case open/fire/attach/set/contacts, case list
applied-line = { $case }: { $what } — stage: { $stage }, revision { $revision }
applied-opened = opened
applied-existing = already open
applied-fired = moved on
applied-attached = document attached
applied-field-set = data updated
applied-contacts-changed = contacts replaced
applied-unchanged = { $what } (nothing changed: the same request was already applied)
list-empty = no cases match
deadline-on = deadline { $date }
deadline-in = deadline { $date } ({ $when })
working-days-left = { $days } working days left
working-days-overdue = { $days } working days overdue
due-today = today

# Refusals of the workflow (core `Rejection`): what went wrong and what to do.
none = (none)
refusal-already-open = The case is already open; act on the existing case instead of opening it again.
refusal-not-opened = The case has not been opened; open it before acting on it.
refusal-closed = The case is closed (stage { $stage }) and accepts no more commands.
refusal-missing-actor = The actor's name is empty; say who is acting.
refusal-unknown-role = Role { $role } is not defined in this workflow; its roles: { $known }.
refusal-role-not-allowed = Role { $role } may not { $act }; allowed: { $allowed }.
act-open = open a case
act-fire = take the step { $transition }
act-attach = attach { $document }
act-set-field = set { $field }
act-set-contacts = change the contacts of { $role }
act-fire-timers = fire timers
act-recompute-deadlines = recompute deadlines
refusal-unknown-transition = There is no step { $transition } in this workflow; from stage { $stage } you can take: { $allowed }.
refusal-wrong-stage = The step { $transition } cannot be taken from stage { $stage }; possible: { $allowed }.
refusal-guards-not-met = The step { $transition } cannot be taken yet: { $needs }. Complete that and try again.
refusal-comment-too-long = A comment may have at most { $max } characters; attach a document for long texts.
refusal-unknown-document-type = There is no document type { $document } in this workflow; known: { $known }.
refusal-invalid-document = The document cannot be recorded: { $problem }.
document-empty-name = the file name is empty
document-name-too-long = the file name is longer than { $max } characters
document-not-a-plain-name = the file name must be a plain name without folders or control characters
document-empty-file = the file is empty
document-bad-digest = the SHA-256 digest must be 64 lower-case hex digits
refusal-unknown-field = There is no field { $field } in this workflow; known: { $known }.
refusal-duplicate-field = The field { $field } is given twice; give it once.
refusal-invalid-field-value = Invalid value for { $field }: { $problem }.
refusal-missing-required-fields = These fields are required to open a case: { $fields }.
refusal-timer-not-pending = Timer { $key } is not pending (it already fired or was cancelled); nothing to do.
refusal-timer-not-due = Timer { $key } is not due before { $due }.
refusal-date-out-of-range = A date computed for this case falls outside the supported range (years 1–9999).
refusal-nothing-to-recompute = No pending deadline of this case moves with the new calendar; nothing to do.
value-empty-text = a text must not be empty
value-text-too-long = a text may have at most { $max } characters
value-not-integer = { $value } is not a whole number
value-not-date = { $value } is not a date; write it as YYYY-MM-DD, e.g. 2025-03-24
value-not-rupiah = { $value } is not an amount in whole rupiah; write e.g. 34500000, 34.500.000 or Rp34.500.000 (no decimals, not negative)
value-not-fiscal-year = { $value } is not a fiscal year between 2000 and 2100
value-not-in-enum = { $value } is not one of: { $allowed }
condition-is-set = is set
condition-is-unset = is not set

# Errors of the store and the front ends.
error-prefix = error
error-case-not-found = Case { $case } does not exist; check its business key or id with `swakelola case list`.
error-case-not-found-api = The case does not exist or is not shared with your organisation; list yours with GET /v1/cases.
error-ambiguous-case = { $reference } fits several cases: { $candidates }; give the full id.
error-workflow-not-found = Workflow { $workflow } is not deployed; deploy it with `swakelola workflow deploy <file>`.
error-invalid-workflow = The workflow has errors and was not deployed:
error-document-not-found = Document { $document } is not stored.
error-corrupt = Stored data is corrupt ({ $detail }); run `swakelola case verify` and restore from a backup.
error-database = The database is unavailable ({ $detail }); check `--database-url` / SWAKELOLA_DATABASE_URL and that the server is running.
error-database-api = The database is unavailable; try again shortly.
error-query = The database refused the request ({ $detail }); this is a defect — report it with the log.
error-migration = Cannot apply the database migrations: { $detail }
error-input = { $path }: { $problem }
conflict-changed-meanwhile = Another request changed this case at the same time; reload it and try again.
conflict-stale-revision = The case is at revision { $current }, not { $expected }: someone else changed it; reload it and decide again.
conflict-business-key-taken = A case with business key { $key } already exists ({ $case }) with different details; use another key or act on that case.
conflict-idempotency-key-reused = Idempotency key { $key } was already used for a different request; use a new key.
invalid-no-failed-timer = Case { $case } has no failed timer { $key }; see `swakelola timer list --failed`.
invalid-no-outbox-message = There is no outbox message { $key }; see `swakelola outbox list`.
invalid-outbox-not-failed = Message { $key } is { $state }, not failed; only failed or dead messages are retried.
invalid-no-token = There is no token { $id }; see `swakelola token list`.
invalid-unsupported-database-url = Unsupported database URL { $url }; use sqlite://swakelola.db or postgres://user@host/db.
invalid-unusable-sqlite = The SQLite database cannot be used ({ $detail }); check that the file is a swakelola database, or move it away to start a new one.
invalid-scratch-needs-postgres = Scratch databases are created on PostgreSQL only.
invalid-malformed-idempotency-key = Malformed idempotency key { $key }: use 1–{ $max } characters from A–Z, a–z, 0–9, `-`, `_`, `.`, `:` (a UUID works).
invalid-attachment-without-content = An attachment needs its content.
invalid-document-too-large = The document is { $bytes } bytes; at most { $max } bytes are accepted.
invalid-document-mismatch = The document's size or SHA-256 does not match its content.
invalid-unreadable-file = The file cannot be read: { $detail }; nothing was attached.
invalid-token-without-role = A token needs at least one role (`--role`).
invalid-expiry-not-in-future = The expiry must be in the future.
invalid-no-randomness = No randomness available: { $detail }
invalid-not-a-pair = { $text } is not a valid { $option }; write it as NAME=VALUE.
input-empty = must not be empty
input-too-long = is longer than { $max } characters; shorten it
input-control-character = contains the control character U+{ $code }; remove it
input-not-a-party = is not a party of workflow { $workflow }; its parties: { $known }
input-not-a-role = is not a role of workflow { $workflow }; its roles: { $known }
input-given-twice = is given twice ({ $first } and { $second }); a party is one organisation — give it once
address-too-long = is longer than { $max } characters
address-spaces = contains spaces or control characters; write the address alone
address-not-email = { $email } is not an email address; write it as `email:nama@instansi.go.id`
address-not-http-url = { $url } is not an http(s) URL with a host; write it as `webhook:https://host/path`
address-credentials = a webhook URL must not carry a user name or password
address-no-scheme = must start with `email:` or `webhook:`
address-not-https = webhooks must use https ({ $host } uses { $scheme }); ask the operator to allow the network if it is internal
address-internal = the webhook points to a private, loopback or link-local address, which this installation does not allow
error-internal = The server failed to handle the request; it was logged with this request id.
input-not-a-network = { $entry } is not a network; write it like `127.0.0.1/32` or `10.0.0.0/8`

# demo and simulate
demo-title = swakelola demo — Yayasan Intan Maharani × DP3A Kota Palembang, fiscal year 2025
demo-note = (temporary in-memory database; accelerated clock: every deadline, reminder and escalation is counted in working days with national holidays)
demo-try = Try it yourself: swakelola workflow deploy workflows/swakelola-tipe-3.yaml, then swakelola case open --help.
simulate-opened = case opened
simulate-attach = attach
simulate-automatic = Automatically
simulate-stage = stage «{ $stage }»
simulate-set-aside = Case { $case } set aside: more than { $limit } deadlines fell due at the same instant (automatic moves loop); fix the workflow
simulate-step-failed = step { $step } ({ $at }): { $error }
simulate-expected-stage = step { $step } ({ $at }): expected stage { $expected }, the case is in { $actual }
simulate-expected-closed = step { $step } ({ $at }): expected the case closed
simulate-expected-open = step { $step } ({ $at }): expected the case open
simulate-expected-notification = step { $step } ({ $at }): expected a { $kind } notification since the previous step; got: { $got }
simulate-summary-intact = { $events } events recorded, hash chain intact; final stage { $stage }.
simulate-summary-tampered = { $events } events recorded, hash chain NOT intact; final stage { $stage }.
simulate-all-met = all expectations met
simulate-failed = expectation failed: { $failure }

# notifications (the built-in text; a workflow may bring its own templates)
notify-subject = [swakelola] { $title }: stage { $stage }
notify-subject-due = [swakelola] { $title }: stage { $stage }, due { $deadline }
notify-greeting = Dear { $recipient },
notify-about = { $title } for case { $case } ({ $workflow }).
notify-transition = { $by } did «{ $transition }»; the case is now at stage { $stage }.
notify-stage = Stage: { $stage }
notify-due = Due: { $deadline } (end of day, { $zone })
notify-days-left = { $days } days left
notify-today = today
notify-days-late = { $days } days late
notify-provisional = Note: this date is provisional — the holiday calendar for that year is not loaded yet, so it may still move.
notify-missing = Documents still missing:
notify-link = Open the case: { $link }
error-no-json = { $command } has no JSON output; leave out --json (logs of `run` and `serve` are JSON lines already)
reassign-summary = contacts replaced on { $changed } of { $total } cases, { $refused } refused

# The HTTP API's own answers
api-token-missing = This endpoint needs `Authorization: Bearer <token>`; ask an administrator for a token (`swakelola token create`).
api-token-not-text = The Authorization header is not valid text.
api-token-malformed = Expected `Authorization: Bearer { $prefix }…`.
api-token-unknown = The bearer token is not known; ask an administrator for a token.
api-token-revoked = The bearer token was revoked; ask an administrator for a new one.
api-token-expired = The bearer token has expired; ask an administrator for a new one.
api-admin-only = This endpoint is for administrators; the token needs the `admin` role.
api-operator-only = This endpoint is for the installation's operator; the token needs the `operator` role, which only `swakelola token create` on the server grants.
api-role-not-yours = Your token cannot act as { $role } on this case; roles you can use here: { $usable }.
api-no-role-may = None of your roles on this case ({ $usable }) may { $act }; it needs one of: { $allowed }.
api-cannot-open-as = Your token cannot open a case as { $role } with these parties; name your organisation as the party of that role.
api-no-role-may-open = None of your roles may open this case with these parties; it needs one of: { $allowed }.
api-range = `{ $name }` must be between { $min } and { $max }.
api-bad-cursor = not a cursor from a previous page of this list; start again without `after`
api-file-name-empty = the file name must not be empty
api-file-name-too-long = the file name may have at most 200 characters
api-file-name-not-plain = the file name must be a plain file name, without folders or `..`
api-file-name-control = the file name must not contain control characters
api-empty-document = the document is empty
api-no-such-document = Case { $case } has no document with SHA-256 { $sha256 }; see `documents` of the case.
api-not-json = Send the body as JSON with `Content-Type: application/json`.
api-invalid-json = The body is not valid JSON: { $detail }
api-unreadable-body = The request body could not be read: { $detail }
api-bad-idempotency-key = The Idempotency-Key header must be 1–{ $max } visible ASCII characters, e.g. a UUID.
api-database-slow = The database did not answer within 2 s; try again shortly.
api-metrics-disabled = Metrics are not enabled on this server.
api-method-not-allowed = { $path } does not take { $method }; see /openapi.json.
api-no-endpoint = There is no endpoint { $path }; see /openapi.json.
api-own-organisation-only = Administrators issue tokens for their own organisation ({ $organisation }) only.
api-operator-on-server = The `operator` role is granted only on the server: `swakelola token create --role operator`.
api-not-an-instant = not an RFC 3339 instant like 2026-12-31T17:00:00Z: { $detail }
api-no-token = There is no token { $id }; list them with GET /v1/tokens.
api-workflow-version-not-deployed = Workflow { $workflow } version { $version } is not deployed.

# validate, graph, explain
validate-workflow = { $file }: { $workflow } — { $label } ({ $stages } stages, { $transitions } transitions)
validate-calendar = calendar { $calendar } ({ $zone }): { $days } days off in { $years }
validate-summary = { $workflows } workflow file(s), { $calendars } calendar file(s): { $errors } error(s), { $warnings } warning(s)
validate-explain = run `swakelola explain CODE` for more about a code, e.g. `swakelola explain { $code }`
graph-errors-first = no diagram: fix the errors above first (`swakelola validate { $file }`)
explain-unknown-code = there is no diagnostic code { $code }; known codes: { $known }

# accounts and signing in
invalid-no-user = There is no account with email { $email }; see `swakelola user list`.
invalid-email-taken = An account with email { $email } exists already; for a forgotten password use `swakelola user reset`.
invalid-link-not-valid = The link to set a password is unknown, used or expired; ask an administrator for a new one.
invalid-password-too-short = A password has at least { $min } characters.
invalid-sign-in-refused = Wrong email or password.
invalid-too-many-sign-ins = Too many failed sign-ins; wait { $minutes } minutes and try again.
user-active = active
user-invited = invited
user-disabled = disabled
user-none = no accounts yet; create one with `swakelola user create`
user-link-printed = the link above lets { $name } ({ $email }) set a password: it works once, for 72 hours; send it to them
user-disabled-now = account { $email } disabled; its sessions end now
