//! The one write path of `squadkit`: every file it writes — a command's outputs, a run
//! directory's files, a saved model — goes through an [`OutputSet`], and standard output
//! through [`print`].
//!
//! What a target gets, decided from what is at its path before anything is written:
//!
//! | at the path | what happens |
//! |---|---|
//! | nothing, or a regular file | written aside (a hidden temporary file in the same directory), renamed over the path when the whole set is complete; an existing file keeps its permissions (and owner, where allowed), a new one gets 0666 less the umask, as Python's `open` |
//! | a symbolic link to a regular file | the file it points to is replaced as above; the link stays |
//! | a character device or FIFO (`/dev/null`, a named pipe), or a stream (`/dev/stdout`, `/dev/fd/N`) | written through, as the official script's `open(path, "w")` does; never renamed over |
//! | a directory, block device, socket, dangling link | refused |
//! | one of the command's [`Inputs`] (same device and inode), or a path already in the set | refused |
//!
//! A set lands all or nothing: every file is complete (and synced, for durable files) before
//! the first rename, and if a rename fails the earlier ones are undone (the old files were
//! kept as hard links until the end). A failure while writing (a full disk) leaves every
//! target as it was and no temporary file behind. Streams are written last, after the files.
//!
//! A closed pipe on standard output or a stream output ends the command quietly with status
//! 141 (as SIGPIPE would in a C tool), never a panic; other write errors name the output.

use crate::error::{CliError, Result};
use std::collections::{HashMap, HashSet};
use std::fs::{File, Metadata};
use std::io::{Seek, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A file's identity: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(m: &Metadata) -> FileId {
        FileId { dev: m.dev(), ino: m.ino() }
    }
}

/// The files a command reads (directories: the files in them, three levels deep). An output
/// may not replace one of them.
#[derive(Debug, Default)]
pub struct Inputs {
    files: HashMap<FileId, PathBuf>,
}

impl Inputs {
    /// Directories are searched this deep and for at most this many files.
    const DEPTH: usize = 3;
    const MAX_FILES: usize = 100_000;

    /// No inputs: outputs in directories squadkit made itself.
    pub fn none() -> Inputs {
        Inputs::default()
    }

    pub fn new<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Inputs {
        let mut inputs = Inputs::default();
        for p in paths {
            inputs.add(p.as_ref());
        }
        inputs
    }

    /// Add a file, or the files of a directory; a missing path adds nothing (reading it fails
    /// with its own message).
    pub fn add(&mut self, path: &Path) {
        self.add_at(path, 0);
    }

    fn add_at(&mut self, path: &Path, depth: usize) {
        let Ok(m) = std::fs::metadata(path) else { return };
        if m.is_file() {
            self.files.entry(FileId::of(&m)).or_insert_with(|| path.to_path_buf());
        } else if m.is_dir() && depth < Self::DEPTH {
            let Ok(entries) = std::fs::read_dir(path) else { return };
            for e in entries.flatten() {
                if self.files.len() >= Self::MAX_FILES {
                    return;
                }
                self.add_at(&e.path(), depth + 1);
            }
        }
    }

    fn input_at(&self, m: &Metadata) -> Option<&Path> {
        self.files.get(&FileId::of(m)).map(PathBuf::as_path)
    }
}

/// Where a target's bytes go.
#[derive(Debug)]
enum Dest {
    /// Create or replace this regular file (a canonical path when a link led to it): write
    /// aside, rename. `existing`: the file being replaced.
    Replace { path: PathBuf, existing: Option<Metadata> },
    /// Write into this device, FIFO or stream as it is.
    Through { path: PathBuf },
}

fn refused(path: &Path, why: &str) -> CliError {
    CliError::Invalid(format!("{}: {why}", path.display()))
}

/// Whether `path` names one of this process's streams: `/dev/stdout`, `/dev/stderr`,
/// `/dev/fd/N`, `/proc/self/fd/N`, or a link into them.
fn is_stream(path: &Path) -> bool {
    let named = |p: &Path| {
        p.starts_with("/proc") || p.starts_with("/dev/fd") || p == Path::new("/dev/stdout") || p == Path::new("/dev/stderr")
    };
    let mut p = path.to_path_buf();
    for _ in 0..16 {
        if named(&p) {
            return true;
        }
        match std::fs::read_link(&p) {
            Ok(to) => p = p.parent().unwrap_or(Path::new("/")).join(to),
            Err(_) => return false,
        }
    }
    false
}

/// What is at `path` decides how it is written (see the module's table).
fn resolve(path: &Path) -> Result<Dest> {
    let special = |m: &Metadata| {
        let t = m.file_type();
        if t.is_char_device() || t.is_fifo() {
            Ok(Dest::Through { path: path.to_path_buf() })
        } else if t.is_dir() {
            Err(refused(path, "is a directory; give a file path"))
        } else if t.is_block_device() {
            Err(refused(path, "is a block device; squadkit writes regular files, character devices and pipes only"))
        } else {
            Err(refused(path, "is a socket; squadkit writes regular files, character devices and pipes only"))
        }
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Dest::Replace { path: path.to_path_buf(), existing: None }),
        Err(e) => Err(CliError::output(path, e)),
        Ok(m) if m.file_type().is_symlink() => {
            if is_stream(path) {
                return Ok(Dest::Through { path: path.to_path_buf() });
            }
            match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(refused(path, "is a symbolic link to nothing; remove it or give another path"))
                }
                Err(e) => Err(CliError::output(path, e)),
                Ok(t) if t.is_file() => {
                    let real = std::fs::canonicalize(path).map_err(|e| CliError::output(path, e))?;
                    Ok(Dest::Replace { path: real, existing: Some(t) })
                }
                Ok(t) => special(&t),
            }
        }
        Ok(m) if m.is_file() => Ok(Dest::Replace { path: path.to_path_buf(), existing: Some(m) }),
        Ok(m) => special(&m),
    }
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A text output being written: `fmt::Write` into a buffered file.
pub struct TextOut<'f> {
    inner: std::io::BufWriter<&'f File>,
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

/// A file of the set, complete and waiting for [`OutputSet::commit`].
enum Staged {
    Replace { tmp: tempfile::NamedTempFile, path: PathBuf, existing: bool, durable: bool },
    Through { tmp: File, path: PathBuf },
}

/// Files written together, all or nothing (see the module's documentation). Dropped without
/// [`commit`](OutputSet::commit), it leaves every target as it was.
pub struct OutputSet<'i> {
    inputs: &'i Inputs,
    staged: Vec<Staged>,
    /// Canonical paths and identities of the targets so far (one file is not written twice).
    targets: HashSet<PathBuf>,
    ids: HashSet<FileId>,
    /// The same, for the targets announced by [`OutputSet::plan`].
    planned: (HashSet<PathBuf>, HashSet<FileId>),
}

impl<'i> OutputSet<'i> {
    pub fn new(inputs: &'i Inputs) -> OutputSet<'i> {
        OutputSet { inputs, staged: Vec::new(), targets: HashSet::new(), ids: HashSet::new(), planned: Default::default() }
    }

    /// Announce an output: refuse it now if it could not be written (a directory, one of the
    /// inputs, given twice, …), before the long computation whose result it will receive.
    /// Nothing is created.
    pub fn plan(&mut self, path: &Path) -> Result<()> {
        let dest = resolve(path)?;
        check_dest(self.inputs, (&self.planned.0, &self.planned.1), path, &dest)?;
        let (paths, ids) = &mut self.planned;
        match &dest {
            Dest::Replace { path, existing } => {
                paths.insert(canonical_target(path));
                ids.extend(existing.as_ref().map(FileId::of));
            }
            Dest::Through { path } => ids.extend(std::fs::metadata(path).ok().map(|m| FileId::of(&m))),
        }
        Ok(())
    }

    /// Resolve and check `path`, create its temporary file, let `fill` write it.
    fn stage(&mut self, path: &Path, durable: bool, fill: impl FnOnce(&File) -> std::io::Result<()>) -> Result<()> {
        self.stage_mode(path, durable, 0o666, fill)
    }

    /// [`stage`](Self::stage) with the mode a new file gets (less the umask).
    fn stage_mode(
        &mut self,
        path: &Path,
        durable: bool,
        mode: u32,
        fill: impl FnOnce(&File) -> std::io::Result<()>,
    ) -> Result<()> {
        let dest = resolve(path)?;
        check_dest(self.inputs, (&self.targets, &self.ids), path, &dest)?;
        let out_err = |e| CliError::output(path, e);
        match dest {
            Dest::Replace { path: target, existing } => {
                let dir = directory_of(&target);
                std::fs::create_dir_all(dir).map_err(out_err)?;
                let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
                let tmp = tempfile::Builder::new()
                    .prefix(&format!(".{name}."))
                    .suffix(".tmp")
                    .permissions(std::fs::Permissions::from_mode(mode))
                    .tempfile_in(dir)
                    .map_err(out_err)?;
                if let Some(m) = &existing {
                    // The replaced file's mode exactly (the umask applied to the creation only),
                    // and its owner where this process may give it (root writing a user's file).
                    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o7777)).map_err(out_err)?;
                    if m.uid() != tmp.as_file().metadata().map_err(out_err)?.uid() {
                        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid()));
                        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o7777)).map_err(out_err)?;
                    }
                }
                fill(tmp.as_file()).map_err(out_err)?;
                if durable {
                    tmp.as_file().sync_all().map_err(out_err)?;
                }
                if let Some(m) = &existing {
                    self.ids.insert(FileId::of(m));
                }
                self.targets.insert(canonical_target(&target));
                self.staged.push(Staged::Replace { tmp, path: target, existing: existing.is_some(), durable });
            }
            Dest::Through { path: target } => {
                let tmp = tempfile::tempfile().map_err(out_err)?;
                fill(&tmp).map_err(out_err)?;
                if let Ok(m) = std::fs::metadata(&target) {
                    self.ids.insert(FileId::of(&m));
                }
                self.staged.push(Staged::Through { tmp, path: target });
            }
        }
        Ok(())
    }

    /// Add a file of `bytes`, synced to disk before it replaces anything (models, caches,
    /// configs, checkpoints: what must survive a power loss).
    pub fn bytes(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.stage(path, true, |mut f| f.write_all(bytes))
    }

    /// Add a script: as [`bytes`](Self::bytes), but a new file is executable (0777 less the
    /// umask); an existing one keeps its mode.
    pub fn script(&mut self, path: &Path, text: &str) -> Result<()> {
        self.stage_mode(path, true, 0o777, |mut f| f.write_all(text.as_bytes()))
    }

    /// Add a text file from a formatter that streams it (no whole copy in memory); not synced,
    /// as Python's `json.dump` does not (large derived text that a rerun recreates).
    pub fn text(&mut self, path: &Path, write: impl FnOnce(&mut TextOut<'_>) -> std::fmt::Result) -> Result<()> {
        self.stage(path, false, |file| {
            let mut out = TextOut { inner: std::io::BufWriter::with_capacity(1 << 20, file), error: None };
            if write(&mut out).is_err() {
                return Err(out.error.unwrap_or_else(|| std::io::Error::other("formatting failed")));
            }
            out.inner.flush()
        })
    }

    /// Add a text file of `parts` pieces, formatted on every core and written in order (while
    /// one thread writes a piece, the others format the next ones into buffers they reuse);
    /// not synced.
    pub fn parts(
        &mut self,
        path: &Path,
        parts: usize,
        format: impl Fn(usize, &mut String) -> std::fmt::Result + Sync,
    ) -> Result<()> {
        self.stage(path, false, |file| write_parts(file, parts, format))
    }

    /// Put every file of the set in place: all of them, or (on an error) none.
    pub fn commit(self) -> Result<()> {
        let mut files = Vec::new();
        let mut streams = Vec::new();
        for s in self.staged {
            match s {
                Staged::Replace { tmp, path, existing, durable } => files.push((tmp, path, existing, durable)),
                Staged::Through { tmp, path } => streams.push((tmp, path)),
            }
        }
        // With more than one file, each replaced file is kept (a hard link) until all are in
        // place, so that a failed rename can be undone.
        let keep_old = files.len() > 1;
        let mut done: Vec<(PathBuf, Option<tempfile::TempPath>)> = Vec::new();
        let mut dirs = HashSet::new();
        for (tmp, path, existing, durable) in files {
            let old = if keep_old && existing { keep_aside(&path) } else { None };
            if let Err(e) = tmp.persist(&path) {
                undo(done);
                return Err(CliError::output(&path, e.error));
            }
            if durable {
                dirs.insert(directory_of(&path).to_path_buf());
            }
            done.push((path, old));
        }
        drop(done); // The kept old files go.
        for dir in dirs {
            // The renames themselves survive a power loss.
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
        }
        for (mut tmp, path) in streams {
            write_through(&mut tmp, &path)?;
        }
        Ok(())
    }
}

/// Refuse `dest` (what `asked` resolved to) if it is an input or already one of `taken`.
fn check_dest(inputs: &Inputs, taken: (&HashSet<PathBuf>, &HashSet<FileId>), asked: &Path, dest: &Dest) -> Result<()> {
    let twice = || refused(asked, "is already an output of this command: give each output its own path");
    let existing = match dest {
        Dest::Replace { existing, .. } => existing.clone(),
        Dest::Through { path } => std::fs::metadata(path).ok(),
    };
    if let Some(m) = &existing {
        if let Some(input) = inputs.input_at(m).filter(|_| m.is_file()) {
            let what = if input == asked { String::new() } else { format!(" ({})", input.display()) };
            return Err(refused(
                asked,
                &format!("is one of this command's inputs{what}; writing it would destroy it: choose another output path"),
            ));
        }
        if m.is_file() && taken.1.contains(&FileId::of(m)) {
            return Err(twice());
        }
    }
    match dest {
        Dest::Replace { path, .. } if taken.0.contains(&canonical_target(path)) => Err(twice()),
        _ => Ok(()),
    }
}

fn canonical_target(path: &Path) -> PathBuf {
    let dir = std::fs::canonicalize(directory_of(path)).unwrap_or_else(|_| directory_of(path).to_path_buf());
    dir.join(path.file_name().unwrap_or_default())
}

/// A hard link to `path` under a hidden name, removed when dropped.
fn keep_aside(path: &Path) -> Option<tempfile::TempPath> {
    let name = path.file_name()?.to_str()?;
    for k in 0..16u32 {
        let aside = directory_of(path).join(format!(".{name}.{}.{k}.old", std::process::id()));
        if std::fs::hard_link(path, &aside).is_ok() {
            return match tempfile::TempPath::try_from_path(&aside) {
                Ok(t) => Some(t),
                Err(_) => {
                    let _ = std::fs::remove_file(&aside);
                    None
                }
            };
        }
    }
    None
}

/// Put back what the renames so far replaced (or remove what they created).
fn undo(done: Vec<(PathBuf, Option<tempfile::TempPath>)>) {
    for (path, old) in done.into_iter().rev() {
        match old {
            Some(old) => {
                if let Err(e) = old.persist(&path) {
                    tracing::error!("could not put back {}: {}", path.display(), e.error);
                }
            }
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn write_through(tmp: &mut File, path: &Path) -> Result<()> {
    let err = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::BrokenPipe,
        _ => CliError::output(path, e),
    };
    tmp.rewind().map_err(err)?;
    // Appending: a device or pipe does not mind, and a stream redirected to a file (`-o
    // /dev/stdout > log`) keeps what is already in it.
    let mut out = std::fs::OpenOptions::new().append(true).open(path).map_err(err)?;
    std::io::copy(tmp, &mut out).map_err(err)?;
    out.flush().map_err(err)
}

fn write_parts(file: &File, parts: usize, format: impl Fn(usize, &mut String) -> std::fmt::Result + Sync) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex};
    const ABORTED: usize = usize::MAX;
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
}

/// A directory being filled beside `dest` (a hidden temporary directory in the same parent),
/// put in place by [`DirAside::commit`]; dropped without it, it is removed and `dest` is as it was.
pub struct DirAside {
    tmp: tempfile::TempDir,
    dest: PathBuf,
}

impl DirAside {
    pub fn new(dest: &Path) -> Result<DirAside> {
        let out_err = |e| CliError::output(dest, e);
        if std::fs::symlink_metadata(dest).is_ok_and(|m| !m.is_dir()) {
            return Err(refused(dest, "exists and is not a directory"));
        }
        let parent = directory_of(dest);
        std::fs::create_dir_all(parent).map_err(out_err)?;
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("dir");
        let tmp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempdir_in(parent).map_err(out_err)?;
        Ok(DirAside { tmp, dest: dest.to_path_buf() })
    }

    /// Where to write the directory's files.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Sync the directory and rename it over `dest` (an existing `dest` is moved aside first and
    /// removed after).
    pub fn commit(self) -> Result<()> {
        let dest = self.dest;
        let out_err = |e| CliError::output(&dest, e);
        if let Ok(d) = File::open(self.tmp.path()) {
            let _ = d.sync_all();
        }
        let tmp = self.tmp.keep();
        let parent = directory_of(&dest);
        if dest.exists() {
            let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("dir");
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            std::fs::rename(&dest, &old).map_err(out_err)?;
            if let Err(e) = std::fs::rename(&tmp, &dest) {
                let _ = std::fs::rename(&old, &dest);
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(out_err(e));
            }
            let _ = std::fs::remove_dir_all(&old);
        } else if let Err(e) = std::fs::rename(&tmp, &dest) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(out_err(e));
        }
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Write one file of `bytes` alone (an [`OutputSet`] of one), synced.
pub fn write_file(path: &Path, bytes: &[u8], inputs: &Inputs) -> Result<()> {
    let mut set = OutputSet::new(inputs);
    set.bytes(path, bytes)?;
    set.commit()
}

/// A file in a directory squadkit made or owns (a run directory, a model being saved): no
/// command inputs to protect; every other rule holds.
pub fn write_owned(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes, &Inputs::none())
}

/// Print to standard output: a closed pipe is [`CliError::BrokenPipe`] (a quiet exit 141),
/// another failure (a full device) an error naming standard output.
pub fn print(text: impl std::fmt::Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{text}").and_then(|()| out.flush()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::BrokenPipe,
        _ => CliError::output(Path::new("standard output"), e),
    })
}

/// [`print`] with a newline.
pub fn println(text: impl std::fmt::Display) -> Result<()> {
    print(format_args!("{text}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_file_is_replaced_whole_keeping_its_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.json");
        write_owned(&p, b"one").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_owned(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(mode(&p), 0o600, "the replaced file's permissions are kept");
        assert_eq!(entries(p.parent().unwrap()), ["out.json"], "no temporary file is left behind");
    }

    #[test]
    fn a_link_is_followed_and_kept_and_a_dangling_one_refused() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_owned(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        let dangling = d.path().join("dangling.json");
        std::os::unix::fs::symlink("nowhere.json", &dangling).unwrap();
        let e = write_owned(&dangling, b"x").unwrap_err().to_string();
        assert!(e.contains("dangling.json: is a symbolic link to nothing"), "{e}");
        assert!(!d.path().join("nowhere.json").exists());
    }

    #[test]
    fn a_fifo_is_written_through_and_stays_a_fifo() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_owned(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(entries(d.path()), ["pipe"]);
    }

    #[test]
    fn a_character_device_is_written_through_never_replaced() {
        // /dev/null itself is never the target: a node made here (as root), else /dev/null read-only checks.
        let d = tempfile::tempdir().unwrap();
        let null = d.path().join("null");
        let made = std::process::Command::new("mknod").arg(&null).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
        if !made {
            eprintln!("SKIPPED the mknod part of a_character_device_is_written_through_never_replaced: mknod needs root");
            return;
        }
        write_owned(&null, b"discarded").unwrap();
        let m = std::fs::symlink_metadata(&null).unwrap();
        assert!(m.file_type().is_char_device(), "still a character device");
        assert_eq!(entries(d.path()), ["null"]);
    }

    #[test]
    fn directories_inputs_and_repeats_are_refused_before_writing() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data.json");
        std::fs::write(&data, "DATA").unwrap();
        let inputs = Inputs::new([&data]);
        let mut set = OutputSet::new(&inputs);
        let e = set.plan(&data).unwrap_err().to_string();
        assert!(e.contains("is one of this command's inputs"), "{e}");
        let link = d.path().join("alias.json");
        std::fs::hard_link(&data, &link).unwrap();
        let e = set.bytes(&link, b"x").unwrap_err().to_string();
        assert!(e.contains("alias.json: is one of this command's inputs") && e.contains("data.json"), "{e}");
        let e = set.plan(d.path()).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        set.plan(&d.path().join("a.json")).unwrap();
        let e = set.plan(&d.path().join("./a.json")).unwrap_err().to_string();
        assert!(e.contains("is already an output of this command"), "{e}");
        set.bytes(&d.path().join("b.json"), b"b").unwrap();
        assert!(set.bytes(&d.path().join("b.json"), b"b").unwrap_err().to_string().contains("already an output"));
        drop(set);
        assert_eq!(std::fs::read(&data).unwrap(), b"DATA");
        assert_eq!(entries(d.path()), ["alias.json", "data.json"], "an abandoned set leaves nothing");
        // A directory input protects the files in it.
        let inputs = Inputs::new([d.path()]);
        assert!(OutputSet::new(&inputs).plan(&data).is_err());
    }

    #[test]
    fn a_set_lands_whole_or_not_at_all() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.json"), d.path().join("b.json"));
        std::fs::write(&a, "old a").unwrap();
        std::fs::write(&b, "old b").unwrap();
        let none = Inputs::none();
        let mut set = OutputSet::new(&none);
        set.bytes(&a, b"new a").unwrap();
        set.text(&b, |w| w.write_str("new b")).unwrap();
        // b turns into a non-empty directory after staging: its rename fails, a's is undone.
        std::fs::remove_file(&b).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(b.join("x"), "x").unwrap();
        let e = set.commit().unwrap_err().to_string();
        assert!(e.contains("b.json"), "{e}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a", "the first rename was undone");
        assert_eq!(entries(d.path()), ["a.json", "b.json"], "no temporary or kept file is left");
        // A failure while writing leaves everything as it was.
        std::fs::remove_dir_all(&b).unwrap();
        std::fs::write(&b, "old b").unwrap();
        let mut set = OutputSet::new(&none);
        set.bytes(&a, b"newer a").unwrap();
        assert!(set.text(&b, |w| w.write_str("partial").and(Err(std::fmt::Error))).is_err());
        drop(set);
        assert_eq!(
            (std::fs::read_to_string(&a).unwrap(), std::fs::read_to_string(&b).unwrap()),
            ("old a".into(), "old b".into())
        );
        assert_eq!(entries(d.path()), ["a.json", "b.json"]);
    }

    #[test]
    fn streamed_text_and_parts_are_written_in_order() {
        let d = tempfile::tempdir().unwrap();
        let none = Inputs::none();
        let mut set = OutputSet::new(&none);
        let (t, p) = (d.path().join("t.txt"), d.path().join("parts.txt"));
        set.text(&t, |w| (0..100_000).try_for_each(|i| write!(w, "{i},"))).unwrap();
        set.parts(&p, 500, |k, w| (0..(k % 7) * 100).try_for_each(|i| write!(w, "{k}.{i} "))).unwrap();
        set.parts(&d.path().join("none.txt"), 0, |_, _| unreachable!()).unwrap();
        set.commit().unwrap();
        let text = std::fs::read_to_string(&t).unwrap();
        assert!(text.starts_with("0,1,2,") && text.ends_with("99999,"));
        let want: String = (0..500).flat_map(|k| (0..(k % 7) * 100).map(move |i| format!("{k}.{i} "))).collect();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), want);
        assert_eq!(std::fs::read_to_string(d.path().join("none.txt")).unwrap(), "");
        let mut set = OutputSet::new(&none);
        let e = set.parts(&p, 500, |k, w| if k == 321 { Err(std::fmt::Error) } else { w.write_str("x") }).unwrap_err();
        assert!(e.to_string().contains("parts.txt"), "{e}");
    }

    #[test]
    fn a_new_file_gets_the_umask_and_a_script_is_executable() {
        let d = tempfile::tempdir().unwrap();
        let (f, s) = (d.path().join("f"), d.path().join("s.sh"));
        let none = Inputs::none();
        let mut set = OutputSet::new(&none);
        set.bytes(&f, b"x").unwrap();
        set.script(&s, "#!/bin/sh\n").unwrap();
        set.commit().unwrap();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let umask =
            status.lines().find_map(|l| l.strip_prefix("Umask:")).map(|m| u32::from_str_radix(m.trim(), 8).unwrap()).unwrap();
        assert_eq!(mode(&f), 0o666 & !umask);
        assert_eq!(mode(&s), 0o777 & !umask);
    }
}
