//! Reversing one allocation: how much of it can still be taken back, and what state it is in.
//!
//! An allocation is never edited. Its reversals are separate movements that point at it, so
//! its state is derived from three numbers: what was allocated, what its reversals already
//! took back, and what the tenant's pool holds now (points already spent are gone).

use crate::error::Error;
use crate::points::Points;

/// Where an allocation stands, derived from the sum of its reversals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocationStatus {
    /// Nothing of it has been reversed.
    Active,
    /// Some, not all, of it has been reversed.
    PartiallyReversed,
    /// All of it has been reversed.
    Reversed,
}

impl AllocationStatus {
    pub fn of(allocated: Points, reversed: Points) -> AllocationStatus {
        if reversed.is_zero() {
            AllocationStatus::Active
        } else if reversed < allocated {
            AllocationStatus::PartiallyReversed
        } else {
            AllocationStatus::Reversed
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            AllocationStatus::Active => "active",
            AllocationStatus::PartiallyReversed => "partially_reversed",
            AllocationStatus::Reversed => "reversed",
        }
    }
}

/// What a reversal may take back now: the part not yet reversed, but never more than the pool
/// holds, because points the tenant already spent cannot be returned from the pool.
pub fn reversible_amount(allocated: Points, reversed: Points, pool_balance: Points) -> Points {
    let remaining = allocated.checked_sub(reversed).unwrap_or(Points::ZERO);
    remaining.min(pool_balance)
}

/// The amount a reversal moves: `requested`, or everything reversible when absent; refused
/// when there is nothing to reverse or more is asked than can be.
pub fn reversal_amount(requested: Option<Points>, reversible: Points) -> Result<Points, Error> {
    if reversible.is_zero() {
        return Err(Error::invalid(
            "nothing_to_reverse",
            "Nothing of this allocation can be reversed: reversible amount is 0 (it is fully \
             reversed, or the tenant's pool is empty)",
        ));
    }
    match requested {
        None => Ok(reversible),
        Some(amount) if amount > reversible => Err(Error::invalid(
            "reversal_exceeds_reversible",
            format!(
                "Cannot reverse {amount}: the reversible amount of this allocation is \
                 {reversible} (the part not yet reversed that is still in the tenant's pool)"
            ),
        )),
        Some(amount) => Ok(amount),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(whole: i64) -> Points {
        Points::from_whole(whole)
    }

    #[test]
    fn the_status_follows_what_was_reversed() {
        assert_eq!(
            AllocationStatus::of(points(100), points(0)),
            AllocationStatus::Active
        );
        assert_eq!(
            AllocationStatus::of(points(100), points(40)),
            AllocationStatus::PartiallyReversed
        );
        assert_eq!(
            AllocationStatus::of(points(100), points(100)),
            AllocationStatus::Reversed
        );
    }

    #[test]
    fn the_reversible_amount_is_limited_by_what_is_left_and_by_the_pool() {
        assert_eq!(
            reversible_amount(points(100), points(30), points(500)),
            points(70)
        );
        assert_eq!(
            reversible_amount(points(100), points(30), points(20)),
            points(20)
        );
        assert_eq!(
            reversible_amount(points(100), points(100), points(500)),
            points(0)
        );
    }

    #[test]
    fn a_reversal_defaults_to_everything_reversible_and_never_exceeds_it() {
        assert_eq!(reversal_amount(None, points(70)), Ok(points(70)));
        assert_eq!(
            reversal_amount(Some(points(70)), points(70)),
            Ok(points(70))
        );
        let refused = reversal_amount(Some(points(71)), points(70)).expect_err("too much");
        assert_eq!(refused.code, "reversal_exceeds_reversible");
        assert!(refused.detail.contains("70"), "{}", refused.detail);
        let empty = reversal_amount(None, points(0)).expect_err("nothing left");
        assert_eq!(empty.code, "nothing_to_reverse");
    }
}
