//! Where an import's lines come from: a body held in memory (the API's, at most its limit), or a
//! file read a part at a time, so that a history of tens of millions of cases is checked and
//! written without holding the whole file in memory (a national history is over 10 GB).
//!
//! The parts are cut at line ends. The first pass reads them in turn and notes where each lies
//! and a hash of its bytes; the second reads the same parts again, in turn, and refuses one that
//! changed in between (what is written is always what was checked).

use std::hash::BuildHasher;
use std::io;
use std::ops::Range;
use std::path::PathBuf;

use bytes::Bytes;

/// How much of a file the import holds at a time, by default.
pub const PART_BYTES: usize = 256 << 20;

/// The lines to import.
#[derive(Debug, Clone)]
pub enum ImportSource {
    /// A body in memory, one part.
    Body(Bytes),
    /// A file, read `part_bytes` at a time (a longer line makes its part longer).
    File { path: PathBuf, part_bytes: usize },
}

/// Whole lines of the source, and where they lie in it.
pub(super) struct Part {
    pub(super) index: usize,
    /// Where its first byte lies in the source.
    pub(super) base: usize,
    /// How many lines (blank ones too) come before it.
    pub(super) lines_before: usize,
    pub(super) bytes: Bytes,
}

/// Where each part lies in the source and the hash of its bytes, as the first pass read them.
#[derive(Debug, Default, Clone)]
pub(super) struct Layout(Vec<(Range<usize>, u64)>);

impl Layout {
    pub(super) fn push(&mut self, part: &Part) {
        self.0
            .push((part.base..part.base + part.bytes.len(), hash(&part.bytes)));
    }
}

fn hash(bytes: &[u8]) -> u64 {
    foldhash::quality::FixedState::with_seed(0x4c6f_7473).hash_one(bytes)
}

impl ImportSource {
    /// The parts, first to last, for the first pass.
    pub(super) fn parts(&self) -> io::Result<Parts<'_>> {
        Ok(Parts {
            source: self,
            file: match self {
                Self::Body(_) => None,
                Self::File { path, .. } => {
                    let file = std::fs::File::open(path)?;
                    let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
                    Some((file, len))
                }
            },
            at: 0,
            lines: 0,
            index: 0,
            done: false,
        })
    }

    /// Reads again the part the first pass found at `index` of `layout`; an error if its bytes
    /// are no longer the same.
    pub(super) fn part_again(&self, layout: &Layout, index: usize) -> io::Result<Bytes> {
        let (range, expected) = layout
            .0
            .get(index)
            .cloned()
            .ok_or_else(|| io::Error::other("no such part of the file"))?;
        let bytes = match self {
            Self::Body(body) => body.slice(range),
            Self::File { path, .. } => {
                let file = std::fs::File::open(path)?;
                let mut buf = vec![0u8; range.len()];
                read_at(&file, &mut buf, range.start)?;
                Bytes::from(buf)
            }
        };
        if hash(&bytes) != expected {
            return Err(io::Error::other(
                "the file changed while it was imported: what was checked is no longer there",
            ));
        }
        Ok(bytes)
    }
}

/// The parts of a source, in turn.
pub(super) struct Parts<'a> {
    source: &'a ImportSource,
    file: Option<(std::fs::File, usize)>,
    at: usize,
    lines: usize,
    index: usize,
    done: bool,
}

impl Iterator for Parts<'_> {
    type Item = io::Result<Part>;

    fn next(&mut self) -> Option<io::Result<Part>> {
        if self.done {
            return None;
        }
        let bytes = match (self.source, &self.file) {
            (ImportSource::Body(body), _) => {
                self.done = true;
                body.clone()
            }
            (ImportSource::File { part_bytes, .. }, Some((file, len))) => {
                if self.at >= *len {
                    self.done = true;
                    return None;
                }
                match read_lines(file, self.at, *len, (*part_bytes).max(1)) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
            (ImportSource::File { .. }, None) => return None,
        };
        let part = Part {
            index: self.index,
            base: self.at,
            lines_before: self.lines,
            bytes,
        };
        self.index += 1;
        self.at += part.bytes.len();
        self.lines += part.bytes.iter().filter(|b| **b == b'\n').count();
        Some(Ok(part))
    }
}

/// Whole lines from `at`: about `want` bytes, up to and with the last line end in them (more,
/// where one line is longer; the rest of the file, where it has no line end).
fn read_lines(file: &std::fs::File, at: usize, len: usize, want: usize) -> io::Result<Bytes> {
    let mut want = want.min(len - at);
    loop {
        let mut buf = vec![0u8; want];
        read_at(file, &mut buf, at)?;
        if at + want == len {
            return Ok(Bytes::from(buf));
        }
        if let Some(last) = buf.iter().rposition(|b| *b == b'\n') {
            buf.truncate(last + 1);
            return Ok(Bytes::from(buf));
        }
        want = (want * 2).min(len - at);
    }
}

/// Reads `buf.len()` bytes from `at`, a thread a core each its own share: reading a large file
/// is mostly the kernel faulting in and filling fresh pages, which one thread does at about
/// 300 MB/s.
#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: usize) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let share = buf.len().div_ceil(threads).max(8 << 20);
    if buf.len() <= share {
        return file.read_exact_at(buf, at as u64);
    }
    std::thread::scope(|scope| {
        let readers: Vec<_> = buf
            .chunks_mut(share)
            .enumerate()
            .map(|(i, chunk)| {
                scope.spawn(move || file.read_exact_at(chunk, (at + i * share) as u64))
            })
            .collect();
        readers.into_iter().try_for_each(|r| {
            r.join()
                .unwrap_or_else(|_| Err(io::Error::other("a reader failed")))
        })
    })
}

#[cfg(not(unix))]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: usize) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(at as u64))?;
    file.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "lots-source-{}-{}.ndjson",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).expect("a temporary file");
        path
    }

    fn parts_of(source: &ImportSource) -> Vec<(usize, usize, String)> {
        source
            .parts()
            .expect("the file opens")
            .map(|p| {
                let p = p.expect("a part reads");
                (
                    p.base,
                    p.lines_before,
                    String::from_utf8(p.bytes.to_vec()).expect("UTF-8"),
                )
            })
            .collect()
    }

    #[test]
    fn a_file_is_read_in_parts_of_whole_lines_that_put_it_together_again() {
        let text = "one\ntwo\n\nthree is longer than a part\nfour";
        let path = file_with(text);
        let source = ImportSource::File {
            path: path.clone(),
            part_bytes: 6,
        };
        let parts = parts_of(&source);
        assert_eq!(
            parts,
            [
                (0, 0, "one\n".to_string()),
                (4, 1, "two\n\n".to_string()),
                // Longer than a part: read on to the file's end.
                (9, 3, "three is longer than a part\nfour".to_string()),
            ]
        );
        // The body in memory is one part.
        let body = ImportSource::Body(Bytes::from(text));
        assert_eq!(parts_of(&body), [(0, 0, text.to_string())]);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_part_that_changed_after_the_first_pass_is_refused() {
        let path = file_with("{\"a\": 1}\n{\"b\": 2}\n{\"c\": 3}\n");
        let source = ImportSource::File {
            path: path.clone(),
            part_bytes: 9,
        };
        let mut layout = Layout::default();
        for part in source.parts().expect("opens") {
            layout.push(&part.expect("reads"));
        }
        assert_eq!(
            &source.part_again(&layout, 1).expect("unchanged")[..],
            b"{\"b\": 2}\n"
        );
        std::fs::write(&path, "{\"a\": 1}\n{\"b\": 9}\n{\"c\": 3}\n").expect("rewritten");
        assert!(source.part_again(&layout, 0).is_ok());
        let e = source.part_again(&layout, 1).expect_err("changed");
        assert!(e.to_string().contains("changed"), "{e}");
        let _ = std::fs::remove_file(path);
    }
}
