//! `WriteTx`: one database transaction, and the instant it acts at.
//!
//! Operations that change data are methods on `WriteTx` (in the module of their subject), so
//! several of them can share one transaction: an idempotency record and the movement it
//! guards, or many transfers committed together.

use std::time::Instant;

use sqlx::{Any, AnyConnection, Transaction};

use crate::clock::Timestamp;
use crate::error::StoreResult;

pub struct WriteTx {
    tx: Transaction<'static, Any>,
    now: Timestamp,
    /// When the transaction began, for the write path's latency metrics.
    began: Instant,
    /// Journal entries written so far: the points movements this commit carries.
    movements: u64,
}

/// Seconds from `begin` to the end of `commit` of a write transaction that committed.
pub const WRITE_TRANSACTION_SECONDS: &str = "perksu_write_transaction_seconds";
/// Seconds the `commit` statement itself took.
pub const WRITE_COMMIT_SECONDS: &str = "perksu_write_commit_seconds";
/// Points movements (journal entries) per committed transaction; transactions that moved no
/// points are not counted.
pub const WRITE_BATCH_MOVEMENTS: &str = "perksu_write_batch_movements";

impl WriteTx {
    pub(crate) fn new(tx: Transaction<'static, Any>, now: Timestamp) -> WriteTx {
        WriteTx {
            tx,
            now,
            began: Instant::now(),
            movements: 0,
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        let committing = Instant::now();
        self.tx.commit().await?;
        metrics::histogram!(WRITE_COMMIT_SECONDS).record(committing.elapsed().as_secs_f64());
        metrics::histogram!(WRITE_TRANSACTION_SECONDS).record(self.began.elapsed().as_secs_f64());
        if self.movements > 0 {
            metrics::histogram!(WRITE_BATCH_MOVEMENTS).record(self.movements as f64);
        }
        Ok(())
    }

    /// Moves this transaction's clock: every row written next is stamped `at`. Only the demo's
    /// history does this, always forwards, ending at the real now.
    pub(crate) fn set_now(&mut self, at: Timestamp) {
        self.now = at;
    }

    /// Counts one journal entry towards this transaction's batch size.
    pub(crate) fn count_movement(&mut self) {
        self.movements += 1;
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
