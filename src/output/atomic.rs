//! Atomic file writes: never a half-written file. Bytes go to a temporary
//! file beside the target (same folder, so the rename stays on one file
//! system), are synced to disk, then renamed into place. On any error the
//! temporary file is removed and the target is left as it was.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| {
        w.write_all(bytes)?;
        Ok(())
    })
}

/// Streams into `path` atomically: `write` gets a buffered writer on the
/// temporary file; the file is renamed into place only when it returns `Ok`.
pub fn write_atomic_with<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let (tmp_path, file) =
        create_temp(path).with_context(|| format!("writing `{}`", path.display()))?;
    let guard = RemoveOnDrop(Some(tmp_path.clone()));
    let mut w = BufWriter::new(file);
    write(&mut w).with_context(|| format!("writing `{}`", path.display()))?;
    let file = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("writing `{}`", path.display()))?;
    file.sync_all()
        .with_context(|| format!("writing `{}`", path.display()))?;
    drop(file);
    fs::rename(&tmp_path, path).with_context(|| format!("writing `{}`", path.display()))?;
    guard.disarm();
    sync_dir(path);
    Ok(())
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `.NAME.PID.N.tmp` beside the target, created exclusively.
fn create_temp(path: &Path) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?
        .to_string_lossy()
        .into_owned();
    let dir = folder_of(path);
    let mut last_err = None;
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// Best effort: make the rename itself durable.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(folder_of(path)) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = remove_any(&p);
        }
    }
}

/// A free name `.NAME.WHAT-PID-N` beside `target`.
fn sibling(target: &Path, what: &str) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .with_context(|| format!("`{}` is not a folder name", target.display()))?
        .to_string_lossy()
        .into_owned();
    let dir = folder_of(target);
    for _ in 0..1000 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = dir.join(format!(".{name}.{what}-{}-{n}", std::process::id()));
        if fs::symlink_metadata(&p).is_err() {
            return Ok(p);
        }
    }
    bail!("no free temporary name beside `{}`", target.display())
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    if fs::symlink_metadata(p)?.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}

/// Writes `files` into a temporary folder beside `target`, then renames it
/// into place. With `force`, an existing `target` is replaced.
///
/// `fail_after_first: Some(why)` makes the write fail after the first file,
/// naming `why` (for the test that a failed run leaves no folder).
pub fn write_atomic_folder(
    target: &Path,
    files: &[(String, Vec<u8>)],
    force: bool,
    fail_after_first: Option<&str>,
) -> Result<()> {
    let parent = folder_of(target).to_path_buf();
    fs::create_dir_all(&parent).with_context(|| format!("creating `{}`", parent.display()))?;
    let tmp = sibling(target, "tmp")?;
    fs::create_dir(&tmp).with_context(|| format!("creating `{}`", tmp.display()))?;
    let guard = RemoveOnDrop(Some(tmp.clone()));
    for (i, (name, bytes)) in files.iter().enumerate() {
        let path = tmp.join(name);
        let mut f = File::create(&path).with_context(|| format!("writing `{}`", path.display()))?;
        f.write_all(bytes)
            .with_context(|| format!("writing `{}`", path.display()))?;
        f.sync_all()
            .with_context(|| format!("writing `{}`", path.display()))?;
        if let (Some(why), 0) = (fail_after_first, i) {
            bail!(
                "writing the report into `{}`: forced failure after the first file ({why})",
                target.display()
            );
        }
    }
    if let Ok(d) = File::open(&tmp) {
        let _ = d.sync_all();
    }
    if fs::symlink_metadata(target).is_ok() {
        if !force {
            bail!(
                "`{}` already exists; use --force to replace it",
                target.display()
            );
        }
        let old = sibling(target, "old")?;
        fs::rename(target, &old)
            .with_context(|| format!("moving the old `{}` away", target.display()))?;
        if let Err(e) = fs::rename(&tmp, target) {
            let _ = fs::rename(&old, target);
            return Err(anyhow::Error::new(e)
                .context(format!("renaming the report into `{}`", target.display())));
        }
        guard.disarm();
        remove_any(&old).with_context(|| format!("removing the old report `{}`", old.display()))?;
    } else {
        fs::rename(&tmp, target)
            .with_context(|| format!("renaming the report into `{}`", target.display()))?;
        guard.disarm();
    }
    if let Ok(d) = File::open(&parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        write_atomic(&target, b"one\n").unwrap();
        write_atomic(&target, b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "two\n");
        assert_eq!(
            entries(dir.path()),
            vec!["out.csv"],
            "no temporary file left"
        );
    }

    #[test]
    fn error_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let err = write_atomic_with(&target, |w| {
            w.write_all(b"half a ")?;
            anyhow::bail!("the writer failed")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("the writer failed"));
        assert!(format!("{err:#}").contains("out.csv"));
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    }

    #[test]
    fn error_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        write_atomic(&target, b"old\n").unwrap();
        let _ = write_atomic_with(&target, |_| anyhow::bail!("no"));
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(entries(dir.path()), vec!["out.csv"]);
    }

    #[test]
    fn missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("nope").join("out.csv");
        let err = write_atomic(&target, b"x").unwrap_err();
        assert!(format!("{err:#}").contains("nope"));
    }
}
