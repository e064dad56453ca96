//! The next-boot choice of Flatcar GRUB's `gptprio.next`. Pure logic.

use super::attrs::Attributes;

/// The slot gptprio boots: among `candidates` (partition number, attributes), in table
/// order, the highest priority among those with tries left or marked successful.
/// Priority 0 is never chosen and the lowest number wins a tie.
pub fn choose(candidates: impl IntoIterator<Item = (u32, Attributes)>) -> Option<(u32, Attributes)> {
    let mut best: Option<(u32, Attributes)> = None;
    for (index, word) in candidates {
        let to_beat = best.map_or(0, |(_, chosen)| chosen.priority());
        if word.is_bootable() && word.priority() > to_beat {
            best = Some((index, word));
        }
    }
    best
}

/// The word gptprio writes back for the chosen slot: one try used up, if any were left
/// (the successful bit is not looked at). `None` means nothing is written.
pub fn consume_try(word: Attributes) -> Option<Attributes> {
    let tries = word.tries().checked_sub(1)?;
    // Cannot fail: one below a valid 4-bit value.
    word.with_tries(tries).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(priority: u64, tries: u64, successful: u64) -> Attributes {
        Attributes(priority << 48 | tries << 52 | successful << 56)
    }

    #[test]
    fn highest_bootable_priority_wins_and_ties_go_to_the_lowest_number() {
        let slots = [(3, word(1, 0, 1)), (4, word(2, 1, 0)), (6, word(2, 0, 1))];
        assert_eq!(choose(slots).map(|(i, _)| i), Some(4));
        // A failed trial (P2 T0 S0) is skipped and the old good slot boots.
        let slots = [(3, word(1, 0, 1)), (4, word(2, 0, 0))];
        assert_eq!(choose(slots).map(|(i, _)| i), Some(3));
    }

    #[test]
    fn priority_zero_is_never_chosen() {
        assert_eq!(choose([(3, word(0, 15, 1)), (4, word(0, 0, 1))]), None);
        assert_eq!(choose([]), None);
    }

    #[test]
    fn a_try_is_used_even_on_a_successful_slot() {
        assert_eq!(consume_try(word(2, 1, 0)), Some(word(2, 0, 0)));
        assert_eq!(consume_try(word(1, 3, 1)), Some(word(1, 2, 1)));
        assert_eq!(consume_try(word(1, 0, 1)), None);
    }
}
