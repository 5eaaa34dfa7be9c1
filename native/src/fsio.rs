//! Reading inputs with errors that name the file. Large inputs (feature caches, logits) can
//! be mapped instead of read, so that they need no second copy in fresh memory. (Writing:
//! [`crate::output`].)

use crate::error::{CliError, Result};
use squadkit_core::json::JsonError;
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

#[cfg(test)]
mod tests {
    use super::*;

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
