//! The model: what each operation should do to the balances, from the rules in
//! docs/ECONOMY.md, kept as a plain map of account to balance.

use std::collections::BTreeMap;

use perksu_domain::{Account, Role};

use crate::operations::{Operation, Who, MANAGER, PEOPLE};
use crate::world::World;

/// What the model expects of an operation.
#[derive(Debug)]
pub enum Prediction {
    /// Points move (none when `amount` is zero: a recognition without points). `source` is the
    /// funding source an award or a recognition reports.
    Moves {
        from: Account,
        to: Account,
        amount: i64,
        source: Option<&'static str>,
    },
    /// Refused with this error code.
    Refused(&'static str),
}

pub struct Model {
    pub balances: BTreeMap<Account, i64>,
    pub journal_entries: i64,
}

impl Model {
    pub fn new(world: &World) -> Model {
        let mut balances = BTreeMap::from([(Account::Issuance, 0)]);
        for (tenant, members) in world.people.iter().enumerate() {
            balances.insert(world.pool(tenant), 0);
            for person in members {
                balances.insert(Account::Lead(person.user_id.clone()), 0);
                balances.insert(Account::Wallet(person.user_id.clone()), 0);
            }
        }
        Model {
            balances,
            journal_entries: 0,
        }
    }

    fn balance(&self, account: &Account) -> i64 {
        self.balances.get(account).copied().unwrap_or(0)
    }

    pub fn predict(&self, world: &World, operation: &Operation) -> Prediction {
        let moves = |from: Account, to: Account, amount: i64| Prediction::Moves {
            from,
            to,
            amount,
            source: None,
        };
        match *operation {
            Operation::Allocate { tenant, amount } => {
                moves(Account::Issuance, world.pool(tenant), amount)
            }
            Operation::Clawback { tenant, amount } => {
                let pool = world.pool(tenant);
                let held = self.balance(&pool);
                match amount {
                    None if held == 0 => Prediction::Refused("nothing_to_claw_back"),
                    None => moves(pool, Account::Issuance, held),
                    Some(amount) if amount > held => {
                        Prediction::Refused("insufficient_allocation_pool")
                    }
                    Some(amount) => moves(pool, Account::Issuance, amount),
                }
            }
            Operation::Delegate {
                tenant,
                lead,
                amount,
            } => {
                let pool = world.pool(tenant);
                if lead.tenant != tenant {
                    Prediction::Refused("lead_not_found")
                } else if amount > self.balance(&pool) {
                    Prediction::Refused("insufficient_allocation_pool")
                } else {
                    moves(pool, Account::Lead(world.id(lead).to_owned()), amount)
                }
            }
            Operation::Recall {
                tenant,
                lead,
                amount,
            } => {
                let lead_account = Account::Lead(world.id(lead).to_owned());
                let held = self.balance(&lead_account);
                match amount {
                    _ if lead.tenant != tenant => Prediction::Refused("lead_not_found"),
                    None if held == 0 => Prediction::Refused("nothing_to_recall"),
                    None => moves(lead_account, world.pool(tenant), held),
                    Some(amount) if amount > held => {
                        Prediction::Refused("insufficient_lead_balance")
                    }
                    Some(amount) => moves(lead_account, world.pool(tenant), amount),
                }
            }
            Operation::Award {
                giver,
                recipient,
                amount,
            } => {
                if let Some(refusal) = refuse_recipient(giver, recipient) {
                    return refusal;
                }
                let (from, source, short) = if giver.person == MANAGER {
                    (
                        world.pool(giver.tenant),
                        "pool",
                        "insufficient_allocation_pool",
                    )
                } else {
                    (
                        Account::Lead(world.id(giver).to_owned()),
                        "lead_balance",
                        "insufficient_lead_balance",
                    )
                };
                if amount > self.balance(&from) {
                    return Prediction::Refused(short);
                }
                Prediction::Moves {
                    from,
                    to: Account::Wallet(world.id(recipient).to_owned()),
                    amount,
                    source: Some(source),
                }
            }
            Operation::Recognise {
                giver,
                recipient,
                points,
            } => {
                if let Some(refusal) = refuse_recipient(giver, recipient) {
                    return refusal;
                }
                let to = Account::Wallet(world.id(recipient).to_owned());
                let lead = Account::Lead(world.id(giver).to_owned());
                let pool = world.pool(giver.tenant);
                let (from, source) = if points == 0 {
                    (pool, "none")
                } else if PEOPLE[giver.person] == Role::Lead && self.balance(&lead) >= points {
                    (lead, "lead_balance")
                } else if self.balance(&pool) >= points {
                    (pool, "pool")
                } else {
                    return Prediction::Refused("insufficient_allocation_pool");
                };
                Prediction::Moves {
                    from,
                    to,
                    amount: points,
                    source: Some(source),
                }
            }
        }
    }

    pub fn apply(&mut self, prediction: &Prediction) {
        let Prediction::Moves {
            from, to, amount, ..
        } = prediction
        else {
            return;
        };
        if *amount == 0 {
            return;
        }
        *self.balances.entry(from.clone()).or_insert(0) -= amount;
        *self.balances.entry(to.clone()).or_insert(0) += amount;
        self.journal_entries += 1;
    }
}

/// Nobody gives to themselves, and nobody gives across tenants.
fn refuse_recipient(giver: Who, recipient: Who) -> Option<Prediction> {
    if giver == recipient {
        Some(Prediction::Refused("self_recognition"))
    } else if giver.tenant != recipient.tenant {
        Some(Prediction::Refused("user_not_found"))
    } else {
        None
    }
}
