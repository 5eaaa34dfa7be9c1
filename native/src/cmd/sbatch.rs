//! `squadkit sbatch`: write (and with `--submit`, submit) a SLURM batch script for a training
//! run.
//!
//! The script asks SLURM for a warning signal before the time limit (`--signal=B:USR1@SECS`,
//! delivered to the batch shell), runs `squadkit train ... --resume` in the background and
//! forwards USR1/TERM/INT to it. squadkit then finishes its step, saves a checkpoint and exits
//! with [`EXIT_PREEMPTED`]; the script answers that status with `scontrol requeue`, and the
//! requeued job resumes from the newest valid checkpoint (`--resume`). Any other status is the
//! job's. Every job of the run shares one kernel cache (`--kernel-cache`, default
//! RUN/kernel-cache), so only the first compiles and tunes GPU kernels. `#SBATCH` lines can be overridden at submission by the same sbatch flags
//! (`--sbatch-arg=--mem=4G`), as sbatch itself allows.

use crate::error::EXIT_PREEMPTED;
use crate::error::{CliError, Result};
use crate::output::{self, Inputs, OutputSet};
use clap::Args;
use std::path::{Path, PathBuf};

/// Write a SLURM batch script for `squadkit train`, and optionally submit it.
#[derive(Debug, Args)]
pub struct SbatchArgs {
    /// The run directory (`squadkit train --output-dir`); the script and SLURM's log go there.
    #[arg(long, value_name = "RUN")]
    pub output_dir: PathBuf,
    /// Where to write the script [default: RUN/train.sbatch].
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// `--job-name`.
    #[arg(long, default_value = "squadkit-train")]
    pub job_name: String,
    /// `--nodes`: 1 (squadkit trains on the devices of one node; more is refused).
    #[arg(long, default_value_t = 1)]
    pub nodes: u32,
    /// `--gpus-per-node` (a count or TYPE:COUNT such as `a100:4`; 0 for a CPU job). With more
    /// than one, the job trains on all of them (`train --devices all`) unless the training
    /// arguments say `--devices`.
    #[arg(long, default_value = "1")]
    pub gpus_per_node: String,
    /// `--cpus-per-task`.
    #[arg(long, default_value_t = 8)]
    pub cpus_per_task: u32,
    /// `--mem` (per node).
    #[arg(long, default_value = "32G")]
    pub mem: String,
    /// `--time` (the time limit, as SLURM writes it).
    #[arg(long, default_value = "24:00:00")]
    pub time: String,
    /// `--partition`.
    #[arg(long)]
    pub partition: Option<String>,
    /// `--account`.
    #[arg(long)]
    pub account: Option<String>,
    /// `--mail-user`.
    #[arg(long)]
    pub mail_user: Option<String>,
    /// `--mail-type` (e.g. END,FAIL).
    #[arg(long)]
    pub mail_type: Option<String>,
    /// `--output` [default: RUN/slurm-%j.out].
    #[arg(long)]
    pub slurm_output: Option<String>,
    /// Environment modules to load (`module load M`), in order.
    #[arg(long = "module", value_name = "M")]
    pub modules: Vec<String>,
    /// An environment to activate: a venv directory, an `activate` script, or any file to source.
    #[arg(long, value_name = "PATH")]
    pub activate: Option<PathBuf>,
    /// Extra shell lines run before training (e.g. `export CUDA_CACHE_PATH=...`).
    #[arg(long = "setup", value_name = "LINE")]
    pub setup: Vec<String>,
    /// Seconds before the time limit at which SLURM sends USR1 (time to finish a step and save).
    #[arg(long, default_value_t = 300)]
    pub signal_seconds: u32,
    /// The kernel cache every job of the run shares (compiled GPU kernels and autotune results,
    /// one subdirectory per GPU model; `train --kernel-cache`): on a filesystem the compute
    /// nodes share, so a requeued job starts warm [default: RUN/kernel-cache].
    #[arg(long, value_name = "DIR")]
    pub kernel_cache: Option<PathBuf>,
    /// The squadkit binary the job runs [default: this one].
    #[arg(long)]
    pub squadkit: Option<PathBuf>,
    /// Submit the script with sbatch and print the job id.
    #[arg(long)]
    pub submit: bool,
    /// Extra flags for sbatch at submission (override the script's `#SBATCH` lines).
    #[arg(long = "sbatch-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// The arguments of `squadkit train` (after `--`); `--output-dir RUN` and `--resume` are added.
    #[arg(last = true, value_name = "TRAIN_ARGS")]
    pub train_args: Vec<String>,
}

/// Quote a word for bash (single quotes unless it is plainly safe).
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// SLURM's log file (absolute): `--slurm-output`, or `RUN/slurm-%j.out`.
fn slurm_output(args: &SbatchArgs) -> PathBuf {
    match &args.slurm_output {
        Some(o) => absolute(Path::new(o)),
        None => absolute(&args.output_dir).join("slurm-%j.out"),
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

/// A `#SBATCH` value: one line; double-quoted when it holds spaces (sbatch reads quoted
/// values in script lines), so it can hold no double quote.
fn sbatch_value(flag: &str, v: &str) -> Result<String> {
    if v.is_empty() || v.chars().any(|c| c.is_control() || c == '"') {
        return Err(CliError::Invalid(format!(
            "{flag} {v:?}: an #SBATCH value must be one line without double quotes (and not empty)"
        )));
    }
    Ok(if v.contains(char::is_whitespace) { format!("\"{v}\"") } else { v.to_string() })
}

/// SLURM's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`.
fn check_time(t: &str) -> Result<()> {
    let numbers = |s: &str, max_parts: usize| {
        let parts: Vec<&str> = s.split(':').collect();
        parts.len() <= max_parts && parts.iter().all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let ok = matches!(t, "UNLIMITED" | "INFINITE" | "unlimited" | "infinite")
        || match t.split_once('-') {
            Some((days, rest)) => numbers(days, 1) && numbers(rest, 3),
            None => numbers(t, 3),
        };
    if ok {
        Ok(())
    } else {
        Err(CliError::Invalid(format!(
            "--time {t:?} is not a SLURM time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED)"
        )))
    }
}

/// The batch script's text. Everything is checked first: each `#SBATCH` value (a newline would
/// end the block and run as a command), `--time`, and the training arguments (parsed as
/// `squadkit train` will parse them).
pub fn script(args: &SbatchArgs, squadkit: &Path) -> Result<String> {
    check(args)?;
    let cwd = std::env::current_dir().map_err(|e| CliError::Internal(format!("cannot read the current directory: {e}")))?;
    let mut s = header(args, &sbatch_value("the current directory", &cwd.display().to_string())?)?;
    s.push_str(&body(args, squadkit));
    Ok(s)
}

/// The GPUs `--gpus-per-node` asks for (`4`, `a100:4`), when it says a number.
fn gpu_count(gpus_per_node: &str) -> Option<u32> {
    gpus_per_node.rsplit(':').next()?.parse().ok()
}

/// The training command the job runs, as `squadkit train` will parse it.
fn train_command(args: &SbatchArgs) -> Vec<String> {
    let mut cmd = args.train_args.clone();
    let has_devices = cmd.iter().any(|a| a == "--devices" || a.starts_with("--devices="));
    if gpu_count(&args.gpus_per_node).is_some_and(|n| n > 1) && !has_devices {
        cmd.extend(["--devices".into(), "all".into()]);
    }
    let run = absolute(&args.output_dir);
    let cache = args.kernel_cache.as_deref().map(absolute).unwrap_or_else(|| run.join("kernel-cache"));
    cmd.extend(["--output-dir".into(), run.display().to_string(), "--resume".into()]);
    cmd.extend(["--kernel-cache".into(), cache.display().to_string()]);
    cmd
}

/// Every value the script will hold, checked before a line is written.
fn check(args: &SbatchArgs) -> Result<()> {
    for (name, v) in
        [("--job-name", &args.job_name), ("--mem", &args.mem), ("--time", &args.time), ("--gpus-per-node", &args.gpus_per_node)]
    {
        if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\'' || c == '"') {
            return Err(CliError::Invalid(format!("{name} {v:?}: must be one word without quotes")));
        }
    }
    check_time(&args.time)?;
    if args.nodes != 1 {
        return Err(CliError::Invalid(format!(
            "--nodes {}: squadkit trains on the devices of one node (--gpus-per-node N uses N GPUs there); \
             several nodes are not supported",
            args.nodes
        )));
    }
    for (flag, what) in [("--output-dir", "the run directory"), ("--kernel-cache", "the kernel cache")] {
        if args.train_args.iter().any(|a| a == flag || a.starts_with(&format!("{flag}="))) {
            return Err(CliError::Invalid(format!("give {what} as `squadkit sbatch {flag}`, not after `--`")));
        }
    }
    let train_cmd = std::iter::once("squadkit train".to_string()).chain(train_command(args));
    if let Err(e) = <crate::train::TrainCommand as clap::Parser>::try_parse_from(train_cmd) {
        let text = e.to_string();
        let what: Vec<&str> =
            text.lines().map(str::trim).take_while(|l| !l.starts_with("Usage:")).filter(|l| !l.is_empty()).collect();
        let first = what.join(" ").trim_start_matches("error: ").to_string();
        return Err(CliError::Invalid(format!("the training arguments after `--` are not valid for `squadkit train`: {first}")));
    }
    let line_checked = [
        ("--partition", &args.partition),
        ("--account", &args.account),
        ("--mail-user", &args.mail_user),
        ("--mail-type", &args.mail_type),
        ("--slurm-output", &args.slurm_output),
    ];
    for (flag, v) in line_checked {
        if let Some(v) = v {
            sbatch_value(flag, v)?;
        }
    }
    Ok(())
}

/// The `#SBATCH` block: resources, log, working directory, the preemption signal, requeue.
fn header(args: &SbatchArgs, chdir: &str) -> Result<String> {
    let mut s = String::from("#!/bin/bash\n");
    let mut sb = |k: &str, v: &str| s.push_str(&format!("#SBATCH --{k}={v}\n"));
    sb("job-name", &args.job_name);
    sb("nodes", &args.nodes.to_string());
    sb("ntasks-per-node", "1");
    if args.gpus_per_node != "0" {
        sb("gpus-per-node", &args.gpus_per_node);
    }
    sb("cpus-per-task", &args.cpus_per_task.to_string());
    sb("mem", &args.mem);
    sb("time", &args.time);
    for (k, v) in [
        ("partition", &args.partition),
        ("account", &args.account),
        ("mail-user", &args.mail_user),
        ("mail-type", &args.mail_type),
    ] {
        if let Some(v) = v {
            sb(k, &sbatch_value(k, v)?);
        }
    }
    sb("output", &sbatch_value("--slurm-output", &slurm_output(args).display().to_string())?);
    // Relative paths in the training arguments mean what they meant where the script was written.
    sb("chdir", chdir);
    sb("open-mode", "append");
    sb("signal", &format!("B:USR1@{}", args.signal_seconds));
    s.push_str("#SBATCH --requeue\n");
    s.push_str(&format!(
        "# Written by `squadkit sbatch` {}. On USR1/TERM/INT the training run saves a checkpoint and\n\
         # exits with status {EXIT_PREEMPTED}; this script then requeues the job, which resumes from it.\n\n",
        env!("CARGO_PKG_VERSION")
    ));
    Ok(s)
}

/// The job's shell: environment, the training run in the background with signals forwarded
/// to it, and a requeue when it stopped for preemption.
fn body(args: &SbatchArgs, squadkit: &Path) -> String {
    let mut s = String::from("set -uo pipefail\n");
    for m in &args.modules {
        s.push_str(&format!("module load {}\n", sh_quote(m)));
    }
    if let Some(a) = &args.activate {
        let a = absolute(a);
        let file = if a.is_dir() { a.join("bin/activate") } else { a };
        s.push_str(&format!("source {}\n", sh_quote(&file.display().to_string())));
    }
    for line in &args.setup {
        s.push_str(line);
        s.push('\n');
    }
    s.push_str("export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-$(nproc)}\"\n");
    s.push_str(
        "echo \"squadkit: job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -u +%FT%TZ)\"\n\n",
    );
    s.push_str("child=\nforward() {\n  echo \"squadkit: got SIG$1, asking the training run to checkpoint and stop\"\n  [ -n \"$child\" ] && kill -s \"$1\" \"$child\" 2>/dev/null\n}\n");
    s.push_str("trap 'forward USR1' USR1\ntrap 'forward TERM' TERM\ntrap 'forward INT' INT\n\n");
    let mut cmd = vec![sh_quote(&squadkit.display().to_string()), "train".into()];
    cmd.extend(train_command(args).iter().map(|a| sh_quote(a)));
    s.push_str(&cmd.join(" "));
    s.push_str(" &\nchild=$!\n");
    s.push_str(
        "# `wait` returns early when a trapped signal arrives: wait until the run has exited.\n\
         while true; do\n  wait \"$child\"\n  status=$?\n  kill -0 \"$child\" 2>/dev/null || break\ndone\n",
    );
    s.push_str(&format!(
        "if [ \"$status\" -eq {EXIT_PREEMPTED} ]; then\n  echo \"squadkit: checkpoint saved; requeueing job $SLURM_JOB_ID\"\n  \
         scontrol requeue \"$SLURM_JOB_ID\"\n  exit 0\nfi\n\
         echo \"squadkit: training exited with status $status\"\nexit \"$status\"\n"
    ));
    s
}

pub fn run(args: &SbatchArgs) -> Result<()> {
    let squadkit = match &args.squadkit {
        Some(p) => absolute(p),
        None => std::env::current_exe().map_err(|e| CliError::Internal(format!("cannot find this executable: {e}")))?,
    };
    let text = script(args, &squadkit)?;
    let path = args.script.clone().unwrap_or_else(|| args.output_dir.join("train.sbatch"));
    // SLURM does not create the log's directory: a job whose log cannot be opened fails
    // without a word.
    for dir in [absolute(&args.output_dir), slurm_output(args).parent().map(Path::to_path_buf).unwrap_or_default()] {
        std::fs::create_dir_all(&dir).map_err(|e| CliError::output(&dir, e))?;
    }
    let inputs = Inputs::none();
    let mut out = OutputSet::new(&inputs);
    out.script(&path, &text)?;
    out.commit()?;
    tracing::info!("wrote {}", path.display());
    if args.submit {
        let out = std::process::Command::new("sbatch")
            .arg("--parsable")
            .args(&args.sbatch_args)
            .arg(&path)
            .output()
            .map_err(|e| CliError::Internal(format!("cannot run sbatch ({e}): is this a SLURM login node?")))?;
        if !out.status.success() {
            return Err(CliError::Internal(format!(
                "sbatch rejected {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or("").to_string();
        output::println(&id)?;
        tracing::info!("submitted job {id}; SLURM's log: {}", slurm_output(args).display().to_string().replace("%j", &id));
    } else {
        output::println(path.display())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: SbatchArgs,
    }

    #[test]
    fn the_script_asks_for_the_signal_forwards_it_and_requeues() {
        let t = T::parse_from([
            "x",
            "--output-dir",
            "/runs/r1",
            "--account",
            "proj",
            "--module",
            "cuda/12.4",
            "--time",
            "02:00:00",
            "--",
            "--model",
            "my model",
            "--train-file",
            "data/train.json",
            "--num-train-epochs",
            "2",
        ]);
        let s = script(&t.a, Path::new("/opt/squadkit")).unwrap();
        for want in [
            "#SBATCH --signal=B:USR1@300\n",
            "#SBATCH --requeue\n",
            "#SBATCH --account=proj\n",
            "#SBATCH --gpus-per-node=1\n",
            "#SBATCH --time=02:00:00\n",
            "#SBATCH --output=/runs/r1/slurm-%j.out\n",
            "module load cuda/12.4\n",
            "trap 'forward USR1' USR1\n",
            "/opt/squadkit train --model 'my model' --train-file data/train.json --num-train-epochs 2 --output-dir /runs/r1 --resume \
             --kernel-cache /runs/r1/kernel-cache &\n",
            "if [ \"$status\" -eq 75 ]; then",
            "scontrol requeue \"$SLURM_JOB_ID\"",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
    }

    #[test]
    fn quoting_survives_the_shell() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("--lr=3e-5"), "--lr=3e-5");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn a_space_in_a_slurm_value_is_refused() {
        let t = T::parse_from(["x", "--output-dir", "r", "--mem", "4 G", "--", "--model", "m", "--train-file", "t.json"]);
        assert!(script(&t.a, Path::new("/s")).unwrap_err().to_string().contains("--mem"));
    }

    fn script_of(flags: &[&str]) -> Result<String> {
        let mut a = vec!["x"];
        a.extend_from_slice(flags);
        if !flags.contains(&"--") {
            a.extend(["--", "--model", "m", "--train-file", "t.json"]);
        }
        script(&T::parse_from(a).a, Path::new("/s"))
    }

    #[test]
    fn nothing_can_end_the_sbatch_block_or_escape_its_line() {
        for (flag, v) in [("--partition", "gpu\nrm -rf ~"), ("--mail-user", "a@b\r\necho x"), ("--account", "say \"hi\"")] {
            let e = script_of(&["--output-dir", "/r", flag, v]).unwrap_err().to_string();
            assert!(e.contains(flag) && e.contains("one line without double quotes"), "{e}");
        }
        let s = script_of(&["--output-dir", "/runs/my run", "--partition", "gpu"]).unwrap();
        assert!(s.contains("#SBATCH --output=\"/runs/my run/slurm-%j.out\"\n"), "{s}");
        assert!(s.contains("#SBATCH --chdir="), "{s}");
        let sbatch_lines: Vec<&str> = s.lines().take_while(|l| l.starts_with("#!") || l.starts_with("#SBATCH")).collect();
        assert!(sbatch_lines.iter().any(|l| l.starts_with("#SBATCH --requeue")), "the block reaches --requeue: {s}");
    }

    #[test]
    fn the_time_and_the_training_arguments_are_checked_before_writing() {
        for ok in ["30", "30:00", "02:00:00", "1-12", "1-12:30", "2-00:00:00", "UNLIMITED"] {
            script_of(&["--output-dir", "/r", "--time", ok]).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["2h", "1:2:3:4", "-5", "1-", "abc"] {
            let e = script_of(&["--output-dir", "/r", &format!("--time={bad}")]).unwrap_err().to_string();
            assert!(e.contains("is not a SLURM time limit"), "{bad}: {e}");
        }
        let e = script_of(&["--output-dir", "/r", "--", "--model", "m"]).unwrap_err().to_string();
        assert!(e.contains("not valid for `squadkit train`") && e.contains("--train-file"), "{e}");
        let e = script_of(&["--output-dir", "/r", "--", "--model", "m", "--train-file", "t", "--learning-rate", "NaN"]);
        assert!(e.unwrap_err().to_string().contains("--learning-rate"));
        let e = script_of(&["--output-dir", "/r", "--", "--model", "m", "--train-file", "t", "--kernel-cache=/c"]).unwrap_err();
        assert!(e.to_string().contains("give the kernel cache as `squadkit sbatch --kernel-cache`"), "{e}");
    }

    #[test]
    fn every_job_of_a_run_shares_one_kernel_cache() {
        let s = script_of(&["--output-dir", "/r", "--kernel-cache", "/shared/kc", "--", "--model", "m", "--train-file", "t"]);
        assert!(s.unwrap().contains("--resume --kernel-cache /shared/kc &\n"));
    }

    #[test]
    fn several_gpus_of_a_node_are_all_trained_on_and_several_nodes_are_refused() {
        let train = ["--", "--model", "m", "--train-file", "t"];
        let with = |flags: &[&str]| script_of(&[&["--output-dir", "/r"], flags, &train[..]].concat());
        let four = with(&["--gpus-per-node", "a100:4"]).unwrap();
        assert!(four.contains("#SBATCH --gpus-per-node=a100:4\n") && four.contains(" --devices all --output-dir /r"), "{four}");
        for one in ["1", "a100:1", "0"] {
            assert!(!with(&["--gpus-per-node", one]).unwrap().contains("--devices"), "{one}");
        }
        // The user's own list is kept.
        let own = script_of(&[
            "--output-dir",
            "/r",
            "--gpus-per-node",
            "4",
            "--",
            "--model",
            "m",
            "--train-file",
            "t",
            "--devices",
            "0,1",
        ]);
        assert!(own.unwrap().contains(" --devices 0,1 --output-dir"));
        let nodes = with(&["--nodes", "2"]).unwrap_err().to_string();
        assert!(nodes.contains("--nodes 2: squadkit trains on the devices of one node"), "{nodes}");
        // A bad list is refused before the script is written, as `train` would refuse it.
        let dup = script_of(&["--output-dir", "/r", "--", "--model", "m", "--train-file", "t", "--devices", "1,1"]);
        assert!(dup.unwrap_err().to_string().contains("device 1 is listed twice"));
    }
}
