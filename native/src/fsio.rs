//! Reading inputs with errors that name the file, and writing outputs atomically.
//!
//! Every output goes to a temporary file in the destination's directory and is renamed over
//! the destination only when complete: an interrupted or failed run leaves nothing
//! half-written. [`write_atomic`] also syncs the file before the rename (models, caches,
//! configs survive a power loss); [`write_atomic_text`], for large derived text that a rerun
//! recreates (predictions, n-best lists), does not, as Python's `json.dump` does not.
//! Large inputs (feature caches, logits) can be mapped instead of read, and large text
//! outputs streamed, so that neither needs a second copy in fresh memory.

use crate::error::{CliError, Result};
use squadkit_core::json::JsonError;
use std::io::Write;
use std::path::Path;

/// Read a whole file; the error names it.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError::input(path, format!("cannot read: {e}")))
}

/// Turn a JSON parse error into an input error naming the file, line and JSON path.
pub fn json_error(path: &Path, what: &str, e: JsonError) -> CliError {
    let at = if e.path == "." { "the top level".to_string() } else { format!("`{}`", e.path) };
    CliError::input(path, format!("not a valid {what}: {} at {at} (line {}, column {})", e.message, e.line, e.column))
}

/// A whole input file in memory: mapped when large, read when small.
#[derive(Debug)]
pub enum Input {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Read(b) => b,
            Input::Mapped(m) => m,
        }
    }
}

/// Map `path` read-only (files of 1 MiB and more; smaller ones are read); the error names it.
pub fn map(path: &Path) -> Result<Input> {
    let err = |e: std::io::Error| CliError::input(path, format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(err)?;
    if file.metadata().map_err(err)?.len() < 1 << 20 {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(err)?;
        return Ok(Input::Read(bytes));
    }
    // SAFETY: the map is read-only and private to this process. Another process truncating
    // or rewriting the file while it is mapped would change (or fault on) what we read: the
    // same hazard as a file changing under a reader, which squadkit's inputs (caches and
    // logits a run wrote earlier) are not exposed to; outputs are never written in place.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(err)?;
    Ok(Input::Mapped(map))
}

/// A text output being written: `fmt::Write` into a buffered temporary file.
pub struct TextOut<'f> {
    inner: std::io::BufWriter<&'f std::fs::File>,
    error: Option<std::io::Error>,
}

impl std::fmt::Write for TextOut<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.inner.write_all(s.as_bytes()).map_err(|e| {
            self.error.get_or_insert(e);
            std::fmt::Error
        })
    }
}

/// Write `path` atomically from a formatter that streams text (no whole copy in memory);
/// not synced (see the module's documentation).
pub fn write_atomic_text(path: &Path, write: impl FnOnce(&mut TextOut<'_>) -> std::fmt::Result) -> Result<()> {
    atomic(path, false, |file| {
        let mut out = TextOut { inner: std::io::BufWriter::with_capacity(1 << 20, file), error: None };
        if write(&mut out).is_err() {
            return Err(out.error.unwrap_or_else(|| std::io::Error::other("formatting failed")));
        }
        out.inner.flush()
    })
}

/// Write `path` atomically from `parts` pieces of text, formatted on every core and written in
/// order (while one thread writes a piece, the others format the next ones into buffers they
/// reuse); not synced (see the module's documentation).
pub fn write_atomic_parts(
    path: &Path,
    parts: usize,
    format: impl Fn(usize, &mut String) -> std::fmt::Result + Sync,
) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex};
    const ABORTED: usize = usize::MAX;
    atomic(path, false, |file| {
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, parts.max(1));
        let next = AtomicUsize::new(0);
        // The piece whose turn it is to be written (ABORTED after an error), and the first error.
        let turn = (Mutex::new(0usize), Condvar::new());
        let failure: Mutex<Option<std::io::Error>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut buf = String::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= parts {
                            return;
                        }
                        buf.clear();
                        let formatted = format(k, &mut buf);
                        let mut at = turn.0.lock().expect("no thread panics holding the lock");
                        while *at != k && *at != ABORTED {
                            at = turn.1.wait(at).expect("no thread panics holding the lock");
                        }
                        if *at == ABORTED {
                            return;
                        }
                        let written = match formatted {
                            Ok(()) => (&mut &*file).write_all(buf.as_bytes()),
                            Err(_) => Err(std::io::Error::other("formatting failed")),
                        };
                        *at = if written.is_ok() { k + 1 } else { ABORTED };
                        turn.1.notify_all();
                        if let Err(e) = written {
                            failure.lock().expect("no thread panics holding the lock").get_or_insert(e);
                            return;
                        }
                    }
                });
            }
        });
        failure.into_inner().expect("no thread panicked").map_or(Ok(()), Err)
    })
}

/// Write `bytes` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic(path, true, |mut file| file.write_all(bytes))
}

/// Create a temporary file next to `path`, let `fill` write it, sync it if `sync`, and
/// rename it over `path`; on any error the temporary file is removed.
fn atomic(path: &Path, sync: bool, fill: impl FnOnce(&std::fs::File) -> std::io::Result<()>) -> Result<()> {
    let out_err = |source| CliError::Output { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(out_err)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", path.file_name().and_then(|n| n.to_str()).unwrap_or("out")))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(out_err)?;
    fill(tmp.as_file()).map_err(out_err)?;
    // tempfile creates 0600; outputs are ordinary files (0644, as Python writes them).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(out_err)?;
    }
    if sync {
        tmp.as_file().sync_all().map_err(out_err)?;
    }
    tmp.persist(path).map_err(|e| out_err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        }
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn streamed_text_is_whole_or_absent() {
        use std::fmt::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nbest.json");
        write_atomic_text(&p, |w| (0..100_000).try_for_each(|i| write!(w, "{i},"))).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("0,1,2,") && text.ends_with("99999,"), "{}", &text[..20]);
        // A formatter that fails half-way: an error naming the file, the old file untouched.
        let e = write_atomic_text(&p, |w| {
            w.write_str("partial")?;
            Err(std::fmt::Error)
        })
        .unwrap_err();
        assert!(e.to_string().contains("nbest.json"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left behind");
    }

    #[test]
    fn parts_are_written_in_order_or_not_at_all() {
        use std::fmt::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("parts.txt");
        write_atomic_parts(&p, 500, |k, w| (0..(k % 7) * 100).try_for_each(|i| write!(w, "{k}.{i} "))).unwrap();
        let want: String = (0..500).flat_map(|k| (0..(k % 7) * 100).map(move |i| format!("{k}.{i} "))).collect();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), want);
        write_atomic_parts(&dir.path().join("none.txt"), 0, |_, _| unreachable!()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("none.txt")).unwrap(), "");
        let e = write_atomic_parts(&p, 500, |k, w| if k == 321 { Err(std::fmt::Error) } else { w.write_str("x") }).unwrap_err();
        assert!(e.to_string().contains("parts.txt"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), want, "a failed write leaves the old file");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file is left behind");
    }

    #[test]
    fn small_files_are_read_and_large_ones_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let (small, large) = (dir.path().join("s"), dir.path().join("l"));
        std::fs::write(&small, b"abc").unwrap();
        let big: Vec<u8> = (0..(3u32 << 20)).map(|i| i as u8).collect();
        std::fs::write(&large, &big).unwrap();
        assert!(matches!(map(&small).unwrap(), Input::Read(ref b) if b == b"abc"));
        let m = map(&large).unwrap();
        assert!(matches!(m, Input::Mapped(_)));
        assert_eq!(&*m, &big[..]);
        assert!(map(&dir.path().join("missing")).unwrap_err().to_string().contains("missing: cannot read"));
    }

    #[test]
    fn read_names_the_missing_file() {
        let e = read(Path::new("/nonexistent/data.json")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/data.json: cannot read"), "{e}");
        assert_eq!(e.exit_code(), crate::error::EXIT_INPUT);
    }
}
