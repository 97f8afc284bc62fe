//! The login rush: many sign-ins at once, as on a Monday morning or from an attacker guessing
//! passwords. Each costs the server one Argon2 hash.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, Url};
use serde_json::json;

use crate::report::Sample;

/// Sends `total` sign-ins, `concurrency` at a time, to the accounts in turn.
pub async fn rush(
    client: &Client,
    url: &Url,
    emails: &[String],
    password: &str,
    total: usize,
    concurrency: usize,
) -> (Vec<Sample>, Duration) {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.clone(), Arc::clone(&next));
            let (emails, password) = (emails.to_vec(), password.to_owned());
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let number = next.fetch_add(1, Ordering::Relaxed);
                    if number >= total || emails.is_empty() {
                        return samples;
                    }
                    let email = &emails[number % emails.len()];
                    samples.push(sign_in(&client, &url, email, &password).await);
                }
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(total);
    for worker in workers {
        if let Ok(mine) = worker.await {
            samples.extend(mine);
        }
    }
    (samples, started.elapsed())
}

async fn sign_in(client: &Client, url: &Url, email: &str, password: &str) -> Sample {
    let started = Instant::now();
    let sent = client
        .post(url.clone())
        .json(&json!({"email": email, "password": password}))
        .send()
        .await;
    Sample::of(started, sent).await
}
