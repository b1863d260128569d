//! [`RateCounters`] in SQL: one row per key, counted with a single upsert,
//! so concurrent instances never lose a count.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Dialect, SqlStore, Value};
use crate::{
    store::{from_unix_ms, unix_ms, window_ms, RateCounters, Window},
    Error,
};

/// A new window when there is none or it has ended, else one more count.
const COUNT: &str = "INSERT INTO rate_counters (key, count, window_ends_ms) VALUES ($1, 1, $2) \
     ON CONFLICT (key) DO UPDATE SET \
     count = CASE WHEN rate_counters.window_ends_ms <= $3 THEN 1 \
             ELSE rate_counters.count + 1 END, \
     window_ends_ms = CASE WHEN rate_counters.window_ends_ms <= $3 THEN $2 \
                      ELSE rate_counters.window_ends_ms END \
     RETURNING count, window_ends_ms";

#[async_trait]
impl<DB: Dialect> RateCounters for SqlStore<DB> {
    async fn count(
        &self,
        key: &str,
        window: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Window, Error> {
        let now = unix_ms(now);
        let ends = now.saturating_add(window_ms(window));
        let args = [Value::Text(key), Value::Int(ends), Value::Int(now)];
        let row = self
            .fetch_optional(COUNT, &args)
            .await?
            .ok_or_else(|| Error::storage("the counter upsert returned no row"))?;
        window_from_row::<DB>(&row)
    }

    async fn peek(&self, key: &str, now: OffsetDateTime) -> Result<Option<Window>, Error> {
        let sql = "SELECT count, window_ends_ms FROM rate_counters \
                   WHERE key = $1 AND window_ends_ms > $2";
        let args = [Value::Text(key), Value::Int(unix_ms(now))];
        let row = self.fetch_optional(sql, &args).await?;
        row.map(|row| window_from_row::<DB>(&row)).transpose()
    }
}

fn window_from_row<DB: Dialect>(row: &DB::Row) -> Result<Window, Error> {
    Ok(Window {
        count: u64::try_from(DB::int(row, "count")?).unwrap_or(0),
        ends_at: from_unix_ms(DB::int(row, "window_ends_ms")?)?,
    })
}
