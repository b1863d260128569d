//! What the shared SQL store needs of a database, in one place.
//!
//! sqlx's generic code needs a bound for every type it binds or decodes and
//! for the executor of each connection type; written on every `impl` of the
//! store's traits, those bounds would repeat five times. [`Dialect`] states
//! them once, on its blanket implementation, and offers the store the few
//! operations it uses: run a statement with [`Value`]s bound, fetch rows,
//! and read typed columns. Any database whose driver provides those types
//! (SQLite and PostgreSQL here) is a `Dialect` without further code.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

/// A value bound to a `$N` placeholder: the portable types the schema uses
/// (times as Unix seconds, ids as text, token hashes as bytes).
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// `BIGINT`.
    Int(i64),
    /// `BIGINT`, or `NULL`.
    OptInt(Option<i64>),
    /// `TEXT`.
    Text(&'a str),
    /// `TEXT`, or `NULL`.
    OptText(Option<&'a str>),
    /// `BLOB` / `BYTEA`.
    Bytes(&'a [u8]),
    /// `BLOB` / `BYTEA`, or `NULL`.
    OptBytes(Option<&'a [u8]>),
    /// `BOOLEAN`.
    Bool(bool),
}

/// How many rows a statement changed (sqlx has no generic accessor).
pub trait RowsAffected {
    /// The count.
    fn rows_affected(&self) -> u64;
}

#[cfg(feature = "sqlite")]
impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        self.rows_affected()
    }
}

#[cfg(feature = "postgres")]
impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        self.rows_affected()
    }
}

/// The operations the shared queries are written in.
#[async_trait]
pub trait Dialect: Database {
    /// Runs `sql` with `args` bound in order; returns the rows changed.
    async fn execute(
        conn: &mut Self::Connection,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<u64, sqlx::Error>;

    /// Runs `sql`; the first row, if any.
    async fn fetch_optional(
        conn: &mut Self::Connection,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<Option<Self::Row>, sqlx::Error>;

    /// Runs `sql`; every row.
    async fn fetch_all(
        conn: &mut Self::Connection,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<Vec<Self::Row>, sqlx::Error>;

    /// A `BIGINT` column.
    ///
    /// # Errors
    /// The column is missing or of another type.
    fn int(row: &Self::Row, column: &str) -> Result<i64, sqlx::Error>;

    /// A nullable `BIGINT` column.
    ///
    /// # Errors
    /// As [`Dialect::int`].
    fn opt_int(row: &Self::Row, column: &str) -> Result<Option<i64>, sqlx::Error>;

    /// A `TEXT` column.
    ///
    /// # Errors
    /// As [`Dialect::int`].
    fn text(row: &Self::Row, column: &str) -> Result<String, sqlx::Error>;

    /// A nullable `TEXT` column.
    ///
    /// # Errors
    /// As [`Dialect::int`].
    fn opt_text(row: &Self::Row, column: &str) -> Result<Option<String>, sqlx::Error>;

    /// A `BLOB` / `BYTEA` column.
    ///
    /// # Errors
    /// As [`Dialect::int`].
    fn bytes(row: &Self::Row, column: &str) -> Result<Vec<u8>, sqlx::Error>;

    /// A nullable `BLOB` / `BYTEA` column.
    ///
    /// # Errors
    /// As [`Dialect::int`].
    fn opt_bytes(row: &Self::Row, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error>;

    /// A `BOOLEAN` column.
    ///
    /// # Errors
    /// As [`Dialect::int`].
    fn bool(row: &Self::Row, column: &str) -> Result<bool, sqlx::Error>;
}

/// `sql` with `args` bound in order.
fn bind<'q, DB>(sql: &'static str, args: &[Value<'_>]) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a [u8]>: Encode<'a, DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    args.iter().fold(sqlx::query(sql), |q, arg| match *arg {
        Value::Int(v) => q.bind(v),
        Value::OptInt(v) => q.bind(v),
        Value::Text(v) => q.bind(v),
        Value::OptText(v) => q.bind(v),
        Value::Bytes(v) => q.bind(v),
        Value::OptBytes(v) => q.bind(v),
        Value::Bool(v) => q.bind(v),
    })
}

#[async_trait]
impl<DB> Dialect for DB
where
    DB: Database,
    DB::QueryResult: RowsAffected,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a [u8]>: Encode<'a, DB>,
    for<'a> Vec<u8>: Decode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    async fn execute(
        conn: &mut DB::Connection,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<u64, sqlx::Error> {
        let done = bind::<DB>(sql, args).execute(conn).await?;
        Ok(done.rows_affected())
    }

    async fn fetch_optional(
        conn: &mut DB::Connection,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<Option<DB::Row>, sqlx::Error> {
        bind::<DB>(sql, args).fetch_optional(conn).await
    }

    async fn fetch_all(
        conn: &mut DB::Connection,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<Vec<DB::Row>, sqlx::Error> {
        bind::<DB>(sql, args).fetch_all(conn).await
    }

    fn int(row: &DB::Row, column: &str) -> Result<i64, sqlx::Error> {
        row.try_get(column)
    }

    fn opt_int(row: &DB::Row, column: &str) -> Result<Option<i64>, sqlx::Error> {
        row.try_get(column)
    }

    fn text(row: &DB::Row, column: &str) -> Result<String, sqlx::Error> {
        row.try_get(column)
    }

    fn opt_text(row: &DB::Row, column: &str) -> Result<Option<String>, sqlx::Error> {
        row.try_get(column)
    }

    fn bytes(row: &DB::Row, column: &str) -> Result<Vec<u8>, sqlx::Error> {
        row.try_get(column)
    }

    fn opt_bytes(row: &DB::Row, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        row.try_get(column)
    }

    fn bool(row: &DB::Row, column: &str) -> Result<bool, sqlx::Error> {
        row.try_get(column)
    }
}
