//! What the metrics endpoint samples at each scrape: where the points are, how much work waits
//! in the outboxes, and how busy the connection pools are. Each figure is one aggregate query
//! over the same stored balances `perksu verify` checks, so a scrape costs a few index or table
//! sums, never a replay of the journal.

use perksu_domain::Points;
use sqlx::Row;

use crate::db::Backend;
use crate::error::StoreResult;
use crate::Store;

/// Points by kind of account, and the backlog of deliveries.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Net points the platform issued (allocations minus clawbacks and reversals).
    pub issued: Points,
    /// `(account kind, total)`: pool, lead, wallet, hold, redeemed, expired.
    pub held: Vec<(&'static str, Points)>,
    pub notification_outbox_pending: i64,
    pub webhook_outbox_pending: i64,
    pub webhook_outbox_failed: i64,
    pub alerts_fired: i64,
}

/// One connection pool's size and idle connections.
pub struct PoolGauge {
    pub name: &'static str,
    pub size: u32,
    pub idle: usize,
}

const HELD: [(&str, &str); 6] = [
    (
        "pool",
        "select cast(coalesce(sum(points_allocation_balance), 0) as bigint) as n from tenants",
    ),
    (
        "lead",
        "select cast(coalesce(sum(lead_distribution_balance), 0) as bigint) as n from users",
    ),
    (
        "wallet",
        "select cast(coalesce(sum(balance), 0) as bigint) as n from wallets",
    ),
    (
        "hold",
        "select cast(coalesce(sum(hold_balance), 0) as bigint) as n from redemptions",
    ),
    (
        "redeemed",
        "select cast(coalesce(sum(redeemed_balance), 0) as bigint) as n from redemptions",
    ),
    (
        "expired",
        "select cast(coalesce(sum(expired_balance), 0) as bigint) as n from wallets",
    ),
];

/// The issuance account is debited by every allocation and credited by clawbacks and
/// reversals; its negated balance is what the platform has issued, net.
const ISSUED: &str = "select cast(coalesce(sum(case when debit_account = 'issuance' then amount \
     else -amount end), 0) as bigint) as n from journal_entries \
     where debit_account = 'issuance' or credit_account = 'issuance'";

impl Store {
    pub async fn gauges(&self) -> StoreResult<Gauges> {
        let count = |sql: &'static str| async move {
            let row = sqlx::query(sql).fetch_one(self.read()).await?;
            StoreResult::Ok(row.try_get::<i64, _>("n")?)
        };
        let mut held = Vec::with_capacity(HELD.len());
        for (kind, sql) in HELD {
            held.push((kind, Points::from_hundredths(count(sql).await?)));
        }
        Ok(Gauges {
            issued: Points::from_hundredths(count(ISSUED).await?),
            held,
            notification_outbox_pending: count(
                "select count(*) as n from notification_outbox where status = 'pending'",
            )
            .await?,
            webhook_outbox_pending: count(
                "select count(*) as n from webhook_outbox where status = 'pending'",
            )
            .await?,
            webhook_outbox_failed: count(
                "select count(*) as n from webhook_outbox where status = 'failed'",
            )
            .await?,
            alerts_fired: count("select count(*) as n from alerts").await?,
        })
    }

    /// The read and write pools (one pool serves both on PostgreSQL).
    pub fn pool_gauges(&self) -> Vec<PoolGauge> {
        let gauge = |name, pool: &sqlx::AnyPool| PoolGauge {
            name,
            size: pool.size(),
            idle: pool.num_idle(),
        };
        if self.backend() == Backend::Postgres {
            return vec![gauge("shared", self.read())];
        }
        vec![
            gauge("read", self.read()),
            gauge("write", self.write_pool()),
        ]
    }
}
