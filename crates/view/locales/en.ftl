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
