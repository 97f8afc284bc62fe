//! Two `perksu serve` processes on one PostgreSQL schema, the foundation's races split across
//! both: the outcomes are exactly those of one process, because every rule is kept by the
//! database and not by a process's memory.

use std::collections::BTreeSet;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::company::{whole, Answer, Api, Company};
use crate::database::Database;
use crate::process::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_keep_the_races_exact() {
    let Some(db) = Database::postgres().await else {
        return;
    };
    db.create_admin();
    let servers = [Server::start(db.url(), &[]), Server::start(db.url(), &[])];
    let nodes = [
        Api::new(&servers[0].base_url),
        Api::new(&servers[1].base_url),
    ];

    recognitions_split_across_nodes_never_overspend(&nodes).await;
    delegations_and_awards_split_across_nodes_hand_out_exactly_the_pool(&nodes).await;
    allocations_split_across_nodes_all_land(&nodes).await;

    db.assert_verified();
    drop(servers);
    db.drop_schema().await;
}

/// Sends request `i` to node `i % 2`.
async fn split(
    nodes: &[Api; 2],
    count: usize,
    path: &str,
    token: &str,
    body: impl Fn(usize) -> Value,
) -> Vec<Answer> {
    join_all((0..count).map(|i| nodes[i % 2].post(path, token, body(i)))).await
}

/// The 200s, after checking that every other answer is the refusal `code`.
fn accepted<'a>(answers: &'a [Answer], code: &str) -> Vec<&'a Answer> {
    for answer in answers.iter().filter(|answer| answer.status != 200) {
        assert_eq!(
            answer.status, 400,
            "neither a success nor a refusal: {answer:?}"
        );
        assert_eq!(answer.body["code"], code, "{answer:?}");
    }
    answers
        .iter()
        .filter(|answer| answer.status == 200)
        .collect()
}

/// Two movements that saw the same balance would be a lost update between the nodes.
fn assert_distinct(answers: &[&Answer], field: &str) {
    let seen: BTreeSet<i64> = answers.iter().map(|a| whole(&a.str(field))).collect();
    assert_eq!(
        seen.len(),
        answers.len(),
        "two movements reported one {field}"
    );
}

async fn recognitions_split_across_nodes_never_overspend(nodes: &[Api; 2]) {
    let company = Company::create(&nodes[0], "nodes-rush", 500).await;
    let manager = &company.manager.token;
    let answers = split(nodes, 100, "/api/recognitions", manager, |i| {
        let to = &company.employees[i % company.employees.len()];
        json!({"to_user_id": to.id, "points": 10, "message": format!("Thanks #{i}")})
    })
    .await;
    let ok = accepted(&answers, "insufficient_allocation_pool");
    assert_eq!(
        ok.len(),
        50,
        "exactly the pool's worth, whichever node took them"
    );
    let ids: BTreeSet<String> = ok.iter().map(|answer| answer.str("id")).collect();
    assert_eq!(ids.len(), 50);
    assert_eq!(nodes[1].pool(manager).await, 0);
    assert_eq!(company.wallets_total(&nodes[1]).await, 500);
}

async fn delegations_and_awards_split_across_nodes_hand_out_exactly_the_pool(nodes: &[Api; 2]) {
    let company = Company::create(&nodes[1], "nodes-deleg", 1000).await;
    let manager = &company.manager.token;
    let lead_id = &company.lead.id;

    // 40 delegations of 30 against 1000: 33 fit and 10 points stay in the pool.
    let answers = split(
        nodes,
        40,
        "/api/v1/points/delegate-to-lead",
        manager,
        |_| json!({"lead_id": lead_id, "amount": 30}),
    )
    .await;
    let ok = accepted(&answers, "insufficient_allocation_pool");
    assert_eq!(ok.len(), 33);
    assert_distinct(&ok, "new_allocation_balance");
    assert_distinct(&ok, "lead_distribution_balance");
    assert_eq!(nodes[0].pool(manager).await, 10);

    // The lead spends its 990 in awards of 10 from both nodes: 99 fit.
    let answers = split(
        nodes,
        120,
        "/api/v1/points/award-to-user",
        &company.lead.token,
        |i| {
            let to = &company.employees[i % company.employees.len()];
            json!({"to_user_id": to.id, "amount": 10, "recognition_message": "Nice"})
        },
    )
    .await;
    let ok = accepted(&answers, "insufficient_lead_balance");
    assert_eq!(ok.len(), 99);
    assert_distinct(&ok, "source_balance_after");
    let me = nodes[1].get("/api/auth/me", &company.lead.token).await;
    assert_eq!(me.assert_status(200).str("lead_distribution_balance"), "0");
    assert_eq!(company.wallets_total(&nodes[0]).await, 990);
    assert_eq!(nodes[1].pool(manager).await, 10);
}

async fn allocations_split_across_nodes_all_land(nodes: &[Api; 2]) {
    let company = Company::create(&nodes[0], "nodes-inflow", 100).await;
    let admin = &company.admin_token;
    let answers = split(
        nodes,
        30,
        "/api/v1/points/allocate-to-tenant",
        admin,
        |_| json!({"tenant_id": company.tenant_id, "amount": 100}),
    )
    .await;
    let ok = accepted(&answers, "none expected");
    assert_eq!(ok.len(), 30);
    assert_distinct(&ok, "new_allocation_balance");
    for answer in &ok {
        assert_eq!(
            whole(&answer.str("previous_balance")) + 100,
            whole(&answer.str("new_allocation_balance"))
        );
    }
    assert_eq!(nodes[1].pool(&company.manager.token).await, 3100);
}
