//! The `RateLimit-Policy` and `RateLimit` fields of a `429`, written in the
//! structured-field syntax of draft-ietf-httpapi-ratelimit-headers (-08 to
//! -11).

use std::error::Error;

use http::{HeaderName, HeaderValue};
use seawall_core::rejection::{QuotaPolicy, RateLimited, Rejection};

/// The `RateLimit-Policy` response field: the quota that refused, as
/// `"<name>";q=<limit>;w=<window seconds>`.
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The `RateLimit` response field: what is left of the quota, as
/// `"<name>";r=0;t=<seconds until reset>` on a refusal.
pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The name written when a policy's own name has no printable ASCII left.
const FALLBACK_NAME: &str = "default";

/// The largest Integer a structured field may carry (RFC 8941, 3.3.1).
const MAX_SF_INTEGER: u64 = 999_999_999_999_999;

// FIXME: only refusals carry the fields. A governor's successful responses
// could say what is left (`r`, `t`) too, once the governor leaves its
// decision in the response's extensions for this crate to read.

/// The quota behind a governor's refusal: the first [`RateLimited`] in
/// `rejection` or its chain of sources, if it names its policy.
pub(crate) fn policy_of(rejection: &dyn Rejection) -> Option<&QuotaPolicy> {
    let mut next: Option<&(dyn Error + 'static)> = Some(rejection);
    while let Some(error) = next {
        if let Some(limited) = error.downcast_ref::<RateLimited>() {
            return limited.policy();
        }
        next = error.source();
    }
    None
}

/// The two field values for a refusal under `policy` whose quota comes
/// back in `reset_secs` (already rounded and capped like `Retry-After`).
pub(crate) fn fields(policy: &QuotaPolicy, reset_secs: u64) -> Option<(HeaderValue, HeaderValue)> {
    let mut name = String::with_capacity(policy.name().len() + 2);
    push_sf_string(&mut name, policy.name());

    let limit = policy.limit().min(MAX_SF_INTEGER);
    let window = policy.window();
    let window_secs = window
        .as_secs()
        .saturating_add(u64::from(window.subsec_nanos() > 0))
        .clamp(1, MAX_SF_INTEGER);
    let reset_secs = reset_secs.min(MAX_SF_INTEGER);

    let policy_field = format!("{name};q={limit};w={window_secs}");
    let limit_field = format!("{name};r=0;t={reset_secs}");
    // Only printable ASCII went in, which every header value may hold, so
    // this never fails; were it to, the fields are left out, not the 429.
    let policy_field = HeaderValue::try_from(policy_field).ok()?;
    let limit_field = HeaderValue::try_from(limit_field).ok()?;
    Some((policy_field, limit_field))
}

/// Writes `raw` as an sf-string: quoted, with `"` and `\` escaped, and any
/// character outside printable ASCII (which an sf-string cannot hold)
/// dropped. A name left empty becomes [`FALLBACK_NAME`], so a client always
/// has a policy to refer to.
fn push_sf_string(out: &mut String, raw: &str) {
    out.push('"');
    let start = out.len();
    for c in raw.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {}
        }
    }
    if out.len() == start {
        out.push_str(FALLBACK_NAME);
    }
    out.push('"');
}
