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

# Refusals of the workflow (core `Rejection`): what went wrong and what to do.
none = (tidak ada)
refusal-already-open = Kasus ini sudah dibuka; lanjutkan kasus yang ada, jangan dibuka lagi.
refusal-not-opened = Kasus ini belum dibuka; buka dulu sebelum bertindak.
refusal-closed = Kasus sudah ditutup (tahap { $stage }) dan tidak menerima perintah lagi.
refusal-missing-actor = Nama pelaku kosong; sebutkan siapa yang bertindak.
refusal-unknown-role = Peran { $role } tidak ada dalam alur kerja ini; peran yang ada: { $known }.
refusal-role-not-allowed = Peran { $role } tidak boleh { $act }; yang boleh: { $allowed }.
act-open = membuka kasus
act-fire = melakukan langkah { $transition }
act-attach = melampirkan { $document }
act-set-field = mengisi { $field }
act-set-contacts = mengganti kontak { $role }
act-fire-timers = menjalankan pengatur waktu
act-recompute-deadlines = menghitung ulang tenggat
refusal-unknown-transition = Tidak ada langkah { $transition } dalam alur kerja ini; dari tahap { $stage } yang bisa dilakukan: { $allowed }.
refusal-wrong-stage = Langkah { $transition } tidak bisa dilakukan dari tahap { $stage }; yang bisa: { $allowed }.
refusal-guards-not-met = Langkah { $transition } belum bisa dilakukan: { $needs }. Lengkapi lalu coba lagi.
refusal-comment-too-long = Komentar paling banyak { $max } karakter; lampirkan dokumen untuk teks yang panjang.
refusal-unknown-document-type = Jenis dokumen { $document } tidak ada dalam alur kerja ini; yang ada: { $known }.
refusal-invalid-document = Dokumen tidak bisa dicatat: { $problem }.
document-empty-name = nama berkas kosong
document-name-too-long = nama berkas lebih dari { $max } karakter
document-not-a-plain-name = nama berkas harus nama saja, tanpa folder atau karakter kendali
document-empty-file = berkasnya kosong
document-bad-digest = SHA-256 harus 64 digit heksadesimal huruf kecil
refusal-unknown-field = Data { $field } tidak ada dalam alur kerja ini; yang ada: { $known }.
refusal-duplicate-field = Data { $field } diberikan dua kali; berikan sekali saja.
refusal-invalid-field-value = Nilai { $field } tidak sah: { $problem }.
refusal-missing-required-fields = Data ini wajib diisi untuk membuka kasus: { $fields }.
refusal-timer-not-pending = Pengatur waktu { $key } tidak menunggu lagi (sudah berjalan atau dibatalkan); tidak ada yang perlu dilakukan.
refusal-timer-not-due = Pengatur waktu { $key } baru jatuh tempo { $due }.
refusal-date-out-of-range = Tanggal yang dihitung untuk kasus ini di luar rentang yang didukung (tahun 1–9999).
refusal-nothing-to-recompute = Tidak ada tenggat kasus ini yang bergeser dengan kalender baru; tidak ada yang perlu dilakukan.
value-empty-text = teks tidak boleh kosong
value-text-too-long = teks paling banyak { $max } karakter
value-not-integer = { $value } bukan bilangan bulat
value-not-date = { $value } bukan tanggal; tulis sebagai TTTT-BB-HH, misalnya 2025-03-24
value-not-rupiah = { $value } bukan jumlah rupiah utuh; tulis misalnya 34500000, 34.500.000 atau Rp34.500.000 (tanpa sen, tidak negatif)
value-not-fiscal-year = { $value } bukan tahun anggaran antara 2000 dan 2100
value-not-in-enum = { $value } bukan salah satu dari: { $allowed }
condition-is-set = sudah diisi
condition-is-unset = belum diisi

# Errors of the store and the front ends.
error-prefix = galat
error-case-not-found = Kasus { $case } tidak ditemukan; periksa kunci bisnis atau id-nya dengan `swakelola case list`.
error-case-not-found-api = Kasus tidak ditemukan atau tidak dibagikan dengan organisasi Anda; lihat daftar kasus Anda di GET /v1/cases.
error-ambiguous-case = { $reference } cocok dengan beberapa kasus: { $candidates }; berikan id lengkapnya.
error-workflow-not-found = Alur kerja { $workflow } belum dipasang; pasang dengan `swakelola workflow deploy <berkas>`.
error-invalid-workflow = Alur kerja mengandung kesalahan dan tidak dipasang:
error-document-not-found = Dokumen { $document } tidak tersimpan.
error-corrupt = Data tersimpan rusak ({ $detail }); jalankan `swakelola case verify` dan pulihkan dari cadangan.
error-database = Basis data tidak tersedia ({ $detail }); periksa `--database-url` / SWAKELOLA_DATABASE_URL dan pastikan servernya berjalan.
error-database-api = Basis data tidak tersedia; coba lagi sebentar lagi.
error-query = Basis data menolak permintaan ({ $detail }); ini cacat program — laporkan beserta lognya.
error-migration = Migrasi basis data tidak bisa diterapkan: { $detail }
error-input = { $path }: { $problem }
conflict-changed-meanwhile = Kasus berubah oleh permintaan lain pada saat yang sama; muat ulang lalu coba lagi.
conflict-stale-revision = Kasus sudah di revisi { $current }, bukan { $expected }: orang lain telah mengubahnya; muat ulang lalu putuskan lagi.
conflict-business-key-taken = Sudah ada kasus dengan kunci bisnis { $key } ({ $case }) dengan data berbeda; pakai kunci lain atau lanjutkan kasus itu.
conflict-idempotency-key-reused = Kunci idempotensi { $key } sudah dipakai untuk permintaan lain; pakai kunci baru.
invalid-no-failed-timer = Kasus { $case } tidak punya pengatur waktu gagal { $key }; lihat `swakelola timer list --failed`.
invalid-no-outbox-message = Tidak ada pesan keluar { $key }; lihat `swakelola outbox list`.
invalid-outbox-not-failed = Pesan { $key } berstatus { $state }, bukan gagal; hanya pesan gagal atau mati yang dikirim ulang.
invalid-no-token = Tidak ada token { $id }; lihat `swakelola token list`.
invalid-unsupported-database-url = Alamat basis data { $url } tidak didukung; pakai sqlite://swakelola.db atau postgres://pengguna@host/db.
invalid-unusable-sqlite = Basis data SQLite tidak bisa dipakai ({ $detail }); pastikan berkas itu basis data swakelola, atau pindahkan agar dibuat yang baru.
invalid-scratch-needs-postgres = Basis data sementara hanya dibuat di PostgreSQL.
invalid-malformed-idempotency-key = Kunci idempotensi { $key } tidak sah: pakai 1–{ $max } karakter dari A–Z, a–z, 0–9, `-`, `_`, `.`, `:` (UUID bisa).
invalid-attachment-without-content = Lampiran harus berisi berkasnya.
invalid-document-too-large = Dokumen berukuran { $bytes } bita; paling besar { $max } bita.
invalid-document-mismatch = Ukuran atau SHA-256 dokumen tidak cocok dengan isinya.
invalid-unreadable-file = Berkas tidak bisa dibaca: { $detail }; tidak ada yang dilampirkan.
invalid-token-without-role = Token perlu paling sedikit satu peran (`--role`).
invalid-expiry-not-in-future = Masa berlaku harus di masa depan.
invalid-no-randomness = Sumber bilangan acak tidak tersedia: { $detail }
invalid-not-a-pair = { $text } bukan { $option } yang sah; tulis sebagai NAMA=NILAI.
input-empty = tidak boleh kosong
input-too-long = lebih dari { $max } karakter; persingkat
input-control-character = mengandung karakter kendali U+{ $code }; hapus karakter itu
input-not-a-party = bukan pihak dalam alur kerja { $workflow }; pihak yang ada: { $known }
input-not-a-role = bukan peran dalam alur kerja { $workflow }; peran yang ada: { $known }
input-given-twice = diberikan dua kali ({ $first } dan { $second }); satu pihak adalah satu organisasi — berikan sekali
address-too-long = lebih dari { $max } karakter
address-spaces = mengandung spasi atau karakter kendali; tulis alamatnya saja
address-not-email = { $email } bukan alamat email; tulis sebagai `email:nama@instansi.go.id`
address-not-http-url = { $url } bukan URL http(s) dengan host; tulis sebagai `webhook:https://host/jalur`
address-credentials = URL webhook tidak boleh memuat nama pengguna atau kata sandi
address-no-scheme = harus diawali `email:` atau `webhook:`
address-not-https = webhook harus memakai https ({ $host } memakai { $scheme }); minta operator mengizinkan jaringannya bila internal
address-internal = webhook menunjuk alamat privat, loopback atau link-local, yang tidak diizinkan di instalasi ini
error-internal = Server gagal menangani permintaan; kejadiannya dicatat dengan id permintaan ini.
input-not-a-network = { $entry } bukan jaringan; tulis seperti `127.0.0.1/32` atau `10.0.0.0/8`

# demo and simulate
demo-title = swakelola demo — Yayasan Intan Maharani × DP3A Kota Palembang, tahun anggaran 2025
demo-note = (basis data sementara di memori; jam dipercepat: setiap tenggat, pengingat dan eskalasi dihitung dengan hari kerja dan libur nasional)
demo-try = Coba sendiri: swakelola workflow deploy workflows/swakelola-tipe-3.yaml, lalu swakelola case open --help.
simulate-opened = kasus dibuka
simulate-attach = lampirkan
simulate-automatic = Otomatis
simulate-stage = tahap «{ $stage }»
simulate-set-aside = Kasus { $case } disisihkan: lebih dari { $limit } tenggat jatuh pada saat yang sama (perpindahan otomatis berputar); perbaiki alur kerjanya
simulate-step-failed = langkah { $step } ({ $at }): { $error }
simulate-expected-stage = langkah { $step } ({ $at }): diharapkan tahap { $expected }, kasus ada di { $actual }
simulate-expected-closed = langkah { $step } ({ $at }): kasus diharapkan sudah ditutup
simulate-expected-open = langkah { $step } ({ $at }): kasus diharapkan masih terbuka
simulate-expected-notification = langkah { $step } ({ $at }): diharapkan pemberitahuan { $kind } sejak langkah sebelumnya; yang terkirim: { $got }
simulate-summary-intact = { $events } peristiwa tercatat, rantai hash utuh; tahap akhir { $stage }.
simulate-summary-tampered = { $events } peristiwa tercatat, rantai hash TIDAK utuh; tahap akhir { $stage }.
simulate-all-met = semua harapan terpenuhi
simulate-failed = harapan tidak terpenuhi: { $failure }

# notifications (the built-in text; a workflow may bring its own templates)
notify-subject = [swakelola] { $title }: tahap { $stage }
notify-subject-due = [swakelola] { $title }: tahap { $stage }, tenggat { $deadline }
notify-greeting = Yth. { $recipient },
notify-about = { $title } untuk kasus { $case } ({ $workflow }).
notify-transition = { $by } menjalankan «{ $transition }»; kasus kini di tahap { $stage }.
notify-stage = Tahap: { $stage }
notify-due = Tenggat: { $deadline } (akhir hari, { $zone })
notify-days-left = { $days } hari lagi
notify-today = hari ini
notify-days-late = terlambat { $days } hari
notify-provisional = Catatan: tanggal ini sementara — kalender hari libur tahun itu belum dimuat, sehingga tanggal dapat bergeser.
notify-missing = Dokumen yang belum ada:
notify-link = Buka kasus: { $link }
error-no-json = { $command } tidak punya keluaran JSON; hilangkan --json (log `run` dan `serve` sudah berupa baris JSON)
reassign-summary = { $changed } dari { $total } kasus diganti kontaknya, { $refused } menolak

# The HTTP API's own answers
api-token-missing = Titik akhir ini memerlukan `Authorization: Bearer <token>`; mintalah token kepada administrator (`swakelola token create`).
api-token-not-text = Header Authorization bukan teks yang sah.
api-token-malformed = Diharapkan `Authorization: Bearer { $prefix }…`.
api-token-unknown = Token bearer tidak dikenal; mintalah token kepada administrator.
api-token-revoked = Token bearer sudah dicabut; mintalah token baru kepada administrator.
api-token-expired = Token bearer sudah kedaluwarsa; mintalah token baru kepada administrator.
api-admin-only = Titik akhir ini untuk administrator; token memerlukan peran `admin`.
api-operator-only = Titik akhir ini untuk operator instalasi; token memerlukan peran `operator`, yang hanya diberikan `swakelola token create` di server.
api-role-not-yours = Token Anda tidak bisa bertindak sebagai { $role } pada kasus ini; peran yang bisa Anda pakai di sini: { $usable }.
api-no-role-may = Tidak satu pun peran Anda pada kasus ini ({ $usable }) boleh { $act }; diperlukan salah satu dari: { $allowed }.
api-cannot-open-as = Token Anda tidak bisa membuka kasus sebagai { $role } dengan pihak-pihak ini; sebut organisasi Anda sebagai pihak peran itu.
api-no-role-may-open = Tidak satu pun peran Anda boleh membuka kasus ini dengan pihak-pihak ini; diperlukan salah satu dari: { $allowed }.
api-range = `{ $name }` harus antara { $min } dan { $max }.
api-bad-cursor = bukan penanda dari halaman sebelumnya daftar ini; mulai lagi tanpa `after`
api-file-name-empty = nama berkas tidak boleh kosong
api-file-name-too-long = nama berkas paling banyak 200 karakter
api-file-name-not-plain = nama berkas harus nama saja, tanpa folder atau `..`
api-file-name-control = nama berkas tidak boleh memuat karakter kendali
api-empty-document = dokumennya kosong
api-no-such-document = Kasus { $case } tidak punya dokumen dengan SHA-256 { $sha256 }; lihat `documents` kasus itu.
api-not-json = Kirim isi permintaan sebagai JSON dengan `Content-Type: application/json`.
api-invalid-json = Isi permintaan bukan JSON yang sah: { $detail }
api-unreadable-body = Isi permintaan tidak bisa dibaca: { $detail }
api-bad-idempotency-key = Header Idempotency-Key harus 1–{ $max } karakter ASCII yang terlihat, misalnya UUID.
api-database-slow = Basis data tidak menjawab dalam 2 detik; coba lagi sebentar lagi.
api-metrics-disabled = Metrik tidak diaktifkan di server ini.
api-method-not-allowed = { $path } tidak menerima { $method }; lihat /openapi.json.
api-no-endpoint = Tidak ada titik akhir { $path }; lihat /openapi.json.
api-own-organisation-only = Administrator hanya menerbitkan token untuk organisasinya sendiri ({ $organisation }).
api-operator-on-server = Peran `operator` hanya diberikan di server: `swakelola token create --role operator`.
api-not-an-instant = bukan waktu RFC 3339 seperti 2026-12-31T17:00:00Z: { $detail }
api-no-token = Tidak ada token { $id }; lihat daftarnya di GET /v1/tokens.
api-workflow-version-not-deployed = Alur kerja { $workflow } versi { $version } belum dipasang.

# validate, graph, explain
validate-workflow = { $file }: { $workflow } — { $label } ({ $stages } tahap, { $transitions } langkah)
validate-calendar = kalender { $calendar } ({ $zone }): { $days } hari libur pada { $years }
validate-summary = { $workflows } berkas alur kerja, { $calendars } berkas kalender: { $errors } kesalahan, { $warnings } peringatan
validate-explain = jalankan `swakelola explain KODE` untuk penjelasan sebuah kode, misalnya `swakelola explain { $code }`
graph-errors-first = tidak ada diagram: perbaiki dulu kesalahan di atas (`swakelola validate { $file }`)
explain-unknown-code = tidak ada kode diagnostik { $code }; kode yang ada: { $known }

# accounts and signing in
invalid-no-user = Tidak ada akun dengan email { $email }; lihat `swakelola user list`.
invalid-email-taken = Akun dengan email { $email } sudah ada; untuk lupa sandi pakai `swakelola user reset`.
invalid-link-not-valid = Tautan untuk membuat sandi tidak dikenal, sudah dipakai atau kedaluwarsa; mintalah tautan baru kepada administrator.
invalid-password-too-short = Sandi paling sedikit { $min } karakter.
invalid-sign-in-refused = Email atau sandi salah.
invalid-too-many-sign-ins = Terlalu banyak percobaan masuk yang gagal; tunggu { $minutes } menit lalu coba lagi.
user-active = aktif
user-invited = diundang
user-disabled = nonaktif
user-none = belum ada akun; buat dengan `swakelola user create`
user-link-printed = tautan di atas untuk { $name } ({ $email }) membuat sandi: berlaku sekali, selama 72 jam; kirimkan kepadanya
user-disabled-now = akun { $email } dinonaktifkan; sesinya berakhir sekarang
