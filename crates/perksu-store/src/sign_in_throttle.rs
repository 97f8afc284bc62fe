//! Sign-ins are throttled per account and per client address before any password is hashed:
//! each attempt costs an Argon2 computation, so a guesser would otherwise get both guesses and
//! the server's CPU for free. Unknown emails are throttled exactly like known ones, so the
//! throttle does not tell which accounts exist.
//!
//! Each limit is a GCRA bucket (`governor`): `burst` attempts at once, then one more every
//! `refill`. Time comes from the store's clock, so tests step over a refill instead of
//! sleeping. A refused attempt writes a `security_events` row once per episode: the first
//! refusal of a key writes it, and the key's later refusals until its wait is over do not.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;

/// How many sign-ins an account and an address may attempt.
#[derive(Clone, Copy, Debug)]
pub struct SignInLimits {
    pub account_burst: u32,
    pub account_refill: Duration,
    pub address_burst: u32,
    pub address_refill: Duration,
}

impl Default for SignInLimits {
    /// Ten attempts at an account, then one a minute: a person who mistypes a few times never
    /// meets it, a guesser gets 60 guesses an hour. An address may try 100 at once, then 10 a
    /// second: an office behind one NAT address signing in at 9 o'clock fits.
    fn default() -> SignInLimits {
        SignInLimits {
            account_burst: 10,
            account_refill: Duration::from_secs(60),
            address_burst: 100,
            address_refill: Duration::from_millis(100),
        }
    }
}

/// What was throttled, as the audit row names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Account,
    Address,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }
}

/// A refused attempt: how long to wait, and whether this refusal opens an episode (and so is
/// to be audited).
pub struct Throttled {
    pub scope: Scope,
    pub subject: String,
    pub retry_after_seconds: u64,
    pub first_of_episode: bool,
}

/// The store's clock, as governor reads time.
#[derive(Clone)]
struct StoreClock(Arc<dyn Clock>);

impl GovernorClock for StoreClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        (self.0.now() - DateTime::<Utc>::UNIX_EPOCH)
            .to_std()
            .unwrap_or_default()
    }
}

type Limiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, StoreClock, NoOpMiddleware<Duration>>;

/// One limit over one kind of key, and the keys now in a refused episode (until when).
struct Bucket<K: Hash + Eq + Clone> {
    limiter: Limiter<K>,
    episodes: Mutex<HashMap<K, Duration>>,
}

/// Past this many keys in episodes, finished ones are swept out before another is added.
const SWEEP_AT: usize = 10_000;

impl<K: Hash + Eq + Clone> Bucket<K> {
    fn new(burst: u32, refill: Duration, clock: &StoreClock) -> Bucket<K> {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(refill.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Bucket {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            episodes: Mutex::new(HashMap::new()),
        }
    }

    /// `None` when the attempt may go ahead; else the wait and whether an episode starts.
    fn check(&self, key: &K, now: Duration) -> Option<(u64, bool)> {
        let refused = self.limiter.check_key(key).err()?;
        let wait = refused.wait_time_from(now);
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() != 0);
        let mut episodes = self
            .episodes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let open = episodes.get(key).is_some_and(|until| *until > now);
        if !open {
            if episodes.len() >= SWEEP_AT {
                episodes.retain(|_, until| *until > now);
                self.limiter.retain_recent();
            }
            episodes.insert(key.clone(), now + wait);
        }
        Some((seconds.max(1), !open))
    }
}

pub struct SignInThrottle {
    clock: StoreClock,
    accounts: Bucket<String>,
    addresses: Bucket<IpAddr>,
}

impl SignInThrottle {
    pub fn new(limits: SignInLimits, clock: Arc<dyn Clock>) -> SignInThrottle {
        let clock = StoreClock(clock);
        SignInThrottle {
            accounts: Bucket::new(limits.account_burst, limits.account_refill, &clock),
            addresses: Bucket::new(limits.address_burst, limits.address_refill, &clock),
            clock,
        }
    }

    /// Counts one attempt at `email` (already normalised) from `address`; `Err` when either
    /// limit is spent. The address is checked first, so a refused address does not also spend
    /// the account's attempts.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), Throttled> {
        self.attempt_address(address)?;
        let now = self.clock.now();
        let email = email.to_owned();
        match self.accounts.check(&email, now) {
            None => Ok(()),
            Some((retry_after_seconds, first_of_episode)) => Err(Throttled {
                scope: Scope::Account,
                subject: email,
                retry_after_seconds,
                first_of_episode,
            }),
        }
    }

    /// Counts one attempt from `address` only: for requests that carry no account name (an
    /// invitation's set-password), which share the address's limit with sign-ins.
    pub fn attempt_address(&self, address: Option<IpAddr>) -> Result<(), Throttled> {
        let Some(address) = address else {
            return Ok(());
        };
        match self.addresses.check(&address, self.clock.now()) {
            None => Ok(()),
            Some((retry_after_seconds, first_of_episode)) => Err(Throttled {
                scope: Scope::Address,
                subject: address.to_string(),
                retry_after_seconds,
                first_of_episode,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    fn throttle(clock: &Arc<FixedClock>) -> SignInThrottle {
        let limits = SignInLimits {
            account_burst: 3,
            account_refill: Duration::from_secs(60),
            address_burst: 5,
            address_refill: Duration::from_secs(10),
        };
        SignInThrottle::new(limits, clock.clone())
    }

    #[test]
    fn an_account_past_its_burst_waits_for_one_refill_and_is_audited_once() {
        let clock = Arc::new(FixedClock::new(Utc::now()));
        let throttle = throttle(&clock);
        for _ in 0..3 {
            assert!(throttle.attempt("a@x.test", None).is_ok());
        }
        let Err(first) = throttle.attempt("a@x.test", None) else {
            panic!("the fourth attempt is refused");
        };
        assert_eq!(first.scope, Scope::Account);
        assert_eq!(first.retry_after_seconds, 60);
        assert!(first.first_of_episode);
        let Err(again) = throttle.attempt("a@x.test", None) else {
            panic!("still refused");
        };
        assert!(!again.first_of_episode, "one audit row per episode");
        assert!(
            throttle.attempt("b@x.test", None).is_ok(),
            "other accounts go on"
        );
        clock.set(clock.now() + chrono::Duration::seconds(60));
        assert!(
            throttle.attempt("a@x.test", None).is_ok(),
            "one refill later"
        );
    }

    #[test]
    fn an_address_past_its_burst_is_refused_for_every_account() {
        let clock = Arc::new(FixedClock::new(Utc::now()));
        let throttle = throttle(&clock);
        let address: IpAddr = "192.0.2.7".parse().expect("an address");
        for i in 0..5 {
            assert!(throttle
                .attempt(&format!("{i}@x.test"), Some(address))
                .is_ok());
        }
        let Err(refused) = throttle.attempt("new@x.test", Some(address)) else {
            panic!("the address is spent");
        };
        assert_eq!(refused.scope, Scope::Address);
        assert_eq!(refused.subject, "192.0.2.7");
        assert_eq!(refused.retry_after_seconds, 10);
        let elsewhere: IpAddr = "192.0.2.8".parse().expect("an address");
        assert!(throttle.attempt("new@x.test", Some(elsewhere)).is_ok());
    }
}
