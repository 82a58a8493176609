//! Walking a forwarding header's entries from the right, within a byte
//! budget, without allocating.

use std::ops::ControlFlow;

use http::{HeaderMap, HeaderName};

use super::node::{self, Hop};

/// How a header's entries are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// `X-Forwarded-For`: a comma-separated list of nodes.
    List,
    /// RFC 7239 `Forwarded`: comma-separated elements of `;`-separated
    /// pairs, the node in `for`.
    Forwarded,
}

/// Why a walk ended without the visitor stopping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Every entry was visited.
    Exhausted,
    /// The byte budget ran out before the leftmost entry.
    Budget,
}

/// Calls `visit` with each entry of every `name` header line, the last
/// line's last entry first, until `visit` breaks or `max_bytes` of header
/// value have been looked at.
///
/// Splitting is on every comma (and, in `Forwarded`, every semicolon),
/// even inside a quoted string. No node a proxy writes holds either, and a
/// quote-aware split would let a client's unterminated `"` swallow the
/// entries proxies append after it. Empty elements are skipped, as HTTP's
/// list syntax asks.
pub(crate) fn from_right<T>(
    headers: &HeaderMap,
    name: &HeaderName,
    syntax: Syntax,
    max_bytes: usize,
    mut visit: impl FnMut(Hop) -> ControlFlow<T>,
) -> ControlFlow<T, End> {
    let mut budget = max_bytes;
    for value in headers.get_all(name).iter().rev() {
        let bytes = value.as_bytes();
        let over_budget = bytes.len() > budget;
        let window = if over_budget {
            // The tail's first piece is likely the end of a longer entry:
            // only what follows its first comma is whole.
            let tail = &bytes[bytes.len() - budget..];
            match tail.iter().position(|&b| b == b',') {
                Some(comma) => &tail[comma + 1..],
                None => &[],
            }
        } else {
            bytes
        };
        budget -= bytes.len().min(budget);

        for piece in window.rsplit(|&b| b == b',') {
            let piece = node::trim_ows(piece);
            if piece.is_empty() {
                continue;
            }
            let hop = match syntax {
                Syntax::List => node::parse_node(piece),
                Syntax::Forwarded => node::forwarded_for(piece),
            };
            visit(hop)?;
        }
        if over_budget {
            return ControlFlow::Continue(End::Budget);
        }
    }
    ControlFlow::Continue(End::Exhausted)
}
