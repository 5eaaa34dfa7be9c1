//! Python's text semantics, as the official scorer sees them.
//!
//! The official SQuAD v2.0 scorer is a CPython program: it lowercases with `str.lower()`,
//! finds articles with `re`'s Unicode `\b`, and splits on `str.split()`'s whitespace. Rust's
//! `str::to_lowercase`, `char::is_whitespace` and the `regex` crate's `\w` disagree with those
//! on some non-ASCII input (combining marks are not `\w` in Python; `\x1c`–`\x1f` and `\x85`
//! are whitespace to `str.split()`; Unicode versions differ). The tables in [`tables`] are
//! generated from CPython itself by `tools/gen_unicode_tables.py`.
//!
//! Offsets in this crate are Unicode code points unless a name says otherwise, as in Python.

mod tables;

pub use tables::UNICODE_VERSION as PYTHON_UNICODE_VERSION;

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Whether `re`'s Unicode `\w` matches `c` (`c.isalnum() or c == '_'`).
pub fn is_py_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    in_ranges(tables::WORD, c)
}

/// Whether `str.split()` treats `c` as whitespace (`c.isspace()`).
pub fn is_py_space(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f');
    }
    in_ranges(tables::SPACE, c)
}

fn is_cased(c: char) -> bool {
    in_ranges(tables::CASED, c)
}

fn is_case_ignorable(c: char) -> bool {
    in_ranges(tables::CASE_IGNORABLE, c)
}

/// Python's `s.isspace()`-based `s.strip()` on the left: `s.lstrip()`.
pub fn py_lstrip(s: &str) -> &str {
    s.trim_start_matches(is_py_space)
}

/// Python's `s.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `s.split()` (no argument): runs of whitespace separate, none are kept.
pub fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|t| !t.is_empty())
}

/// Python's `str.lower()`: full case mapping from CPython's tables, with its Final_Sigma rule.
pub fn py_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
        return out;
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c == '\u{03A3}' {
            out.push(if final_sigma(&chars, i) { '\u{03C2}' } else { '\u{03C3}' });
        } else {
            match tables::LOWER.binary_search_by_key(&(c as u32), |&(cp, _)| cp) {
                Ok(k) => {
                    for &cp in tables::LOWER[k].1.iter().take_while(|&&cp| cp != 0) {
                        out.push(char::from_u32(cp).expect("generated table holds scalar values"));
                    }
                }
                Err(_) => out.push(c),
            }
        }
    }
    out
}

/// CPython's `handle_capital_sigma`: `\p{cased}\p{case-ignorable}*Σ!(\p{case-ignorable}*\p{cased})`.
fn final_sigma(chars: &[char], i: usize) -> bool {
    let before = chars[..i].iter().rev().find(|&&c| !is_case_ignorable(c));
    if !before.is_some_and(|&c| is_cased(c)) {
        return false;
    }
    match chars[i + 1..].iter().find(|&&c| !is_case_ignorable(c)) {
        None => true,
        Some(&c) => !is_cased(c),
    }
}

/// The characters of Python's `string.punctuation` (ASCII only).
pub fn is_py_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// Number of Unicode code points in `s` (Python's `len(s)`).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Byte index of the code point at `char_index`, or `s.len()` when it is the end.
/// `None` when `char_index` is past the end.
pub fn byte_index(s: &str, char_index: usize) -> Option<usize> {
    if char_index == 0 {
        return Some(0);
    }
    let mut it = s.char_indices();
    match it.nth(char_index) {
        Some((b, _)) => Some(b),
        None if char_len(s) == char_index => Some(s.len()),
        None => None,
    }
}

/// Python's `s[start:end]` on code points, clamped like Python slicing.
pub fn char_slice(s: &str, start: usize, end: usize) -> &str {
    if end <= start {
        return "";
    }
    let b0 = byte_index(s, start).unwrap_or(s.len());
    let b1 = byte_index(s, end).unwrap_or(s.len());
    &s[b0..b1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_whitespace_includes_separators() {
        assert_eq!(py_split("a\x1cb\u{85}c\u{a0}d  e").collect::<Vec<_>>(), ["a", "b", "c", "d", "e"]);
        assert!(!is_py_space('\u{200b}'), "zero-width space is not isspace() in Python");
    }

    #[test]
    fn combining_marks_are_not_word_characters() {
        assert!(!is_py_word('\u{0301}'));
        assert!(is_py_word('é'));
        assert!(is_py_word('_'));
        assert!(is_py_word('٣'));
        assert!(is_py_word('Ⅻ'), "Nl is numeric in Python");
    }

    #[test]
    fn lower_follows_cpython() {
        assert_eq!(py_lower("İstanbul"), "i\u{307}stanbul");
        assert_eq!(py_lower("ΟΔΟΣ"), "οδος");
        assert_eq!(py_lower("ΟΔΟΣ ΑΒ"), "οδος αβ");
        assert_eq!(py_lower("Σ"), "σ");
        assert_eq!(py_lower("ΑΣΑ"), "ασα");
        assert_eq!(py_lower("ẞ"), "ß");
    }

    #[test]
    fn char_offsets() {
        let s = "a😀bé";
        assert_eq!(char_len(s), 4);
        assert_eq!(char_slice(s, 1, 3), "😀b");
        assert_eq!(char_slice(s, 3, 10), "é");
        assert_eq!(byte_index(s, 4), Some(s.len()));
        assert_eq!(byte_index(s, 5), None);
    }
}
