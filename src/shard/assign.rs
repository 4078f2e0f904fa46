//! Which replica owns which shard: rendezvous (highest-random-weight) hashing with bounded
//! load. Every replica computes the same answer from the same set of live replicas, with no
//! coordination: each (shard, replica) pair gets a score from a stable hash, and pairs are
//! taken best score first while the replica has room (at most `ceil(shards / replicas)`).
//! Adding a replica moves about `1/replicas` of the shards, all to the new replica; removing
//! one moves only the shards it owned (and a few more where the load bound forces it).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::ShardCount;

fn score(shard: u32, member: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(shard.to_be_bytes());
    hasher.update(member.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The owner of every shard (index = shard) among `members` (replica identities, any order,
/// duplicates ignored); all `None` when there is no member.
pub fn assign(count: ShardCount, members: &[String]) -> Vec<Option<String>> {
    let shards = count.get();
    let mut members: Vec<&str> = members.iter().map(String::as_str).collect();
    members.sort_unstable();
    members.dedup();
    let mut owners: Vec<Option<String>> = vec![None; shards as usize];
    if members.is_empty() {
        return owners;
    }
    let capacity = (shards as usize).div_ceil(members.len());
    let mut pairs: Vec<(u64, u32, &str)> = (0..shards)
        .flat_map(|shard| members.iter().map(move |m| (score(shard, m), shard, *m)))
        .collect();
    // Best score first; ties (practically never) by shard, then member, so every replica
    // breaks them alike.
    pairs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    let mut left = shards as usize;
    for (_, shard, member) in pairs {
        if left == 0 {
            break;
        }
        let slot = &mut owners[shard as usize];
        let taken = load.entry(member).or_default();
        if slot.is_none() && *taken < capacity {
            *slot = Some(member.to_string());
            *taken += 1;
            left -= 1;
        }
    }
    owners
}

/// The shards `member` owns in `owners` (as [`assign`] returns them).
pub fn shards_of(owners: &[Option<String>], member: &str) -> Vec<u32> {
    owners
        .iter()
        .enumerate()
        .filter(|(_, owner)| owner.as_deref() == Some(member))
        .filter_map(|(shard, _)| u32::try_from(shard).ok())
        .collect()
}

#[cfg(test)]
#[path = "assign_tests.rs"]
mod tests;
