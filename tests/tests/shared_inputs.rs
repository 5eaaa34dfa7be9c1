//! The goldens made from `../shared/data` were made from the shared files as they are now: each
//! records the SHA-256 of the files its generator read, and a changed file (the dev set was
//! corrected once) fails here with the generator to rerun, instead of as a puzzling mismatch
//! deep in a parity test.

use squadkit_tests::{check_golden_inputs, sha256_hex, shared_data_or_skip, SHARED_GOLDENS};

#[test]
fn goldens_were_generated_from_the_current_shared_data() {
    let Some(shared) = shared_data_or_skip("goldens_were_generated_from_the_current_shared_data") else { return };
    for (golden, _) in SHARED_GOLDENS {
        let g = check_golden_inputs(&shared, golden);
        assert!(g["inputs"].as_object().unwrap().contains_key("dev-v2.0.json"), "{golden} records the dev set");
    }
}

#[test]
fn a_changed_shared_file_is_refused_with_the_generator_to_rerun() {
    let Some(shared) = shared_data_or_skip("a_changed_shared_file_is_refused_with_the_generator_to_rerun") else { return };
    // A copy of the shared data with one byte of the dev set changed.
    let tmp = tempfile::tempdir().unwrap();
    let mut dev = std::fs::read(shared.join("dev-v2.0.json")).unwrap();
    let at = dev.iter().position(|&b| b == b'O').unwrap();
    dev[at] = b'o';
    std::fs::write(tmp.path().join("dev-v2.0.json"), &dev).unwrap();
    std::fs::create_dir_all(tmp.path().join("roberta-base")).unwrap();
    std::fs::create_dir_all(tmp.path().join("predictions")).unwrap();
    for rel in ["roberta-base/tokenizer.json", "predictions/bert-single-google-v2.0-dev.json"] {
        std::fs::copy(shared.join(rel), tmp.path().join(rel)).unwrap();
    }
    assert_ne!(sha256_hex(&tmp.path().join("dev-v2.0.json")), sha256_hex(&shared.join("dev-v2.0.json")));
    for (golden, generator) in SHARED_GOLDENS {
        let dir = tmp.path().to_path_buf();
        let err = std::panic::catch_unwind(|| check_golden_inputs(&dir, golden)).expect_err("a changed dev set is refused");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("dev-v2.0.json") && msg.contains(generator), "{golden}: {msg}");
    }
}
