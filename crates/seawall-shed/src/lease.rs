//! What holds the shedder: the layers, services and handles (an
//! [`Anchor`], which also keeps the health entry), and each call's slot (a
//! [`Lease`], lent from a spare its thread keeps when it can be, by the
//! rules of `seawall_core::spare`).
//!
//! A slot may outlive every service, so it must own a counted reference to
//! the shedder. Cloning that reference when a slot is taken and dropping it
//! when the slot is freed are two locked instructions per call; on hosts
//! where those are slow they are a large part of the shedder's hot path
//! (`docs/benchmarks.md`). So a freed slot leaves its reference in a
//! one-slot spare of its thread (`seawall_core::spare`), and the next slot
//! that thread takes from the same shedder takes the reference from there.
//!
//! A spare keeps its shedder's memory alive after everything else that
//! used it is gone, until its thread frees a slot of another shedder or
//! exits: at most one shedder per thread. It does not keep the shedder in
//! the health registry, whose entry only anchors hold. A reference that is
//! the shedder's last is dropped, not kept.

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use seawall_core::health::{Component, HealthRegistry, HealthReport, ReportHealth};
use seawall_core::spare::{self, Lend};

use crate::shared::Shared;

/// The shedder as a layer, a service or a handle holds it.
#[derive(Clone)]
pub(crate) struct Anchor {
    shared: Arc<Shared>,
    /// Held, never read: it keeps the shedder in the health registry.
    _entry: Option<Arc<Entry>>,
}

impl Anchor {
    /// Anchors `shared`, registering it in `health` as `component`.
    pub(crate) fn new(shared: Arc<Shared>, health: Option<(&HealthRegistry, Component)>) -> Self {
        let entry = health.map(|(registry, component)| {
            let entry = Arc::new(Entry {
                shared: shared.clone(),
            });
            registry.register(component, &entry);
            entry
        });
        Anchor {
            shared,
            _entry: entry,
        }
    }
}

impl fmt::Debug for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.shared, f)
    }
}

impl Deref for Anchor {
    type Target = Arc<Shared>;

    #[inline]
    fn deref(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// The shedder's entry in a health registry, which holds it weakly.
struct Entry {
    shared: Arc<Shared>,
}

impl ReportHealth for Entry {
    fn report(&self) -> HealthReport {
        self.shared.report()
    }
}

/// A slot's reference to its shedder.
pub(crate) type Lease = spare::Lease<Shared>;

std::thread_local! {
    static SPARE: Cell<Option<Arc<Shared>>> = const { Cell::new(None) };
}

impl Lend for Shared {
    #[inline]
    fn slot() -> Option<&'static spare::Slot<Self>> {
        Some(&SPARE)
    }
}
