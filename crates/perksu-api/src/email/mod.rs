//! Sending the notification outbox as email over SMTP (lettre).
//!
//! The worker claims a batch of due rows (a lease in the store), renders each (see
//! [`render`]), sends it as multipart/alternative and records the outcome: sent, retried
//! after an exponential backoff, or `dead` after the policy's last attempt. Delivery is at
//! least once: a server stopped between sending and recording sends the mail again once the
//! lease has run out. Every attempt of one row carries the same Message-ID, so receivers can
//! dedupe.

mod render;

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use perksu_store::{
    EmailDelivery, EmailRetryPolicy, IssuedInvitation, Store, INVITATION_NOTIFICATION,
};

pub use render::{render, Rendered};

/// The most rows one pass claims; the rest wait for the next pass.
const MAX_ROWS_PER_PASS: i64 = 20;
/// An SMTP exchange gets this long; well inside the store's lease.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// The sender when none is configured.
pub const DEFAULT_MAIL_FROM: &str = "Perksu Points <no-reply@localhost>";

/// How the service sends email.
#[derive(Clone, Debug)]
pub struct EmailSettings {
    /// `smtp://host:port`, `smtps://...`, credentials in the URL; never logged as given.
    pub smtp_url: String,
    pub mail_from: String,
    /// The base of links in mails.
    pub public_url: String,
    pub retry: EmailRetryPolicy,
    pub poll_interval: Duration,
    /// How long the set-password link of an invitation mail works.
    pub invitation_ttl: Duration,
}

/// `url` with any password replaced, for logs.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(an SMTP URL that does not parse)".into(),
    }
}

/// Sends due rows; holds one SMTP transport (and its connection pool) for its lifetime.
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: EmailSettings,
}

impl EmailSender {
    pub fn new(settings: EmailSettings) -> Result<EmailSender, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|error| format!("the SMTP URL is not usable: {error}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = settings
            .mail_from
            .parse::<Mailbox>()
            .map_err(|error| format!("the sender address is not usable: {error}"))?;
        Ok(EmailSender {
            transport,
            from,
            settings,
        })
    }

    /// One pass: claims due rows and sends each once. Returns how many attempts it recorded.
    pub async fn deliver_due(&self, store: &Store) -> usize {
        let claimed = match store
            .claim_emails(MAX_ROWS_PER_PASS, self.settings.retry)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "reading the email outbox failed");
                return 0;
            }
        };
        let mut recorded = 0;
        for delivery in claimed {
            let outcome = self.send(store, &delivery).await;
            crate::metrics::email_attempt(if outcome.is_ok() { "sent" } else { "failed" });
            if let Err(error) = &outcome {
                tracing::warn!(
                    outbox_id = delivery.outbox_id,
                    attempt = delivery.attempt,
                    error,
                    "email not delivered"
                );
            }
            match store
                .record_email_attempt(&delivery, outcome, self.settings.retry)
                .await
            {
                Ok(true) => recorded += 1,
                Ok(false) => tracing::warn!(
                    outbox_id = delivery.outbox_id,
                    "lost the claim on an email while sending it; another worker has it"
                ),
                Err(error) => {
                    tracing::error!(%error, "recording an email attempt failed");
                    break;
                }
            }
        }
        recorded
    }

    async fn send(&self, store: &Store, delivery: &EmailDelivery) -> Result<(), String> {
        let invitation = self.invitation_for(store, delivery).await?;
        let mail = render(delivery, &self.settings.public_url, invitation.as_ref())?;
        let to = delivery
            .recipient
            .parse::<Mailbox>()
            .map_err(|error| format!("the recipient address is not usable: {error}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(format!("<{}@perksu>", delivery.outbox_id)))
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
            .map_err(|error| format!("cannot build the message: {error}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
}

impl EmailSender {
    /// For an invitation mail, a fresh set-password token (each attempt replaces the last
    /// one's, see `perksu_store::invitations`); `None` for other kinds, and for a user who has
    /// chosen a password since, whose mail then links to the sign-in page. A failure to issue
    /// one fails the attempt, which is retried like a refused send.
    async fn invitation_for(
        &self,
        store: &Store,
        delivery: &EmailDelivery,
    ) -> Result<Option<IssuedInvitation>, String> {
        if delivery.kind != INVITATION_NOTIFICATION {
            return Ok(None);
        }
        let ttl = chrono::Duration::from_std(self.settings.invitation_ttl)
            .map_err(|error| format!("the invitation lifetime is out of range: {error}"))?;
        store
            .issue_invitation(&delivery.user_id, ttl)
            .await
            .map_err(|error| format!("cannot issue the invitation: {error}"))
    }
}

/// Stops the worker it guards when dropped.
pub(crate) struct WorkerGuard(tokio::task::JoinHandle<()>);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the email worker, or says once that email delivery is off.
pub(crate) fn spawn_worker(store: Store, settings: Option<EmailSettings>) -> Option<WorkerGuard> {
    let Some(settings) = settings else {
        tracing::info!("email delivery is off (no PERKSU_SMTP_URL): notifications stay pending");
        return None;
    };
    tracing::info!(
        smtp = redact(&settings.smtp_url),
        from = settings.mail_from,
        "email delivery is on"
    );
    let sender = match EmailSender::new(settings.clone()) {
        Ok(sender) => sender,
        Err(error) => {
            tracing::error!(error, "email delivery is off: notifications stay pending");
            return None;
        }
    };
    Some(WorkerGuard(tokio::spawn(async move {
        let mut every = tokio::time::interval(settings.poll_interval);
        loop {
            every.tick().await;
            sender.deliver_due(&store).await;
        }
    })))
}
