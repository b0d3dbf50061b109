#![no_main]

mod target {
    include!("../targets/layer.rs");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
