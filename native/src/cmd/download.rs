//! `squadkit download`: for the login node (compute nodes usually have no internet). Fetches a
//! model (config, weights, tokenizer files) and a dataset (the hub's parquet files) with the
//! `hf-hub` crate into a local directory that `squadkit train`/`predict` read.
//!
//! `HF_ENDPOINT` (a mirror) and `HF_HOME` (the cache) are honoured as hf-hub does; `HF_TOKEN`
//! (else the cached `huggingface-cli login` token) is sent as a bearer token for gated or
//! private repos. Files go through the HF cache (`HF_HOME/hub`, or `--cache-dir`) and are then
//! copied into `OUT/model/` and `OUT/dataset/` atomically. `OUT/download.json` records each
//! repo, revision, commit and every file's size and SHA-256: a second run with everything
//! present and intact makes no network access at all (`--force` checks the hub again).

use crate::error::{CliError, Result};
use crate::fsio;
use crate::model::weights::TOKENIZER_FILES;
use crate::train::checkpoint::sha256_hex;
use clap::Args;
use hf_hub::api::sync::{Api, ApiBuilder};
use hf_hub::{Repo, RepoType};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Fetch a model and/or a dataset from the Hugging Face hub into a local directory.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Model repo id (e.g. `FacebookAI/roberta-base` or `deepset/roberta-base-squad2`).
    #[arg(long, value_name = "REPO")]
    pub model: Option<String>,
    /// Dataset repo id (e.g. `rajpurkar/squad_v2`); its `.parquet` files are fetched.
    #[arg(long, value_name = "REPO")]
    pub dataset: Option<String>,
    /// Model revision (branch, tag or commit).
    #[arg(long, default_value = "main")]
    pub revision: String,
    /// Dataset revision (`refs/convert/parquet` for the hub's parquet conversion).
    #[arg(long, default_value = "main")]
    pub dataset_revision: String,
    /// Only dataset files whose path contains this (e.g. `validation`).
    #[arg(long, value_name = "TEXT")]
    pub dataset_filter: Option<String>,
    /// Where to put `model/`, `dataset/` and `download.json`.
    #[arg(long, default_value = "hf", alias = "out")]
    pub output_dir: PathBuf,
    /// The hf-hub cache [default: `HF_HOME/hub`, i.e. ~/.cache/huggingface/hub].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Ask the hub again even when every file is present and intact.
    #[arg(long)]
    pub force: bool,
}

/// `download.json`: what was fetched, to skip the network next time.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub repos: BTreeMap<String, RepoRecord>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RepoRecord {
    pub repo: String,
    pub revision: String,
    pub commit: String,
    pub files: BTreeMap<String, crate::train::checkpoint::FileSum>,
}

/// True when every file of `rec` is under `dir` with its size and SHA-256.
fn intact(dir: &Path, rec: &RepoRecord) -> bool {
    rec.files.iter().all(|(name, sum)| {
        std::fs::read(dir.join(name)).is_ok_and(|b| b.len() as u64 == sum.bytes && sha256_hex(&b) == sum.sha256)
    })
}

fn hub_err(what: &str, repo: &str, e: hf_hub::api::sync::ApiError) -> CliError {
    CliError::Internal(format!(
        "{what} {repo}: {e} (endpoint: {})",
        std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into())
    ))
}

fn api(args: &DownloadArgs) -> Result<Api> {
    let mut b = ApiBuilder::from_env().with_progress(std::io::stderr().is_terminal());
    if let Some(c) = &args.cache_dir {
        b = b.with_cache_dir(c.clone());
    }
    if let Ok(t) = std::env::var("HF_TOKEN") {
        if !t.trim().is_empty() {
            b = b.with_token(Some(t.trim().to_string()));
        }
    }
    b.build().map_err(|e| CliError::Internal(format!("cannot set up the hub client: {e}")))
}

/// A repo file name is safe to ask hf-hub for and to write under the output directory: a
/// relative path of plain names (no `..`, `.`, empty or absolute parts, no backslash or
/// control character). A hostile mirror's `../../x` would otherwise land outside the cache.
fn safe_repo_path(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 1024
        && !name.starts_with('/')
        && !name.chars().any(|c| c.is_control() || c == '\\')
        && name.split('/').all(|part| !part.is_empty() && part != "." && part != ".." && part.len() <= 255)
}

/// Why a repo has nothing squadkit can fetch (the caller names the repo).
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error(
        "lists a file named {0:?}, which is not a safe relative path: refusing the whole repo (is HF_ENDPOINT a trusted mirror?)"
    )]
    Unsafe(String),
    #[error("has no config.json: not a transformers model")]
    NoConfig,
    #[error("has neither model.safetensors nor pytorch_model.bin (sharded weights are not supported)")]
    NoWeights,
    #[error("has no .parquet files{} (try --dataset-revision refs/convert/parquet)", .filter.as_ref().map(|f| format!(" matching {f:?}")).unwrap_or_default())]
    NoParquet { filter: Option<String> },
}

/// Which files of a repo to fetch.
fn pick(kind: RepoType, siblings: &[String], filter: Option<&str>) -> std::result::Result<Vec<String>, PickError> {
    if let Some(bad) = siblings.iter().find(|s| !safe_repo_path(s)) {
        return Err(PickError::Unsafe(bad.clone()));
    }
    let has = |f: &str| siblings.iter().any(|s| s == f);
    match kind {
        RepoType::Model => {
            if !has("config.json") {
                return Err(PickError::NoConfig);
            }
            let mut files = vec!["config.json".to_string()];
            if has("model.safetensors") {
                files.push("model.safetensors".into());
            } else if has("pytorch_model.bin") {
                files.push("pytorch_model.bin".into());
            } else {
                return Err(PickError::NoWeights);
            }
            files.extend(TOKENIZER_FILES.iter().filter(|f| has(f)).map(|f| f.to_string()));
            Ok(files)
        }
        _ => {
            let files: Vec<String> =
                siblings.iter().filter(|s| s.ends_with(".parquet") && filter.is_none_or(|f| s.contains(f))).cloned().collect();
            if files.is_empty() {
                return Err(PickError::NoParquet { filter: filter.map(str::to_string) });
            }
            Ok(files)
        }
    }
}

/// Fetch one repo into `dir`; returns its record.
fn fetch(api: &Api, kind: RepoType, repo_id: &str, revision: &str, filter: Option<&str>, dir: &Path) -> Result<RepoRecord> {
    let what = if matches!(kind, RepoType::Model) { "model" } else { "dataset" };
    let repo = api.repo(Repo::with_revision(repo_id.to_string(), kind, revision.to_string()));
    let info = repo.info().map_err(|e| hub_err(&format!("cannot list {what}"), repo_id, e))?;
    let siblings: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
    let files = pick(kind, &siblings, filter).map_err(|m| CliError::Invalid(format!("{what} {repo_id}@{revision} {m}")))?;
    let mut rec = RepoRecord { repo: repo_id.into(), revision: revision.into(), commit: info.sha, files: BTreeMap::new() };
    // Filled beside `dir` and put in place whole: a failed fetch leaves no partial directory.
    let aside = crate::output::DirAside::new(dir)?;
    for f in &files {
        tracing::info!("fetching {what} {repo_id}: {f}");
        let cached = repo.download(f).map_err(|e| hub_err(&format!("cannot fetch {f} of {what}"), repo_id, e))?;
        let bytes = fsio::read(&cached)?;
        if f.ends_with(".parquet") && !(bytes.len() >= 8 && bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1")) {
            return Err(CliError::input(&cached, format!("{f} of {repo_id} is not a parquet file (no PAR1 magic)")));
        }
        crate::output::write_owned(&aside.path().join(f), &bytes)?;
        rec.files.insert(f.clone(), crate::train::checkpoint::FileSum { bytes: bytes.len() as u64, sha256: sha256_hex(&bytes) });
    }
    aside.commit()?;
    Ok(rec)
}

pub fn run(args: &DownloadArgs) -> Result<()> {
    if args.model.is_none() && args.dataset.is_none() {
        return Err(CliError::Invalid("nothing to download: give --model REPO and/or --dataset REPO".into()));
    }
    let record_path = args.output_dir.join("download.json");
    let mut record: Record = match std::fs::read(&record_path) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
            tracing::warn!("{}: unreadable ({e}); fetching again", record_path.display());
            Record::default()
        }),
        Err(_) => Record::default(),
    };
    let wanted: Vec<(RepoType, &str, &str, &str)> = [
        args.model.as_deref().map(|m| (RepoType::Model, "model", m, args.revision.as_str())),
        args.dataset.as_deref().map(|d| (RepoType::Dataset, "dataset", d, args.dataset_revision.as_str())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut client = None;
    for (kind, sub, repo, revision) in wanted {
        let dir = args.output_dir.join(sub);
        let filter = if matches!(kind, RepoType::Dataset) { args.dataset_filter.as_deref() } else { None };
        if let Some(rec) = record.repos.get(sub) {
            if !args.force && rec.repo == repo && rec.revision == revision && intact(&dir, rec) {
                tracing::info!(
                    "{sub} {repo}@{revision}: all {} files present and intact in {} (no network access)",
                    rec.files.len(),
                    dir.display()
                );
                continue;
            }
        }
        if client.is_none() {
            client = Some(api(args)?);
        }
        let rec = fetch(client.as_ref().expect("just built"), kind, repo, revision, filter, &dir)?;
        tracing::info!("{sub} {repo}@{revision} (commit {}): {} files in {}", rec.commit, rec.files.len(), dir.display());
        record.repos.insert(sub.to_string(), rec);
        let text = serde_json::to_string_pretty(&record).expect("a record serialises") + "\n";
        crate::output::write_owned(&record_path, text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_needs_config_and_weights_and_takes_the_tokenizer() {
        let s: Vec<String> = ["config.json", "model.safetensors", "pytorch_model.bin", "vocab.json", "merges.txt", "README.md"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pick(RepoType::Model, &s, None).unwrap(), ["config.json", "model.safetensors", "vocab.json", "merges.txt"]);
        assert!(pick(RepoType::Model, &s[1..], None).unwrap_err().to_string().contains("config.json"));
    }

    #[test]
    fn a_dataset_takes_its_parquet_files() {
        let s: Vec<String> = ["README.md", "squad_v2/train-00000-of-00001.parquet", "squad_v2/validation-00000-of-00001.parquet"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pick(RepoType::Dataset, &s, Some("validation")).unwrap(), ["squad_v2/validation-00000-of-00001.parquet"]);
        assert!(pick(RepoType::Dataset, &s[..1], None).unwrap_err().to_string().contains("parquet"));
    }

    #[test]
    fn a_hostile_listing_is_refused_whole() {
        for bad in
            ["../../x.parquet", "/etc/passwd.parquet", "a/../b.parquet", "a//b.parquet", "a\\..\\b.parquet", "x\n.parquet", ""]
        {
            let s = vec!["good/validation.parquet".to_string(), bad.to_string()];
            let e = pick(RepoType::Dataset, &s, None).unwrap_err().to_string();
            assert!(e.contains("not a safe relative path"), "{bad:?}: {e}");
        }
        assert!(safe_repo_path(".gitattributes") && safe_repo_path("plain_text/validation-00000-of-00001.parquet"));
    }
}
