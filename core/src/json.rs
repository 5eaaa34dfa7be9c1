//! JSON as Python writes and reads it: key order, duplicate keys, float repr and `json.dumps`.
//!
//! The official scorer is `json.load` + `json.dumps`: objects keep their key order, a repeated
//! key keeps its first position and its last value, floats print as `repr(float)` (`100.0`,
//! `1e-05`), and `indent=2` or the compact `", "`/`": "` separators. [`OrderedMap`] reads
//! objects that way; [`PyValue`] and [`dumps`] write them that way. Errors carry the JSON path.

use rustc_hash::FxHashMap as HashMap;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use std::fmt;

/// A JSON parse failure: where (JSON path, line, column) and what.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at {path} (line {line}, column {column}): {message}")]
pub struct JsonError {
    /// JSON path of the offending value, such as `data[3].paragraphs[0].qas[2].id`; `.` for the root.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// `bytes` without a leading UTF-8 byte order mark (Windows editors write one; JSON forbids
/// it, and Python's `json.load` refuses it with "Unexpected UTF-8 BOM").
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Parse `bytes` as JSON into `T`, reporting the JSON path of the first error. A leading
/// UTF-8 byte order mark is skipped.
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, JsonError> {
    let bytes = strip_bom(bytes);
    // The fast path: plain serde_json. Only a failure pays for tracking the path.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = T::deserialize(&mut de) {
        if de.end().is_ok() {
            return Ok(value);
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        convert(path, e.into_inner())
    })?;
    // Trailing non-whitespace is an error, as in Python's json.load.
    de.end().map_err(|e| convert(".".to_string(), e))?;
    Ok(value)
}

/// Parse as [`from_slice`], also accepting the constants Python's `json` reads and writes
/// outside the JSON standard: `NaN`, `Infinity`, `-Infinity` (as numbers, where a
/// [`PyNumber`] is expected). The plain parse is tried first; an error is the plain parse's.
pub fn from_slice_py<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, JsonError> {
    match from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(e) => match with_py_constants(strip_bom(bytes)) {
            Some(rewritten) => {
                READING_PY_CONSTANTS.set(true);
                let parsed = from_slice(&rewritten);
                READING_PY_CONSTANTS.set(false);
                parsed.map_err(|_| e)
            }
            None => Err(e),
        },
    }
}

std::thread_local! {
    /// Set while [`from_slice_py`] parses its rewritten text: only then is a marker string a
    /// number (a file's own `"\u0000NaN"` string stays a string, and an error).
    static READING_PY_CONSTANTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The marker strings the Python constants are rewritten to.
const PY_NAN: &str = "\u{0}NaN";
const PY_INF: &str = "\u{0}Infinity";
const PY_NEG_INF: &str = "\u{0}-Infinity";

/// `bytes` with every `NaN`, `Infinity` and `-Infinity` outside strings replaced by a marker
/// string (`"\u0000NaN"`, ...); `None` when there is none.
fn with_py_constants(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let (mut in_string, mut escaped, mut found) = (false, false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let constant =
            [(&b"-Infinity"[..], "\"\\u0000-Infinity\""), (b"Infinity", "\"\\u0000Infinity\""), (b"NaN", "\"\\u0000NaN\"")]
                .into_iter()
                .find(|(token, _)| rest.starts_with(token));
        match constant {
            Some((token, marker)) => {
                out.extend_from_slice(marker.as_bytes());
                i += token.len();
                found = true;
            }
            None => {
                in_string = b == b'"';
                out.push(b);
                i += 1;
            }
        }
    }
    found.then_some(out)
}

fn convert(path: String, inner: serde_json::Error) -> JsonError {
    let mut message = inner.to_string();
    // serde_json appends " at line L column C": keep it out of the message, we report it apart.
    if let Some(k) = message.rfind(" at line ") {
        message.truncate(k);
    }
    JsonError { path, line: inner.line(), column: inner.column(), message }
}

/// A JSON object read as Python's `json.load` reads it: insertion order kept, a repeated key
/// keeps its first position and takes its last value.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V> {
    entries: Vec<(String, V)>,
    index: HashMap<String, usize>,
}

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap { entries: Vec::new(), index: HashMap::default() }
    }
}

impl<V> OrderedMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Insert like a Python dict assignment. Returns `true` when the key was already there.
    pub fn insert(&mut self, key: String, value: V) -> bool {
        match self.index.get(&key) {
            Some(&i) => {
                self.entries[i].1 = value;
                true
            }
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
                false
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }
}

impl<V> FromIterator<(String, V)> for OrderedMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut m = OrderedMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = OrderedMap::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.insert(k, v);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// A JSON number as Python's `json.load` gives it: `int` for literals without `.`/`e`, else `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyNumber {
    Int(i64),
    Float(f64),
}

impl PyNumber {
    pub fn as_f64(self) -> f64 {
        match self {
            PyNumber::Int(i) => i as f64,
            PyNumber::Float(f) => f,
        }
    }
}

impl From<PyNumber> for PyValue {
    fn from(n: PyNumber) -> PyValue {
        match n {
            PyNumber::Int(i) => PyValue::Int(i),
            PyNumber::Float(f) => PyValue::Float(f),
        }
    }
}

impl<'de> Deserialize<'de> for PyNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl<'de> Visitor<'de> for NumVisitor {
            type Value = PyNumber;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PyNumber, E> {
                Ok(PyNumber::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PyNumber, E> {
                i64::try_from(v).map(PyNumber::Int).map_err(|_| E::custom(format!("integer {v} is too large")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<PyNumber, E> {
                Ok(PyNumber::Float(v))
            }
            /// Python's constants, as [`from_slice_py`] rewrote them.
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PyNumber, E> {
                match v {
                    _ if !READING_PY_CONSTANTS.get() => Err(E::invalid_type(serde::de::Unexpected::Str(v), &self)),
                    PY_NAN => Ok(PyNumber::Float(f64::NAN)),
                    PY_INF => Ok(PyNumber::Float(f64::INFINITY)),
                    PY_NEG_INF => Ok(PyNumber::Float(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_type(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

/// A value of the score dictionaries the official script prints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyValue {
    Int(i64),
    Float(f64),
}

impl PyValue {
    pub fn as_f64(self) -> f64 {
        match self {
            PyValue::Int(i) => i as f64,
            PyValue::Float(f) => f,
        }
    }
}

impl fmt::Display for PyValue {
    /// As `json.dumps` prints it.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            PyValue::Int(i) => write!(f, "{i}"),
            PyValue::Float(x) => push_py_json_float(f, x),
        }
    }
}

/// `repr(x)` of a finite Python float: the shortest round-trip digits, fixed notation for
/// decimal exponents in [-5, 16), else `d.ddde±XX`; always a `.0` or an exponent.
pub fn py_float_repr(x: f64) -> String {
    let mut s = String::with_capacity(24);
    push_py_float_repr(&mut s, x).expect("writing to a String");
    s
}

/// A fixed buffer that `write!` formats into: no heap allocation per number.
struct StackBuf {
    bytes: [u8; 48],
    len: usize,
}

impl StackBuf {
    fn new() -> StackBuf {
        StackBuf { bytes: [0; 48], len: 0 }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("fmt writes UTF-8")
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let dst = self.bytes.get_mut(self.len..self.len + s.len()).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

/// Write `repr(x)` of a finite float to `out` (see [`py_float_repr`]).
pub fn push_py_float_repr<W: fmt::Write + ?Sized>(out: &mut W, x: f64) -> fmt::Result {
    // Ryu gives the shortest round-trip digits, the closest to x among them. When two strings
    // of that length are equally close (15.6397247314453125 with 17 digits), Python's repr
    // takes the even one: redo those with Rust's `{:.prec$e}`, which is correctly rounded
    // (ties to even). Only when a tie is possible: x must lie halfway between two n-digit
    // decimals, i.e. its exact decimal value has n + 1 significant digits.
    let mut ryu = ryu::Buffer::new();
    let mut digits = Digits::parse(ryu.format_finite(x.abs()).as_bytes(), true);
    if tie_possible(x, digits.len) {
        use fmt::Write as _;
        let mut exact = StackBuf::new();
        write!(exact, "{:.prec$e}", x.abs(), prec = digits.len - 1).expect("48 bytes hold any f64 in {:e}");
        digits = Digits::parse(exact.as_str().as_bytes(), false);
    }
    if x.is_sign_negative() {
        out.write_char('-')?;
    }
    let (d, exp, n) = (digits.as_str(), digits.exp, digits.len);
    const ZEROS: &str = "0000000000000000";
    if (-4..16).contains(&exp) {
        // Fixed notation; `point` digits before the decimal point (-3 <= point <= 16).
        let point = exp + 1;
        if point <= 0 {
            out.write_str("0.")?;
            out.write_str(&ZEROS[..(-point) as usize])?;
            out.write_str(d)
        } else if point as usize >= n {
            out.write_str(d)?;
            out.write_str(&ZEROS[..point as usize - n])?;
            out.write_str(".0")
        } else {
            out.write_str(&d[..point as usize])?;
            out.write_char('.')?;
            out.write_str(&d[point as usize..])
        }
    } else {
        out.write_str(&d[..1])?;
        if n > 1 {
            out.write_char('.')?;
            out.write_str(&d[1..])?;
        }
        write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// The significant digits of a non-negative float and the decimal exponent of the first.
struct Digits {
    bytes: [u8; 24],
    len: usize,
    exp: i32,
}

impl Digits {
    /// From "123.45", "0.00012", "1e-7", "1.5e300" (Ryu, or `{:e}`); trailing zeros are
    /// dropped when `strip` (Ryu writes "100.0").
    fn parse(text: &[u8], strip: bool) -> Digits {
        let (mantissa, exp10) = match text.iter().position(|&c| c == b'e' || c == b'E') {
            Some(i) => {
                let e = std::str::from_utf8(&text[i + 1..]).expect("ASCII").parse::<i32>().expect("an integer exponent");
                (&text[..i], e)
            }
            None => (text, 0),
        };
        let point = mantissa.iter().position(|&c| c == b'.').unwrap_or(mantissa.len());
        let mut d = Digits { bytes: [b'0'; 24], len: 0, exp: 0 };
        let mut leading = 0;
        for &c in mantissa.iter().filter(|c| c.is_ascii_digit()) {
            if d.len == 0 && c == b'0' {
                leading += 1;
                continue;
            }
            d.bytes[d.len] = c;
            d.len += 1;
        }
        if d.len == 0 {
            // Zero.
            d.len = 1;
            return d;
        }
        if strip {
            while d.len > 1 && d.bytes[d.len - 1] == b'0' {
                d.len -= 1;
            }
        }
        d.exp = point as i32 - 1 - leading + exp10;
        d
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII digits")
    }
}

/// Whether the shortest round-trip form of `x` (`n_digits` digits) may be one of two equally
/// close candidates. Both candidates round-trip, so half a unit in their last digit is within
/// half an ulp of x: 10^n > 2^52 for normal numbers, n >= 16. Then x = m·2^-k (m odd) is
/// exactly m·5^k·10^-k, whose digits are those of m·5^k: a tie needs exactly n + 1 of them.
/// Subnormals and integers (k <= 0) are not analysed: treated as possible ties.
fn tie_possible(x: f64, n_digits: usize) -> bool {
    if n_digits < 16 && x.abs() >= f64::MIN_POSITIVE {
        return false;
    }
    if x == 0.0 || x.abs() < f64::MIN_POSITIVE {
        return x != 0.0;
    }
    let bits = x.to_bits();
    let mantissa = (bits & 0x000F_FFFF_FFFF_FFFF) | 0x0010_0000_0000_0000;
    let exp = ((bits >> 52) & 0x7FF) as i32 - 1075; // x = mantissa · 2^exp
    let zeros = mantissa.trailing_zeros();
    let (m, k) = (mantissa >> zeros, -(exp + zeros as i32));
    if k <= 0 {
        return true;
    }
    if k > 32 {
        // m·5^k has at least 23 digits (> n + 1 <= 18): no tie; and would not fit a u128.
        return false;
    }
    let digits = (u128::from(m) * 5u128.pow(k as u32)).ilog10() as usize + 1;
    digits == n_digits + 1
}

/// Write a float as `json.dumps` writes it (`NaN`, `Infinity` included).
pub fn push_py_json_float<W: fmt::Write + ?Sized>(out: &mut W, x: f64) -> fmt::Result {
    if x.is_nan() {
        out.write_str("NaN")
    } else if x.is_infinite() {
        out.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        push_py_float_repr(out, x)
    }
}

/// `json.dumps(d, indent=2)` when `indent` is true, else `json.dumps(d)` (`json.dump`'s form).
pub fn dumps(entries: &[(String, PyValue)], indent: bool) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            s.push(',');
            if !indent {
                s.push(' ');
            }
        }
        if indent {
            s.push_str("\n  ");
        }
        s.push_str(&serde_json::to_string(k).expect("a string serialises"));
        s.push_str(": ");
        s.push_str(&v.to_string());
    }
    if indent && !entries.is_empty() {
        s.push('\n');
    }
    s.push('}');
    s
}

/// A string as `json.dumps` writes it (`ensure_ascii=True`): non-ASCII as `\uXXXX` escapes,
/// astral characters as surrogate pairs.
pub fn py_json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_py_json_str(&mut out, s).expect("writing to a String");
    out
}

/// Write `s` as `json.dumps` writes a string (see [`py_json_str`]).
pub fn push_py_json_str<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    // Runs of printable ASCII are copied whole.
    let mut run = 0;
    for (i, c) in s.char_indices() {
        if matches!(c, ' '..='~' | '\u{7f}') && c != '"' && c != '\\' {
            continue;
        }
        out.write_str(&s[run..i])?;
        run = i + c.len_utf8();
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(out, "\\u{u:04x}")?;
                }
            }
        }
    }
    out.write_str(&s[run..])?;
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (78.74168280973637, "78.74168280973637"),
            (100.0, "100.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.1, "0.1"),
            (1e100, "1e+100"),
            (-2.5, "-2.5"),
            (0.30000000000000004, "0.30000000000000004"),
            (15.639_724_731_445_313, "15.639724731445312"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(x), want, "repr({x:?})");
        }
    }

    /// The formatting before the fast path: always re-formats at the shortest length with a
    /// precision (correctly rounded, ties to even), kept as the oracle.
    fn repr_oracle(x: f64) -> String {
        let shortest = format!("{x:e}");
        let n_digits = shortest.split_once('e').map_or(0, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
        let sci = format!("{x:.prec$e}", prec = n_digits.saturating_sub(1));
        let (mantissa, exp) = sci.split_once('e').unwrap();
        let exp: i32 = exp.parse().unwrap();
        let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let n = digits.len() as i32;
        if (-4..16).contains(&exp) {
            let point = exp + 1;
            if point <= 0 {
                format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
            } else if point >= n {
                format!("{sign}{digits}{}.0", "0".repeat((point - n) as usize))
            } else {
                let (a, b) = digits.split_at(point as usize);
                format!("{sign}{a}.{b}")
            }
        } else {
            let (a, b) = digits.split_at(1);
            let frac = if b.is_empty() { String::new() } else { format!(".{b}") };
            format!("{sign}{a}{frac}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
        }
    }

    #[test]
    fn fast_float_repr_equals_the_always_rounding_oracle() {
        // xorshift over f64 bit patterns, f32 values widened (what decode writes), subnormals
        // and numbers near the fixed/scientific switch.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for i in 0..300_000 {
            let bits = next();
            let x = match i % 4 {
                0 => f64::from_bits(bits),
                1 => f64::from(f32::from_bits(bits as u32)),
                2 => f64::from_bits(bits & 0x000F_FFFF_FFFF_FFFF), // subnormal
                _ => (bits % 2_000_000) as f64 * 10f64.powi((bits >> 40) as i32 % 40 - 20) / 7.0,
            };
            if x.is_finite() {
                assert_eq!(py_float_repr(x), repr_oracle(x), "bits {:#x}", x.to_bits());
                checked += 1;
            }
        }
        assert!(checked > 290_000);
    }

    #[test]
    fn strings_are_escaped_as_json_dumps_does() {
        assert_eq!(py_json_str("a\"b\\c\n\u{1}é😀\u{7f}"), "\"a\\\"b\\\\c\\n\\u0001\\u00e9\\ud83d\\ude00\u{7f}\"");
    }

    #[test]
    fn dumps_matches_json_module() {
        let d = vec![("exact".to_string(), PyValue::Float(50.0)), ("total".to_string(), PyValue::Int(2))];
        assert_eq!(dumps(&d, true), "{\n  \"exact\": 50.0,\n  \"total\": 2\n}");
        assert_eq!(dumps(&d, false), "{\"exact\": 50.0, \"total\": 2}");
        assert_eq!(dumps(&[], true), "{}");
    }

    #[test]
    fn ordered_map_keeps_first_position_and_last_value() {
        let m: OrderedMap<PyNumber> = from_slice(br#"{"b": 1, "a": 0.5, "b": 2.0}"#).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(m.get("b"), Some(&PyNumber::Float(2.0)));
        assert_eq!(m.get("a"), Some(&PyNumber::Float(0.5)));
    }

    #[test]
    fn errors_name_the_path() {
        let e = from_slice::<OrderedMap<String>>(br#"{"a": "x", "b": 3}"#).unwrap_err();
        assert_eq!(e.path, "b");
        assert!(e.message.contains("expected a string"), "{}", e.message);
        let e = from_slice::<OrderedMap<String>>(b"{\"a\": \"x\"} trailing").unwrap_err();
        assert!(e.message.contains("trailing"), "{}", e.message);
    }
}
