//! The demo dataset embedded in the app and shown on first load (chosen by `build.rs`:
//! `examples/demo/` when it has a dataset and predictions, else `examples/tiny/`), with its
//! predictions and na_probs.

include!(concat!(env!("OUT_DIR"), "/demo.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_opens_and_scores() {
        let d = crate::load::dataset(NAME, DEV).unwrap();
        assert!(!d.is_empty());
        let gold = squadkit_core::GoldStandard::new(&d);
        let p = crate::load::predictions(
            "predictions.json",
            PREDICTIONS.expect("the demo has predictions"),
        )
        .unwrap();
        let run = crate::evaluate::Run::new(&gold, "predictions.json", p).unwrap();
        if let Some(na) = NA_PROBS {
            run.with_na_probs(
                &gold,
                "na_probs.json",
                crate::load::na_probs("na_probs.json", na).unwrap(),
            )
            .unwrap();
        }
    }
}
