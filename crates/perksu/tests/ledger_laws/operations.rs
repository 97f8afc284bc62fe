//! The operations a case applies, and the strategies that generate them.

use perksu_domain::Role;
use proptest::prelude::*;

const MAX_OPERATIONS: usize = 30;
pub const TENANTS: usize = 2;
/// Everyone in each tenant, by index: a manager, two leads, two employees.
pub const PEOPLE: [Role; 5] = [
    Role::TenantManager,
    Role::Lead,
    Role::Lead,
    Role::Employee,
    Role::Employee,
];
pub const MANAGER: usize = 0;
/// The leads' indexes in [`PEOPLE`].
const LEADS: std::ops::RangeInclusive<usize> = 1..=2;
const LEADS_PER_TENANT: usize = 2;
/// How often a recipient or a lead is picked from the other tenant, to be refused.
const FOREIGN_PROBABILITY: f64 = 0.15;

/// A person: `person` indexes [`PEOPLE`] within tenant `tenant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Who {
    pub tenant: usize,
    pub person: usize,
}

/// Amounts are in hundredths of a point.
#[derive(Clone, Debug)]
pub enum Operation {
    Allocate {
        tenant: usize,
        amount: i64,
    },
    /// `None` claws back the whole pool.
    Clawback {
        tenant: usize,
        amount: Option<i64>,
    },
    /// By `tenant`'s manager.
    Delegate {
        tenant: usize,
        lead: Who,
        amount: i64,
    },
    /// By `tenant`'s manager; `None` recalls everything the lead holds.
    Recall {
        tenant: usize,
        lead: Who,
        amount: Option<i64>,
    },
    /// By a manager or a lead.
    Award {
        giver: Who,
        recipient: Who,
        amount: i64,
    },
    /// By anyone; zero points is a recognition without points.
    Recognise {
        giver: Who,
        recipient: Who,
        points: i64,
    },
}

/// What a giver spends: mostly modest amounts, whole or with cents, and now and then more
/// than any balance is likely to hold, so that refusals happen too.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        5 => (1i64..=200).prop_map(|whole| whole * 100),
        2 => 1i64..=50_000,
        1 => (1i64..=20_000).prop_map(|whole| whole * 100),
    ]
}

/// What the platform allocates: up to 10 000 points.
fn allocation() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => (1i64..=10_000).prop_map(|whole| whole * 100),
        1 => 1i64..=1_000_000,
    ]
}

/// Someone other than `home` in `home`'s tenant, except now and then `home` itself (`offset`
/// zero) or someone in the other tenant (`foreign`).
fn someone(home: Who, foreign: bool, offset: usize) -> Who {
    let tenant = if foreign {
        (home.tenant + 1) % TENANTS
    } else {
        home.tenant
    };
    Who {
        tenant,
        person: (home.person + offset) % PEOPLE.len(),
    }
}

/// How far from the giver a recipient is: rarely the giver themselves.
fn offset() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0), 12 => 1..PEOPLE.len()]
}

fn operation() -> impl Strategy<Value = Operation> {
    let tenant = 0..TENANTS;
    let foreign = proptest::bool::weighted(FOREIGN_PROBABILITY);
    // A lead for a manager to delegate to or recall from, now and then another tenant's.
    let lead = (tenant.clone(), foreign, LEADS).prop_map(|(tenant, foreign, person)| {
        let manager = Who {
            tenant,
            person: MANAGER,
        };
        (tenant, someone(manager, foreign, person))
    });
    // A giver and a recipient; awards are given by managers and leads only.
    let pair = |givers: std::ops::Range<usize>| {
        (tenant.clone(), givers, foreign, offset()).prop_map(|(tenant, person, foreign, offset)| {
            let giver = Who { tenant, person };
            (giver, someone(giver, foreign, offset))
        })
    };
    prop_oneof![
        5 => (tenant.clone(), allocation())
            .prop_map(|(tenant, amount)| Operation::Allocate { tenant, amount }),
        1 => (tenant.clone(), proptest::option::of(amount()))
            .prop_map(|(tenant, amount)| Operation::Clawback { tenant, amount }),
        4 => (lead.clone(), amount())
            .prop_map(|((tenant, lead), amount)| Operation::Delegate { tenant, lead, amount }),
        2 => (lead, proptest::option::of(amount()))
            .prop_map(|((tenant, lead), amount)| Operation::Recall { tenant, lead, amount }),
        3 => (pair(MANAGER..LEADS.end() + 1), amount()).prop_map(|((giver, recipient), amount)| Operation::Award {
            giver,
            recipient,
            amount,
        }),
        4 => (pair(0..PEOPLE.len()), prop_oneof![1 => Just(0i64), 3 => amount()]).prop_map(
            |((giver, recipient), points)| Operation::Recognise {
                giver,
                recipient,
                points,
            }
        ),
    ]
}

/// A sequence of operations. Most sequences open by funding the pools and the leads (each
/// step present with a high probability), so that lead-funded awards and recognitions, and
/// the fallback from a short lead balance to the pool, are as common as the refusals.
pub fn operations() -> impl Strategy<Value = Vec<Operation>> {
    fn funding(amount: impl Strategy<Value = i64>) -> impl Strategy<Value = Option<i64>> {
        proptest::option::weighted(0.8, amount)
    }
    let opening = (
        proptest::collection::vec(funding(allocation()), TENANTS),
        proptest::collection::vec(funding(amount()), TENANTS * LEADS_PER_TENANT),
    )
        .prop_map(|(allocations, delegations)| {
            let allocate = allocations
                .into_iter()
                .enumerate()
                .filter_map(|(tenant, amount)| {
                    Some(Operation::Allocate {
                        tenant,
                        amount: amount?,
                    })
                });
            let delegate = delegations
                .into_iter()
                .enumerate()
                .filter_map(|(slot, amount)| {
                    let tenant = slot / LEADS_PER_TENANT;
                    Some(Operation::Delegate {
                        tenant,
                        lead: Who {
                            tenant,
                            person: LEADS.start() + slot % LEADS_PER_TENANT,
                        },
                        amount: amount?,
                    })
                });
            allocate.chain(delegate).collect::<Vec<_>>()
        });
    let opening_steps = TENANTS * (1 + LEADS_PER_TENANT);
    let rest = proptest::collection::vec(operation(), 1..=MAX_OPERATIONS - opening_steps);
    (opening, rest).prop_map(|(mut operations, rest)| {
        operations.extend(rest);
        operations
    })
}
