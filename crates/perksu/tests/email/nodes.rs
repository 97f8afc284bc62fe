//! Two `perksu serve` processes on one PostgreSQL database, both sending email to one
//! receiver: their claims (leases taken with `for update skip locked`) keep them off each
//! other's rows, so a backlog of mails arrives exactly once each.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::company::{recognition, Api, Company};
use crate::database::Database;
use crate::delivery::{spawn, start};
use crate::process::Starting;
use crate::receiver::{python, Receiver, DEADLINE};

/// Mails queued before the two senders start.
const BACKLOG: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_sending_one_outbox_deliver_every_mail_exactly_once() {
    let Some(python) = python() else { return };
    let Some(db) = Database::postgres().await else {
        return;
    };
    let receiver = Receiver::start(&python, 0);
    db.create_admin();
    // The backlog is queued by a server that does not send, so both senders start on it
    // together and race for the same due rows.
    let quiet = start(&db, None);
    let api = Api::new(&quiet.base_url);
    let company = Company::create(&api, "nodes", 100_000).await;
    let answers = join_all((0..BACKLOG).map(|i| {
        api.post(
            "/api/recognitions",
            &company.manager.token,
            recognition(&company, i),
        )
    }))
    .await;
    for answer in &answers {
        answer.assert_status(200);
    }
    let queued = outbox_total(&api, &company, "").await;
    assert!(queued >= BACKLOG as i64, "{queued} rows queued");
    drop(quiet);

    // Both start at once, so their first passes overlap.
    let starting = [
        spawn(&db, Some(&receiver.url())),
        spawn(&db, Some(&receiver.url())),
    ];
    let senders = starting.map(Starting::listening);
    let api = Api::new(&senders[0].base_url);
    let deadline = Instant::now() + DEADLINE;
    while outbox_total(&api, &company, "sent").await < queued {
        assert!(Instant::now() < deadline, "not every row was sent in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outbox_total(&api, &company, "pending").await, 0);
    assert_eq!(outbox_total(&api, &company, "dead").await, 0);

    // Every row is recorded sent only after its mail was accepted, so all have arrived.
    let mails = receiver.seen();
    let mut per_message: BTreeMap<String, usize> = BTreeMap::new();
    for mail in &mails {
        let id = mail["message_id"].as_str().unwrap_or_default().to_owned();
        *per_message.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = per_message.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mails sent more than once: {twice:?}");
    assert_eq!(mails.len() as i64, queued, "one mail per outbox row");
    let mut per_recognition: BTreeMap<usize, usize> = BTreeMap::new();
    for mail in &mails {
        if let Some(i) = recognition_number(mail["text"].as_str().unwrap_or_default()) {
            *per_recognition.entry(i).or_default() += 1;
        }
    }
    let once: BTreeMap<usize, usize> = (0..BACKLOG).map(|i| (i, 1)).collect();
    assert_eq!(
        per_recognition, once,
        "each recognition's mail arrives once"
    );
    let failures: Vec<usize> = senders
        .iter()
        .map(|server| server.log().matches("email not delivered").count())
        .collect();
    assert_eq!(failures, [0, 0], "no attempt failed");
    drop(senders);
    db.drop_schema().await;
}

/// `i` of the "Thanks #i" a recognition mail carries.
fn recognition_number(text: &str) -> Option<usize> {
    let (_, after) = text.split_once("Thanks #")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// How many of the tenant's outbox rows have `status` (every row when empty).
async fn outbox_total(api: &Api, company: &Company, status: &str) -> i64 {
    let filter = if status.is_empty() {
        String::new()
    } else {
        format!("&status={status}")
    };
    let path = format!(
        "/api/email-deliveries?tenant_id={}&limit=1{filter}",
        company.tenant_id
    );
    let answer = api.get(&path, &company.admin_token).await;
    answer.assert_status(200);
    answer.body["total"].as_i64().expect("total")
}
