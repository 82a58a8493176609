//! The happy path of the timeout and the bulkhead allocates nothing.
//!
//! A counting global allocator sees every allocation in this test binary.
//! Each stack is warmed up first (the first call may set up thread-locals or
//! metric handles), then a thousand calls must not allocate once.

#![allow(unsafe_code)] // only the counting allocator below

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use seawall_benches::{call_now, echo};
use tower::Layer;

struct Counting;

thread_local! {
    // Counted per thread, so the test harness's other threads cannot
    // disturb a measurement.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to the system allocator unchanged; the only
// addition is a thread-local counter, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's obligations pass straight through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's obligations pass straight through.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's obligations pass straight through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
}

/// Makes sure the counter really counts, so that a zero below means
/// something.
#[test]
fn the_counter_sees_an_allocation() {
    let n = allocations_during(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(n, 1);
}

#[test]
fn timeout_happy_path_does_not_allocate() {
    let runtime = runtime();
    let _context = runtime.enter();
    let mut service = seawall_timeout::TimeoutLayer::builder()
        .timeout(Duration::from_secs(30))
        .ready_timeout(Duration::from_secs(1))
        .build()
        .expect("a valid timeout")
        .layer(echo());
    call_now(&mut service, 0);

    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(call_now(&mut service, i), i);
        }
    });
    assert_eq!(n, 0, "allocations in 1,000 calls");
}

#[test]
fn bulkhead_happy_path_does_not_allocate() {
    let runtime = runtime();
    let _context = runtime.enter();
    let layer = seawall_bulkhead::BulkheadLayer::new(4);
    let handle = layer.handle();
    let mut service = layer.layer(echo());
    call_now(&mut service, 0);

    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(call_now(&mut service, i), i);
        }
    });
    assert_eq!(n, 0, "allocations in 1,000 calls");
    assert_eq!(handle.in_flight(), 0);
}

/// A refusal allocates (the boxed error): this pins down that the zero
/// above is the admitted path, and that the counter sees the bulkhead's
/// allocations at all.
#[test]
fn a_refusal_is_the_only_path_that_allocates() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    use tower::Service;

    let runtime = runtime();
    let _context = runtime.enter();
    let layer = seawall_bulkhead::BulkheadLayer::new(1);
    let mut first = layer.layer(echo());
    let mut second = layer.layer(echo());
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        first.poll_ready(&mut cx).is_ready(),
        "first takes the permit"
    );

    let n = allocations_during(|| {
        assert!(second.poll_ready(&mut cx).is_ready(), "the bulkhead sheds");
        let refused = std::pin::pin!(second.call(1)).poll(&mut cx);
        match refused {
            Poll::Ready(Err(e)) => assert!(e.is::<seawall_core::rejection::BulkheadFull>()),
            other => panic!("expected a refusal, got {other:?}"),
        }
    });
    assert!(n > 0);
}

/// The shed layer with its default, learned limit: admitting a call and
/// recording its latency sample allocate nothing.
#[test]
fn shed_happy_path_does_not_allocate() {
    let runtime = runtime();
    let _context = runtime.enter();
    let layer = seawall_shed::ShedLayer::builder()
        .name("alloc")
        .build()
        .expect("the default shed layer");
    let handle = layer.handle();
    let mut service = layer.layer(echo());
    call_now(&mut service, 0);

    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(call_now(&mut service, i), i);
        }
    });
    assert_eq!(n, 0, "allocations in 1,000 calls");
    assert_eq!(handle.in_flight(), 0);
    assert_eq!(handle.shed(), 0);
}
