//! What a load run measured: throughput, latency percentiles, and the count of each status.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How one request ended.
pub enum Outcome {
    /// The server answered; the body is kept to show one example per status.
    Status { status: u16, body: String },
    /// No answer: connection refused, timed out, reset...
    Failed(String),
}

/// One request's latency (until its whole body was read) and outcome.
pub struct Sample {
    pub latency: Duration,
    pub outcome: Outcome,
}

impl Sample {
    /// The sample of a request sent at `started`, once its whole body has been read.
    pub async fn of(started: Instant, sent: Result<reqwest::Response, reqwest::Error>) -> Sample {
        let outcome = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.text().await {
                    Ok(body) => Outcome::Status { status, body },
                    Err(error) => Outcome::Failed(error.to_string()),
                }
            }
            Err(error) => Outcome::Failed(error.to_string()),
        };
        Sample {
            latency: started.elapsed(),
            outcome,
        }
    }

    pub fn failed(started: Instant, cause: String) -> Sample {
        Sample {
            latency: started.elapsed(),
            outcome: Outcome::Failed(cause),
        }
    }
}

pub struct Report {
    samples: Vec<Sample>,
    elapsed: Duration,
}

impl Report {
    pub fn new(samples: Vec<Sample>, elapsed: Duration) -> Report {
        Report { samples, elapsed }
    }

    pub fn print(&self) {
        let count = self.samples.len();
        let seconds = self.elapsed.as_secs_f64();
        let throughput = if seconds > 0.0 {
            count as f64 / seconds
        } else {
            0.0
        };
        println!("requests:   {count} in {seconds:.2} s");
        println!("throughput: {throughput:.1} req/s");
        let mut latencies: Vec<Duration> = self.samples.iter().map(|s| s.latency).collect();
        latencies.sort_unstable();
        if let Some(max) = latencies.last() {
            println!(
                "latency:    p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
                millis(percentile(&latencies, 50)),
                millis(percentile(&latencies, 95)),
                millis(percentile(&latencies, 99)),
                millis(*max),
            );
        }
        // status → (count, one example body)
        let mut statuses: BTreeMap<String, (usize, &str)> = BTreeMap::new();
        for sample in &self.samples {
            let (label, example) = match &sample.outcome {
                Outcome::Status { status, body } => (status.to_string(), body.as_str()),
                Outcome::Failed(cause) => ("transport error".to_owned(), cause.as_str()),
            };
            statuses.entry(label).or_insert((0, example)).0 += 1;
        }
        for (label, (count, example)) in &statuses {
            println!("status {label}: {count}");
            if label != "200" {
                println!("  e.g. {}", truncate(example, 300));
            }
        }
    }
}

/// The nearest-rank percentile of sorted, non-empty `latencies`.
fn percentile(latencies: &[Duration], percent: usize) -> Duration {
    let rank = (latencies.len() * percent).div_ceil(100).max(1);
    latencies[rank.min(latencies.len()) - 1]
}

fn millis(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let latencies: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&latencies, 50), Duration::from_millis(50));
        assert_eq!(percentile(&latencies, 99), Duration::from_millis(99));
        assert_eq!(percentile(&latencies[..1], 99), Duration::from_millis(1));
    }
}
