//! Preemption signals: SIGTERM, SIGUSR1 (SLURM's warning before the time limit), SIGHUP (the
//! terminal or ssh session closed) and SIGINT set a flag that the training loop checks between steps; it then finishes the step, saves a
//! checkpoint and exits with [`crate::error::EXIT_PREEMPTED`], which the `squadkit sbatch` script turns into
//! a requeue. A second SIGINT (Ctrl-C twice) exits at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The signal that asked the run to stop, if any.
#[derive(Clone)]
pub struct StopFlag {
    signal: Arc<AtomicUsize>,
}

impl StopFlag {
    /// Install the handlers (once per process).
    pub fn install() -> std::io::Result<StopFlag> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
        let signal = Arc::new(AtomicUsize::new(0));
        // A second SIGINT while the first is pending terminates at once.
        let pending = Arc::new(std::sync::atomic::AtomicBool::new(false));
        signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&pending))?;
        signal_hook::flag::register(SIGINT, pending)?;
        for s in [SIGTERM, SIGUSR1, SIGINT, SIGHUP] {
            signal_hook::flag::register_usize(s, Arc::clone(&signal), s as usize)?;
        }
        Ok(StopFlag { signal })
    }

    /// A flag no signal sets (for library use and tests).
    pub fn never() -> StopFlag {
        StopFlag { signal: Arc::new(AtomicUsize::new(0)) }
    }

    /// The name of the signal received, if one was.
    pub fn received(&self) -> Option<&'static str> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s if s == SIGTERM as usize => Some("SIGTERM"),
            s if s == SIGUSR1 as usize => Some("SIGUSR1"),
            s if s == SIGINT as usize => Some("SIGINT"),
            s if s == SIGHUP as usize => Some("SIGHUP"),
            _ => Some("a signal"),
        }
    }

    /// Ask the run to stop as a signal would (tests, `--max-steps-this-run`).
    pub fn request(&self) {
        self.signal.store(signal_hook::consts::SIGUSR1 as usize, Ordering::SeqCst);
    }
}
