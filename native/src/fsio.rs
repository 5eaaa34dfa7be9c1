//! Reading inputs with errors that name the file, and writing outputs atomically.
//!
//! Every output goes to a temporary file in the destination's directory, is flushed and
//! synced, and is renamed over the destination only when complete: an interrupted or failed
//! run leaves nothing half-written.

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

/// Write `bytes` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let out_err = |source| CliError::Output { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(out_err)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", path.file_name().and_then(|n| n.to_str()).unwrap_or("out")))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(out_err)?;
    tmp.write_all(bytes).map_err(out_err)?;
    // tempfile creates 0600; outputs are ordinary files (0644, as Python writes them).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(out_err)?;
    }
    tmp.as_file().sync_all().map_err(out_err)?;
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
    fn read_names_the_missing_file() {
        let e = read(Path::new("/nonexistent/data.json")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/data.json: cannot read"), "{e}");
        assert_eq!(e.exit_code(), crate::error::EXIT_INPUT);
    }
}
