//! Start/end logits from disk: a `.safetensors` file or a pair of `.npy` files.
//!
//! Both are read by hand (their layouts are a length-prefixed JSON or Python-dict header and
//! raw little-endian values), float32 only: decoding is float32 for parity with utils_qa, so
//! other dtypes are refused rather than silently converted.

use crate::error::{CliError, Result};
use crate::fsio;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A row-major `[rows, width]` float32 matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub width: usize,
    pub data: Floats,
}

/// Float32 values, either owned or seen in place in a mapped file (little-endian and
/// aligned, which both formats' writers arrange), so that reading 2 × 19 MB of logits costs
/// no copy.
#[derive(Clone)]
pub enum Floats {
    Owned(Vec<f32>),
    InFile { file: Arc<fsio::Input>, at: usize, len: usize },
}

impl Floats {
    /// The little-endian values in `bytes[at..at + 4 * len]` of `file`.
    fn from_file(file: &Arc<fsio::Input>, at: usize, len: usize) -> Floats {
        let raw = &file[at..at + 4 * len];
        if cfg!(target_endian = "little") && bytemuck::try_cast_slice::<u8, f32>(raw).is_ok() {
            Floats::InFile { file: Arc::clone(file), at, len }
        } else {
            Floats::Owned(raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
        }
    }
}

impl std::ops::Deref for Floats {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        match self {
            Floats::Owned(v) => v,
            Floats::InFile { file, at, len } => bytemuck::cast_slice(&file[*at..*at + 4 * len]),
        }
    }
}

impl From<Vec<f32>> for Floats {
    fn from(v: Vec<f32>) -> Floats {
        Floats::Owned(v)
    }
}

impl PartialEq for Floats {
    fn eq(&self, other: &Floats) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Floats {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Floats({} values)", self.len())
    }
}

/// The `start_logits` and `end_logits` of a safetensors file.
pub fn read_safetensors(path: &Path) -> Result<(Matrix, Matrix)> {
    let bytes = Arc::new(fsio::map(path)?);
    let bad = |m: String| CliError::input(path, format!("not a usable safetensors file: {m}"));
    if bytes.len() < 8 {
        return Err(bad("too short".into()));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header = bytes.get(8..8usize.saturating_add(n)).ok_or_else(|| bad("truncated header".into()))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| bad(format!("header: {e}")))?;
    let data_at = 8 + n;
    let data = &bytes[data_at..];
    let tensor = |name: &str| -> Result<Matrix> {
        let t = header.get(name).ok_or_else(|| {
            let names: Vec<&str> = header.keys().filter(|k| *k != "__metadata__").map(String::as_str).collect();
            bad(format!("no tensor `{name}` (it has: {})", names.join(", ")))
        })?;
        let dtype = t["dtype"].as_str().unwrap_or("?");
        if dtype != "F32" {
            return Err(bad(format!("`{name}` is {dtype}, expected F32 (float32 logits)")));
        }
        let shape: Vec<usize> =
            t["shape"].as_array().map(|a| a.iter().filter_map(|x| x.as_u64().map(|x| x as usize)).collect()).unwrap_or_default();
        let off: Vec<usize> = t["data_offsets"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_u64().map(|x| x as usize)).collect())
            .unwrap_or_default();
        let [rows, width] = shape[..] else {
            return Err(bad(format!("`{name}` has shape {shape:?}, expected [windows, positions]")));
        };
        let [b, e] = off[..] else { return Err(bad(format!("`{name}` has no data_offsets"))) };
        data.get(b..e).filter(|r| r.len() == rows * width * 4).ok_or_else(|| bad(format!("`{name}` data is truncated")))?;
        Ok(Matrix { rows, width, data: Floats::from_file(&bytes, data_at + b, rows * width) })
    };
    Ok((tensor("start_logits")?, tensor("end_logits")?))
}

/// A 2-D float32 `.npy` file (C order).
pub fn read_npy(path: &Path) -> Result<Matrix> {
    let bytes = Arc::new(fsio::map(path)?);
    let bad = |m: String| CliError::input(path, format!("not a usable .npy file: {m}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("no NUMPY magic".into()));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize, 12),
        v => return Err(bad(format!("format version {v}"))),
    };
    let header = bytes.get(start..start + hlen).ok_or_else(|| bad("truncated header".into()))?;
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| -> Option<String> {
        let i = header.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = header[i..].trim_start().strip_prefix(':')?.trim_start();
        let end = if rest.starts_with('(') { rest.find(')')? + 1 } else { rest.find([',', '}'])? };
        Some(rest[..end].trim().to_string())
    };
    let descr = field("descr").unwrap_or_default();
    if descr != "'<f4'" {
        return Err(bad(format!("dtype {descr}, expected '<f4' (little-endian float32)")));
    }
    if field("fortran_order").as_deref() != Some("False") {
        return Err(bad("Fortran order; save a C-ordered array".into()));
    }
    let shape = field("shape").unwrap_or_default();
    let dims: Vec<usize> = shape
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let [rows, width] = dims[..] else { return Err(bad(format!("shape {shape}, expected (windows, positions)"))) };
    let raw = bytes.len() - (start + hlen);
    if raw != rows * width * 4 {
        return Err(bad(format!("{raw} data bytes for shape {shape}")));
    }
    Ok(Matrix { rows, width, data: Floats::from_file(&bytes, start + hlen, rows * width) })
}

/// Write a 2-D float32 `.npy` (version 1.0), for tools and tests.
pub fn npy_bytes(m: &Matrix) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", m.rows, m.width);
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for x in m.data.iter() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Write a safetensors file with `start_logits` and `end_logits`, for tools and tests.
pub fn safetensors_bytes(start: &Matrix, end: &Matrix) -> Vec<u8> {
    let s = start.data.len() * 4;
    let header = serde_json::json!({
        "start_logits": {"dtype": "F32", "shape": [start.rows, start.width], "data_offsets": [0, s]},
        "end_logits": {"dtype": "F32", "shape": [end.rows, end.width], "data_offsets": [s, s + end.data.len() * 4]},
    });
    let mut h = serde_json::to_vec(&header).expect("a header serialises");
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    for x in start.data.iter().chain(end.data.iter()) {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Read LOGITS as `decode` takes them: one `.safetensors`, or two `.npy` files (start, end).
pub fn read_logits(paths: &[PathBuf]) -> Result<(Matrix, Matrix)> {
    match paths {
        [one] => read_safetensors(one),
        [s, e] => {
            let (start, end) = (read_npy(s)?, read_npy(e)?);
            if (start.rows, start.width) != (end.rows, end.width) {
                return Err(CliError::input(
                    e,
                    format!(
                        "end logits are {}x{} but the start logits ({}) are {}x{}",
                        end.rows,
                        end.width,
                        s.display(),
                        start.rows,
                        start.width
                    ),
                ));
            }
            Ok((start, end))
        }
        _ => Err(CliError::Invalid(format!(
            "LOGITS is one .safetensors file or two .npy files (start, end), got {} paths",
            paths.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: usize, width: usize, k: f32) -> Matrix {
        Matrix { rows, width, data: (0..rows * width).map(|i| i as f32 * k).collect::<Vec<_>>().into() }
    }

    #[test]
    fn npy_and_safetensors_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (s, e) = (m(3, 5, 0.5), m(3, 5, -1.25));
        let (ps, pe) = (dir.path().join("s.npy"), dir.path().join("e.npy"));
        std::fs::write(&ps, npy_bytes(&s)).unwrap();
        std::fs::write(&pe, npy_bytes(&e)).unwrap();
        assert_eq!(read_logits(&[ps.clone(), pe.clone()]).unwrap(), (s.clone(), e.clone()));
        let st = dir.path().join("l.safetensors");
        std::fs::write(&st, safetensors_bytes(&s, &e)).unwrap();
        assert_eq!(read_logits(std::slice::from_ref(&st)).unwrap(), (s, e));
    }

    #[test]
    fn aligned_values_are_seen_in_place_and_unaligned_ones_copied() {
        let dir = tempfile::tempdir().unwrap();
        let (s, e) = (m(3, 5, 0.5), m(3, 5, -1.25));
        let aligned = dir.path().join("a.safetensors");
        std::fs::write(&aligned, safetensors_bytes(&s, &e)).unwrap();
        let (a, _) = read_safetensors(&aligned).unwrap();
        assert!(matches!(a.data, Floats::InFile { .. }), "{:?}", a.data);
        assert_eq!(a, s);
        // One more space in the header moves the data off 4-byte alignment.
        let mut bytes = safetensors_bytes(&s, &e);
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        bytes.insert(8 + n, b' ');
        bytes[..8].copy_from_slice(&(n as u64 + 1).to_le_bytes());
        let unaligned = dir.path().join("u.safetensors");
        std::fs::write(&unaligned, bytes).unwrap();
        let (us, ue) = read_safetensors(&unaligned).unwrap();
        assert!(matches!(us.data, Floats::Owned(_)), "{:?}", us.data);
        assert_eq!((us, ue), (s, e));
    }

    #[test]
    fn wrong_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.safetensors");
        std::fs::write(&p, b"\x02\x00\x00\x00\x00\x00\x00\x00{}").unwrap();
        let e = read_logits(std::slice::from_ref(&p)).unwrap_err();
        assert!(e.to_string().contains("x.safetensors: not a usable safetensors file: no tensor `start_logits`"), "{e}");
        let q = dir.path().join("x.npy");
        let mut bytes = npy_bytes(&m(2, 2, 1.0));
        bytes[6] = 9;
        std::fs::write(&q, &bytes).unwrap();
        assert!(read_npy(&q).unwrap_err().to_string().contains("format version 9"));
        let mut f8 = npy_bytes(&m(2, 2, 1.0));
        let at = f8.windows(3).position(|w| w == b"<f4").unwrap();
        f8[at + 2] = b'8';
        std::fs::write(&q, &f8).unwrap();
        assert!(read_npy(&q).unwrap_err().to_string().contains("expected '<f4'"));
    }
}
