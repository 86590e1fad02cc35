#![no_main]

use projectrestore_fuzz::fuzzing;

libfuzzer_sys::fuzz_target!(
    init: projectrestore_fuzz::init(),
    |data: &[u8]| fuzzing::sandbox_records(data));
