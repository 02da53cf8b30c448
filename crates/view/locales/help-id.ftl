# The command-line help in Indonesian (the default). The English help is the doc comments of
# the commands in crates/runner; a test fails when a command or an argument has one and not the
# other. Ids: `help-<command path>` for a command, `help-<command path>--<argument>` for an
# argument, `help-arg--<argument>` for an argument that reads the same on every command.
# The first paragraph is the short help (`-h`, command lists); the whole text is `--help`.

help =
    Mesin alur kerja Swakelola Tipe III: menjaga kemitraan instansi pemerintah dan Ormas tetap tepat waktu.

    Alur kerja ditulis dalam berkas YAML (lihat workflows/ dan README). Mulailah dengan `swakelola validate workflows/` untuk memeriksanya, `swakelola workflow deploy BERKAS` untuk memasangnya, lalu `swakelola case open …`, `case show`, `case fire`. Kasus disimpan di SQLite (`swakelola.db` di folder ini) kecuali --database-url menyebut yang lain.

    Kode keluar: 0 selesai, 1 ditolak / tidak sah / tidak ditemukan, 2 cara pakai salah, 3 basis data tidak tersedia.
help--database_url =
    Alamat basis data: sqlite://BERKAS (dibuat bila belum ada) atau postgres://PENGGUNA@HOST/DB
help--json =
    Cetak hasil sebagai JSON untuk skrip, bukan teks untuk orang
help--lang =
    Bahasa yang dibaca orang: `id` (Indonesia, bawaan) atau `en` (Inggris)
help--webhook_allow =
    Jaringan (CIDR, dipisah koma) yang boleh dituju kontak webhook walaupun privat, loopback atau link-local, juga lewat http biasa; bawaannya webhook harus https ke alamat publik. Misalnya `127.0.0.1/32` untuk penerima di mesin ini
help--config =
    Berkas YAML berisi nilai bawaan untuk opsi yang tidak diberikan sebagai flag atau variabel lingkungan (kuncinya seperti flag panjang dengan `_`: database_url, lang, webhook_allow, poll, lease, batch, smtp_url, smtp_from, webhook_secret, metrics, max_attempts, retry_base, api, listen, delivery_timeout, grace, max_fires_per_case, public_url)
help--log_format =
    Format log `run` dan `serve` (di stderr): satu objek JSON per baris, atau teks untuk orang. Tingkatnya dari SWAKELOLA_LOG (bawaan `info`), misalnya `debug`

help-validate =
    Periksa berkas alur kerja (dan kalender di sebelahnya); keluar dengan kode 1 bila ada kesalahan.

    Berikan berkas atau folder. Berkas *.yaml/*.yml sebuah folder adalah alur kerja, dan folder calendars/ di dalamnya memuat kalender hari kerja yang dipakai.
help-validate--paths =
    Berkas alur kerja atau folder berisi alur kerja
help-validate--format =
    Format keluaran: teks di stderr, atau satu dokumen JSON di stdout
help-validate--deny_warnings =
    Perlakukan peringatan sebagai kesalahan (keluar dengan kode 1 bila ada)

help-graph =
    Gambar alur kerja sebagai diagram Mermaid atau Graphviz DOT di stdout.

    Ubah DOT menjadi gambar dengan: swakelola graph BERKAS --format dot | dot -Tsvg > alur.svg
help-graph--file =
    Berkas alur kerja
help-graph--format =
    `mermaid` (tampil di markdown GitHub dan GitLab) atau `dot` (Graphviz)

help-explain =
    Jelaskan kode diagnostik, misalnya `swakelola explain E023`
help-explain--code =
    Kode diagnostik seperti yang dicetak `validate`, misalnya E023 atau W002

help-demo =
    Saksikan kemitraan contoh berjalan dari audiensi sampai selesai, dalam beberapa detik.

    Memakai basis data SQLite sementara dan jam yang dipercepat; tidak ada yang tertinggal,
    kecuali `--save` menyebut berkas baru untuk menyimpannya.
help-demo--save =
    Simpan kasus-kasus demo di berkas SQLite baru ini (belum boleh ada), untuk dilihat sesudahnya dengan `case`, `partnership show` atau `serve`

help-run =
    Jalankan daemon: tembakkan tenggat, pengingat dan eskalasi yang jatuh tempo dan kirim pemberitahuan sampai dihentikan dengan Ctrl-C atau SIGTERM
help-run--poll =
    Jeda terlama antara dua pemeriksaan basis data, dalam detik
help-run--lease =
    Berapa lama pengatur waktu atau pesan yang diambil tetap dipesan untuk runner ini; bila runner mati, runner lain mengambil alih setelah selama ini
help-run--batch =
    Jumlah pengatur waktu yang diambil bersama dan dijalankan dalam satu transaksi (satu commit untuk semuanya)
help-run--webhook_secret =
    Rahasia yang menandatangani kiriman webhook (`whsec_<base64>`); tanpa itu pesan webhook menunggu di outbox
help-run--smtp_url =
    Server SMTP untuk email: smtp://pengguna:sandi@host:587?tls=required (STARTTLS), smtps://…:465 (TLS) atau smtp://host:25 (relay lokal). Tanpa itu pesan email menunggu di outbox
help-run--smtp_from =
    Pengirim email pemberitahuan
help-run--metrics =
    Sajikan metrik Prometheus di alamat ini (misalnya 127.0.0.1:9464) pada /metrics
help-run--max_attempts =
    Jumlah percobaan kirim sebelum pesan dinyatakan mati
help-run--retry_base =
    Jeda setelah kiriman pertama gagal, dalam detik; berlipat dua setiap kali gagal (paling lama 1 jam)
help-run--api =
    Sajikan juga HTTP API (lihat `swakelola serve`), di --listen
help-run--listen =
    Alamat HTTP API
help-run--delivery_timeout =
    Penantian terlama untuk satu kiriman webhook (sambung, kirim, jawab), dalam detik. Penerima yang tidak menjawab hanya menunda pesannya sendiri
help-run--grace =
    Saat SIGTERM atau Ctrl-C, berapa lama menunggu pekerjaan yang sedang berjalan sebelum keluar, dalam detik; sisanya diambil alih runner lain setelah masa pesannya habis
help-run--max_fires_per_case =
    Paling banyak pengatur waktu satu kasus pada satu saat; kasus yang melebihinya (alur kerja yang perpindahan otomatisnya berputar) disisihkan dan tampil di `swakelola timer list --failed`
help-run--public_url =
    Alamat dasar tempat orang membuka kasus di peramban, misalnya https://swakelola.dp3a.example; pemberitahuan lalu menautkan ke `<URL>/kasus/<kunci bisnis>`

help-serve =
    Sajikan HTTP API (tanpa menembakkan pengatur waktu; jalankan `swakelola run` untuk itu, atau `swakelola run --api` untuk keduanya dalam satu proses).

    Setiap permintaan memerlukan `Authorization: Bearer <token>` (dari `swakelola token create`) kecuali /healthz dan /readyz. API dijelaskan di /openapi.json.
help-serve--listen =
    Alamat yang didengarkan; port 0 memilih port bebas (dicatat di log saat mulai)

help-token =
    Terbitkan, daftar dan cabut token bearer HTTP API
help-token-create =
    Terbitkan token; rahasianya dicetak sekali dan hanya hash-nya yang disimpan.

    Contoh: swakelola token create --name "Budi Santoso" --organisation dp3a-palembang --role ppk --role pa_kpa --expires-in 90
help-token-create--name =
    Siapa pemegangnya; dicatat sebagai pelaku semua yang dilakukan dengannya
help-token-create--organisation =
    Organisasi yang diwakilinya (seperti tertulis di pihak-pihak kasus)
help-token-create--roles =
    Peran alur kerja yang boleh dijalankannya, atau `admin` untuk mengelola alur kerja dan token; ulangi untuk beberapa peran
help-token-create--expires_in =
    Jumlah hari sampai token berhenti berlaku; tanpa ini token berlaku sampai dicabut
help-token-list =
    Daftar token (tanpa rahasianya)
help-token-revoke =
    Cabut token menurut id-nya; token langsung berhenti berlaku
help-token-revoke--id =
    Id token, seperti yang ditampilkan `swakelola token list` (bukan rahasianya)

help-simulate =
    Jalankan skenario pada alur kerja dengan jam maya dan cetak lini masanya; keluar dengan kode 1 bila ada harapan skenario yang tidak terpenuhi.

    Tidak ada yang disimpan: basis datanya di memori. Lihat workflows/scenarios/ untuk formatnya.
help-simulate--workflow =
    Berkas alur kerja (folder calendars/ di sebelahnya dipakai)
help-simulate--scenario =
    Berkas skenario

help-agenda =
    Apa yang jatuh tempo, dan pengingat serta eskalasi mana yang terkirim, dalam beberapa hari ke depan.

    Baris bertanda `!` sudah jatuh tempo dan menunggu runner (`swakelola run`).
help-agenda--days =
    Berapa hari ke depan yang dilihat (1–366)

help-outbox =
    Periksa dan kirim ulang pesan pemberitahuan
help-outbox-list =
    Daftar pesan pemberitahuan dan status kirimnya
help-outbox-list--failed =
    Hanya pesan yang gagal atau mati
help-outbox-list--case =
    Hanya pesan satu kasus
help-outbox-retry =
    Kirim ulang pesan yang gagal atau mati
help-outbox-retry--key =
    Kunci pesan, seperti yang ditampilkan `swakelola outbox list --failed`

help-timer =
    Periksa pengatur waktu, dan ulangi yang gagal atau disisihkan
help-timer-list =
    Daftar pengatur waktu: kapan jatuh tempo, berapa kali dicoba, dan mengapa gagal
help-timer-list--failed =
    Hanya pengatur waktu yang pernah gagal atau disisihkan (mati)
help-timer-list--limit =
    Paling banyak sejumlah ini
help-timer-retry =
    Jadikan pengatur waktu yang gagal atau mati menunggu lagi setelah penyebabnya diperbaiki; putaran runner berikutnya menembakkannya
help-timer-retry--case =
    Id kasus (seperti yang ditampilkan `timer list`)
help-timer-retry--key =
    Kunci pengatur waktu (seperti yang ditampilkan `timer list`)

help-db =
    Pemeliharaan basis data
help-db-migrate =
    Terapkan migrasi skema yang tertunda (juga dilakukan otomatis oleh setiap perintah)

help-workflow =
    Pasang, daftar, bandingkan versi alur kerja dan pindahkan kasus ke versi baru
help-workflow-deploy =
    Periksa alur kerja dan simpan sebagai versi baru (isi yang sama tidak mengubah apa pun).

    Kalender di folder calendars/ di sebelah berkas ikut dipasang.
help-workflow-deploy--file =
    Berkas alur kerja; folder calendars/ di sebelahnya ikut dipasang (kalender bawaan bila tidak ada dan belum ada yang dipasang)
help-workflow-list =
    Daftar versi alur kerja yang terpasang
help-workflow-diff =
    Apa yang berubah di antara dua versi alur kerja yang terpasang: tahap, langkah, aturan, data, dokumen, catatan, peran dan pihak yang ditambah (+), dihapus (−) atau diubah (~, dengan kunci yang berbeda).

    Contoh: swakelola workflow diff swakelola-tipe-3 1 2
help-workflow-diff--workflow =
    Id alur kerja (lihat `swakelola workflow list`)
help-workflow-diff--from =
    Versi yang lebih awal
help-workflow-diff--to =
    Versi yang lebih baru
help-workflow-migrate =
    Pindahkan kasus yang masih berjalan ke versi lain alur kerjanya yang sudah terpasang, menurut rencana migrasi (berkas YAML; lihat workflows/migrations/). Lihat dulu dengan --dry-run: perintah itu menampilkan apa yang terjadi pada setiap kasus tanpa mengubah apa pun.

    Setiap kasus dipindahkan dalam transaksinya sendiri dan mencatat peristiwa `migrated` di riwayatnya. Menjalankan rencana yang sama lagi (misalnya setelah terputus) membiarkan kasus yang sudah dipindahkan. Contoh: swakelola workflow migrate workflows/migrations/plans/2027-v1-ke-v2.yaml --dry-run
help-workflow-migrate--plan =
    Rencana migrasi
help-workflow-migrate--dry_run =
    Tampilkan apa yang akan terjadi pada setiap kasus; tidak mengubah apa pun
help-workflow-migrate--actor =
    Nama Anda, dicatat di riwayat setiap kasus yang dipindahkan (wajib kecuali --dry-run)

help-case =
    Buka, periksa dan gerakkan kasus
help-case-open =
    Buka kasus (atau dapatkan kasus yang sudah ada dengan kunci bisnis dan data yang sama).

    Contoh: swakelola case open --workflow swakelola-tipe-3 --key DP3A-2025-001 --organisation dp3a-palembang --field nama_kegiatan="Pendampingan perempuan dan anak" --field tahun_anggaran=2025 --party ormas=yayasan-intan-maharani --contact 'ppk=Budi Santoso <email:budi@dp3a.example>' --as ppk --actor "Budi Santoso"

    Data yang wajib diisi saat membuka kasus (`required: true`), pihak dan peran adalah yang ada di berkas alur kerja; yang salah ditolak beserta daftar yang ada, dan tidak ada yang disimpan.
help-case-open--workflow =
    Id alur kerja yang terpasang, misalnya swakelola-tipe-3 (lihat `swakelola workflow list`)
help-case-open--key =
    Kunci bisnis, unik per alur kerja dan organisasi (misalnya DP3A-2025-001)
help-case-open--organisation =
    Organisasi yang membuka kasus (misalnya dp3a-palembang)
help-case-open--fields =
    Nilai data, DATA=NILAI (ulangi untuk beberapa)
help-case-open--parties =
    Pihak dalam kemitraan, PIHAK=ORGANISASI (ulangi), misalnya ormas=yayasan-intan-maharani; menyebut pihak yang sama lagi menambah anggota koalisi, yang disebut pertama memimpinnya
help-case-open--contacts =
    Siapa yang diberi tahu untuk sebuah peran (ulangi): PERAN="Nama <email:ALAMAT>" atau PERAN="Nama <webhook:https://…>"; tanpa nama, label perannya yang disapa, misalnya --contact 'ppk=Budi Santoso <email:budi@dp3a.example>'
help-case-list =
    Daftar kasus
help-case-list--workflow =
    Hanya kasus alur kerja ini (id-nya)
help-case-list--stage =
    Hanya kasus di tahap ini (id-nya, seperti diberikan `case show --json`)
help-case-list--organisation =
    Hanya kasus yang dibuka organisasi ini
help-case-list--fiscal_year =
    Hanya kasus tahun anggaran ini
help-case-list--overdue =
    Hanya kasus yang punya tenggat terlewati
help-case-list--limit =
    Paling banyak sejumlah ini
help-case-show =
    Tampilkan kasus: tahap, data, tenggat, dan apa yang bisa terjadi berikutnya
help-case-show--role =
    Tampilkan langkah yang boleh dilakukan peran ini, dan apa yang masih dibutuhkan masing-masing
help-case-fire =
    Lakukan langkah (transisi)
help-case-fire--transition =
    Id langkah, seperti dicantumkan `case show` setelah labelnya (misalnya catat_audiensi)
help-case-fire--comment =
    Alasan: wajib untuk sebagian langkah (pembatalan, permintaan revisi)
help-case-attach =
    Lampirkan dokumen (isi berkas disimpan menurut SHA-256-nya)
help-case-attach--document_type =
    Id jenis dokumen, misalnya kak atau notulen_audiensi (`case show` menyebut yang belum ada)
help-case-attach--file =
    Berkas yang dilampirkan (paling besar 25 MiB); namanya disimpan, isinya menurut SHA-256
help-case-set =
    Isi data, DATA=NILAI (misalnya pagu=Rp34.500.000)
help-case-set--assignment =
    Data dan nilainya seperti ditulis orang, misalnya pagu=Rp34.500.000 atau tanggal_kontrak=2025-07-01
help-case-decline =
    Tolak persetujuan bersama dengan alasan: persetujuan yang sudah diberikan tidak berlaku lagi.
    
    Contoh: swakelola case decline DP3A-2025-001 tandatangani_kontrak --comment "Nilai kontrak belum sesuai RAB" --as pimpinan_ormas --actor "Siti Aminah"
help-case-decline--transition =
    Langkah yang persetujuannya ditolak (misalnya tandatangani_kontrak)
help-case-decline--comment =
    Alasannya (wajib); dicatat di riwayat
help-case-add-record =
    Tambahkan catatan pada kasus (pembayaran termin, …): JENIS lalu pasangan DATA=NILAI-nya.
    
    Contoh: swakelola case add-record DP3A-2025-001 pembayaran termin=1 jumlah=Rp10.350.000 tanggal_sp2d=2025-05-20 nomor_sp2d=00123/SP2D/2025 --as ppk --actor "Budi Santoso"
help-case-add-record--record =
    Jenis catatan seperti dinamai alur kerja (misalnya pembayaran)
help-case-add-record--values =
    Data catatan seperti ditulis orang, misalnya jumlah=Rp10.350.000
help-case-open--follows =
    Kasus yang dilanjutkan kasus ini (kemitraan tahun depan setelah tahun ini): ditautkan, dan tanpa --party pihak serta kontaknya diambil alih
help-case-open--replicates =
    Kasus contoh yang direplikasi kasus ini (kemitraan yang sama dengan instansi lain)
help-case-open--carry =
    Data yang diambil dari kasus yang dilanjutkan atau direplikasi, kecuali diberikan dengan --field (ulangi), misalnya --carry nama_kegiatan --carry ormas
help-case-link =
    Tandai dua kasus sebagai terkait (terlihat dari keduanya); dicatat di riwayat kasus pertama. Lanjutan dan replikasi ditautkan saat dibuka (`case open --follows`, `--replicates`).

    Contoh: swakelola case link DINSOS-2025-004 DP3A-2025-001 --as ppk --actor "Budi Santoso"
help-case-link--other =
    Kasus yang terkait, disebut dengan cara yang sama
help-case-add-member =
    Tambahkan organisasi ke suatu pihak pada kasus yang berjalan (koalisi bertambah); dicatat di riwayat. Organisasi itu diundang dan melihat kasus setelah salah satu stafnya menerima.

    Contoh: swakelola case add-member DP3A-2025-001 ormas perkumpulan-sumsel-peduli --as ppk --actor "Budi Santoso"
help-case-add-member--party =
    Pihak yang dimasukinya, misalnya ormas
help-case-add-member--member =
    Organisasi yang bergabung, misalnya perkumpulan-sumsel-peduli
help-case-withdraw-member =
    Keluarkan organisasi dari suatu pihak pada kasus yang berjalan, dengan alasan; dicatat di riwayat. Kecuali masih termasuk pihak lain, organisasi itu langsung tidak lagi melihat kasusnya. Pemimpin suatu pihak tidak dapat dikeluarkan.

    Contoh: swakelola case withdraw-member DP3A-2025-001 ormas perkumpulan-sumsel-peduli --reason "Mengundurkan diri dari koalisi" --as ppk --actor "Budi Santoso"
help-case-withdraw-member--party =
    Pihak yang ditinggalkannya, misalnya ormas
help-case-withdraw-member--member =
    Organisasi yang keluar
help-case-withdraw-member--reason =
    Alasannya (wajib); dicatat di riwayat
help-case-contacts =
    Ganti orang yang diberi tahu untuk sebuah peran pada kasus yang berjalan (pejabat berganti jabatan); dicatat di riwayat. Boleh dilakukan peran itu dan peran di pihak yang sama.

    Contoh: swakelola case contacts DP3A-2025-001 ppk --contact 'Andi Wijaya <email:andi@dp3a.example>' --as pa_kpa --actor "Kepala DP3A"
help-case-contacts--target_role =
    Peran yang kontaknya diganti, misalnya ppk
help-case-contacts--contacts =
    Kontak baru (ulangi): "Nama <email:ALAMAT>" atau "Nama <webhook:https://…>"; tanpa kontak sama sekali, peran itu tidak punya kontak (pemberitahuannya hanya ke log)
help-case-history =
    Tampilkan seluruh riwayat kasus
help-case-verify =
    Hitung ulang rantai hash kasus; keluar dengan kode 1 dan sebut peristiwa pertama yang diubah bila rantainya putus

help-partnership =
    Kemitraan dari tahun ke tahun: kasus-kasus yang saling melanjutkan
help-partnership-show =
    Kemitraan tahun demi tahun: kasus setiap tahun (ditautkan dengan `case open --follows`), tahapnya dan nilainya (pagu, nilai kontrak, realisasi …) beserta pertumbuhannya dari tahun sebelumnya, lalu replikasinya oleh instansi lain.

    Contoh: swakelola partnership show DP3A-2025-001

# Arguments that read the same on every command.
help-arg--case =
    Kasusnya: kunci bisnis (misalnya DP3A-2025-001), id-nya, atau awalan id yang unik
help-arg--role =
    Peran yang Anda jalankan (misalnya ppk, pimpinan_ormas)
help-arg--actor =
    Nama Anda, dicatat di riwayat
help-arg--acting_for =
    Organisasi tempat Anda bertindak; diperlukan untuk menandatangani sebagai anggota koalisi yang setiap anggotanya menandatangani (misalnya MoU)
help-arg--idempotency_key =
    Perintah yang diulang dengan kunci yang sama hanya diterapkan sekali
help-arg--expected_revision =
    Tolak (konflik) kecuali kasus masih di revisi ini
help-case-reassign =
    Ganti orang yang diberi tahu untuk sebuah peran pada semua kasus terbuka sebuah organisasi (PPK sebuah Dinas berganti jabatan); setiap kasus berubah dalam transaksinya sendiri, dicatat di riwayatnya, dan kasus yang menolak tidak menghentikan yang lain.

    Contoh: swakelola case reassign ppk --organisation dp3a-palembang --replacing email:budi@dp3a.example --contact 'Andi Wijaya <email:andi@dp3a.example>' --as pa_kpa --actor "Kepala DP3A"

    Menjalankan perintah yang sama lagi tidak mengubah apa pun. Keluar dengan kode 1 bila ada kasus yang menolak.
help-case-reassign--target_role =
    Peran yang kontaknya diganti, misalnya ppk
help-case-reassign--organisation =
    Organisasi yang kasus terbukanya diubah (yang membuka kasus-kasus itu)
help-case-reassign--workflow =
    Hanya kasus alur kerja ini (id-nya)
help-case-reassign--replacing =
    Hanya kasus yang kontak perannya memuat alamat ini (orang yang pergi), misalnya email:budi@dp3a.example
help-case-reassign--contacts =
    Kontak baru (ulangi): "Nama <email:ALAMAT>" atau "Nama <webhook:https://…>"

help-user =
    Buat, daftar, nonaktifkan dan atur ulang akun orang yang masuk ke halaman web
help-user-create =
    Buat akun dan cetak tautan sekali pakai untuk pemiliknya membuat sandi.

    Contoh: swakelola user create --name "Budi Santoso" --email budi@dp3a.example --organisation dp3a-palembang --role ppk --public-url https://swakelola.dp3a.example
help-user-create--name =
    Nama orang itu, tampil di halaman dan dicatat sebagai pelaku tindakannya
help-user-create--email =
    Alamat email untuk masuk
help-user-create--organisation =
    Organisasi yang diwakilinya (seperti tertulis di pihak-pihak kasus)
help-user-create--roles =
    Peran alur kerja yang boleh dijalankannya, atau `admin`; ulangi untuk beberapa peran
help-arg--public_url =
    Alamat tempat halaman web disajikan, agar tautan dicetak lengkap
help-user-list =
    Daftar akun: organisasi, peran, dan apakah aktif, diundang atau nonaktif
help-user-disable =
    Nonaktifkan akun: sesinya langsung berakhir dan tidak bisa masuk lagi
help-user-disable--email =
    Alamat email akun
help-user-reset =
    Cetak tautan sekali pakai yang baru untuk membuat sandi (lupa sandi); sesi akun berakhir dan akun nonaktif diaktifkan lagi
help-user-reset--email =
    Alamat email akun
help-arg--smtp_url =
    Server SMTP (seperti untuk `run`) untuk mengirim tautan pembuatan sandi lewat email; tanpa itu tautan dicetak atau ditampilkan di halaman admin
help-arg--smtp_from =
    Pengirim email itu
help-serve--public_url =
    Alamat dasar tempat orang membuka halaman web, misalnya https://swakelola.dp3a.example; dengan https cookie sesi hanya dikirim lewat https

# clap's own words around the help texts.
help-clap-usage = Cara pakai
help-clap-commands = Perintah
help-clap-arguments = Argumen
help-clap-options = Opsi
help-clap-help = Tampilkan bantuan (lebih lengkap dengan --help)
help-clap-version = Tampilkan versi
help-clap-after = Bantuan sebuah perintah: swakelola <PERINTAH> --help
