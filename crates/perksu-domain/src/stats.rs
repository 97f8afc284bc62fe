//! The tenant manager's view of the pool: empty, low or ready.

use crate::points::Points;

/// How the pool stands against its low-balance threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolState {
    Empty,
    Low,
    Ready,
}

impl PoolState {
    pub fn of(balance: Points, low_threshold: Points) -> PoolState {
        if balance.is_zero() {
            PoolState::Empty
        } else if balance < low_threshold {
            PoolState::Low
        } else {
            PoolState::Ready
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            PoolState::Empty => "empty",
            PoolState::Low => "low",
            PoolState::Ready => "ready",
        }
    }

    /// The sentence shown on the manager's pool card.
    pub fn message(self, balance: Points, label: &str) -> String {
        match self {
            PoolState::Empty => format!(
                "Your company's allocation pool is empty. Ask the platform administrator to allocate {label}."
            ),
            PoolState::Low => format!(
                "Your company's allocation pool is running low: {balance} {label} left to distribute."
            ),
            PoolState::Ready => {
                format!("Your company's allocation pool is ready: {balance} {label} available to distribute.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_follows_the_threshold() {
        let threshold = Points::from_whole(1000);
        assert_eq!(PoolState::of(Points::ZERO, threshold), PoolState::Empty);
        assert_eq!(
            PoolState::of(Points::from_whole(999), threshold),
            PoolState::Low
        );
        assert_eq!(
            PoolState::of(Points::from_whole(1000), threshold),
            PoolState::Ready
        );
    }
}
