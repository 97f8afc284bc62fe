//! A case's database: its people, and running operations and reading balances through the
//! store API.

use std::collections::BTreeMap;

use perksu_domain::access::Actor;
use perksu_domain::{Account, FundingMode, Points};
use perksu_store::{
    AllocateCommand, AwardCommand, ClawbackCommand, DelegateCommand, NewRecognition, NewTenant,
    NewUser, PasswordHash, RecallCommand, Store, StoreError, StoreResult, VerifyReport,
};
use proptest::test_runner::TestCaseError;

use crate::harness;
use crate::operations::{Operation, Who, MANAGER, PEOPLE, TENANTS};

/// The people of a case's database.
pub struct World {
    pub admin: Actor,
    pub tenant_ids: Vec<String>,
    /// `people[tenant][person]`, as in [`PEOPLE`].
    pub people: Vec<Vec<Actor>>,
}

impl World {
    pub fn actor(&self, who: Who) -> &Actor {
        &self.people[who.tenant][who.person]
    }

    pub fn id(&self, who: Who) -> &str {
        &self.actor(who).user_id
    }

    pub fn pool(&self, tenant: usize) -> Account {
        Account::Pool(self.tenant_ids[tenant].clone())
    }
}

pub async fn set_up(store: &Store, hash: &PasswordHash) -> StoreResult<World> {
    let mut tx = store.begin().await?;
    let admin = tx
        .create_platform_admin("root@platform.test", hash)
        .await?
        .actor();
    let mut tenant_ids = Vec::new();
    let mut people = Vec::new();
    for tenant in 0..TENANTS {
        let slug = format!("tenant-{tenant}");
        let row = tx
            .create_tenant(
                &admin,
                NewTenant {
                    name: format!("Tenant {tenant}"),
                    slug: slug.clone(),
                    currency: "INR".into(),
                    currency_label: "Points".into(),
                    funding_mode: FundingMode::Pool,
                    low_balance_threshold: Points::from_whole(1000),
                },
            )
            .await?;
        let mut members = Vec::new();
        for (person, role) in PEOPLE.iter().enumerate() {
            let user = tx
                .create_user(
                    &admin,
                    NewUser {
                        tenant_id: Some(row.id.clone()),
                        email: format!("person-{person}@{slug}.test"),
                        password_hash: hash.clone(),
                        first_name: format!("Person {person}"),
                        last_name: role.as_str().into(),
                        role: *role,
                        department_id: None,
                        manager_id: None,
                    },
                )
                .await?;
            members.push(user.actor());
        }
        tenant_ids.push(row.id);
        people.push(members);
    }
    tx.commit().await?;
    Ok(World {
        admin,
        tenant_ids,
        people,
    })
}

/// Runs one operation in its own transaction: committed when it succeeds, rolled back when
/// it is refused. Awards and recognitions answer with their funding source.
pub async fn execute(
    store: &Store,
    world: &World,
    operation: &Operation,
) -> Result<Option<String>, StoreError> {
    let mut tx = store.begin().await?;
    let result = match operation {
        Operation::Allocate { tenant, amount } => tx
            .allocate_to_tenant(
                &world.admin,
                AllocateCommand {
                    tenant_id: world.tenant_ids[*tenant].clone(),
                    amount: Points::from_hundredths(*amount),
                    currency: None,
                    reference_note: Some("property test".into()),
                },
            )
            .await
            .map(|_| None),
        Operation::Clawback { tenant, amount } => tx
            .clawback(
                &world.admin,
                ClawbackCommand {
                    tenant_id: world.tenant_ids[*tenant].clone(),
                    amount: amount.map(Points::from_hundredths),
                    reason: Some("property test".into()),
                },
            )
            .await
            .map(|_| None),
        Operation::Delegate {
            tenant,
            lead,
            amount,
        } => tx
            .delegate_to_lead(
                world.actor(Who {
                    tenant: *tenant,
                    person: MANAGER,
                }),
                DelegateCommand {
                    lead_id: world.id(*lead).to_owned(),
                    amount: Points::from_hundredths(*amount),
                    delegation_note: None,
                },
            )
            .await
            .map(|_| None),
        Operation::Recall {
            tenant,
            lead,
            amount,
        } => tx
            .recall_from_lead(
                world.actor(Who {
                    tenant: *tenant,
                    person: MANAGER,
                }),
                RecallCommand {
                    lead_id: world.id(*lead).to_owned(),
                    amount: amount.map(Points::from_hundredths),
                    note: None,
                },
            )
            .await
            .map(|_| None),
        Operation::Award {
            giver,
            recipient,
            amount,
        } => tx
            .award_to_user(
                world.actor(*giver),
                AwardCommand {
                    to_user_id: world.id(*recipient).to_owned(),
                    amount: Points::from_hundredths(*amount),
                    recognition_message: "Well done".into(),
                    recognition_id: None,
                },
            )
            .await
            .map(|outcome| Some(outcome.funding_source.to_owned())),
        Operation::Recognise {
            giver,
            recipient,
            points,
        } => tx
            .create_recognition(
                world.actor(*giver),
                NewRecognition::standard(
                    world.id(*recipient).to_owned(),
                    Points::from_hundredths(*points),
                    "Thank you".into(),
                ),
            )
            .await
            .map(|row| Some(row.funding_source)),
    };
    match result {
        Ok(answer) => {
            tx.commit().await?;
            Ok(answer)
        }
        Err(error) => {
            tx.rollback().await?;
            Err(error)
        }
    }
}

/// Every balance as the store API reports it, issuance (which has no stored balance) as the
/// journal has it; and verify's report, taken in the same breath.
pub async fn snapshot(
    store: &Store,
    world: &World,
) -> Result<(BTreeMap<Account, i64>, VerifyReport), TestCaseError> {
    let read = async {
        let mut balances = BTreeMap::new();
        for (tenant, tenant_id) in world.tenant_ids.iter().enumerate() {
            let row = store.tenant(&world.admin, tenant_id).await?;
            balances.insert(
                world.pool(tenant),
                row.points_allocation_balance.hundredths(),
            );
            for user in store.users(&world.admin, Some(tenant_id)).await? {
                balances.insert(
                    Account::Lead(user.id),
                    user.lead_distribution_balance.hundredths(),
                );
            }
            for person in &world.people[tenant] {
                let wallet = store.my_wallet(person).await?;
                balances.insert(Account::Wallet(wallet.user_id), wallet.balance.hundredths());
            }
        }
        let report = store.verify().await?;
        balances.insert(Account::Issuance, -report.issued_net.hundredths());
        Ok::<_, StoreError>((balances, report))
    };
    read.await.map_err(harness)
}
