//! Password hashing on a fixed set of worker threads, each reusing one Argon2 memory block.
//!
//! Argon2id costs 19 MiB of memory per computation on purpose. Run on tokio's blocking pool, every
//! waiting login got a thread of its own and every thread's allocator arena kept its 19 MiB, so a
//! few hundred concurrent logins took gigabytes. Here at most `workers` computations run at once,
//! each in a block allocated once per worker, and at most `queue` more wait; past that a login is
//! refused with a 503 the client may retry. Memory for hashing is therefore
//! `workers × 19 MiB`, whatever the load.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, PasswordHash as PhcHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use perksu_domain::{Error, ErrorKind};
use rand::rngs::OsRng;
use tokio::sync::oneshot;

use crate::error::{StoreError, StoreResult};
use crate::sign_in_throttle::SignInLimits;

/// The largest Argon2 memory cost (KiB) a stored hash may ask for: a hash that wants more is
/// not verified (it cannot have been made here), so no stored row can make a worker grow.
const MAX_MEMORY_KIB: u32 = 65_536;

/// An Argon2id hash in PHC string form.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many hashes run at once and how many may wait.
#[derive(Clone, Copy, Debug)]
pub struct HasherLimits {
    /// Computations at once; each holds one Argon2 memory block (19 MiB).
    pub workers: usize,
    /// Requests that may wait for a worker; past it they are refused with 503.
    pub queue: usize,
    /// How often an account and a client address may try to sign in, checked before the
    /// hasher is asked.
    pub sign_ins: SignInLimits,
}

impl Default for HasherLimits {
    /// One worker per core, and a queue long enough for a morning rush of a few hundred logins.
    fn default() -> HasherLimits {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        HasherLimits {
            workers: cores,
            queue: 1024,
            sign_ins: SignInLimits::default(),
        }
    }
}

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<StoreResult<PasswordHash>>,
    },
    Verify {
        hash: String,
        password: String,
        reply: oneshot::Sender<bool>,
    },
}

/// The handle to the workers; cheap to clone. The workers stop when the last handle drops.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
}

impl PasswordHasher {
    pub fn new(limits: HasherLimits) -> StoreResult<PasswordHasher> {
        let workers = limits.workers.max(1);
        let (jobs, receiver) = mpsc::sync_channel(limits.queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..workers {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("password-{index}"))
                .spawn(move || work(&receiver))
                .map_err(|e| StoreError::Config(format!("starting a password worker: {e}")))?;
        }
        Ok(PasswordHasher { jobs })
    }

    /// Hashes a new password with a fresh random salt.
    pub async fn hash(&self, password: &str) -> StoreResult<PasswordHash> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash {
            password: password.to_owned(),
            reply,
        })?;
        answer.await.map_err(|_| stopped())?
    }

    /// Whether `password` matches the PHC string `hash`. A malformed hash matches nothing.
    pub async fn verify(&self, hash: String, password: &str) -> StoreResult<bool> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            hash,
            password: password.to_owned(),
            reply,
        })?;
        answer.await.map_err(|_| stopped())
    }

    fn submit(&self, job: Job) -> StoreResult<()> {
        self.jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => StoreError::Domain(busy()),
            TrySendError::Disconnected(_) => stopped(),
        })
    }
}

/// The refusal when every worker is busy and the queue is full.
fn busy() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "server_busy",
        "Too many sign-ins at once; try again in a moment",
    )
}

fn stopped() -> StoreError {
    StoreError::Hashing("the password workers have stopped".into())
}

/// One worker: takes jobs until every sender is gone, hashing in its own memory block.
fn work(receiver: &Mutex<Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        // Only the idle worker that holds the lock waits in `recv`; the lock is released as
        // soon as it has a job, so the others can take the next one.
        let job = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_with(&mut memory, &password));
            }
            Job::Verify {
                hash,
                password,
                reply,
            } => {
                let _ = reply.send(verify_with(&mut memory, &hash, &password).unwrap_or(false));
            }
        }
    }
}

/// `memory` grown (once) to what `params` needs, and sliced to exactly that.
fn blocks_for<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    &mut memory[..needed]
}

fn hash_with(memory: &mut Vec<Block>, password: &str) -> StoreResult<PasswordHash> {
    let hashing = |e: argon2::password_hash::Error| StoreError::Hashing(e.to_string());
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(hashing)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let blocks = blocks_for(memory, &params);
    let output = Output::init_with(output_len, |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt_raw, out, &mut *blocks)
            .map_err(argon2::password_hash::Error::from)
    })
    .map_err(hashing)?;
    let phc = PhcHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(hashing)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// Recomputes the hash with the stored parameters and compares in constant time (`Output`'s
/// equality). `None` when the stored text is not an Argon2 hash we could have made.
fn verify_with(memory: &mut Vec<Block>, stored: &str, password: &str) -> Option<bool> {
    let parsed = PhcHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
        .ok()?;
    let params = Params::try_from(&parsed).ok()?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return None;
    }
    let expected = parsed.hash?;
    let mut salt_bytes = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt_bytes).ok()?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let blocks = blocks_for(memory, &params);
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut *blocks)
            .map_err(argon2::password_hash::Error::from)
    })
    .ok()?;
    Some(computed == expected)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(HasherLimits {
            workers: 1,
            queue: 4,
            sign_ins: SignInLimits::default(),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_pooled_hash_is_a_standard_argon2id_phc_string() {
        let hash = hasher().hash("correct horse").await.unwrap();
        let parsed = PhcHash::new(hash.as_str()).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"wrong horse", &parsed)
            .is_err());
    }

    #[tokio::test]
    async fn a_standard_hash_verifies_in_the_pool_and_a_wrong_password_does_not() {
        let salt = SaltString::generate(&mut OsRng);
        let standard = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let hasher = hasher();
        assert!(hasher
            .verify(standard.clone(), "correct horse")
            .await
            .unwrap());
        assert!(!hasher.verify(standard, "correct hors").await.unwrap());
        assert!(!hasher.verify("not a hash".into(), "x").await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_asking_for_more_memory_than_allowed_matches_nothing() {
        let greedy = "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0CVZwMMnbtWZEmoZh9Yc1MmQBmx2vV1QXrdVf8mWYq8";
        assert!(!hasher().verify(greedy.into(), "x").await.unwrap());
    }

    #[tokio::test]
    async fn past_the_queue_a_request_is_refused_as_busy() {
        // No worker takes jobs while the lock is held, so the queue of 4 fills up.
        let (jobs, receiver) = mpsc::sync_channel(4);
        let hasher = PasswordHasher { jobs };
        let mut waiting = Vec::new();
        for _ in 0..4 {
            let (reply, answer) = oneshot::channel();
            hasher
                .submit(Job::Hash {
                    password: "x".into(),
                    reply,
                })
                .unwrap();
            waiting.push(answer);
        }
        let refused = hasher.hash("one too many").await.err().unwrap();
        assert!(
            matches!(refused, StoreError::Domain(ref e) if e.kind == ErrorKind::Unavailable),
            "{refused:?}"
        );
        drop(receiver);
    }
}
