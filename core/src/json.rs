//! JSON as Python writes and reads it: key order, duplicate keys, float repr and `json.dumps`.
//!
//! The official scorer is `json.load` + `json.dumps`: objects keep their key order, a repeated
//! key keeps its first position and its last value, floats print as `repr(float)` (`100.0`,
//! `1e-05`), and `indent=2` or the compact `", "`/`": "` separators. [`OrderedMap`] reads
//! objects that way; [`PyValue`] and [`dumps`] write them that way. Errors carry the JSON path.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use rustc_hash::FxHashMap as HashMap;
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

/// Parse `bytes` as JSON into `T`, reporting the JSON path of the first error.
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, JsonError> {
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
                i64::try_from(v)
                    .map(PyNumber::Int)
                    .map_err(|_| E::custom(format!("integer {v} is too large")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<PyNumber, E> {
                Ok(PyNumber::Float(v))
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
            PyValue::Float(x) if x.is_nan() => f.write_str("NaN"),
            PyValue::Float(x) if x.is_infinite() => f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" }),
            PyValue::Float(x) => f.write_str(&py_float_repr(x)),
        }
    }
}

/// `repr(x)` of a finite Python float: the shortest round-trip digits, fixed notation for
/// decimal exponents in [-5, 16), else `d.ddde±XX`; always a `.0` or an exponent.
pub fn py_float_repr(x: f64) -> String {
    // Rust's `{:e}` gives the shortest round-trip digits: "-7.875e1", "1e-5", "0e0". When two
    // strings of that length are equally close (15.6397247314453125 with 17 digits), it may
    // pick the upper one; Python's repr rounds half to even: redo it with a precision, which
    // is correctly rounded.
    let shortest = format!("{x:e}");
    let n_digits = shortest.split_once('e').map_or(0, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
    let sci = format!("{x:.prec$e}", prec = n_digits.saturating_sub(1));
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    if (-4..16).contains(&exp) {
        // Fixed notation.
        let point = exp + 1; // digits before the decimal point
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
        let esign = if exp < 0 { '-' } else { '+' };
        let frac = if b.is_empty() { String::new() } else { format!(".{b}") };
        format!("{sign}{a}{frac}e{esign}{:02}", exp.abs())
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
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' | '\u{7f}' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(out, "\\u{u:04x}").expect("writing to a String");
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (78.75010528088941, "78.75010528088941"),
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
            (15.6397247314453125, "15.639724731445312"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(x), want, "repr({x:?})");
        }
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
