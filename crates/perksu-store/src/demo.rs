//! Demo data for `perksu serve --demo`: a platform admin and two tenants with people and points.

use perksu_domain::access::Actor;
use perksu_domain::{FundingMode, Points, Role};

use crate::catalogue::RewardDraft;
use crate::error::StoreResult;
use crate::points_ops::{AllocateCommand, DelegateCommand};
use crate::recognitions::NewRecognition;
use crate::tenants::NewTenant;
use crate::users::NewUser;
use crate::Store;

/// Every demo account's password.
pub const DEMO_PASSWORD: &str = "perksu-demo";

/// A login to print for the person starting the demo.
pub struct DemoLogin {
    pub email: String,
    pub role: Role,
    pub tenant: Option<String>,
}

struct DemoTenant {
    name: &'static str,
    slug: &'static str,
    mode: FundingMode,
    /// The opening allocation; a legacy tenant has none and runs on its budget.
    pool: i64,
    people: &'static [(&'static str, &'static str, Role)],
}

const TENANTS: &[DemoTenant] = &[
    DemoTenant {
        name: "Acme Corporation",
        slug: "acme",
        mode: FundingMode::Pool,
        pool: 50_000,
        people: &[
            ("Maya", "Manager", Role::TenantManager),
            ("Liam", "Lead", Role::Lead),
            ("Lena", "Lead", Role::Lead),
            ("Ethan", "Employee", Role::Employee),
            ("Emma", "Employee", Role::Employee),
            ("Noah", "Employee", Role::Employee),
            ("Olivia", "Employee", Role::Employee),
        ],
    },
    DemoTenant {
        name: "Globex",
        slug: "globex",
        mode: FundingMode::Legacy,
        pool: 0,
        people: &[
            ("Grace", "Manager", Role::TenantManager),
            ("Gabe", "Lead", Role::Lead),
            ("Gina", "Employee", Role::Employee),
            ("Gus", "Employee", Role::Employee),
        ],
    },
];

impl Store {
    /// Seeds the demo into an empty database. Returns `None` when the database already has
    /// users, so a restart never seeds twice.
    pub async fn seed_demo(&self) -> StoreResult<Option<Vec<DemoLogin>>> {
        let mut tx = self.begin().await?;
        let existing = sqlx::query("select id from users limit 1")
            .fetch_optional(tx.conn())
            .await?;
        if existing.is_some() {
            tx.rollback().await?;
            return Ok(None);
        }
        let hash = self.hash_password(DEMO_PASSWORD).await?;
        let admin = tx
            .create_platform_admin("admin@perksu.local", &hash)
            .await?;
        let admin_actor = admin.actor();
        let mut logins = vec![DemoLogin {
            email: admin.email.clone(),
            role: Role::PlatformAdmin,
            tenant: None,
        }];
        for spec in TENANTS {
            let tenant = tx
                .create_tenant(
                    &admin_actor,
                    NewTenant {
                        name: spec.name.into(),
                        slug: spec.slug.into(),
                        currency: "INR".into(),
                        currency_label: "Points".into(),
                        funding_mode: spec.mode,
                        low_balance_threshold: Points::from_whole(1000),
                    },
                )
                .await?;
            if spec.pool > 0 {
                tx.allocate_to_tenant(
                    &admin_actor,
                    AllocateCommand {
                        tenant_id: tenant.id.clone(),
                        amount: Points::from_whole(spec.pool),
                        currency: None,
                        reference_note: Some("Demo opening allocation".into()),
                    },
                )
                .await?;
            }
            let department = tx
                .create_department(&admin_actor, Some(&tenant.id), "People Operations")
                .await?;
            let mut manager: Option<Actor> = None;
            let mut people = Vec::new();
            for (first, last, role) in spec.people {
                let email = format!("{}@{}.example", first.to_lowercase(), spec.slug);
                let user = tx
                    .create_user(
                        &admin_actor,
                        NewUser {
                            tenant_id: Some(tenant.id.clone()),
                            email: email.clone(),
                            password_hash: hash.clone(),
                            first_name: (*first).into(),
                            last_name: (*last).into(),
                            role: *role,
                            department_id: Some(department.id.clone()),
                            manager_id: None,
                        },
                    )
                    .await?;
                if *role == Role::TenantManager {
                    manager = Some(user.actor());
                }
                logins.push(DemoLogin {
                    email,
                    role: *role,
                    tenant: Some(spec.name.into()),
                });
                people.push(user);
            }
            let Some(manager) = manager else { continue };
            for draft in demo_catalogue() {
                tx.create_reward(&manager, draft).await?;
            }
            let leads: Vec<_> = people.iter().filter(|u| u.role == Role::Lead).collect();
            if spec.mode == FundingMode::Legacy {
                // A legacy tenant's recognitions are paid by its budget, so it needs one first.
                tx.seed_demo_budget(&manager, &department.id, &leads, 15_000)
                    .await?;
            }
            for lead in leads.iter().filter(|_| spec.mode == FundingMode::Pool) {
                tx.delegate_to_lead(
                    &manager,
                    DelegateCommand {
                        lead_id: lead.id.clone(),
                        amount: Points::from_whole(2000),
                        delegation_note: Some("Quarterly team budget".into()),
                    },
                )
                .await?;
            }
            let employees: Vec<_> = people.iter().filter(|u| u.role == Role::Employee).collect();
            for employee in &employees {
                let message = format!("Welcome to the team, {}!", employee.first_name);
                tx.create_recognition(&manager, demo_recognition(&employee.id, 1500, message))
                    .await?;
            }
            for (lead, employee) in leads.iter().zip(employees.iter().cycle()) {
                let message = format!(
                    "Thank you, {}, for going the extra mile!",
                    employee.first_name
                );
                tx.create_recognition(&lead.actor(), demo_recognition(&employee.id, 250, message))
                    .await?;
            }
            tx.seed_demo_awards(&manager, &people).await?;
            if spec.mode == FundingMode::Pool {
                tx.seed_demo_budget(&manager, &department.id, &leads, 30_000)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Some(logins))
    }
}

/// A small catalogue with one item of each kind.
fn demo_catalogue() -> Vec<RewardDraft> {
    let item = |kind: &str, name: &str, category: &str, brand: Option<&str>| RewardDraft {
        kind: kind.into(),
        name: name.into(),
        description: None,
        category: Some(category.into()),
        brand: brand.map(Into::into),
        face_value: None,
        denominations: Vec::new(),
        stock: None,
        status: "active".into(),
    };
    vec![
        RewardDraft {
            description: Some("A digital gift card, delivered as a code.".into()),
            denominations: vec![
                Points::from_whole(500),
                Points::from_whole(1000),
                Points::from_whole(2000),
            ],
            ..item(
                "gift_card",
                "Bookshop gift card",
                "Gift cards",
                Some("PageTurner"),
            )
        },
        RewardDraft {
            description: Some("Soft organic cotton, company logo.".into()),
            face_value: Some(Points::from_whole(1200)),
            stock: Some(25),
            ..item(
                "merchandise",
                "Company hoodie",
                "Merchandise",
                Some("Perksu"),
            )
        },
        RewardDraft {
            description: Some("One extra paid day off, agreed with your manager.".into()),
            face_value: Some(Points::from_whole(5000)),
            stock: Some(10),
            ..item("custom", "Extra day off", "Experiences", None)
        },
        RewardDraft {
            description: Some("We plant a tree in your name.".into()),
            face_value: Some(Points::from_whole(100)),
            ..item("charity", "Plant a tree", "Giving", Some("Green Earth"))
        },
    ]
}

fn demo_recognition(to_user_id: &str, points: i64, message: String) -> NewRecognition {
    NewRecognition::standard(to_user_id.to_owned(), Points::from_whole(points), message)
}
