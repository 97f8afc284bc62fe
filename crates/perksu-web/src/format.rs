//! How amounts and times read on a page.

use perksu_domain::stats::PoolState;
use perksu_domain::Points;
use perksu_store::Timestamp;

/// An amount with its whole part grouped by thousands: `1,234,567.5`.
pub fn points(amount: Points) -> String {
    let text = amount.to_string();
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest.to_owned()),
        None => ("", text),
    };
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text.as_str(), None),
    };
    let mut grouped = String::with_capacity(text.len() + whole.len() / 3);
    for (position, digit) in whole.chars().enumerate() {
        if position > 0 && (whole.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A stored instant as `2026-02-04 10:15 UTC`.
pub fn when(at: &Timestamp) -> String {
    let text = at.as_str();
    match (text.get(..10), text.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => text.to_owned(),
    }
}

/// The short word shown in a pool's badge.
pub fn pool_state_label(state: PoolState) -> &'static str {
    match state {
        PoolState::Empty => "Empty",
        PoolState::Low => "Low",
        PoolState::Ready => "Ready",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(points(Points::from_whole(0)), "0");
        assert_eq!(points(Points::from_whole(999)), "999");
        assert_eq!(points(Points::from_whole(1500)), "1,500");
        assert_eq!(points(Points::from_whole(1234567)), "1,234,567");
        assert_eq!(points(Points::from_hundredths(123456)), "1,234.56");
    }
}
