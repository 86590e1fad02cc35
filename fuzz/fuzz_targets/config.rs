#![no_main]

use projectrestore_fuzz::fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::config(data));
