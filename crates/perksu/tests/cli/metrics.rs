//! `perksu serve --metrics-listen`: Prometheus metrics on a listener of their own, which move
//! when points do.

use serde_json::{json, Value};

use crate::process::Server;
use crate::{demo_password, TempDb};

/// The value of the sample `name{labels}` (labels written as the exporter writes them).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

async fn scrape(client: &reqwest::Client, url: &str) -> String {
    let reply = client.get(url).send().await.expect("scrape");
    assert_eq!(reply.status(), 200);
    let kind = reply.headers()["content-type"]
        .to_str()
        .expect("a content type")
        .to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    reply.text().await.expect("the metrics")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_apart_and_move_after_a_recognition() {
    let db = TempDb::new();
    let server = Server::start(&db.url, &["--demo", "--metrics-listen", "127.0.0.1:0"]);
    let metrics_url = server
        .banner
        .iter()
        .find_map(|line| line.strip_prefix("Metrics on "))
        .unwrap_or_else(|| panic!("no metrics address in {:?}", server.banner))
        .trim()
        .to_owned();
    let password = demo_password(&server.banner);
    let client = reqwest::Client::new();
    let public = client
        .get(format!("{}/metrics", server.base_url))
        .send()
        .await
        .expect("the public listener answers");
    assert_eq!(
        public.status(),
        404,
        "metrics are not on the public listener"
    );

    let before = scrape(&client, &metrics_url).await;
    let wallet = r#"perksu_points_held{account="wallet"}"#;
    let pool = r#"perksu_points_held{account="pool"}"#;
    let (wallets_before, pool_before) = (sample(&before, wallet), sample(&before, pool));
    assert_eq!(
        sample(&before, "perksu_points_issued"),
        Some(72000.0),
        "{before}"
    );

    let manager = server.login(&client, "maya@acme.example", &password).await;
    let employee = server.login(&client, "ethan@acme.example", &password).await;
    let me: Value = client
        .get(format!("{}/api/auth/me", server.base_url))
        .bearer_auth(&employee)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    let recognised = client
        .post(format!("{}/api/recognitions", server.base_url))
        .bearer_auth(&manager)
        .json(&json!({"to_user_id": me["id"], "points": 10, "message": "Measured"}))
        .send()
        .await
        .expect("recognition");
    assert_eq!(recognised.status(), 200);

    let after = scrape(&client, &metrics_url).await;
    let posted =
        r#"perksu_http_requests_total{method="POST",route="/api/recognitions",status="200"}"#;
    assert_eq!(sample(&after, posted), Some(1.0), "{after}");
    let logins =
        r#"perksu_http_requests_total{method="POST",route="/api/auth/login",status="200"}"#;
    assert_eq!(sample(&after, logins), Some(2.0), "{after}");
    assert!(
        after.contains("perksu_http_request_duration_seconds_bucket"),
        "{after}"
    );
    assert_eq!(
        sample(&after, wallet),
        wallets_before.map(|total| total + 10.0),
        "{after}"
    );
    assert_eq!(sample(&after, pool), pool_before.map(|total| total - 10.0));
    assert_eq!(sample(&after, "perksu_metrics_database_up"), Some(1.0));
    // The recognition committed one transaction carrying one movement (logins move nothing).
    let batches = "perksu_write_batch_movements_count";
    let moved = "perksu_write_batch_movements_sum";
    let grown = |series: &str| {
        sample(&after, series).unwrap_or(0.0) - sample(&before, series).unwrap_or(0.0)
    };
    assert_eq!(grown(batches), 1.0, "{after}");
    assert_eq!(grown(moved), 1.0, "{after}");
    assert!(grown("perksu_write_commit_seconds_count") >= 1.0, "{after}");
    assert!(
        after.contains("perksu_write_transaction_seconds_bucket"),
        "{after}"
    );
    assert!(after.contains(r#"perksu_db_pool_connections{pool="write",state="idle"}"#));
}
