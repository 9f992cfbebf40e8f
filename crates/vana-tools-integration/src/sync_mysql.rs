//! MariaDB/MySQL for `sync_data_between_systems`: a read-only source query and a target table,
//! with the same staging-table plan and batched upserts as PostgreSQL and SQLite
//! (`INSERT … ON DUPLICATE KEY UPDATE`, null-safe `<=>` comparisons). Identifiers are double
//! quoted (the session turns on `ANSI_QUOTES`).

use crate::sync::{Mode, Rows, Shape};
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, TxOpts, Value as My};
use serde_json::{json, Value};
use vana_core::ToolError;

fn my_err(e: mysql_async::Error) -> ToolError {
    ToolError::Failed(format!("MariaDB: {e}"))
}

async fn connect(url: &str) -> Result<Conn, ToolError> {
    let url = url.replacen("mariadb://", "mysql://", 1);
    let opts = Opts::from_url(&url).map_err(|e| ToolError::InvalidArgs(format!("MariaDB URL: {e}")))?;
    let mut conn =
        Conn::new(opts).await.map_err(|e| ToolError::Failed(format!("MariaDB connection failed: {e}")))?;
    conn.query_drop("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES,STRICT_ALL_TABLES')")
        .await
        .map_err(my_err)?;
    Ok(conn)
}

fn text(v: My) -> Option<String> {
    match v {
        My::NULL => None,
        My::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        My::Int(x) => Some(x.to_string()),
        My::UInt(x) => Some(x.to_string()),
        My::Float(x) => Some(x.to_string()),
        My::Double(x) => Some(x.to_string()),
        My::Date(y, m, d, h, mi, s, us) => Some(if (h, mi, s, us) == (0, 0, 0, 0) {
            format!("{y:04}-{m:02}-{d:02}")
        } else {
            format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
        }),
        My::Time(neg, d, h, mi, s, us) => {
            Some(format!("{}{:02}:{mi:02}:{s:02}.{us:06}", if neg { "-" } else { "" }, d * 24 + h as u32))
        }
    }
}

/// A read-only query (one prepared statement inside a READ ONLY transaction), rows as text.
pub(crate) async fn query(url: &str, q: &str) -> Result<Rows, ToolError> {
    let mut conn = connect(url).await?;
    let mut opts = TxOpts::default();
    opts.with_readonly(true);
    let mut tx = conn.start_transaction(opts).await.map_err(my_err)?;
    let q = q.trim().trim_end_matches(';');
    let rows: Vec<mysql_async::Row> = tx.exec(q, ()).await.map_err(my_err)?;
    let columns: Vec<String> = match rows.first() {
        Some(r) => r.columns_ref().iter().map(|c| c.name_str().into_owned()).collect(),
        None => Vec::new(),
    };
    let out = rows.into_iter().map(|r| r.unwrap().into_iter().map(text).collect()).collect();
    tx.rollback().await.map_err(my_err)?;
    Ok(Rows { columns, rows: out, origin: "SQL query".into() })
}

async fn count(conn: &mut Conn, sql: String) -> Result<u64, ToolError> {
    conn.query_first::<i64, _>(sql).await.map_err(my_err).map(|n| n.unwrap_or(0) as u64)
}

async fn sample(conn: &mut Conn, sql: String) -> Result<Vec<Value>, ToolError> {
    let rows = conn.query::<String, _>(sql).await.map_err(my_err)?;
    Ok(rows.iter().map(|s| serde_json::from_str(s).unwrap_or(Value::Null)).collect())
}

fn null_safe_distinct(shape: &Shape, a: &str, b: &str) -> String {
    if shape.values.is_empty() {
        return "0".into();
    }
    let same: Vec<String> = shape.values.iter().map(|c| format!("{a}.{c} <=> {b}.{c}")).collect();
    format!("NOT ({})", same.join(" AND "))
}

/// The plan, and with `dry == false` the batched apply, on a MariaDB/MySQL target.
pub(crate) async fn sync(
    url: &str,
    shape: &Shape,
    rows: &Rows,
    idx: &[usize],
    mode: Mode,
    dry: bool,
    batch: usize,
) -> Result<Value, ToolError> {
    let mut conn = connect(url).await?;
    let t = &shape.table;
    let c = shape.col_list();
    conn.query_drop(format!("CREATE TEMPORARY TABLE vana_sync_stage AS SELECT {c} FROM {t} LIMIT 0"))
        .await
        .map_err(my_err)?;
    conn.query_drop("ALTER TABLE vana_sync_stage ADD COLUMN vana_rn BIGINT AUTO_INCREMENT PRIMARY KEY")
        .await
        .map_err(my_err)?;
    // Multi-row INSERTs, under the 65535 placeholders of one statement.
    let per = (60_000 / shape.cols.len().max(1)).clamp(1, 5000);
    for (n, chunk) in rows.rows.chunks(per).enumerate() {
        let one = format!("({})", vec!["?"; shape.cols.len()].join(", "));
        let sql = format!("INSERT INTO vana_sync_stage ({c}) VALUES {}", vec![one; chunk.len()].join(", "));
        let params: Vec<My> = chunk
            .iter()
            .flat_map(|r| {
                idx.iter()
                    .map(|i| r[*i].as_ref().map(|s| My::Bytes(s.clone().into_bytes())).unwrap_or(My::NULL))
            })
            .collect();
        conn.exec_drop(sql, params).await.map_err(|e| {
            ToolError::InvalidArgs(format!(
                "the source does not fit the target's columns (rows {}–{}): MariaDB: {e}",
                n * per + 1,
                n * per + chunk.len()
            ))
        })?;
    }
    let keys = shape.key_join("t", "s");
    let cols_json =
        shape.cols.iter().map(|c| format!("'{}', s.{c}", c.trim_matches('"'))).collect::<Vec<_>>().join(", ");
    let obj = format!("JSON_OBJECT({cols_json})");
    let inserts;
    let (mut updates, mut deletes) = (0u64, 0u64);
    let samples;
    if mode == Mode::Append {
        inserts = count(&mut conn, "SELECT count(*) FROM vana_sync_stage".into()).await?;
        samples = json!({"inserts": sample(&mut conn, format!("SELECT {obj} FROM vana_sync_stage s ORDER BY vana_rn LIMIT 5")).await?});
    } else {
        let k = shape.keys.join(", ");
        let dups = count(
            &mut conn,
            format!(
                "SELECT count(*) FROM (SELECT 1 FROM vana_sync_stage GROUP BY {k} HAVING count(*) > 1) d"
            ),
        )
        .await?;
        if dups > 0 {
            return Err(ToolError::InvalidArgs(format!(
                "the source repeats {dups} key(s); keys must be unique"
            )));
        }
        let missing = format!("NOT EXISTS (SELECT 1 FROM {t} t WHERE {keys})");
        let changed = null_safe_distinct(shape, "t", "s");
        inserts = count(&mut conn, format!("SELECT count(*) FROM vana_sync_stage s WHERE {missing}")).await?;
        updates = count(
            &mut conn,
            format!("SELECT count(*) FROM vana_sync_stage s JOIN {t} t ON {keys} WHERE {changed}"),
        )
        .await?;
        let gone = format!("FROM {t} t LEFT JOIN vana_sync_stage s ON {keys} WHERE s.vana_rn IS NULL");
        let mut del_samples = Vec::new();
        if mode == Mode::Mirror {
            deletes = count(&mut conn, format!("SELECT count(*) {gone}")).await?;
            del_samples =
                sample(&mut conn, format!("SELECT {} {gone} LIMIT 5", obj.replace("s.", "t."))).await?;
        }
        samples = json!({
            "inserts": sample(&mut conn, format!("SELECT {obj} FROM vana_sync_stage s WHERE {missing} ORDER BY s.vana_rn LIMIT 5")).await?,
            "updates": sample(&mut conn, format!("SELECT {obj} FROM vana_sync_stage s JOIN {t} t ON {keys} WHERE {changed} ORDER BY s.vana_rn LIMIT 5")).await?,
            "deletes": del_samples,
        });
    }
    let mut report = json!({"inserts": inserts, "updates": updates, "deletes": deletes, "samples": samples});
    if dry {
        return Ok(report);
    }
    let upsert = match mode {
        Mode::Append => format!("INSERT INTO {t} ({c}) SELECT {c} FROM vana_sync_stage WHERE vana_rn > ? AND vana_rn <= ?"),
        _ if shape.values.is_empty() => {
            format!("INSERT IGNORE INTO {t} ({c}) SELECT {c} FROM vana_sync_stage WHERE vana_rn > ? AND vana_rn <= ?")
        }
        _ => format!(
            "INSERT INTO {t} ({c}) SELECT {c} FROM vana_sync_stage WHERE vana_rn > ? AND vana_rn <= ? ON DUPLICATE KEY UPDATE {}",
            shape.values.iter().map(|v| format!("{v} = VALUES({v})")).collect::<Vec<_>>().join(", ")
        ),
    };
    let total = rows.rows.len();
    let (mut done, mut batches, mut written) = (0usize, 0usize, 0u64);
    while done < total {
        let end = (done + batch).min(total);
        let r = async {
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            tx.exec_drop(&upsert, (done as i64, end as i64)).await?;
            let n = tx.affected_rows();
            tx.commit().await?;
            Ok::<u64, mysql_async::Error>(n)
        }
        .await;
        match r {
            // ON DUPLICATE KEY UPDATE counts an updated row twice.
            Ok(n) => written += n,
            Err(e) => {
                return Err(crate::sync::batch_failed(&format!("MariaDB: {e}"), batches, done, end, total))
            }
        }
        batches += 1;
        done = end;
    }
    let mut deleted = 0;
    if mode == Mode::Mirror {
        conn.query_drop(format!(
            "DELETE t FROM {t} t LEFT JOIN vana_sync_stage s ON {keys} WHERE s.vana_rn IS NULL"
        ))
        .await
        .map_err(my_err)?;
        deleted = conn.affected_rows();
    }
    report["applied"] = json!({"batches": batches, "rows_written": written, "rows_deleted": deleted,
        "note": "MariaDB counts an updated row as 2 written rows"});
    Ok(report)
}
