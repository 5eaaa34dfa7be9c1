//! `squadkit predict`: answer questions with a trained model ([`crate::predict`]).

use crate::error::Result;
pub use crate::predict::PredictArgs;

pub fn run(args: &PredictArgs) -> Result<()> {
    let eval = crate::predict::predict(args)?;
    tracing::info!("wrote predictions.json, nbest_predictions.json, null_odds.json to {}", args.output_dir.display());
    if let Some(e) = eval {
        crate::output::println(e.to_json(false))?;
    }
    Ok(())
}
