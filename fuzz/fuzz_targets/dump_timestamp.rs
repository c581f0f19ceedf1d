//! Dump timestamps (`metadata.json` and the tables' `updated_at`): no panic, and a parsed time
//! shows as text that parses back to the same instant.
#![no_main]

use fetchkit_lister::{DumpTime, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(time) = DumpTime::parse(text) {
        let instant = time.timestamp();
        assert_eq!(DumpTime::parse(&time.to_string()).map(|again| again.timestamp()), Ok(instant));
    }
    if let Ok(instant) = Timestamp::parse(text) {
        let shown = instant.to_string();
        assert_eq!(Timestamp::parse(&shown), Ok(instant), "{text:?} shows as {shown:?}");
    }
});
