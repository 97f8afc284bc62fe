//! The `points_expiring` warning: what of a wallet expires within the tenant's warning
//! window, sent at most once per user and expiry day (`expiry_warnings` remembers the days).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use perksu_domain::expiry::remaining_lots;
use perksu_domain::Points;

use super::policy::{Lot, Policy};
use super::{days, total, ExpiryWarning, WalletRef};
use crate::error::{StoreError, StoreResult};
use crate::notifications::Notice;
use crate::rows::text;
use crate::tx::WriteTx;

/// The notification kind of an expiry warning.
pub const EXPIRY_WARNING_NOTIFICATION: &str = "points_expiring";

impl WriteTx {
    /// Sends the `points_expiring` notification when some of `lots` (what is left of them in
    /// `balance`) expires within the warning window on a day this user was not yet warned of.
    pub(super) async fn warn_of_expiry(
        &mut self,
        target: WalletRef<'_>,
        policy: &Policy,
        expiry_days: i64,
        now: DateTime<Utc>,
        balance: Points,
        lots: &[Lot],
    ) -> StoreResult<Option<ExpiryWarning>> {
        let WalletRef {
            tenant_id, user_id, ..
        } = target;
        let warning_days = policy.wallet_expiry_warning_days;
        if warning_days == 0 {
            return Ok(None);
        }
        let period = days(expiry_days)?;
        let horizon = now
            .checked_add_signed(days(warning_days)?)
            .ok_or_else(|| StoreError::Corrupt("warning window out of range".into()))?;
        let amounts: Vec<Points> = lots.iter().map(|lot| lot.amount).collect();
        let mut due: BTreeMap<String, Points> = BTreeMap::new();
        for (lot, left) in lots.iter().zip(remaining_lots(balance, &amounts)) {
            let Some(expires_at) = lot.credited_at.checked_add_signed(period) else {
                continue;
            };
            if left.is_zero() || expires_at > horizon {
                continue;
            }
            let day = expires_at.format("%Y-%m-%d").to_string();
            let slot = due.entry(day).or_insert(Points::ZERO);
            *slot = slot.checked_add(left).unwrap_or(Points::MAX);
        }
        let Some(first_day) = due.keys().next().cloned() else {
            return Ok(None);
        };
        let warned: BTreeSet<String> = sqlx::query(
            "select expires_on from expiry_warnings where user_id = $1 and expires_on >= $2",
        )
        .bind(user_id)
        .bind(&first_day)
        .fetch_all(self.conn())
        .await?
        .iter()
        .map(|row| text(row, "expires_on"))
        .collect::<StoreResult<_>>()?;
        let mut newly_warned = 0;
        for (day, amount) in due.iter().filter(|(day, _)| !warned.contains(*day)) {
            // The wallet lock already keeps concurrent runs apart; the key makes a second
            // warning for the same day impossible even without it.
            newly_warned += sqlx::query(
                "insert into expiry_warnings (user_id, expires_on, tenant_id, amount, created_at) \
                 values ($1, $2, $3, $4, $5) on conflict (user_id, expires_on) do nothing",
            )
            .bind(user_id)
            .bind(day)
            .bind(tenant_id)
            .bind(amount.hundredths())
            .bind(self.now().as_str().to_owned())
            .execute(self.conn())
            .await?
            .rows_affected();
        }
        if newly_warned == 0 {
            return Ok(None);
        }
        let amount = total(due.values().copied());
        let body = format!(
            "{amount} {label} in your wallet expire within the next {warning_days} days, the \
             first of them on {first_day} (UTC). Spend them before they expire.",
            label = policy.currency_label
        );
        self.notify(Notice {
            tenant_id: Some(tenant_id),
            user_id,
            kind: EXPIRY_WARNING_NOTIFICATION,
            title: "Points expiring soon",
            body: &body,
            reference_id: Some(&first_day),
        })
        .await?;
        Ok(Some(ExpiryWarning {
            tenant_id: tenant_id.to_owned(),
            user_id: user_id.to_owned(),
            email: target.email.to_owned(),
            amount,
            first_expires_on: first_day,
        }))
    }
}
