//! `cgpt prioritize`: renumber the priorities of the participating partitions so that an
//! optional target comes first, the order of the rest is kept, and gaps close.
//! Pure logic: partition numbers and priorities in, new priorities out.

use super::Error;
use super::attrs::MAX_NIBBLE;
use alloc::vec::Vec;

/// What to prioritize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrioritizeRequest {
    /// The partition (1-based) to put on top, as `-i N`.
    pub target: Option<u32>,
    /// Move the target's whole starting group with it, as `-f`.
    pub friends: bool,
    /// The highest priority to hand out (1–15), as `-P`; by default the number of
    /// groups, capped at 15.
    pub max_priority: Option<u8>,
}

impl PrioritizeRequest {
    /// Checks `max_priority` before anything is read or written.
    pub fn validate(&self) -> Result<(), Error> {
        match self.max_priority {
            Some(max) if !(1..=MAX_NIBBLE).contains(&max) => {
                Err(Error::ValueOutOfRange { field: "maximum priority", value: max.into(), max: MAX_NIBBLE.into() })
            }
            _ if self.friends && self.target.is_none() => Err(Error::FriendsWithoutTarget),
            _ => Ok(()),
        }
    }
}

/// Runs `cgpt prioritize` on the participants `(number, priority)` and returns each
/// one's new priority, in the same order.
pub fn prioritize(slots: &[(u32, u8)], request: &PrioritizeRequest) -> Result<Vec<(u32, u8)>, Error> {
    let renumbering = Renumbering::new(slots.iter().copied(), request)?;
    Ok(slots.iter().map(|&(index, priority)| (index, renumbering.priority(index, priority))).collect())
}

/// The outcome of [`prioritize()`] as a rule, computed without allocation: every
/// participant's new priority follows from its number and its old priority.
#[derive(Debug, Clone, Copy)]
pub struct Renumbering {
    /// The target and the priority it (and its friends) get.
    target: Option<(u32, u8)>,
    /// With friends: the old priority whose whole group moves with the target.
    moved_group: Option<u8>,
    /// The new priority of each remaining group, by old priority (0: stays).
    by_old: [u8; MAX_NIBBLE as usize + 1],
}

impl Renumbering {
    /// Groups the participants by priority, moves the target's group (or the target
    /// alone) on top, drops group 0, and numbers the groups down from the maximum.
    pub fn new(slots: impl Iterator<Item = (u32, u8)> + Clone, request: &PrioritizeRequest) -> Result<Self, Error> {
        request.validate()?;
        let mut members = [0u32; MAX_NIBBLE as usize + 1];
        for (_, priority) in slots.clone() {
            let group = members.get_mut(usize::from(priority)).ok_or(Error::ValueOutOfRange {
                field: "priority",
                value: priority.into(),
                max: MAX_NIBBLE.into(),
            })?;
            *group += 1;
        }
        let mut moved_group = None;
        let target = match request.target {
            Some(target) => {
                let mut slots = slots;
                let (_, start) = slots.find(|(index, _)| *index == target).ok_or(Error::NotParticipating(target))?;
                if request.friends {
                    members[usize::from(start)] = 0;
                    moved_group = Some(start);
                } else {
                    members[usize::from(start)] -= 1;
                }
                Some(target)
            }
            None => None,
        };
        // Priority-0 partitions stay out of rotation unless they were moved above.
        members[0] = 0;
        let groups = members.iter().filter(|&&n| n > 0).count() + usize::from(target.is_some());
        let mut next = request.max_priority.unwrap_or_else(|| groups.min(MAX_NIBBLE.into()) as u8);
        let mut take = || {
            let this = next;
            // Never below 1: the lowest groups merge at 1.
            next = next.saturating_sub(1).max(1);
            this
        };
        let target = target.map(|index| (index, take()));
        let mut by_old = [0u8; MAX_NIBBLE as usize + 1];
        for old in (1..=MAX_NIBBLE as usize).rev().filter(|&old| members[old] > 0) {
            by_old[old] = take();
        }
        Ok(Renumbering { target, moved_group, by_old })
    }

    /// The new priority of participant `index`, which had `old`.
    pub fn priority(&self, index: u32, old: u8) -> u8 {
        match self.target {
            Some((target, top)) if target == index || self.moved_group == Some(old) => top,
            _ if old == 0 => 0,
            _ => self.by_old.get(usize::from(old)).copied().filter(|&p| p > 0).unwrap_or(old),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(slots: &[(u32, u8)], target: Option<u32>, friends: bool, max: Option<u8>) -> Vec<u8> {
        let request = PrioritizeRequest { target, friends, max_priority: max };
        prioritize(slots, &request).unwrap().into_iter().map(|(_, p)| p).collect()
    }

    // Each expectation below was observed with Debian's cgpt (vboot-utils R106) on
    // kernel-type partitions; the interop tests repeat them with random sequences.
    #[test]
    fn matches_cgpt_on_recorded_cases() {
        assert_eq!(run(&[(1, 0), (2, 2), (3, 2), (4, 2)], Some(4), false, None), [0, 1, 1, 2]);
        // The target's emptied group disappears rather than holding a number.
        assert_eq!(run(&[(1, 0), (2, 2), (3, 1), (4, 1)], Some(2), false, None), [0, 2, 1, 1]);
        assert_eq!(run(&[(1, 0), (2, 0), (3, 5), (4, 5)], Some(2), false, None), [0, 2, 1, 1]);
        // -f moves the target's whole group, even the priority-0 one.
        assert_eq!(run(&[(1, 0), (2, 0), (3, 5), (4, 5)], Some(2), true, None), [2, 2, 1, 1]);
        assert_eq!(run(&[(1, 0), (2, 0), (3, 0), (4, 0)], None, false, None), [0, 0, 0, 0]);
        assert_eq!(run(&[(1, 0), (2, 0), (3, 0), (4, 0)], Some(3), false, Some(15)), [0, 0, 15, 0]);
    }

    #[test]
    fn without_target_closes_gaps_and_keeps_order() {
        assert_eq!(run(&[(1, 9), (2, 3), (3, 0), (4, 3), (5, 12)], None, false, None), [2, 1, 0, 1, 3]);
    }

    #[test]
    fn low_groups_merge_at_one() {
        let slots: Vec<(u32, u8)> = (1..=6).map(|i| (i, i as u8)).collect();
        assert_eq!(run(&slots, Some(1), false, Some(3)), [3, 1, 1, 1, 1, 2]);
        let many: Vec<(u32, u8)> = (1..=16).map(|i| (i, (i - 1) as u8)).collect();
        let out = run(&many, Some(1), false, None);
        assert_eq!(out[0], 15, "16 groups start at 15, not 16");
        assert_eq!(out[1..3], [1, 1]);
    }

    #[test]
    fn bad_requests_are_refused() {
        let slots = [(1, 1), (2, 2)];
        for max in [0, 16] {
            let request = PrioritizeRequest { target: None, friends: false, max_priority: Some(max) };
            assert!(matches!(prioritize(&slots, &request), Err(Error::ValueOutOfRange { .. })));
        }
        let request = PrioritizeRequest { target: Some(7), ..Default::default() };
        assert!(matches!(prioritize(&slots, &request), Err(Error::NotParticipating(7))));
    }
}
