//! Accounts and movements: the double-entry view of every balance in the system.

/// Where points are held. Every movement takes points from one account and gives them to
/// another, so the sum over all accounts is always zero.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    /// The platform's issuance account: the source of allocations and the sink of clawbacks.
    /// Allowed below zero (like `Budget`): it carries minus the net points issued.
    Issuance,
    /// What a legacy tenant's budgets paid out, keyed by tenant id. Like issuance it has no
    /// stored balance and may go below zero: it carries minus the points its budgets minted.
    Budget(String),
    /// A tenant's allocation pool, `tenants.points_allocation_balance`.
    Pool(String),
    /// A lead's delegated points, `users.lead_distribution_balance`.
    Lead(String),
    /// An employee's spendable points, `wallets.balance`, keyed by user id.
    Wallet(String),
    /// Points held for an open redemption, `redemptions.hold_balance`.
    Hold(String),
    /// Points spent on a delivered redemption, `redemptions.redeemed_balance`.
    Redeemed(String),
    /// Wallet points that expired unspent, `wallets.expired_balance`, keyed by user id.
    Expired(String),
}

impl Account {
    /// The journal's name for the account, e.g. `pool:<tenant id>`.
    pub fn key(&self) -> String {
        match self {
            Account::Issuance => "issuance".to_owned(),
            Account::Budget(id) => format!("budget:{id}"),
            Account::Pool(id) => format!("pool:{id}"),
            Account::Lead(id) => format!("lead:{id}"),
            Account::Wallet(id) => format!("wallet:{id}"),
            Account::Hold(id) => format!("hold:{id}"),
            Account::Redeemed(id) => format!("redeemed:{id}"),
            Account::Expired(id) => format!("expired:{id}"),
        }
    }

    pub fn from_key(key: &str) -> Option<Account> {
        if key == "issuance" {
            return Some(Account::Issuance);
        }
        let (kind, id) = key.split_once(':')?;
        let id = id.to_owned();
        match kind {
            "budget" => Some(Account::Budget(id)),
            "pool" => Some(Account::Pool(id)),
            "lead" => Some(Account::Lead(id)),
            "wallet" => Some(Account::Wallet(id)),
            "hold" => Some(Account::Hold(id)),
            "redeemed" => Some(Account::Redeemed(id)),
            "expired" => Some(Account::Expired(id)),
            _ => None,
        }
    }

    pub fn may_go_negative(&self) -> bool {
        matches!(self, Account::Issuance | Account::Budget(_))
    }
}

/// Why points moved; stored in the journal's `kind` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MovementKind {
    /// Platform admin → tenant pool.
    Allocation,
    /// Tenant pool → platform.
    Clawback,
    /// Tenant pool → lead balance.
    Delegation,
    /// Lead balance → tenant pool.
    Recall,
    /// Pool or lead balance → wallet, by the points API.
    Award,
    /// Pool or lead balance → wallet, by a recognition.
    Recognition,
    /// Wallet → hold, when a reward is ordered.
    RedemptionHold,
    /// Hold → wallet, when an order fails, is cancelled, rejected or times out.
    RedemptionRefund,
    /// Hold → redeemed, when an order is delivered.
    Redemption,
    /// Tenant pool → platform, undoing (part of) one allocation.
    AllocationReversal,
    /// Tenant pool → platform: allocated points left unspent past the tenant's expiry period.
    PoolExpiry,
    /// Wallet → expired: earned points left unspent past the tenant's expiry period.
    WalletExpiry,
}

impl MovementKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MovementKind::Allocation => "allocation",
            MovementKind::Clawback => "clawback",
            MovementKind::Delegation => "delegation",
            MovementKind::Recall => "recall",
            MovementKind::Award => "award",
            MovementKind::Recognition => "recognition",
            MovementKind::RedemptionHold => "redemption_hold",
            MovementKind::RedemptionRefund => "redemption_refund",
            MovementKind::Redemption => "redemption",
            MovementKind::AllocationReversal => "allocation_reversal",
            MovementKind::PoolExpiry => "pool_expiry",
            MovementKind::WalletExpiry => "wallet_expiry",
        }
    }
}
