//! The billing clock: the system clock plus a replicated offset that only a test deployment
//! (`billing.test_clock`) may move forward, so a test can live through a month of renewals
//! in seconds and every node, a new leader included, agrees on the time.

use super::state;
use crate::api::Ctx;
use crate::error::ApiResult;
use crate::ids::now_unix;
use crate::raft::StoreError;
use crate::raft::tables::Reads;

/// Billing time on this node: Unix seconds.
pub fn now(ctx: &Ctx) -> ApiResult<u64> {
    ctx.read(now_in)
}

/// Billing time as read within a transaction.
pub fn now_in(tx: &impl Reads) -> Result<u64, StoreError> {
    Ok(now_unix().saturating_add(state::clock_offset(tx)?))
}
