//! Random settings and random operations.

use std::time::Duration;

use proptest::prelude::*;
use seawall_breaker::BreakerConfig;

use crate::reference::{Action, Kind, Op, Rules, WindowRule};

pub(crate) fn rules() -> impl Strategy<Value = Rules> {
    let window = prop_oneof![
        (1usize..=8).prop_map(WindowRule::Count),
        (prop::sample::select(vec![100u64, 250, 1000]), 1u64..=4)
            .prop_map(|(tick_ms, buckets)| WindowRule::Time { tick_ms, buckets }),
    ];
    let rate = prop::option::of(prop::sample::select(vec![0.0, 0.25, 0.5, 0.75, 1.0]));
    let slow = prop::option::of(Just(500u64)).prop_flat_map(|slow_call_ms| {
        let slow_rate = if slow_call_ms.is_some() {
            prop::option::of(prop::sample::select(vec![0.5, 1.0])).boxed()
        } else {
            Just(None).boxed()
        };
        (Just(slow_call_ms), slow_rate)
    });
    (
        window,
        1u64..=6,
        rate,
        slow,
        prop::option::of(1u32..=4),
        prop::sample::select(vec![100u64, 1000]),
        prop::sample::select(vec![1u64, 4]),
        1u32..=4,
        prop::sample::select(vec![0.25, 0.5, 1.0]),
        prop::sample::select(vec![500u64, 5000]),
        prop::sample::select(vec![0u64, 2000]),
    )
        .prop_map(
            |(
                window,
                min,
                failure_rate,
                (slow_call_ms, slow_rate),
                consecutive,
                open_ms,
                cap,
                probes,
                ratio,
                timeout,
                retry,
            )| {
                let minimum_calls = match window {
                    WindowRule::Count(size) => min.min(size as u64),
                    WindowRule::Time { .. } => min,
                };
                Rules {
                    window,
                    minimum_calls,
                    failure_rate,
                    slow_call_ms,
                    slow_rate,
                    consecutive,
                    open_ms,
                    max_open_ms: open_ms * cap,
                    probes,
                    ratio,
                    half_open_timeout_ms: timeout,
                    max_retry_after_ms: retry,
                }
            },
        )
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    let kind = prop_oneof![
        4 => Just(Kind::Success),
        4 => Just(Kind::Failure),
        1 => Just(Kind::Ignored),
    ];
    let action = prop_oneof![
        Just(Action::ForceOpen),
        Just(Action::ForceClosed),
        Just(Action::Disable),
        Just(Action::MetricsOnly),
        Just(Action::Reset),
    ];
    prop_oneof![
        30 => Just(Op::Acquire),
        30 => (any::<usize>(), kind, prop::sample::select(vec![0u64, 200, 500, 600, 2000]))
            .prop_map(|(pick, outcome, elapsed_ms)| Op::Finish { pick, outcome, elapsed_ms }),
        8 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        20 => prop::sample::select(vec![0u64, 1, 99, 100, 250, 499, 500, 1000, 2000, 5000])
            .prop_map(|ms| Op::Advance { ms }),
        3 => (0u64..=3000).prop_map(|ms| Op::HoldOpen { ms }),
        2 => action.prop_map(Op::Operator),
    ]
}

pub(crate) fn build(rules: &Rules) -> BreakerConfig {
    let ms = Duration::from_millis;
    let builder = BreakerConfig::builder()
        .minimum_calls(rules.minimum_calls as u32)
        .failure_rate(rules.failure_rate)
        .slow_call_duration(rules.slow_call_ms.map(ms))
        .slow_call_rate(rules.slow_rate)
        .consecutive_failures(rules.consecutive)
        .open_duration(ms(rules.open_ms))
        .max_open_duration(ms(rules.max_open_ms))
        .open_backoff_multiplier(2.0)
        .half_open_probes(rules.probes)
        .half_open_success_ratio(rules.ratio)
        .half_open_timeout(ms(rules.half_open_timeout_ms))
        .max_retry_after(ms(rules.max_retry_after_ms));
    let builder = match rules.window {
        WindowRule::Count(size) => builder.count_window(size as u32),
        WindowRule::Time { tick_ms, buckets } => {
            builder.time_window(ms(tick_ms * buckets), buckets as u32)
        }
    };
    builder.build().expect("the strategy makes valid settings")
}
