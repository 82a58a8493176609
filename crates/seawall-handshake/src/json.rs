//! Just enough JSON writing for health documents.

use std::fmt::Write;

use seawall_core::health::Value;

/// Writes `s` as a JSON string, quotes included.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes an observed value. JSON has no NaN or infinity, so a float that
/// is not finite is written as `null`.
pub(crate) fn value(out: &mut String, value: &Value) {
    match value {
        Value::Unsigned(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        Value::Float(_) => out.push_str("null"),
        Value::Text(text) => string(out, text),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // A value kind added to core later: the document stays valid.
        _ => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn values() {
        let cases = [
            (Value::Unsigned(7), "7"),
            (Value::Float(0.25), "0.25"),
            (Value::Float(f64::NAN), "null"),
            (Value::Bool(true), "true"),
            (Value::from("open"), "\"open\""),
        ];
        for (v, expected) in cases {
            let mut out = String::new();
            value(&mut out, &v);
            assert_eq!(out, expected);
        }
    }
}
