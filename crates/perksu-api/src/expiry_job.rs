//! The scheduled expiry run inside `serve`: hourly, the same work as `perksu expire`.
//!
//! Every run is safe beside another (on this server or a second one): the store locks each
//! account before computing what expires, so points expire once and warnings go out once.

use std::time::Duration;

use perksu_store::Store;

/// How often expiry runs. Periods are whole days, so points expire at most an hour late.
pub const EXPIRY_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Stops the job it guards when dropped.
pub(crate) struct ExpiryJob(tokio::task::JoinHandle<()>);

impl Drop for ExpiryJob {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the hourly run (the first one straight away); it runs until the guard is dropped.
pub(crate) fn spawn(store: Store) -> ExpiryJob {
    ExpiryJob(tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(EXPIRY_INTERVAL);
        loop {
            every_hour.tick().await;
            run_once(&store).await;
        }
    }))
}

async fn run_once(store: &Store) {
    let report = match store.run_expiry(false).await {
        Ok(report) => report,
        Err(error) => {
            tracing::error!(%error, "expiry run failed");
            return;
        }
    };
    if !report.is_empty() {
        tracing::info!(
            pools = report.pools.len(),
            pools_total = %report.pools_total(),
            wallets = report.wallets.len(),
            wallets_total = %report.wallets_total(),
            warnings = report.warnings.len(),
            "expired unspent points"
        );
    }
    for failure in &report.failures {
        tracing::error!(account = %failure.account, error = %failure.error, "expiry failed for an account");
    }
}
