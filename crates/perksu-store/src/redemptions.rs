//! Redemptions: ordering a reward puts its points on hold; delivery redeems them; every other
//! ending gives them back, with the stock.
//!
//! Architecture invariant: a status changes only through [`WriteTx::transition`], which
//! applies the money movement that goes with it in the same transaction, and only if the row
//! is still in the status it was read in, so two racing transitions cannot both refund.

use chrono::Duration;
use perksu_domain::access::Actor;
use perksu_domain::rewards::{price, RedemptionStatus};
use perksu_domain::{Account, Entity, Error, MovementKind, Points, Role};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::ledger::Transfer;
use crate::notifications::Notice;
use crate::rows::{integer, optional_text, points, text, timestamp, word};
use crate::tx::{new_id, WriteTx};

/// Wrong confirmation codes allowed before the order is cancelled.
pub const MAX_CONFIRMATION_ATTEMPTS: i64 = 5;
/// How long a confirmation code lives.
pub const CONFIRMATION_MINUTES: i64 = 15;
/// Most units of one item in one order.
pub const MAX_QUANTITY: i64 = 100;

#[derive(Clone, Debug)]
pub struct RedemptionRow {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub item_id: String,
    pub item_name: String,
    pub kind: String,
    pub quantity: i64,
    pub face_value: Points,
    pub points_cost: Points,
    pub status: RedemptionStatus,
    pub provider: String,
    pub provider_reference: Option<String>,
    pub tracking_number: Option<String>,
    pub gift_card_code: Option<String>,
    pub shipping_address: Option<String>,
    pub confirmation_attempts: i64,
    pub confirmation_expires_at: Option<String>,
    pub fulfil_by: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) const REDEMPTION_COLUMNS: &str = "id, tenant_id, user_id, item_id, item_name, kind, \
     quantity, face_value, points_cost, status, provider, provider_reference, tracking_number, \
     gift_card_code, shipping_address, confirmation_attempts, confirmation_expires_at, \
     fulfil_by, created_at, updated_at";

impl RedemptionRow {
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<RedemptionRow> {
        Ok(RedemptionRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            user_id: text(row, "user_id")?,
            item_id: text(row, "item_id")?,
            item_name: text(row, "item_name")?,
            kind: text(row, "kind")?,
            quantity: integer(row, "quantity")?,
            face_value: points(row, "face_value")?,
            points_cost: points(row, "points_cost")?,
            status: word(row, "status", RedemptionStatus::parse)?,
            provider: text(row, "provider")?,
            provider_reference: optional_text(row, "provider_reference")?,
            tracking_number: optional_text(row, "tracking_number")?,
            gift_card_code: optional_text(row, "gift_card_code")?,
            shipping_address: optional_text(row, "shipping_address")?,
            confirmation_attempts: integer(row, "confirmation_attempts")?,
            confirmation_expires_at: optional_text(row, "confirmation_expires_at")?,
            fulfil_by: timestamp(row, "fulfil_by")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: timestamp(row, "updated_at")?,
        })
    }
}

pub struct OrderCommand {
    pub item_id: String,
    /// Which face value, for items with denominations; must match otherwise.
    pub face_value: Option<Points>,
    pub quantity: i64,
    pub shipping_address: Option<String>,
}

/// A status change requested by a person or a provider.
pub struct TransitionRequest<'a> {
    pub next: RedemptionStatus,
    pub actor_id: Option<&'a str>,
    pub note: Option<&'a str>,
    pub provider_reference: Option<&'a str>,
    pub tracking_number: Option<&'a str>,
    pub gift_card_code: Option<&'a str>,
}

impl<'a> TransitionRequest<'a> {
    pub fn to(next: RedemptionStatus, actor_id: Option<&'a str>, note: Option<&'a str>) -> Self {
        TransitionRequest {
            next,
            actor_id,
            note,
            provider_reference: None,
            tracking_number: None,
            gift_card_code: None,
        }
    }
}

/// What a confirmation attempt came to.
pub enum Confirmation {
    Confirmed(RedemptionRow),
    WrongCode {
        attempts_left: i64,
    },
    /// Too many wrong codes, or the code expired: the order ended and its points came back.
    Ended(RedemptionRow),
}

fn code_hash(redemption_id: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{redemption_id}:{code}").as_bytes()))
}

fn shift(at: &Timestamp, by: Duration) -> StoreResult<Timestamp> {
    let parsed = chrono::DateTime::parse_from_rfc3339(at.as_str())
        .map_err(|e| StoreError::Corrupt(format!("timestamp {at}: {e}")))?;
    Ok(Timestamp::from(parsed.with_timezone(&chrono::Utc) + by))
}

impl WriteTx {
    /// Orders a reward: checks the tenant's switches, takes stock, and puts the price on hold.
    /// Returns the order and, when the tenant asks for one, the confirmation code (also sent
    /// to the employee as a notification).
    pub async fn place_order(
        &mut self,
        actor: &Actor,
        command: OrderCommand,
        provider_for_kind: fn(&str) -> &'static str,
    ) -> StoreResult<RedemptionRow> {
        if actor.is_platform_admin() {
            return Err(Error::forbidden("Platform admins have no wallet to redeem from").into());
        }
        let tenant_id = actor.own_tenant()?.to_owned();
        let tenant = self.active_tenant(&tenant_id).await?;
        if tenant.redemptions_paused {
            return Err(Error::conflict(
                "redemptions_paused",
                "Redemptions are paused for this company; please try again later",
            )
            .into());
        }
        if tenant.points_allocation_balance < tenant.low_balance_threshold {
            return Err(Error::conflict(
                "redemptions_paused_low_pool",
                "Redemptions are paused while the company's allocation pool is below its \
                 low-balance threshold",
            )
            .into());
        }
        if !(1..=MAX_QUANTITY).contains(&command.quantity) {
            return Err(Error::invalid(
                "invalid_quantity",
                format!("quantity must be 1 to {MAX_QUANTITY}"),
            )
            .into());
        }
        let item = self.reward(&tenant_id, &command.item_id).await?;
        if item.status != "active" {
            return Err(
                Error::conflict("reward_unavailable", "This reward is no longer offered").into(),
            );
        }
        let values = item.face_values();
        let face_value = match command.face_value {
            Some(value) if values.contains(&value) => value,
            None if values.len() == 1 => values[0],
            _ => {
                let offered: Vec<String> = values.iter().map(Points::to_string).collect();
                return Err(Error::invalid(
                    "invalid_denomination",
                    format!("Choose one of this reward's values: {}", offered.join(", ")),
                )
                .into());
            }
        };
        let cost = price(
            face_value,
            tenant.points_per_currency_unit,
            tenant.redemption_markup_bp,
            command.quantity,
        )?;
        if item.stock.is_some() {
            let taken = sqlx::query(
                "update reward_items set stock = stock - $1, updated_at = $2 \
                 where id = $3 and stock >= $1",
            )
            .bind(command.quantity)
            .bind(self.now().as_str().to_owned())
            .bind(&item.id)
            .execute(self.conn())
            .await?
            .rows_affected();
            if taken == 0 {
                return Err(Error::conflict(
                    "out_of_stock",
                    "Not enough of this reward is left in stock",
                )
                .into());
            }
        }
        let id = new_id();
        let now = self.now().clone();
        let status = if tenant.redemption_confirmation_required {
            RedemptionStatus::PendingConfirmation
        } else {
            RedemptionStatus::Pending
        };
        let code = tenant
            .redemption_confirmation_required
            .then(|| format!("{:06}", rand::thread_rng().gen_range(0..1_000_000)));
        let code_expires = match code {
            Some(_) => Some(shift(&now, Duration::minutes(CONFIRMATION_MINUTES))?),
            None => None,
        };
        let fulfil_by = shift(&now, Duration::hours(tenant.redemption_timeout_hours))?;
        sqlx::query(
            "insert into redemptions (id, tenant_id, user_id, item_id, item_name, kind, quantity, \
             face_value, points_cost, hold_balance, redeemed_balance, status, provider, \
             shipping_address, confirmation_code_hash, confirmation_attempts, \
             confirmation_expires_at, fulfil_by, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, $10, $11, $12, $13, 0, $14, $15, \
             $16, $16)",
        )
        .bind(&id)
        .bind(&tenant_id)
        .bind(&actor.user_id)
        .bind(&item.id)
        .bind(&item.name)
        .bind(&item.kind)
        .bind(command.quantity)
        .bind(face_value.hundredths())
        .bind(cost.hundredths())
        .bind(status.as_str())
        .bind(provider_for_kind(&item.kind))
        .bind(command.shipping_address.as_deref())
        .bind(code.as_deref().map(|c| code_hash(&id, c)))
        .bind(code_expires.as_ref().map(|t| t.as_str().to_owned()))
        .bind(fulfil_by.as_str().to_owned())
        .bind(now.as_str().to_owned())
        .execute(self.conn())
        .await?;
        let applied = self
            .transfer(Transfer {
                kind: MovementKind::RedemptionHold,
                from: Account::Wallet(actor.user_id.clone()),
                to: Account::Hold(id.clone()),
                amount: cost,
                tenant_id: Some(&tenant_id),
                actor_id: Some(&actor.user_id),
                reason: Some(&item.name),
                reference_id: Some(&id),
                on_short: Error::insufficient_wallet,
            })
            .await?;
        self.wallet_line(
            "debit",
            &tenant_id,
            &actor.user_id,
            "redemption",
            cost,
            applied.from_balance_after,
            Some(&id),
            &format!("Redeemed: {}", item.name),
            Some(&actor.user_id),
            &applied.journal_entry_id,
        )
        .await?;
        self.redemption_event(&id, &tenant_id, None, status, Some(&actor.user_id), None)
            .await?;
        if let Some(code) = &code {
            let body = format!(
                "Your confirmation code for {} is {code}. It expires in {CONFIRMATION_MINUTES} minutes.",
                item.name
            );
            self.notify(Notice {
                tenant_id: Some(&tenant_id),
                user_id: &actor.user_id,
                kind: "redemption_confirmation_code",
                title: "Confirm your redemption",
                body: &body,
                reference_id: Some(&id),
            })
            .await?;
        }
        self.redemption(&id).await
    }

    /// Checks an employee's confirmation code. A wrong code is counted (the caller commits
    /// even then); the last allowed wrong code, or an expired one, ends the order.
    pub async fn confirm_order(
        &mut self,
        actor: &Actor,
        redemption_id: &str,
        code: &str,
    ) -> StoreResult<Confirmation> {
        let order = self.own_redemption(actor, redemption_id).await?;
        if order.status != RedemptionStatus::PendingConfirmation {
            return Err(Error::conflict(
                "not_awaiting_confirmation",
                "This redemption is not waiting for a confirmation code",
            )
            .into());
        }
        let expired = order
            .confirmation_expires_at
            .as_deref()
            .is_some_and(|at| at <= self.now().as_str());
        if expired {
            let note = "The confirmation code expired";
            let ended = self
                .transition(
                    &order,
                    TransitionRequest::to(
                        RedemptionStatus::Expired,
                        Some(&actor.user_id),
                        Some(note),
                    ),
                )
                .await?;
            return Ok(Confirmation::Ended(ended));
        }
        let stored = sqlx::query("select confirmation_code_hash from redemptions where id = $1")
            .bind(redemption_id)
            .fetch_one(self.conn())
            .await?;
        if optional_text(&stored, "confirmation_code_hash")?.as_deref()
            == Some(code_hash(redemption_id, code.trim()).as_str())
        {
            let confirmed = self
                .transition(
                    &order,
                    TransitionRequest::to(
                        RedemptionStatus::Pending,
                        Some(&actor.user_id),
                        Some("Confirmed"),
                    ),
                )
                .await?;
            return Ok(Confirmation::Confirmed(confirmed));
        }
        let attempts = order.confirmation_attempts + 1;
        sqlx::query("update redemptions set confirmation_attempts = $1 where id = $2")
            .bind(attempts)
            .bind(redemption_id)
            .execute(self.conn())
            .await?;
        if attempts >= MAX_CONFIRMATION_ATTEMPTS {
            let note = "Too many wrong confirmation codes";
            let ended = self
                .transition(
                    &order,
                    TransitionRequest::to(
                        RedemptionStatus::Cancelled,
                        Some(&actor.user_id),
                        Some(note),
                    ),
                )
                .await?;
            return Ok(Confirmation::Ended(ended));
        }
        Ok(Confirmation::WrongCode {
            attempts_left: MAX_CONFIRMATION_ATTEMPTS - attempts,
        })
    }

    /// The employee cancels their own order before fulfilment has started.
    pub async fn cancel_order(
        &mut self,
        actor: &Actor,
        redemption_id: &str,
    ) -> StoreResult<RedemptionRow> {
        let order = self.own_redemption(actor, redemption_id).await?;
        if !order.status.is_open() {
            return Err(Error::conflict(
                "redemption_closed",
                format!("This redemption is already {}", order.status.as_str()),
            )
            .into());
        }
        if !matches!(
            order.status,
            RedemptionStatus::PendingConfirmation | RedemptionStatus::Pending
        ) {
            return Err(Error::conflict(
                "fulfilment_started",
                "Fulfilment has started: this redemption can no longer be cancelled",
            )
            .into());
        }
        self.transition(
            &order,
            TransitionRequest::to(
                RedemptionStatus::Cancelled,
                Some(&actor.user_id),
                Some("Cancelled by the employee"),
            ),
        )
        .await
    }

    /// A tenant manager (or platform admin) moves an order along: processing, shipped,
    /// delivered, rejected or failed.
    pub async fn fulfil_order(
        &mut self,
        actor: &Actor,
        redemption_id: &str,
        request: TransitionRequest<'_>,
    ) -> StoreResult<RedemptionRow> {
        if !matches!(actor.role, Role::TenantManager | Role::PlatformAdmin) {
            return Err(Error::forbidden("Only a tenant manager fulfils redemptions").into());
        }
        let order = self.redemption(redemption_id).await?;
        if !actor.can_see_tenant(Some(&order.tenant_id)) {
            return Err(Error::not_found(Entity::Redemption).into());
        }
        self.active_tenant(&order.tenant_id).await?;
        self.transition(&order, request).await
    }

    /// Moves `order` to `request.next` with the money that goes with it.
    pub async fn transition(
        &mut self,
        order: &RedemptionRow,
        request: TransitionRequest<'_>,
    ) -> StoreResult<RedemptionRow> {
        let next = request.next;
        if !order.status.can_become(next) {
            return Err(order.status.refuse(next).into());
        }
        let moved = sqlx::query(
            "update redemptions set status = $1, updated_at = $2, \
             provider_reference = coalesce($3, provider_reference), \
             tracking_number = coalesce($4, tracking_number), \
             gift_card_code = coalesce($5, gift_card_code) \
             where id = $6 and status = $7",
        )
        .bind(next.as_str())
        .bind(self.now().as_str().to_owned())
        .bind(request.provider_reference)
        .bind(request.tracking_number)
        .bind(request.gift_card_code)
        .bind(&order.id)
        .bind(order.status.as_str())
        .execute(self.conn())
        .await?
        .rows_affected();
        if moved == 0 {
            // Someone else moved it first; tell the caller what it is now.
            let now_status = self.redemption(&order.id).await?.status;
            return Err(now_status.refuse(next).into());
        }
        let hold = Account::Hold(order.id.clone());
        let note = request.note;
        if next == RedemptionStatus::Delivered {
            self.transfer(Transfer {
                kind: MovementKind::Redemption,
                from: hold,
                to: Account::Redeemed(order.id.clone()),
                amount: order.points_cost,
                tenant_id: Some(&order.tenant_id),
                actor_id: request.actor_id,
                reason: note.or(Some("Delivered")),
                reference_id: Some(&order.id),
                on_short: Error::insufficient_wallet,
            })
            .await?;
            sqlx::query(
                "update wallets set lifetime_spent = lifetime_spent + $1 where user_id = $2",
            )
            .bind(order.points_cost.hundredths())
            .bind(&order.user_id)
            .execute(self.conn())
            .await?;
        } else if next.refunds() {
            // Stock before the wallet: the order in which placing an order takes them, so an
            // order and a refund racing on PostgreSQL cannot deadlock.
            sqlx::query(
                "update reward_items set stock = stock + $1 where id = $2 and stock is not null",
            )
            .bind(order.quantity)
            .bind(&order.item_id)
            .execute(self.conn())
            .await?;
            let applied = self
                .transfer(Transfer {
                    kind: MovementKind::RedemptionRefund,
                    from: hold,
                    to: Account::Wallet(order.user_id.clone()),
                    amount: order.points_cost,
                    tenant_id: Some(&order.tenant_id),
                    actor_id: request.actor_id,
                    reason: note.or(Some(next.as_str())),
                    reference_id: Some(&order.id),
                    on_short: Error::insufficient_wallet,
                })
                .await?;
            self.wallet_line(
                "credit",
                &order.tenant_id,
                &order.user_id,
                "redemption_refund",
                order.points_cost,
                applied.to_balance_after,
                Some(&order.id),
                &format!("Refund ({}): {}", next.as_str(), order.item_name),
                request.actor_id,
                &applied.journal_entry_id,
            )
            .await?;
        }
        self.redemption_event(
            &order.id,
            &order.tenant_id,
            Some(order.status),
            next,
            request.actor_id,
            note,
        )
        .await?;
        let body = format!(
            "Your redemption of {} is now {}.",
            order.item_name,
            next.as_str().replace('_', " ")
        );
        self.notify(Notice {
            tenant_id: Some(&order.tenant_id),
            user_id: &order.user_id,
            kind: "redemption_status",
            title: "Redemption update",
            body: &body,
            reference_id: Some(&order.id),
        })
        .await?;
        self.redemption(&order.id).await
    }

    /// Records a provider callback's event id; `false` when it was already applied.
    pub async fn record_provider_event(
        &mut self,
        event_id: &str,
        provider: &str,
        redemption_id: &str,
    ) -> StoreResult<bool> {
        self.redemption(redemption_id).await?;
        let inserted = sqlx::query(
            "insert into provider_callbacks (event_id, provider, redemption_id, received_at) \
             values ($1, $2, $3, $4) on conflict (event_id) do nothing",
        )
        .bind(event_id)
        .bind(provider)
        .bind(redemption_id)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn redemption_event(
        &mut self,
        redemption_id: &str,
        tenant_id: &str,
        from: Option<RedemptionStatus>,
        to: RedemptionStatus,
        actor_id: Option<&str>,
        note: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "insert into redemption_events (id, redemption_id, tenant_id, from_status, to_status, \
             actor_id, note, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id())
        .bind(redemption_id)
        .bind(tenant_id)
        .bind(from.map(RedemptionStatus::as_str))
        .bind(to.as_str())
        .bind(actor_id)
        .bind(note)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn redemption(&mut self, redemption_id: &str) -> StoreResult<RedemptionRow> {
        let sql = format!("select {REDEMPTION_COLUMNS} from redemptions where id = $1");
        let row = sqlx::query(&sql)
            .bind(redemption_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Redemption))?;
        RedemptionRow::from_row(&row)
    }

    async fn own_redemption(
        &mut self,
        actor: &Actor,
        redemption_id: &str,
    ) -> StoreResult<RedemptionRow> {
        let order = self.redemption(redemption_id).await?;
        if order.user_id != actor.user_id {
            return Err(Error::not_found(Entity::Redemption).into());
        }
        Ok(order)
    }
}
