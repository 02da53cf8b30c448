# What people read of swakelola, in Indonesian (the default). Every message here has its
# English twin in en.ftl; a test fails when one is missing. Ids never change with the language.

role-system = sistem
obligation-stage-deadline = Tenggat tahap
period-quarter = Triwulan
period-week = minggu
notice-reminder = Pengingat
notice-overdue-reminder = Pengingat: sudah lewat tenggat
notice-overdue = Tenggat terlewati
notice-escalation = Eskalasi
notice-transitioned = Pemberitahuan
notice-deadline-moved = Tenggat bergeser karena kalender kerja diperbarui
provisional-note = sementara: kalender hari libur tahun itu belum dimuat, tanggal dapat bergeser
need-document = belum dilampirkan
need-field = belum diisi
need-condition = syarat:
need-comment = alasan/komentar wajib diisi
history-opened = kasus dibuka di tahap
history-attached = dokumen dilampirkan
history-reminded = pengingat terkirim
history-overdue = tenggat terlewati
history-automatically = otomatis
history-escalated = eskalasi
period-opened = periode laporan baru
history-confirmed = kini pasti
history-deadlines-moved = tenggat bergeser karena kalender kerja diperbarui
agenda-reminder = pengingat
agenda-due = tenggat
agenda-escalation = eskalasi
agenda-line-due = jatuh tempo { $due }
agenda-line-due-provisional = jatuh tempo { $due }; { provisional-note }
agenda-nothing-due = tidak ada yang jatuh tempo dalam { $days } hari ke depan

# case show
case = Kasus
version = versi
organisation = Organisasi
stage = Tahap
revision = revisi
closed = DITUTUP
overdue = TERLAMBAT
pending = menunggu
documents-missing = Dokumen yang belum ada
for-role = untuk
no-next-step = Tidak ada langkah berikutnya
next-steps = Langkah berikutnya
ready = siap
not-ready = belum
reason-required = alasan wajib ditulis

# contacts
history-contacts-changed = kontak diganti untuk
history-no-contacts = tidak ada (pemberitahuan hanya ke log)

# case verify
verify-intact = utuh: { $events } peristiwa, rantai hash tidak berubah
verify-tampered = DIUBAH DI LUAR SISTEM: peristiwa #{ $event } tidak cocok dengan rantai hash ({ $events } peristiwa tersimpan); pulihkan kasus dari cadangan

# case open/fire/attach/set/contacts, case list
applied-line = { $case }: { $what } — tahap: { $stage }, revisi { $revision }
applied-opened = dibuka
applied-existing = sudah ada
applied-fired = berpindah tahap
applied-attached = dokumen dilampirkan
applied-field-set = data diperbarui
applied-contacts-changed = kontak diganti
applied-unchanged = { $what } (tidak ada perubahan: permintaan yang sama sudah diterapkan)
list-empty = tidak ada kasus yang cocok
deadline-on = tenggat { $date }
deadline-in = tenggat { $date } ({ $when })
working-days-left = { $days } hari kerja lagi
working-days-overdue = terlambat { $days } hari kerja
due-today = hari ini
