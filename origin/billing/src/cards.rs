//! The sandbox gateway's test cards: the local world takes no real card, only these numbers,
//! each standing for one thing a real card does. They are the numbers Stripe publishes for its
//! test mode, so a tester uses the same card in the sandbox and against Stripe.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Every charge succeeds.
    Succeeds,
    /// Every charge is declined.
    Declines(DeclineCode),
    /// Every charge first needs the holder to pass a 3-D Secure challenge page.
    RequiresChallenge,
    /// Saving the card works and the first charge succeeds; later charges (renewals) are
    /// declined: the way to test a failed renewal.
    DeclinesAfterFirst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineCode {
    CardDeclined,
    InsufficientFunds,
}

const TEST_CARDS: [(&str, Behaviour); 5] = [
    ("4242424242424242", Behaviour::Succeeds),
    (
        "4000000000000002",
        Behaviour::Declines(DeclineCode::CardDeclined),
    ),
    (
        "4000000000009995",
        Behaviour::Declines(DeclineCode::InsufficientFunds),
    ),
    ("4000002500003155", Behaviour::RequiresChallenge),
    ("4000000000000341", Behaviour::DeclinesAfterFirst),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("a card number has 12 to 19 digits (spaces and dashes allowed)")]
    BadLength,
    #[error("that card number has a typo: its check digit does not match")]
    BadCheckDigit,
    #[error("the sandbox takes only test cards, such as 4242 4242 4242 4242")]
    NotATestCard,
}

/// A card number as entered, checked and reduced to its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    pub fn parse(text: &str) -> Result<CardNumber, CardError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::BadLength);
        }
        if !luhn_valid(&digits) {
            return Err(CardError::BadCheckDigit);
        }
        Ok(CardNumber(digits))
    }

    /// What receipts and the account page show.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// What this card does in the sandbox.
    pub fn sandbox_behaviour(&self) -> Result<Behaviour, CardError> {
        TEST_CARDS
            .iter()
            .find(|(number, _)| *number == self.0)
            .map(|(_, behaviour)| *behaviour)
            .ok_or(CardError::NotATestCard)
    }
}

/// The Luhn check digit (ISO/IEC 7812): catches any single mistyped digit.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_card_passes_the_check_digit_and_does_its_one_thing() {
        for (number, behaviour) in TEST_CARDS {
            let card = CardNumber::parse(number).unwrap();
            assert_eq!(card.sandbox_behaviour(), Ok(behaviour));
        }
        let spaced = CardNumber::parse("4242 4242 4242 4242").unwrap();
        assert_eq!(spaced.last4(), "4242");
        assert_eq!(spaced.sandbox_behaviour(), Ok(Behaviour::Succeeds));
    }

    #[test]
    fn typos_and_real_cards_are_refused_with_a_reason() {
        assert_eq!(
            CardNumber::parse("4242 4242 4242 4241"),
            Err(CardError::BadCheckDigit)
        );
        assert_eq!(CardNumber::parse("4242"), Err(CardError::BadLength));
        assert_eq!(
            CardNumber::parse("4242-4242-4242-424x"),
            Err(CardError::BadLength)
        );
        // A valid number that is not a test card (passes Luhn).
        let other = CardNumber::parse("5555555555554444").unwrap();
        assert_eq!(other.sandbox_behaviour(), Err(CardError::NotATestCard));
    }
}
