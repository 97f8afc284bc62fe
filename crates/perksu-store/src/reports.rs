//! Usage reports: what moved through a tenant's accounts, per period, per department and per
//! lead, read from the journal.
//!
//! A report over a closed period is a pure function of the journal, with every row in a fixed
//! order and no generation time, so running it twice gives the same bytes.

use std::collections::BTreeMap;

use perksu_domain::access::Actor;
use perksu_domain::{Entity, Error, Points, Role};
use sqlx::Row;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::Store;

/// How a report buckets time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportPeriod {
    Day,
    Month,
    Year,
}

impl ReportPeriod {
    pub fn parse(word: &str) -> Option<ReportPeriod> {
        match word {
            "day" => Some(ReportPeriod::Day),
            "month" => Some(ReportPeriod::Month),
            "year" => Some(ReportPeriod::Year),
            _ => None,
        }
    }

    /// Characters of the stored timestamp that name the bucket (`2026-02-04`, `2026-02`, `2026`).
    fn prefix_length(self) -> i64 {
        match self {
            ReportPeriod::Day => 10,
            ReportPeriod::Month => 7,
            ReportPeriod::Year => 4,
        }
    }
}

/// The movements a report counts, each the sum of one kind of journal entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Platform → pool.
    pub allocated: Points,
    /// Pool → platform, undoing allocations.
    pub reversed: Points,
    /// Pool → platform.
    pub clawed_back: Points,
    /// Pool → platform, unspent past the expiry period.
    pub pool_expired: Points,
    /// Pool → leads.
    pub delegated: Points,
    /// Leads → pool.
    pub recalled: Points,
    /// Pool → wallets (awards and recognitions).
    pub awarded_from_pool: Points,
    /// Leads → wallets (awards and recognitions).
    pub awarded_from_leads: Points,
    /// Wallets → holds, when rewards are ordered.
    pub held_for_redemption: Points,
    /// Holds → wallets, when orders end without delivery.
    pub refunded: Points,
    /// Holds → redeemed, when orders are delivered.
    pub redeemed: Points,
    /// Wallets → expired.
    pub wallet_expired: Points,
}

impl UsageTotals {
    fn add(&mut self, kind: &str, source: &str, amount: i64) {
        let slot = match (kind, source) {
            ("allocation", _) => &mut self.allocated,
            ("allocation_reversal", _) => &mut self.reversed,
            ("clawback", _) => &mut self.clawed_back,
            ("pool_expiry", _) => &mut self.pool_expired,
            ("delegation", _) => &mut self.delegated,
            ("recall", _) => &mut self.recalled,
            ("award" | "recognition", "lead") => &mut self.awarded_from_leads,
            ("award" | "recognition", _) => &mut self.awarded_from_pool,
            ("redemption_hold", _) => &mut self.held_for_redemption,
            ("redemption_refund", _) => &mut self.refunded,
            ("redemption", _) => &mut self.redeemed,
            ("wallet_expiry", _) => &mut self.wallet_expired,
            _ => return,
        };
        *slot = Points::from_hundredths(slot.hundredths() + amount);
    }

    /// Everything awarded, whichever balance paid for it.
    pub fn awarded(&self) -> Points {
        Points::from_hundredths(
            self.awarded_from_pool.hundredths() + self.awarded_from_leads.hundredths(),
        )
    }
}

/// One row of a report: a scope (the tenant, a department, a lead) in one period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRow {
    /// `tenant`, `department` or `lead`.
    pub scope: &'static str,
    pub scope_id: String,
    pub scope_name: String,
    pub period: String,
    pub totals: UsageTotals,
}

#[derive(Clone, Debug)]
pub struct UsageReport {
    pub tenant_id: String,
    pub tenant_name: String,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub period: ReportPeriod,
    /// Whole-range totals for the tenant.
    pub totals: UsageTotals,
    /// Tenant rows, then department rows, then lead rows; each by name, id and period.
    pub rows: Vec<UsageRow>,
}

pub struct UsageQuery {
    pub tenant_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub period: ReportPeriod,
}

impl Store {
    /// The usage report of one tenant: its managers' own, any for a platform admin.
    pub async fn usage_report(&self, actor: &Actor, query: UsageQuery) -> StoreResult<UsageReport> {
        let tenant_id = match (actor.role, query.tenant_id.as_deref()) {
            (Role::PlatformAdmin, Some(id)) => id.to_owned(),
            (Role::PlatformAdmin, None) => {
                return Err(Error::invalid("tenant_id_required", "tenant_id is required").into())
            }
            (Role::TenantManager, requested) => {
                let own = actor.own_tenant()?;
                if requested.is_some_and(|id| id != own) {
                    return Err(Error::not_found(Entity::Tenant).into());
                }
                own.to_owned()
            }
            _ => return Err(Error::forbidden("Only managers read usage reports").into()),
        };
        let tenant = self.tenant(actor, &tenant_id).await?;
        let from = query
            .from
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default();
        // Every stored timestamp sorts below this, so "no end" needs no second query.
        let to = query
            .to
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_else(|| "9999".into());
        let prefix = query.period.prefix_length();

        let mut totals = UsageTotals::default();
        let mut tenant_rows: BTreeMap<String, UsageTotals> = BTreeMap::new();
        let tenant_sql = format!(
            "select substr(created_at, 1, {prefix}) as period, kind, \
             case when debit_account like 'lead:%' then 'lead' else 'other' end as source, \
             cast(sum(amount) as bigint) as total \
             from journal_entries where tenant_id = $1 and created_at >= $2 and created_at < $3 \
             group by substr(created_at, 1, {prefix}), kind, \
             case when debit_account like 'lead:%' then 'lead' else 'other' end"
        );
        let rows = sqlx::query(&tenant_sql)
            .bind(&tenant_id)
            .bind(&from)
            .bind(&to)
            .fetch_all(self.read())
            .await?;
        for row in rows {
            let (period, kind, source, total): (String, String, String, i64) = (
                row.try_get("period")?,
                row.try_get("kind")?,
                row.try_get("source")?,
                row.try_get("total")?,
            );
            totals.add(&kind, &source, total);
            tenant_rows
                .entry(period)
                .or_default()
                .add(&kind, &source, total);
        }

        let mut report_rows: Vec<UsageRow> = tenant_rows
            .into_iter()
            .map(|(period, totals)| UsageRow {
                scope: "tenant",
                scope_id: tenant.id.clone(),
                scope_name: tenant.name.clone(),
                period,
                totals,
            })
            .collect();
        report_rows.extend(self.department_rows(&tenant_id, &from, &to, prefix).await?);
        report_rows.extend(self.lead_rows(&tenant_id, &from, &to, prefix).await?);
        Ok(UsageReport {
            tenant_id: tenant.id,
            tenant_name: tenant.name,
            from: query.from,
            to: query.to,
            period: query.period,
            totals,
            rows: report_rows,
        })
    }

    /// Movements into and out of the wallets of each department's current members.
    async fn department_rows(
        &self,
        tenant_id: &str,
        from: &str,
        to: &str,
        prefix: i64,
    ) -> StoreResult<Vec<UsageRow>> {
        // A wallet is named in the journal as `wallet:<user id>`: credits for awards, debits
        // for holds and expiry, and a refund credits it again.
        let sql = format!(
            "select d.id as scope_id, d.name as scope_name, \
             substr(j.created_at, 1, {prefix}) as period, j.kind as kind, \
             case when j.debit_account like 'lead:%' then 'lead' else 'other' end as source, \
             cast(sum(j.amount) as bigint) as total \
             from journal_entries j \
             join users u on j.credit_account = 'wallet:' || u.id or j.debit_account = 'wallet:' || u.id \
             join departments d on d.id = u.department_id \
             where j.tenant_id = $1 and j.created_at >= $2 and j.created_at < $3 \
             group by d.id, d.name, substr(j.created_at, 1, {prefix}), j.kind, \
             case when j.debit_account like 'lead:%' then 'lead' else 'other' end"
        );
        self.scoped_rows("department", &sql, tenant_id, from, to)
            .await
    }

    /// Movements into and out of each lead's delegated balance.
    async fn lead_rows(
        &self,
        tenant_id: &str,
        from: &str,
        to: &str,
        prefix: i64,
    ) -> StoreResult<Vec<UsageRow>> {
        let sql = format!(
            "select u.id as scope_id, u.first_name || ' ' || u.last_name as scope_name, \
             substr(j.created_at, 1, {prefix}) as period, j.kind as kind, \
             case when j.debit_account like 'lead:%' then 'lead' else 'other' end as source, \
             cast(sum(j.amount) as bigint) as total \
             from journal_entries j \
             join users u on j.credit_account = 'lead:' || u.id or j.debit_account = 'lead:' || u.id \
             where j.tenant_id = $1 and j.created_at >= $2 and j.created_at < $3 \
             group by u.id, u.first_name, u.last_name, substr(j.created_at, 1, {prefix}), j.kind, \
             case when j.debit_account like 'lead:%' then 'lead' else 'other' end"
        );
        self.scoped_rows("lead", &sql, tenant_id, from, to).await
    }

    async fn scoped_rows(
        &self,
        scope: &'static str,
        sql: &str,
        tenant_id: &str,
        from: &str,
        to: &str,
    ) -> StoreResult<Vec<UsageRow>> {
        let rows = sqlx::query(sql)
            .bind(tenant_id)
            .bind(from)
            .bind(to)
            .fetch_all(self.read())
            .await?;
        // Keyed by (name, id, period) so the output order never depends on the database.
        let mut grouped: BTreeMap<(String, String, String), UsageTotals> = BTreeMap::new();
        for row in rows {
            let key = (
                row.try_get::<String, _>("scope_name")?,
                row.try_get::<String, _>("scope_id")?,
                row.try_get::<String, _>("period")?,
            );
            let kind: String = row.try_get("kind")?;
            let source: String = row.try_get("source")?;
            grouped
                .entry(key)
                .or_default()
                .add(&kind, &source, row.try_get::<i64, _>("total")?);
        }
        Ok(grouped
            .into_iter()
            .map(|((scope_name, scope_id, period), totals)| UsageRow {
                scope,
                scope_id,
                scope_name,
                period,
                totals,
            })
            .collect())
    }
}
