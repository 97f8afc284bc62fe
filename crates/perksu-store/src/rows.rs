//! Reading typed values out of `Any` rows, failing loudly on anything the schema forbids.

use perksu_domain::Points;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};

pub(crate) fn text(row: &AnyRow, column: &str) -> StoreResult<String> {
    Ok(row.try_get::<String, _>(column)?)
}

pub(crate) fn optional_text(row: &AnyRow, column: &str) -> StoreResult<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub(crate) fn integer(row: &AnyRow, column: &str) -> StoreResult<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub(crate) fn points(row: &AnyRow, column: &str) -> StoreResult<Points> {
    Ok(Points::from_hundredths(integer(row, column)?))
}

pub(crate) fn timestamp(row: &AnyRow, column: &str) -> StoreResult<Timestamp> {
    Ok(Timestamp::from_stored(text(row, column)?))
}

/// A stored word (role, status, mode) read back into its enum.
pub(crate) fn word<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let value = text(row, column)?;
    parse(&value).ok_or_else(|| StoreError::Corrupt(format!("unexpected {column} {value:?}")))
}

/// A switch stored as 0 or 1 (the schemas avoid `boolean`, which the `Any` driver cannot read
/// from SQLite).
pub(crate) fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    Ok(integer(row, column)? != 0)
}
