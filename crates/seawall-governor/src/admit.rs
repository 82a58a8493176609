//! Admission across several quotas: a request either fits every quota it
//! is under, or spends none of them.
//!
//! Each quota is its own atomic word, so the words cannot change together.
//! Admission therefore looks first and writes second: it reads every
//! quota to find when all of them allow the request (refusing, with
//! nothing written, if that is later than the plan allows), then counts
//! the request on each quota in turn, at that one slot. If a quota no
//! longer allows the slot by the time it is written, another request won
//! a race for it: the quotas already written are given back and admission
//! starts over.
//!
//! A give-back restores a word only if no other request was counted on
//! it since (see [`Gcra::release`]); in the nanoseconds such a race lasts
//! that is nearly always so, and otherwise the earlier quota keeps the
//! token. So a race can spend a token that was not used, and no quota
//! ever admits more than it allows.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::gcra::{Gcra, Grant, Plan};

/// The most quotas one request can be under: a per-key quota and four
/// global ones.
pub(crate) const MAX_QUOTAS: usize = 5;

/// An admission on several quotas, at one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grants {
    pub(crate) slot: u64,
    prev: [u64; MAX_QUOTAS],
}

/// A refusal: the wait until every quota allows the request, and the
/// position of the quota that needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) wait: u64,
    pub(crate) quota: usize,
}

impl Grants {
    pub(crate) fn single(grant: Grant) -> Self {
        let mut prev = [0; MAX_QUOTAS];
        prev[0] = grant.prev;
        Grants {
            slot: grant.slot,
            prev,
        }
    }

    fn grant(&self, index: usize) -> Grant {
        Grant {
            slot: self.slot,
            prev: self.prev[index],
        }
    }
}

/// Admits a request on every quota of `quotas` at `now`, waiting at most
/// `plan.max_wait`.
pub(crate) fn admit<'a, I>(quotas: I, now: u64, plan: &Plan) -> Result<Grants, Refusal>
where
    I: Iterator<Item = (&'a Gcra, &'a AtomicU64)> + Clone,
{
    loop {
        // First, the latest moment any quota allows the request.
        let mut wait = 0;
        let mut binding = 0;
        for (index, (gcra, tat)) in quotas.clone().enumerate() {
            let needed = gcra.wait(tat.load(Relaxed), now);
            if needed > wait {
                wait = needed;
                binding = index;
            }
        }
        if wait > plan.max_wait {
            return Err(Refusal {
                wait,
                quota: binding,
            });
        }

        // Then count it on each quota at one slot, so that no quota sees
        // the request earlier than it is sent.
        let slot = plan.slot(now, wait);
        let mut grants = Grants {
            slot,
            prev: [0; MAX_QUOTAS],
        };
        let mut lost = false;
        for (index, (gcra, tat)) in quotas.clone().enumerate() {
            match gcra.commit(tat, slot) {
                Some(grant) => grants.prev[index] = grant.prev,
                None => {
                    release(quotas.clone().take(index), &grants);
                    lost = true;
                    break;
                }
            }
        }
        if !lost {
            return Ok(grants);
        }
    }
}

/// Gives back an unused admission on `quotas`, the same quotas in the same
/// order as it was made on.
pub(crate) fn release<'a, I>(quotas: I, grants: &Grants)
where
    I: Iterator<Item = (&'a Gcra, &'a AtomicU64)>,
{
    for (index, (gcra, tat)) in quotas.enumerate() {
        gcra.release(tat, grants.grant(index));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::Quota;

    #[test]
    fn a_refusal_by_one_quota_spends_none() {
        let loose = Gcra::new(&Quota::per_second(100), "loose").unwrap();
        let tight = Gcra::new(&Quota::per_second(1), "tight").unwrap();
        let (a, b) = (AtomicU64::new(0), AtomicU64::new(0));
        let quotas = [(&loose, &a), (&tight, &b)];

        admit(quotas.into_iter(), 0, &Plan::SHED).unwrap();
        let before = (a.load(Relaxed), b.load(Relaxed));
        let refusal = admit(quotas.into_iter(), 0, &Plan::SHED).unwrap_err();
        assert_eq!(refusal.quota, 1);
        assert_eq!(refusal.wait, 1_000_000_000);
        assert_eq!((a.load(Relaxed), b.load(Relaxed)), before);
    }

    #[test]
    fn a_wait_counts_every_quota_at_the_latest_slot() {
        let loose = Gcra::new(&Quota::per_second(100), "loose").unwrap();
        let tight = Gcra::new(&Quota::per_second(1), "tight").unwrap();
        let (a, b) = (AtomicU64::new(0), AtomicU64::new(1_000_000_000));
        let quotas = [(&loose, &a), (&tight, &b)];
        let plan = Plan {
            max_wait: 2_000_000_000,
            jitter: 0,
            random: 0,
        };
        let grants = admit(quotas.into_iter(), 0, &plan).unwrap();
        assert_eq!(grants.slot, 1_000_000_000);
        assert_eq!(a.load(Relaxed), 1_010_000_000, "counted at the slot");

        release(quotas.into_iter(), &grants);
        assert_eq!((a.load(Relaxed), b.load(Relaxed)), (0, 1_000_000_000));
    }
}
