//! Where a recognition's points come from: the giver's monthly allowance, the tenant's budget
//! (a lead allocation, then the giver's department share), then the money itself, from the
//! pool side in pool mode or from the budget or the giver's wallet in legacy mode.
//!
//! The order, the messages and the reasons are in docs/ECONOMY.md ("Where a recognition's
//! points come from"). Every limit is taken with its row locked, allowance first, then budget
//! rows, then the pool, the lead balance and wallets in account order, the same order in every
//! transaction, so concurrent recognitions cannot pass a limit or deadlock.

use perksu_domain::access::Actor;
use perksu_domain::recognition::month_of;
use perksu_domain::{Account, Error, FundingMode, MovementKind, Points, Role};
use sqlx::Row;

use crate::error::StoreResult;
use crate::ledger::{Applied, Transfer};
use crate::tenants::TenantRow;
use crate::tx::WriteTx;

/// What to fund: the total, shared among the recipients in the order given.
pub(crate) struct FundingRequest<'a> {
    pub actor: &'a Actor,
    pub tenant: &'a TenantRow,
    pub giver_department_id: Option<&'a str>,
    pub recognition_id: &'a str,
    pub shares: &'a [(String, Points)],
    pub total: Points,
    pub message: &'a str,
}

/// How a recognition was funded.
pub(crate) struct Funding {
    /// `pool`, `lead_balance`, `lead_allocation`, `department_budget` or `wallet`.
    pub source: &'static str,
    pub department_budget_id: Option<String>,
    pub lead_allocation_id: Option<String>,
    /// The month a budget was charged in, `YYYY-MM`.
    pub budget_month: Option<String>,
    /// One movement per recipient, in the order of the shares.
    pub applied: Vec<Applied>,
}

/// The budget row a recognition was counted against.
enum Charged {
    LeadAllocation(String),
    Department(String),
}

/// The sources that were tried and found short, with what each had.
type Shortfalls = Vec<(&'static str, Points)>;

impl WriteTx {
    pub(crate) async fn fund_recognition(
        &mut self,
        request: &FundingRequest<'_>,
    ) -> StoreResult<Funding> {
        let month = month_of(self.now().as_str()).to_owned();
        if request.actor.role == Role::Employee {
            if let Some(allowance) = request.tenant.monthly_giving_allowance {
                self.charge_allowance(request, allowance, &month).await?;
            }
        }
        let mut shortfalls = Shortfalls::new();
        let charged = self.charge_budget(request, &month, &mut shortfalls).await?;
        let (department_budget_id, lead_allocation_id) = match &charged {
            Some(Charged::Department(id)) => (Some(id.clone()), None),
            Some(Charged::LeadAllocation(id)) => (None, Some(id.clone())),
            None => (None, None),
        };
        let budget_month = charged.as_ref().map(|_| month.clone());
        let (source, applied) = match request.tenant.funding_mode {
            FundingMode::Pool => {
                if charged.is_none() && !shortfalls.is_empty() {
                    return Err(insufficient_budget(&shortfalls, request.total).into());
                }
                self.pay_from_pool_side(request).await?
            }
            FundingMode::Legacy => match &charged {
                Some(charged) => {
                    let source = match charged {
                        Charged::LeadAllocation(_) => "lead_allocation",
                        Charged::Department(_) => "department_budget",
                    };
                    let from = Account::Budget(request.tenant.id.clone());
                    (source, self.pay(request, from).await?)
                }
                None => ("wallet", self.pay_from_wallet(request, shortfalls).await?),
            },
        };
        Ok(Funding {
            source,
            department_budget_id,
            lead_allocation_id,
            budget_month,
            applied,
        })
    }

    /// Counts the total against an employee's monthly giving allowance, or refuses.
    async fn charge_allowance(
        &mut self,
        request: &FundingRequest<'_>,
        allowance: Points,
        month: &str,
    ) -> StoreResult<()> {
        let giver = &request.actor.user_id;
        sqlx::query(
            "insert into giving_allowance_usage (user_id, month, tenant_id, given_points) \
             values ($1, $2, $3, 0) on conflict (user_id, month) do nothing",
        )
        .bind(giver)
        .bind(month)
        .bind(&request.tenant.id)
        .execute(self.conn())
        .await?;
        let charged = sqlx::query(
            "update giving_allowance_usage set given_points = given_points + $1 \
             where user_id = $2 and month = $3 and given_points + $1 <= $4 \
             returning given_points",
        )
        .bind(request.total.hundredths())
        .bind(giver)
        .bind(month)
        .bind(allowance.hundredths())
        .fetch_optional(self.conn())
        .await?;
        if charged.is_some() {
            return Ok(());
        }
        let given: i64 = sqlx::query(
            "select given_points from giving_allowance_usage where user_id = $1 and month = $2",
        )
        .bind(giver)
        .bind(month)
        .fetch_one(self.conn())
        .await?
        .try_get(0)?;
        let available = Points::from_hundredths((allowance.hundredths() - given).max(0));
        Err(Error::invalid(
            "insufficient_giving_allowance",
            format!(
                "Monthly giving allowance exceeded. Available: {available}, Required: {}",
                request.total
            ),
        )
        .into())
    }

    /// Charges the first budget source with room: the giver's lead allocation, then the
    /// giver's department share, in the tenant's active budget. `None` when no source has room
    /// (those that exist are added to `shortfalls`) or no budget is in force.
    async fn charge_budget(
        &mut self,
        request: &FundingRequest<'_>,
        month: &str,
        shortfalls: &mut Shortfalls,
    ) -> StoreResult<Option<Charged>> {
        let Some(budget_id) = self.active_budget_id(&request.tenant.id).await? else {
            return Ok(None);
        };
        let total = request.total.hundredths();
        let now = self.now().as_str().to_owned();
        if request.actor.role == Role::Lead {
            // Taking the row lock first makes the read and the charge one step.
            let row = sqlx::query(
                "update lead_allocations set updated_at = updated_at \
                 where budget_id = $1 and lead_id = $2 \
                 returning id, allocated_points, spent_points",
            )
            .bind(&budget_id)
            .bind(&request.actor.user_id)
            .fetch_optional(self.conn())
            .await?;
            if let Some(row) = row {
                let id: String = row.try_get("id")?;
                let available = row.try_get::<i64, _>("allocated_points")?
                    - row.try_get::<i64, _>("spent_points")?;
                if available >= total {
                    sqlx::query(
                        "update lead_allocations set spent_points = spent_points + $1, \
                         updated_at = $2 where id = $3",
                    )
                    .bind(total)
                    .bind(&now)
                    .bind(&id)
                    .execute(self.conn())
                    .await?;
                    return Ok(Some(Charged::LeadAllocation(id)));
                }
                shortfalls.push(("Lead allocation", Points::from_hundredths(available)));
            }
        }
        let Some(department_id) = request.giver_department_id else {
            return Ok(None);
        };
        let row = sqlx::query(
            "update department_budgets set updated_at = updated_at \
             where budget_id = $1 and department_id = $2 \
             returning id, allocated_points, spent_points, monthly_cap",
        )
        .bind(&budget_id)
        .bind(department_id)
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: String = row.try_get("id")?;
        let mut available =
            row.try_get::<i64, _>("allocated_points")? - row.try_get::<i64, _>("spent_points")?;
        // The month counter changes only under the department row's lock, held from here on.
        if let Some(cap) = row.try_get::<Option<i64>, _>("monthly_cap")? {
            let spent_this_month: i64 = sqlx::query(
                "select spent_points from department_budget_months \
                 where department_budget_id = $1 and month = $2",
            )
            .bind(&id)
            .bind(month)
            .fetch_optional(self.conn())
            .await?
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(0);
            available = available.min(cap - spent_this_month).max(0);
        }
        if available < total {
            shortfalls.push(("Department budget", Points::from_hundredths(available)));
            return Ok(None);
        }
        sqlx::query(
            "update department_budgets set spent_points = spent_points + $1, updated_at = $2 \
             where id = $3",
        )
        .bind(total)
        .bind(&now)
        .bind(&id)
        .execute(self.conn())
        .await?;
        sqlx::query(
            "insert into department_budget_months (department_budget_id, month, spent_points) \
             values ($1, $2, $3) on conflict (department_budget_id, month) \
             do update set spent_points = department_budget_months.spent_points + $3",
        )
        .bind(&id)
        .bind(month)
        .bind(total)
        .execute(self.conn())
        .await?;
        Ok(Some(Charged::Department(id)))
    }

    /// Pool mode: the giver's lead balance when it covers the total (leads), else the pool.
    async fn pay_from_pool_side(
        &mut self,
        request: &FundingRequest<'_>,
    ) -> StoreResult<(&'static str, Vec<Applied>)> {
        // The pool is locked before the lead row, the order every transfer uses.
        let pool = Account::Pool(request.tenant.id.clone());
        let pool_balance = self.lock_account(&pool).await?;
        if request.actor.role == Role::Lead {
            let lead = Account::Lead(request.actor.user_id.clone());
            if self.lock_account(&lead).await? >= request.total {
                return Ok(("lead_balance", self.pay(request, lead).await?));
            }
        }
        if pool_balance < request.total {
            return Err(Error::insufficient_company_pool(pool_balance, request.total).into());
        }
        Ok(("pool", self.pay(request, pool).await?))
    }

    /// Legacy mode with no budget room: a gift from the giver's own wallet.
    async fn pay_from_wallet(
        &mut self,
        request: &FundingRequest<'_>,
        mut shortfalls: Shortfalls,
    ) -> StoreResult<Vec<Applied>> {
        let giver = &request.actor.user_id;
        let mut wallets: Vec<&str> = request.shares.iter().map(|(id, _)| id.as_str()).collect();
        wallets.push(giver);
        wallets.sort_unstable();
        let mut giver_balance = Points::ZERO;
        for user_id in wallets {
            let balance = self
                .lock_account(&Account::Wallet(user_id.to_owned()))
                .await?;
            if user_id == giver {
                giver_balance = balance;
            }
        }
        if giver_balance < request.total {
            shortfalls.push(("Wallet", giver_balance));
            return Err(insufficient_budget(&shortfalls, request.total).into());
        }
        let applied = self.pay(request, Account::Wallet(giver.clone())).await?;
        for ((_, share), movement) in request.shares.iter().zip(&applied) {
            self.wallet_line(
                "debit",
                &request.tenant.id,
                giver,
                "recognition",
                *share,
                movement.from_balance_after,
                Some(request.recognition_id),
                request.message,
                Some(giver),
                &movement.journal_entry_id,
            )
            .await?;
        }
        Ok(applied)
    }

    /// One movement per recipient from `from`, which the caller has checked holds the total.
    /// Recipients' wallets are locked in account order first, so two group awards to the same
    /// people cannot deadlock.
    async fn pay(
        &mut self,
        request: &FundingRequest<'_>,
        from: Account,
    ) -> StoreResult<Vec<Applied>> {
        // One recipient needs no pre-locking: `transfer` already takes its two rows in order.
        if request.shares.len() > 1 {
            let mut recipients: Vec<&str> =
                request.shares.iter().map(|(id, _)| id.as_str()).collect();
            recipients.sort_unstable();
            for user_id in recipients {
                self.lock_account(&Account::Wallet(user_id.to_owned()))
                    .await?;
            }
        }
        let mut applied = Vec::with_capacity(request.shares.len());
        // Every share is above zero: a funded total is, and an equal split refuses empty shares.
        for (recipient_id, share) in request.shares {
            applied.push(
                self.transfer(Transfer {
                    kind: MovementKind::Recognition,
                    from: from.clone(),
                    to: Account::Wallet(recipient_id.clone()),
                    amount: *share,
                    tenant_id: Some(&request.tenant.id),
                    actor_id: Some(&request.actor.user_id),
                    reason: Some(request.message),
                    reference_id: Some(request.recognition_id),
                    on_short: Error::insufficient_company_pool,
                })
                .await?,
            );
        }
        Ok(applied)
    }
}

/// "Insufficient budget. Lead allocation available: 10, Department budget available: 20,
/// Required: 50", naming every source tried.
fn insufficient_budget(shortfalls: &Shortfalls, required: Points) -> Error {
    let tried: Vec<String> = shortfalls
        .iter()
        .map(|(source, available)| format!("{source} available: {available}"))
        .collect();
    Error::invalid(
        "insufficient_budget",
        format!(
            "Insufficient budget. {}, Required: {required}",
            tried.join(", ")
        ),
    )
}
