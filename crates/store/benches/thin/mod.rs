//! The database's own limit, measured beside the store in the same run: single-row commits
//! through a thin client (bench-only dev-dependencies `rusqlite` and `tokio-postgres`). Kept
//! apart from `common` because the API benchmarks include that module without these crates.

use swakelola_store::SqlStore;
/// Single-row commits per second through a thin client — `rusqlite` on a fresh SQLite file
/// with the store's settings (WAL, `synchronous=NORMAL`), or `tokio-postgres` (autocommit,
/// one prepared INSERT per commit) on the store's PostgreSQL database: the database's own
/// limit for durable single-row writes, against which the store is compared.
pub async fn commits(store: &SqlStore, ops: usize) -> f64 {
    match store.dialect() {
        swakelola_store::Dialect::Sqlite => {
            let dir = std::env::temp_dir().join(format!("swakelola-thin-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("thin.db");
            let rate = tokio::task::spawn_blocking(move || {
                let connection = rusqlite::Connection::open(&path).unwrap();
                connection
                    .execute_batch(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                         CREATE TABLE thin (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);",
                    )
                    .unwrap();
                let mut insert = connection
                    .prepare("INSERT INTO thin (id, payload) VALUES (?1, ?2)")
                    .unwrap();
                let started = std::time::Instant::now();
                for n in 0..ops as i64 {
                    connection.execute_batch("BEGIN").unwrap();
                    insert
                        .execute(rusqlite::params![
                            n,
                            "payload of a similar size to an event row's hash and actor"
                        ])
                        .unwrap();
                    connection.execute_batch("COMMIT").unwrap();
                }
                ops as f64 / started.elapsed().as_secs_f64()
            })
            .await
            .unwrap();
            std::fs::remove_dir_all(&dir).ok();
            rate
        }
        swakelola_store::Dialect::Postgres => {
            let (client, connection) = tokio_postgres::connect(store.url(), tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            client
                .batch_execute(
                    "DROP TABLE IF EXISTS thin; CREATE TABLE thin (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)",
                )
                .await
                .unwrap();
            let insert = client
                .prepare("INSERT INTO thin (id, payload) VALUES ($1, $2)")
                .await
                .unwrap();
            let started = std::time::Instant::now();
            for n in 0..ops as i64 {
                client
                    .execute(
                        &insert,
                        &[
                            &n,
                            &"payload of a similar size to an event row's hash and actor",
                        ],
                    )
                    .await
                    .unwrap();
            }
            ops as f64 / started.elapsed().as_secs_f64()
        }
    }
}
