//! Human-friendly references and unguessable ticket codes, from an alphabet without look-alikes
//! (no 0/O, 1/I/L), so they survive being read out at a door or typed from a printout.

use rand::Rng;

const ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

fn random_chars(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `TK-` and 8 characters: 31^8 ≈ 8.5e11 values; uniqueness is still enforced by the store.
pub fn booking_reference() -> String {
    format!("TK-{}", random_chars(8))
}

/// 20 characters in groups of five, ~99 bits of randomness: unguessable, and unique by index.
pub fn ticket_code() -> String {
    let raw = random_chars(20);
    format!(
        "{}-{}-{}-{}",
        &raw[0..5],
        &raw[5..10],
        &raw[10..15],
        &raw[15..20]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_use_only_unambiguous_characters() {
        for _ in 0..200 {
            let r = booking_reference();
            assert_eq!(r.len(), 11);
            assert!(r[3..].bytes().all(|b| ALPHABET.contains(&b)), "{r}");
        }
    }

    #[test]
    fn ticket_codes_do_not_repeat() {
        let codes: std::collections::HashSet<_> = (0..10_000).map(|_| ticket_code()).collect();
        assert_eq!(codes.len(), 10_000);
        assert!(codes.iter().all(|c| c.len() == 23));
    }
}
