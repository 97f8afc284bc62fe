//! The server's logs: one JSON object a line with `PERKSU_LOG_FORMAT=json`, every line of a
//! request carrying the request's id, which the response echoes; no password in any line.

use serde_json::Value;

use crate::process::{Server, Starting};

const SECRET: &str = "hunter2-never-logged";

async fn get_with_id(server: &Server, path: &str, id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base_url));
    if let Some(id) = id {
        request = request.header("X-Request-Id", id);
    }
    request.send().await.expect("request sent")
}

fn echoed_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .expect("an X-Request-Id on the response")
        .to_owned()
}

/// The log lines whose request span has this id.
fn lines_of(log: &[Value], id: &str) -> Vec<Value> {
    log.iter()
        .filter(|line| line["span"]["request_id"] == id)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_each_requests_id_and_never_a_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("perksu.db").display());
    let env = [("PERKSU_LOG_FORMAT", "json"), ("RUST_LOG", "info")];
    let server = Starting::spawn_with_env(&url, &[], &env).listening();

    let health = get_with_id(&server, "/healthz", Some("probe-1")).await;
    assert_eq!(
        echoed_id(&health),
        "probe-1",
        "a sensible client id is kept"
    );
    let made = get_with_id(&server, "/healthz", None).await;
    let made_id = echoed_id(&made);
    assert!(uuid::Uuid::parse_str(&made_id).is_ok(), "{made_id}");
    let odd = get_with_id(&server, "/healthz", Some("two words")).await;
    let replaced = echoed_id(&odd);
    assert_ne!(replaced, "two words", "an id with a space is replaced");
    let login = reqwest::Client::new()
        .post(format!("{}/api/auth/login", server.base_url))
        .header("X-Request-Id", "login-1")
        .json(&serde_json::json!({"email": "nobody@x.test", "password": SECRET}))
        .send()
        .await
        .expect("login sent");
    assert_eq!(login.status(), 401);
    server.wait_for_log("login-1");

    let log = server.log();
    assert!(!log.contains(SECRET), "a password reached the log:\n{log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"))
        })
        .collect();
    for (id, status) in [
        ("probe-1", 200),
        (made_id.as_str(), 200),
        (replaced.as_str(), 200),
        ("login-1", 401),
    ] {
        let of_request = lines_of(&lines, id);
        assert!(!of_request.is_empty(), "no log line for {id}:\n{log}");
        let finished = of_request
            .iter()
            .find(|line| line["fields"]["status"] == status)
            .unwrap_or_else(|| panic!("no line with status {status} for {id}:\n{log}"));
        assert_eq!(finished["level"], "INFO");
        assert!(finished["span"]["path"].is_string(), "{finished}");
    }
}
