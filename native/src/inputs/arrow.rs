//! DATA from Arrow: the HF hub's parquet files and `datasets` `save_to_disk` directories.
//!
//! Both hold the flat squad_v2 columns `id, title, context, question, answers {text[],
//! answer_start[]}`; string columns may be `string` or `large_string` and `answer_start` any
//! integer type (they are cast). A `save_to_disk` directory holds Arrow IPC stream files listed
//! in `state.json` (`_data_files`), beside `dataset_info.json`; a `DatasetDict` directory
//! (`dataset_dict.json`) holds one such directory per split.

use crate::error::{CliError, Result};
use crate::fsio;
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Int64Type};
use squadkit_core::squad::{Answers, Dataset, FlatExample};
use std::path::Path;
use std::sync::Arc;

fn column<'a>(path: &Path, batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        let have: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
        CliError::input(path, format!("no `{name}` column (it has: {}); expected the squad_v2 columns", have.join(", ")))
    })
}

fn strings(path: &Path, name: &str, a: &ArrayRef) -> Result<Vec<String>> {
    let s = cast(a, &DataType::Utf8).map_err(|e| CliError::input(path, format!("column `{name}`: {e}")))?;
    let s = s.as_string::<i32>();
    Ok((0..s.len()).map(|i| if s.is_null(i) { String::new() } else { s.value(i).to_string() }).collect())
}

fn answers(path: &Path, a: &ArrayRef) -> Result<Vec<Answers>> {
    let bad = |m: String| CliError::input(path, format!("column `answers`: {m}"));
    let st =
        a.as_struct_opt().ok_or_else(|| bad(format!("is {}, expected a struct of text[] and answer_start[]", a.data_type())))?;
    let field = |name: &str| st.column_by_name(name).ok_or_else(|| bad(format!("has no `{name}` field")));
    let text = cast(field("text")?, &DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))))
        .map_err(|e| bad(e.to_string()))?;
    let start = cast(field("answer_start")?, &DataType::List(Arc::new(Field::new("item", DataType::Int64, true))))
        .map_err(|e| bad(e.to_string()))?;
    let (text, start) = (text.as_list::<i32>(), start.as_list::<i32>());
    let mut out = Vec::with_capacity(st.len());
    for i in 0..st.len() {
        if st.is_null(i) {
            out.push(Answers::default());
            continue;
        }
        let t = text.value(i);
        let t = t.as_string::<i32>();
        let s = start.value(i);
        let s = s.as_primitive::<Int64Type>();
        out.push(Answers {
            text: (0..t.len()).map(|k| t.value(k).to_string()).collect(),
            answer_start: (0..s.len()).map(|k| s.value(k)).collect(),
        });
    }
    Ok(out)
}

/// The squad_v2 columns of record batches, in order.
fn from_batches(path: &Path, batches: impl IntoIterator<Item = RecordBatch>) -> Result<Dataset> {
    let mut rows = Vec::new();
    for b in batches {
        let ids = strings(path, "id", column(path, &b, "id")?)?;
        let titles = match b.column_by_name("title") {
            Some(c) => strings(path, "title", c)?,
            None => vec![String::new(); b.num_rows()],
        };
        let contexts = strings(path, "context", column(path, &b, "context")?)?;
        let questions = strings(path, "question", column(path, &b, "question")?)?;
        let answers = answers(path, column(path, &b, "answers")?)?;
        for ((((id, title), context), question), answers) in ids.into_iter().zip(titles).zip(contexts).zip(questions).zip(answers)
        {
            rows.push(FlatExample { id, title, context, question, answers, plausible_answers: Answers::default() });
        }
    }
    Dataset::from_flat(rows).map_err(|e| CliError::input(path, e))
}

/// A parquet file (as on the HF hub: `squad_v2/validation-00000-of-00001.parquet`).
pub fn load_parquet(path: &Path) -> Result<Dataset> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).map_err(|e| CliError::input(path, format!("cannot read: {e}")))?;
    let bad = |e: String| CliError::input(path, format!("not a readable parquet file: {e}"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(e.to_string()))?
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let batches: Vec<RecordBatch> = reader.collect::<std::result::Result<_, _>>().map_err(|e| bad(e.to_string()))?;
    from_batches(path, batches)
}

/// One Arrow IPC file, stream format (what `datasets` writes) or file format.
pub fn load_arrow_file(path: &Path) -> Result<Dataset> {
    from_batches(path, read_arrow_batches(path)?)
}

fn read_arrow_batches(path: &Path) -> Result<Vec<RecordBatch>> {
    let bytes = fsio::read(path)?;
    let bad = |e: String| CliError::input(path, format!("not a readable Arrow IPC file: {e}"));
    let cursor = std::io::Cursor::new(bytes.as_slice());
    if bytes.starts_with(b"ARROW1") {
        let r = arrow::ipc::reader::FileReader::try_new(cursor, None).map_err(|e| bad(e.to_string()))?;
        r.collect::<std::result::Result<_, _>>().map_err(|e| bad(e.to_string()))
    } else {
        let r = arrow::ipc::reader::StreamReader::try_new(cursor, None).map_err(|e| bad(e.to_string()))?;
        r.collect::<std::result::Result<_, _>>().map_err(|e| bad(e.to_string()))
    }
}

/// A `datasets` `save_to_disk` directory of one split (`state.json` lists its Arrow files).
pub fn load_save_to_disk(dir: &Path) -> Result<Dataset> {
    let state_path = dir.join("state.json");
    if !state_path.exists() || !dir.join("dataset_info.json").exists() {
        return Err(CliError::input(dir, "not a `datasets` save_to_disk directory (no state.json and dataset_info.json)"));
    }
    let state: serde_json::Value = serde_json::from_slice(&fsio::read(&state_path)?)
        .map_err(|e| CliError::input(&state_path, format!("not valid JSON: {e}")))?;
    let files: Vec<&str> =
        state["_data_files"].as_array().map(|a| a.iter().filter_map(|f| f["filename"].as_str()).collect()).unwrap_or_default();
    if files.is_empty() {
        return Err(CliError::input(&state_path, "no `_data_files` listed"));
    }
    let mut batches = Vec::new();
    for f in files {
        batches.extend(read_arrow_batches(&dir.join(f))?);
    }
    from_batches(dir, batches)
}
