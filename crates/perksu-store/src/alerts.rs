//! Low-balance alerts: a tenant's pool or a lead's delegated balance crossing below its
//! threshold.
//!
//! An alert fires once per crossing: when a debit takes a balance from at or above its
//! threshold to below it, and only while the account is armed. Firing disarms it; a credit
//! that brings the balance back to or above the threshold arms it again, and so does a change
//! of the threshold itself (a new threshold starts armed, but still needs a real crossing).
//! The pool's threshold is `tenants.low_balance_threshold`; leads share their tenant's
//! `lead_low_balance_threshold` (null: no lead alerts).
//!
//! Architecture invariant: detection runs inside [`WriteTx::transfer`](crate::ledger), on rows
//! the transfer has already locked, so two movements cannot both see the same crossing, and the
//! alert, its notifications and its webhook outbox row commit or roll back with the movement.

use perksu_domain::access::Actor;
use perksu_domain::{Account, Error, Points, Role, UserStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{Page, MAX_PAGE_SIZE};
use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::ledger::Transfer;
use crate::notifications::Notice;
use crate::rows::{integer, optional_text, points, text, timestamp};
use crate::tenants::{TenantPatch, TenantRow};
use crate::tx::{new_id, WriteTx};
use crate::Store;

/// The notification kind managers (and the lead concerned) receive.
pub const LOW_BALANCE_NOTIFICATION: &str = "low_balance";

/// A fired alert, with where its webhook delivery stands.
#[derive(Clone, Debug)]
pub struct AlertRow {
    pub id: String,
    pub tenant_id: String,
    /// The journal's name for the account: `pool:<tenant id>` or `lead:<user id>`.
    pub account: String,
    /// The balance just after the crossing.
    pub balance: Points,
    pub threshold: Points,
    /// The movement that crossed the threshold.
    pub journal_entry_id: String,
    pub created_at: Timestamp,
    /// `pending`, `delivered` or `failed`; `None` when the tenant had no webhook.
    pub webhook_status: Option<String>,
    pub webhook_attempts: Option<i64>,
}

impl AlertRow {
    fn from_row(row: &AnyRow) -> StoreResult<AlertRow> {
        Ok(AlertRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            account: text(row, "account")?,
            balance: points(row, "balance")?,
            threshold: points(row, "threshold")?,
            journal_entry_id: text(row, "journal_entry_id")?,
            created_at: timestamp(row, "created_at")?,
            webhook_status: optional_text(row, "webhook_status")?,
            webhook_attempts: row.try_get::<Option<i64>, _>("webhook_attempts")?,
        })
    }

    /// `pool` or `lead`.
    pub fn account_kind(&self) -> &str {
        self.account
            .split_once(':')
            .map_or(self.account.as_str(), |(kind, _)| kind)
    }

    /// The lead whose balance ran low, for a lead alert.
    pub fn lead_id(&self) -> Option<&str> {
        self.account.strip_prefix("lead:")
    }
}

/// Which alert listing to read. `limit` is clamped to 1..=200.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// Required of nobody: a platform admin sees every tenant without it, a manager their own.
    pub tenant_id: Option<String>,
    /// Only one alert's rows (the delivery log).
    pub alert_id: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// An account whose balance is watched, and the SQL that watches it.
enum Watched<'a> {
    Pool(&'a str),
    Lead(&'a str),
}

impl<'a> Watched<'a> {
    fn of(account: &'a Account) -> Option<Watched<'a>> {
        match account {
            Account::Pool(tenant_id) => Some(Watched::Pool(tenant_id)),
            Account::Lead(user_id) => Some(Watched::Lead(user_id)),
            _ => None,
        }
    }

    /// Disarms the account if this debit (balance `$2` before, `$3` after) crossed below its
    /// threshold while armed; returns the tenant and the threshold when it did.
    fn disarm_on_crossing_sql(&self) -> &'static str {
        match self {
            Watched::Pool(_) => {
                "update tenants set pool_low_balance_armed = 0 \
                 where id = $1 and pool_low_balance_armed = 1 \
                 and low_balance_threshold <= $2 and low_balance_threshold > $3 \
                 returning id as tenant_id, low_balance_threshold as threshold"
            }
            Watched::Lead(_) => {
                "update users set low_balance_armed = 0 \
                 where id = $1 and low_balance_armed = 1 and exists ( \
                   select 1 from tenants t where t.id = users.tenant_id \
                   and t.lead_low_balance_threshold <= $2 and t.lead_low_balance_threshold > $3) \
                 returning tenant_id, (select t.lead_low_balance_threshold from tenants t \
                   where t.id = users.tenant_id) as threshold"
            }
        }
    }

    /// Arms the account again once a credit left it (balance `$2`) at or above its threshold.
    fn rearm_sql(&self) -> &'static str {
        match self {
            Watched::Pool(_) => {
                "update tenants set pool_low_balance_armed = 1 \
                 where id = $1 and pool_low_balance_armed = 0 and low_balance_threshold <= $2"
            }
            Watched::Lead(_) => {
                "update users set low_balance_armed = 1 \
                 where id = $1 and low_balance_armed = 0 and exists ( \
                   select 1 from tenants t where t.id = users.tenant_id \
                   and t.lead_low_balance_threshold <= $2)"
            }
        }
    }

    fn id(&self) -> &'a str {
        match self {
            Watched::Pool(id) | Watched::Lead(id) => id,
        }
    }
}

impl WriteTx {
    /// The transfer's hook: compares the balances it just changed with their thresholds.
    pub(crate) async fn watch_low_balances(
        &mut self,
        transfer: &Transfer<'_>,
        from_balance_after: Points,
        to_balance_after: Points,
        journal_entry_id: &str,
    ) -> StoreResult<()> {
        if let Some(watched) = Watched::of(&transfer.from) {
            let after = from_balance_after.hundredths();
            let before = after + transfer.amount.hundredths();
            let crossed = sqlx::query(watched.disarm_on_crossing_sql())
                .bind(watched.id())
                .bind(before)
                .bind(after)
                .fetch_optional(self.conn())
                .await?;
            if let Some(row) = crossed {
                let tenant_id = text(&row, "tenant_id")?;
                let threshold = integer(&row, "threshold")?;
                self.fire_alert(
                    &tenant_id,
                    &transfer.from,
                    after,
                    threshold,
                    journal_entry_id,
                )
                .await?;
            }
        }
        if let Some(watched) = Watched::of(&transfer.to) {
            sqlx::query(watched.rearm_sql())
                .bind(watched.id())
                .bind(to_balance_after.hundredths())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Writes the alert, a notification to each active manager of the tenant (and to the lead
    /// for a lead alert), and the webhook outbox row when the tenant has a webhook.
    async fn fire_alert(
        &mut self,
        tenant_id: &str,
        account: &Account,
        balance: i64,
        threshold: i64,
        journal_entry_id: &str,
    ) -> StoreResult<()> {
        let alert_id = new_id();
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into alerts (id, tenant_id, account, balance, threshold, journal_entry_id, \
             created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&alert_id)
        .bind(tenant_id)
        .bind(account.key())
        .bind(balance)
        .bind(threshold)
        .bind(journal_entry_id)
        .bind(&now)
        .execute(self.conn())
        .await?;

        let tenant =
            sqlx::query("select currency_label, alert_webhook_url from tenants where id = $1")
                .bind(tenant_id)
                .fetch_one(self.conn())
                .await?;
        let label = text(&tenant, "currency_label")?;
        let (balance, threshold) = (
            Points::from_hundredths(balance),
            Points::from_hundredths(threshold),
        );
        let mut recipients = self.active_managers(tenant_id).await?;
        let (title, body) = match account {
            Account::Lead(lead_id) => {
                let lead = self.user(lead_id).await?;
                recipients.push(lead.id.clone());
                (
                    "Low lead balance",
                    format!(
                        "{} {}'s delegated balance is down to {balance} {label}, below the alert \
                         threshold of {threshold}.",
                        lead.first_name, lead.last_name
                    ),
                )
            }
            _ => (
                "Low allocation pool",
                format!(
                    "The allocation pool is down to {balance} {label}, below the alert threshold \
                     of {threshold}."
                ),
            ),
        };
        for user_id in &recipients {
            self.notify(Notice {
                tenant_id: Some(tenant_id),
                user_id,
                kind: LOW_BALANCE_NOTIFICATION,
                title,
                body: &body,
                reference_id: Some(&alert_id),
            })
            .await?;
        }

        if optional_text(&tenant, "alert_webhook_url")?.is_some() {
            sqlx::query(
                "insert into webhook_outbox (id, alert_id, tenant_id, status, attempts, \
                 next_attempt_at, created_at, updated_at) \
                 values ($1, $2, $3, 'pending', 0, $4, $4, $4)",
            )
            .bind(new_id())
            .bind(&alert_id)
            .bind(tenant_id)
            .bind(&now)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    async fn active_managers(&mut self, tenant_id: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "select id from users where tenant_id = $1 and role = $2 and status = $3 order by id",
        )
        .bind(tenant_id)
        .bind(Role::TenantManager.as_str())
        .bind(UserStatus::Active.as_str())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|row| text(row, "id")).collect()
    }

    /// Applies a patch's alert settings (lead threshold, webhook URL and secret), called by
    /// `update_tenant` before it writes the other fields. A webhook URL needs a secret.
    pub(crate) async fn update_alert_settings(
        &mut self,
        current: &TenantRow,
        patch: &TenantPatch,
    ) -> StoreResult<()> {
        let url_after = match &patch.alert_webhook_url {
            Some(url) => url.is_some(),
            None => current.alert_webhook_url.is_some(),
        };
        let secret_after = match &patch.alert_webhook_secret {
            Some(secret) => secret.is_some(),
            None => current.alert_webhook_secret_set,
        };
        if url_after && !secret_after {
            return Err(Error::invalid(
                "alert_webhook_secret_required",
                "An alert webhook needs alert_webhook_secret to sign its requests with",
            )
            .into());
        }
        let lead_threshold = patch
            .lead_low_balance_threshold
            .unwrap_or(current.lead_low_balance_threshold);
        let url = match &patch.alert_webhook_url {
            Some(url) => url.clone(),
            None => current.alert_webhook_url.clone(),
        };
        // The stored secret is never read back: keep it unless the patch names a new one.
        let (replace_secret, secret) = match &patch.alert_webhook_secret {
            Some(secret) => (1_i64, secret.clone()),
            None => (0, None),
        };
        sqlx::query(
            "update tenants set lead_low_balance_threshold = $1, alert_webhook_url = $2, \
             alert_webhook_secret = case when $3 = 1 then $4 else alert_webhook_secret end \
             where id = $5",
        )
        .bind(lead_threshold.map(Points::hundredths))
        .bind(url)
        .bind(replace_secret)
        .bind(secret)
        .bind(&current.id)
        .execute(self.conn())
        .await?;
        self.rearm_low_balance_alerts(
            &current.id,
            patch.low_balance_threshold.is_some(),
            patch.lead_low_balance_threshold.is_some(),
        )
        .await
    }

    /// A changed threshold starts armed: the next crossing of the new value fires.
    async fn rearm_low_balance_alerts(
        &mut self,
        tenant_id: &str,
        pool_threshold_changed: bool,
        lead_threshold_changed: bool,
    ) -> StoreResult<()> {
        if pool_threshold_changed {
            sqlx::query("update tenants set pool_low_balance_armed = 1 where id = $1")
                .bind(tenant_id)
                .execute(self.conn())
                .await?;
        }
        if lead_threshold_changed {
            sqlx::query(
                "update users set low_balance_armed = 1 \
                 where tenant_id = $1 and low_balance_armed = 0",
            )
            .bind(tenant_id)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }
}

/// The tenant a listing is scoped to: a manager's own, or what a platform admin named (all
/// tenants when none). Leads and employees read no alerts.
pub(crate) fn listing_scope(
    actor: &Actor,
    requested: Option<String>,
) -> Result<Option<String>, Error> {
    if actor.is_platform_admin() {
        return Ok(requested);
    }
    let own = actor.require_tenant_manager()?;
    match requested {
        Some(other) if other != own => Err(Error::not_found(perksu_domain::Entity::Tenant)),
        _ => Ok(Some(own.to_owned())),
    }
}

impl Store {
    /// Fired alerts, newest first: a tenant manager's own tenant's, any for a platform admin.
    pub async fn alerts(&self, actor: &Actor, filter: AlertFilter) -> StoreResult<Page<AlertRow>> {
        let tenant_id = listing_scope(actor, filter.tenant_id)?;
        let limit = filter.limit.clamp(1, MAX_PAGE_SIZE);
        let offset = filter.offset.max(0);
        // '' stands for "every tenant": one statement for both cases.
        let tenant = tenant_id.unwrap_or_default();
        let alert = filter.alert_id.unwrap_or_default();
        let total = sqlx::query(
            "select count(*) as total from alerts \
             where ($1 = '' or tenant_id = $1) and ($2 = '' or id = $2)",
        )
        .bind(&tenant)
        .bind(&alert)
        .fetch_one(self.read())
        .await?;
        let rows = sqlx::query(
            "select a.id, a.tenant_id, a.account, a.balance, a.threshold, a.journal_entry_id, \
             a.created_at, o.status as webhook_status, o.attempts as webhook_attempts \
             from alerts a left join webhook_outbox o on o.alert_id = a.id \
             where ($1 = '' or a.tenant_id = $1) and ($2 = '' or a.id = $2) \
             order by a.created_at desc, a.id desc limit $3 offset $4",
        )
        .bind(&tenant)
        .bind(&alert)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.read())
        .await?;
        Ok(Page {
            items: rows
                .iter()
                .map(AlertRow::from_row)
                .collect::<StoreResult<_>>()?,
            total: integer(&total, "total")?,
            limit,
            offset,
        })
    }
}
