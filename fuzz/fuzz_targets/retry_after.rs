//! `parse_retry_after` on arbitrary text: never panics, and delay seconds always parse.

#![no_main]

use std::time::{Duration, SystemTime};

use fetchkit_retry::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    // A fixed `now` (2023-11-14T22:13:20Z) keeps every run reproducible.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let parsed = parse_retry_after(value, now);

    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        let Some(delay) = parsed else {
            panic!("delay seconds {value:?} gave None");
        };
        // Delay seconds mean exactly that many seconds, when they fit in a u64.
        if let Ok(seconds) = value.parse::<u64>() {
            assert_eq!(
                delay,
                Duration::from_secs(seconds),
                "delay seconds {value:?}"
            );
        }
    }
});
