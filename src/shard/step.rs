//! One shard's step in a round: take it when it is ours and free, renew it while held, stop
//! its syncs when another replica holds it or no renewal succeeded within the deadline, and
//! hand it over (drain, grace, cancel, release) when the assignment moved it.

use k8s_openapi::api::coordination::v1::Lease;
use tokio::time::Instant;

use super::manager::ShardManager;
use super::shard_lease_name;
use crate::cancel::StopReason;
use crate::cluster::leader::Verdict;
/// Where this replica stands with one shard.
#[derive(Debug, Clone)]
pub(super) enum Holding {
    /// Not held.
    No,
    /// Held and synced here; last renewed at the instant.
    Yes { renewed: Instant },
    /// Held, but assigned to `to`: no new syncs; released once running ones stop.
    HandingOver {
        renewed: Instant,
        since: Instant,
        to: String,
        cancelled: bool,
    },
}

impl ShardManager {
    /// One shard's step of a round.
    pub(super) async fn step(
        &mut self,
        shard: u32,
        lease: Option<&Lease>,
        assigned: Option<String>,
        now: Instant,
    ) {
        let name = shard_lease_name(shard);
        let verdict = self.verdict(&name, lease, now);
        let ours = assigned.as_deref() == Some(self.identity.as_str());
        let index = shard as usize;
        if let Verdict::HeldBy(holder) = &verdict {
            if !matches!(self.holding[index], Holding::No) {
                tracing::warn!(shard, %holder, "shard taken by another replica: stopping its syncs");
                self.seats[index].cancel(StopReason::ShardLost {
                    shard,
                    detail: format!("the lease is now held by {holder}"),
                });
                self.holding[index] = Holding::No;
            }
            return;
        }
        match self.holding[index].clone() {
            Holding::No => {
                if ours {
                    match self.write_lease(&name, "shard", lease).await {
                        Ok(true) => {
                            tracing::info!(shard, identity = %self.identity, "took shard");
                            self.holding[index] = Holding::Yes { renewed: now };
                            self.seats[index].grant();
                        }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(shard, error = %e, "could not take shard"),
                    }
                }
            }
            Holding::Yes { renewed } => {
                let renewed = self.renew(&name, lease, renewed, now).await;
                self.holding[index] = match assigned {
                    Some(to) if to != self.identity => {
                        tracing::info!(shard, %to, "shard moves to another replica: finishing its running syncs");
                        self.seats[index].drain();
                        Holding::HandingOver {
                            renewed,
                            since: now,
                            to,
                            cancelled: false,
                        }
                    }
                    _ => Holding::Yes { renewed },
                };
            }
            Holding::HandingOver {
                renewed,
                since,
                to,
                cancelled,
            } => {
                if ours {
                    self.seats[index].grant();
                    let renewed = self.renew(&name, lease, renewed, now).await;
                    self.holding[index] = Holding::Yes { renewed };
                    return;
                }
                if self.seats[index].running() == 0 {
                    self.seats[index].cancel(StopReason::ShardHandedOver {
                        shard,
                        to: to.clone(),
                    });
                    self.release(&name, lease).await;
                    tracing::info!(shard, %to, "handed shard over");
                    self.holding[index] = Holding::No;
                    return;
                }
                let renewed = self.renew(&name, lease, renewed, now).await;
                let cancel_now = !cancelled
                    && now.saturating_duration_since(since) >= self.timings.handover_grace;
                if cancel_now {
                    tracing::warn!(shard, %to, "hand-over grace ran out: stopping the shard's running syncs");
                    self.seats[index].cancel(StopReason::ShardHandedOver {
                        shard,
                        to: to.clone(),
                    });
                }
                self.holding[index] = Holding::HandingOver {
                    renewed,
                    since,
                    to,
                    cancelled: cancelled || cancel_now,
                };
            }
        }
    }

    /// Renews a held shard Lease; returns when it was last renewed.
    async fn renew(
        &mut self,
        name: &str,
        lease: Option<&Lease>,
        renewed: Instant,
        now: Instant,
    ) -> Instant {
        match self.write_lease(name, "shard", lease).await {
            Ok(true) => now,
            Ok(false) => renewed,
            Err(e) => {
                tracing::warn!(lease = %name, error = %e, "renewing a shard lease failed; retrying");
                renewed
            }
        }
    }

    /// Stops the syncs of every held shard not renewed within the renew deadline: another
    /// replica may take it once the lease duration passes, which is later.
    pub(super) fn enforce_deadlines(&mut self, now: Instant) {
        let deadline = self.timings.renew_deadline;
        for (index, holding) in self.holding.iter_mut().enumerate() {
            let renewed = match holding {
                Holding::Yes { renewed } | Holding::HandingOver { renewed, .. } => *renewed,
                Holding::No => continue,
            };
            if now.saturating_duration_since(renewed) < deadline {
                continue;
            }
            let shard = u32::try_from(index).unwrap_or(u32::MAX);
            tracing::warn!(
                shard,
                "no renewal of the shard lease succeeded in time: stopping its syncs"
            );
            self.seats[index].cancel(StopReason::ShardLost {
                shard,
                detail: format!("no renewal succeeded within {}s", deadline.as_secs()),
            });
            *holding = Holding::No;
        }
    }
}
