//! The allocation API's movements: allocate, claw back, delegate, recall and award.
//!
//! Each method checks who may act and on what, then moves points through
//! [`WriteTx::transfer`](crate::ledger) and writes the spec's audit rows beside it.

use perksu_domain::access::Actor;
use perksu_domain::{Account, Entity, Error, MovementKind, Points, Role, UserStatus};

use crate::error::StoreResult;
use crate::ledger::Transfer;
use crate::tx::{new_id, WriteTx};
use crate::users::UserRow;

pub struct AllocateCommand {
    pub tenant_id: String,
    pub amount: Points,
    pub currency: Option<String>,
    pub reference_note: Option<String>,
}

pub struct AllocationOutcome {
    pub tenant_id: String,
    pub amount_allocated: Points,
    pub previous_balance: Points,
    pub new_allocation_balance: Points,
    pub currency: String,
    pub allocation_log_id: String,
    pub billing_log_id: String,
    pub journal_entry_id: String,
}

pub struct ClawbackCommand {
    pub tenant_id: String,
    /// `None` claws back the whole pool.
    pub amount: Option<Points>,
    pub reason: Option<String>,
}

pub struct ClawbackOutcome {
    pub tenant_id: String,
    pub amount_clawed_back: Points,
    pub new_allocation_balance: Points,
    pub currency: String,
    pub billing_log_id: String,
    pub journal_entry_id: String,
}

pub struct DelegateCommand {
    pub lead_id: String,
    pub amount: Points,
    pub delegation_note: Option<String>,
}

pub struct DelegationOutcome {
    pub tenant_id: String,
    pub lead_id: String,
    pub amount_delegated: Points,
    pub new_allocation_balance: Points,
    pub lead_distribution_balance: Points,
    pub journal_entry_id: String,
}

pub struct RecallCommand {
    pub lead_id: String,
    /// `None` recalls the lead's whole balance.
    pub amount: Option<Points>,
    pub note: Option<String>,
}

pub struct RecallOutcome {
    pub tenant_id: String,
    pub lead_id: String,
    pub amount_recalled: Points,
    pub new_allocation_balance: Points,
    pub lead_distribution_balance: Points,
    pub journal_entry_id: String,
}

pub struct AwardCommand {
    pub to_user_id: String,
    pub amount: Points,
    pub recognition_message: String,
    pub recognition_id: Option<String>,
}

pub struct AwardOutcome {
    pub tenant_id: String,
    pub from_user_id: String,
    pub to_user_id: String,
    pub amount_awarded: Points,
    /// `pool` for a tenant manager, `lead_balance` for a lead.
    pub funding_source: &'static str,
    /// The balance the award was drawn from, after it.
    pub source_balance_after: Points,
    pub recipient_wallet_balance: Points,
    pub wallet_ledger_id: String,
    pub journal_entry_id: String,
}

impl WriteTx {
    pub async fn allocate_to_tenant(
        &mut self,
        actor: &Actor,
        command: AllocateCommand,
    ) -> StoreResult<AllocationOutcome> {
        actor.require_platform_admin()?;
        let tenant = self.active_tenant(&command.tenant_id).await?;
        if let Some(currency) = &command.currency {
            if *currency != tenant.currency {
                return Err(Error::invalid(
                    "currency_mismatch",
                    format!(
                        "This tenant is billed in {}, not {currency}",
                        tenant.currency
                    ),
                )
                .into());
            }
        }
        let note = command.reference_note.as_deref();
        let applied = self
            .transfer(Transfer {
                kind: MovementKind::Allocation,
                from: Account::Issuance,
                to: Account::Pool(tenant.id.clone()),
                amount: command.amount,
                tenant_id: Some(&tenant.id),
                actor_id: Some(&actor.user_id),
                reason: note,
                reference_id: None,
                on_short: Error::insufficient_pool,
            })
            .await?;
        let new_balance = applied.to_balance_after;
        let previous_balance =
            Points::from_hundredths(new_balance.hundredths() - command.amount.hundredths());
        let allocation_log_id = new_id();
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into allocation_logs (id, tenant_id, allocated_by, amount, currency, \
             reference_note, previous_balance, new_balance, journal_entry_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&allocation_log_id)
        .bind(&tenant.id)
        .bind(&actor.user_id)
        .bind(command.amount.hundredths())
        .bind(&tenant.currency)
        .bind(note)
        .bind(previous_balance.hundredths())
        .bind(new_balance.hundredths())
        .bind(&applied.journal_entry_id)
        .bind(&now)
        .execute(self.conn())
        .await?;
        let billing_log_id = self
            .billing_log(
                &tenant.id,
                actor,
                "CREDIT_INJECTION",
                command.amount,
                &tenant.currency,
                note,
                &applied.journal_entry_id,
            )
            .await?;
        Ok(AllocationOutcome {
            tenant_id: tenant.id,
            amount_allocated: command.amount,
            previous_balance,
            new_allocation_balance: new_balance,
            currency: tenant.currency,
            allocation_log_id,
            billing_log_id,
            journal_entry_id: applied.journal_entry_id,
        })
    }

    /// Returns pool points to the platform. A suspended tenant's pool can still be clawed back.
    pub async fn clawback(
        &mut self,
        actor: &Actor,
        command: ClawbackCommand,
    ) -> StoreResult<ClawbackOutcome> {
        actor.require_platform_admin()?;
        let tenant = self.tenant(&command.tenant_id).await?;
        let pool = Account::Pool(tenant.id.clone());
        let amount = match command.amount {
            Some(amount) => amount,
            None => self.lock_account(&pool).await?,
        };
        if amount.is_zero() {
            return Err(Error::invalid(
                "nothing_to_claw_back",
                "The tenant's allocation pool is empty: there is nothing to claw back",
            )
            .into());
        }
        let reason = command.reason.as_deref();
        let applied = self
            .transfer(Transfer {
                kind: MovementKind::Clawback,
                from: pool,
                to: Account::Issuance,
                amount,
                tenant_id: Some(&tenant.id),
                actor_id: Some(&actor.user_id),
                reason,
                reference_id: None,
                on_short: Error::insufficient_pool,
            })
            .await?;
        let billing_log_id = self
            .billing_log(
                &tenant.id,
                actor,
                "CLAWBACK",
                amount,
                &tenant.currency,
                reason,
                &applied.journal_entry_id,
            )
            .await?;
        Ok(ClawbackOutcome {
            tenant_id: tenant.id,
            amount_clawed_back: amount,
            new_allocation_balance: applied.from_balance_after,
            currency: tenant.currency,
            billing_log_id,
            journal_entry_id: applied.journal_entry_id,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn billing_log(
        &mut self,
        tenant_id: &str,
        actor: &Actor,
        transaction_type: &str,
        amount: Points,
        currency: &str,
        note: Option<&str>,
        journal_entry_id: &str,
    ) -> StoreResult<String> {
        let id = new_id();
        sqlx::query(
            "insert into platform_billing_logs (id, tenant_id, admin_id, transaction_type, \
             amount, currency, reference_note, journal_entry_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(&actor.user_id)
        .bind(transaction_type)
        .bind(amount.hundredths())
        .bind(currency)
        .bind(note)
        .bind(journal_entry_id)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    pub async fn delegate_to_lead(
        &mut self,
        actor: &Actor,
        command: DelegateCommand,
    ) -> StoreResult<DelegationOutcome> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        self.active_tenant(&tenant_id).await?;
        let lead = self.lead_of(&tenant_id, &command.lead_id).await?;
        let applied = self
            .transfer(Transfer {
                kind: MovementKind::Delegation,
                from: Account::Pool(tenant_id.clone()),
                to: Account::Lead(lead.id.clone()),
                amount: command.amount,
                tenant_id: Some(&tenant_id),
                actor_id: Some(&actor.user_id),
                reason: command.delegation_note.as_deref(),
                reference_id: None,
                on_short: Error::insufficient_allocation_balance,
            })
            .await?;
        Ok(DelegationOutcome {
            tenant_id,
            lead_id: lead.id,
            amount_delegated: command.amount,
            new_allocation_balance: applied.from_balance_after,
            lead_distribution_balance: applied.to_balance_after,
            journal_entry_id: applied.journal_entry_id,
        })
    }

    pub async fn recall_from_lead(
        &mut self,
        actor: &Actor,
        command: RecallCommand,
    ) -> StoreResult<RecallOutcome> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        self.active_tenant(&tenant_id).await?;
        let lead = self
            .user_in_tenant(&tenant_id, &command.lead_id, Entity::Lead)
            .await?;
        let lead_account = Account::Lead(lead.id.clone());
        let amount = match command.amount {
            Some(amount) => amount,
            None => {
                // Lock the pool before the lead row: the order every transfer uses.
                self.lock_account(&Account::Pool(tenant_id.clone())).await?;
                self.lock_account(&lead_account).await?
            }
        };
        if amount.is_zero() {
            return Err(Error::invalid(
                "nothing_to_recall",
                "This lead holds no delegated points to recall",
            )
            .into());
        }
        let applied = self
            .transfer(Transfer {
                kind: MovementKind::Recall,
                from: lead_account,
                to: Account::Pool(tenant_id.clone()),
                amount,
                tenant_id: Some(&tenant_id),
                actor_id: Some(&actor.user_id),
                reason: command.note.as_deref(),
                reference_id: None,
                on_short: Error::insufficient_lead_balance,
            })
            .await?;
        Ok(RecallOutcome {
            tenant_id,
            lead_id: lead.id,
            amount_recalled: amount,
            new_allocation_balance: applied.to_balance_after,
            lead_distribution_balance: applied.from_balance_after,
            journal_entry_id: applied.journal_entry_id,
        })
    }

    /// A direct award: a tenant manager gives from the pool, a lead from their delegated points.
    pub async fn award_to_user(
        &mut self,
        actor: &Actor,
        command: AwardCommand,
    ) -> StoreResult<AwardOutcome> {
        let (source, funding_source, on_short): (_, _, fn(Points, Points) -> Error) = match actor
            .role
        {
            Role::TenantManager => (
                Account::Pool(actor.own_tenant()?.to_owned()),
                "pool",
                Error::insufficient_pool,
            ),
            Role::Lead => (
                Account::Lead(actor.user_id.clone()),
                "lead_balance",
                Error::insufficient_lead_balance,
            ),
            _ => {
                return Err(
                    Error::forbidden("Only a tenant manager or a lead may award points").into(),
                )
            }
        };
        let tenant_id = actor.own_tenant()?.to_owned();
        self.active_tenant(&tenant_id).await?;
        let recipient = self
            .recipient(actor, &tenant_id, &command.to_user_id)
            .await?;
        if let Some(recognition_id) = &command.recognition_id {
            let found = sqlx::query("select id from recognitions where id = $1 and tenant_id = $2")
                .bind(recognition_id)
                .bind(&tenant_id)
                .fetch_optional(self.conn())
                .await?;
            if found.is_none() {
                return Err(Error::not_found(Entity::Recognition).into());
            }
        }
        let applied = self
            .transfer(Transfer {
                kind: MovementKind::Award,
                from: source,
                to: Account::Wallet(recipient.id.clone()),
                amount: command.amount,
                tenant_id: Some(&tenant_id),
                actor_id: Some(&actor.user_id),
                reason: Some(&command.recognition_message),
                reference_id: command.recognition_id.as_deref(),
                on_short,
            })
            .await?;
        let wallet_ledger_id = self
            .wallet_credit_line(
                &tenant_id,
                &recipient.id,
                "award",
                command.amount,
                applied.to_balance_after,
                command.recognition_id.as_deref(),
                &command.recognition_message,
                &actor.user_id,
                &applied.journal_entry_id,
            )
            .await?;
        Ok(AwardOutcome {
            tenant_id,
            from_user_id: actor.user_id.clone(),
            to_user_id: recipient.id,
            amount_awarded: command.amount,
            funding_source,
            source_balance_after: applied.from_balance_after,
            recipient_wallet_balance: applied.to_balance_after,
            wallet_ledger_id,
            journal_entry_id: applied.journal_entry_id,
        })
    }

    /// A user of `tenant_id`, else `<what> not found`.
    pub(crate) async fn user_in_tenant(
        &mut self,
        tenant_id: &str,
        user_id: &str,
        what: Entity,
    ) -> StoreResult<UserRow> {
        match self.user(user_id).await {
            Ok(user) if user.tenant_id.as_deref() == Some(tenant_id) => Ok(user),
            Ok(_) => Err(Error::not_found(what).into()),
            Err(crate::StoreError::Domain(_)) => Err(Error::not_found(what).into()),
            Err(other) => Err(other),
        }
    }

    /// An active lead of `tenant_id`.
    async fn lead_of(&mut self, tenant_id: &str, user_id: &str) -> StoreResult<UserRow> {
        let lead = self
            .user_in_tenant(tenant_id, user_id, Entity::Lead)
            .await?;
        if lead.role != Role::Lead {
            return Err(
                Error::invalid("not_a_lead", "Points can only be delegated to a lead").into(),
            );
        }
        if lead.status != UserStatus::Active {
            return Err(Error::invalid("user_inactive", "This lead is not active").into());
        }
        Ok(lead)
    }

    /// Who may receive points from `actor`: an active user of the same tenant, not the actor.
    pub(crate) async fn recipient(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        user_id: &str,
    ) -> StoreResult<UserRow> {
        if user_id == actor.user_id {
            return Err(Error::invalid(
                "self_recognition",
                "You cannot recognise or award yourself",
            )
            .into());
        }
        let recipient = self
            .user_in_tenant(tenant_id, user_id, Entity::User)
            .await?;
        if recipient.status != UserStatus::Active {
            return Err(Error::invalid(
                "recipient_inactive",
                "The recipient is not an active user",
            )
            .into());
        }
        Ok(recipient)
    }
}
