//! `WriteTx`: one database transaction, and the instant it acts at.
//!
//! Operations that change data are methods on `WriteTx` (in the module of their subject), so
//! several of them can share one transaction: an idempotency record and the movement it
//! guards, or many transfers committed together.

use sqlx::{Any, AnyConnection, Transaction};

use crate::clock::Timestamp;
use crate::error::StoreResult;

pub struct WriteTx {
    tx: Transaction<'static, Any>,
    now: Timestamp,
}

impl WriteTx {
    pub(crate) fn new(tx: Transaction<'static, Any>, now: Timestamp) -> WriteTx {
        WriteTx { tx, now }
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// The instant every row written by this transaction is stamped with.
    pub fn now(&self) -> &Timestamp {
        &self.now
    }

    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A new row id: UUID v7, so ids sort roughly by creation time.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
