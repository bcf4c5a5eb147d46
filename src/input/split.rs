//! Reading a large CSV file in parallel: the data rows are cut into byte
//! ranges that start right after a line ending, and each range is parsed and
//! mapped by its own worker (`table.rs`), then the parts are joined in file
//! order.
//!
//! A cut may land inside a quoted cell that spans lines. The worker of the
//! range before the cut finds out: the last field it read then ends with the
//! line ending (the quote was still open at its end of range). The loader
//! then reads the file again in one piece, so the result never depends on
//! where the cuts fell. Errors too are taken from a reading in one piece, so
//! a message names the same line as it always did.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;

use super::read::CrToLf;

/// Files smaller than twice this are read in one piece.
const MIN_CHUNK: u64 = 8 << 20;
const MAX_CHUNK: u64 = 256 << 20;

/// Hidden: the chunk size in bytes (tests cut small files into many parts).
pub const CHUNK_VAR: &str = "REVCYCLE_LOAD_CHUNK";

/// Where the data rows of a CSV file are cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub path: PathBuf,
    pub delimiter: u8,
    /// Raw byte offsets: chunk k is `bounds[k]..bounds[k + 1]`.
    pub bounds: Vec<u64>,
    /// Line endings before the first data byte (preamble and header).
    pub lines_before: u64,
    pub threads: usize,
}

/// How many workers, and the chunk size; `None` when the file is read in one piece.
fn sizing(len: u64) -> Option<(usize, u64)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(v) = std::env::var(CHUNK_VAR)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return (v > 0).then_some((threads.max(2), v));
    }
    if threads < 2 || len < 2 * MIN_CHUNK {
        return None;
    }
    // A few chunks per worker, so that an uneven chunk does not leave a core idle.
    let chunk = (len / (threads as u64 * 4)).clamp(MIN_CHUNK, MAX_CHUNK);
    Some((threads, chunk))
}

/// Plan the cuts of `path` (plain, not compressed), whose header reader has
/// consumed `lines_before` line endings. `None`: read it in one piece.
pub fn plan(path: &Path, delimiter: u8, lines_before: u64) -> Result<Option<Split>> {
    let meta = std::fs::metadata(path)?;
    // A pipe (`<(zcat ...)`) cannot be read twice, nor from an offset.
    if !meta.is_file() {
        return Ok(None);
    }
    match sizing(meta.len()) {
        Some((threads, chunk)) => plan_sized(path, delimiter, lines_before, threads, chunk),
        None => Ok(None),
    }
}

/// `plan` with the number of workers and the chunk size given.
pub fn plan_sized(
    path: &Path,
    delimiter: u8,
    lines_before: u64,
    threads: usize,
    chunk: u64,
) -> Result<Option<Split>> {
    let len = std::fs::metadata(path)?.len();
    let mut f = BufReader::with_capacity(1 << 16, File::open(path)?);
    let Some(start) = data_start(&mut f, lines_before)? else {
        return Ok(None);
    };
    if start >= len {
        return Ok(None);
    }
    let n = (len - start).div_ceil(chunk).max(1);
    let mut bounds = vec![start];
    for k in 1..n {
        let target = start + (len - start) * k / n;
        let Some(cut) = next_line_start(f.get_mut(), target.max(*bounds.last().unwrap_or(&0)))?
        else {
            break;
        };
        if cut > *bounds.last().unwrap_or(&0) && cut < len {
            bounds.push(cut);
        }
    }
    if bounds.len() < 2 {
        return Ok(None);
    }
    bounds.push(len);
    Ok(Some(Split {
        path: path.to_path_buf(),
        delimiter,
        bounds,
        lines_before,
        threads,
    }))
}

/// The raw offset right after the `lines`-th line ending (`\n`, `\r\n` or a
/// lone `\r`, as `CrToLf` counts them); `None` when the file has fewer.
fn data_start(f: &mut impl Read, lines: u64) -> Result<Option<u64>> {
    if lines == 0 {
        return Ok(Some(0));
    }
    let mut seen = 0u64;
    let mut pos = 0u64;
    let mut after_cr = false;
    // The `lines`-th ending was a `\r` at this offset: a `\n` right after
    // it belongs to the same ending.
    let mut pending: Option<u64> = None;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(pending);
        }
        for &b in &buf[..n] {
            if let Some(p) = pending {
                return Ok(Some(if b == b'\n' { p + 1 } else { p }));
            }
            pos += 1;
            match b {
                b'\n' if after_cr => after_cr = false,
                b'\n' | b'\r' => {
                    seen += 1;
                    after_cr = b == b'\r';
                    if seen == lines {
                        if b == b'\n' {
                            return Ok(Some(pos));
                        }
                        pending = Some(pos);
                    }
                }
                _ => after_cr = false,
            }
        }
    }
}

/// The offset right after the first `\n` at or after `from`.
fn next_line_start(f: &mut File, from: u64) -> Result<Option<u64>> {
    f.seek(SeekFrom::Start(from))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = from;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok(Some(pos + i as u64 + 1));
        }
        pos += n as u64;
    }
}

/// The stream of chunk `k`: its raw bytes with line endings made `\n`,
/// counting the line endings and the bytes it hands out.
pub fn chunk_reader<'a>(split: &Split, k: usize, done: &'a AtomicU64) -> Result<Counted<'a>> {
    let (from, to) = (split.bounds[k], split.bounds[k + 1]);
    let mut f = File::open(&split.path)?;
    f.seek(SeekFrom::Start(from))?;
    Ok(Counted {
        inner: CrToLf::new(BufReader::with_capacity(1 << 18, f).take(to - from)),
        lines: 0,
        done,
    })
}

/// A reader that counts the `\n` it hands out, and adds the bytes to `done`
/// (the progress of all workers).
pub struct Counted<'a> {
    inner: CrToLf<std::io::Take<BufReader<File>>>,
    pub lines: u64,
    done: &'a AtomicU64,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        self.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(text: &str, lines: u64) -> Option<u64> {
        data_start(&mut text.as_bytes(), lines).unwrap()
    }

    #[test]
    fn data_start_counts_line_endings_as_the_csv_reader_does() {
        // "a,b\n" is 4 bytes: the data starts at offset 4.
        assert_eq!(start("a,b\n1,2\n", 1), Some(4));
        // `\r\n` is one line ending of two bytes.
        assert_eq!(start("a,b\r\n1,2\r\n", 1), Some(5));
        // A lone `\r` (old Mac files) is one line ending.
        assert_eq!(start("title\ra,b\r1,2\r", 2), Some(10));
        // Two preamble lines and the header: three endings.
        assert_eq!(start("x\n\ny,z\n1,2\n", 3), Some(7));
        // Fewer line endings than asked: no data.
        assert_eq!(start("a,b", 1), None);
        assert_eq!(start("a,b\n", 0), Some(0));
    }
}
