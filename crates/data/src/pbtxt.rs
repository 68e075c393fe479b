//! A small, strict parser for the protobuf text format of Google's ImageNet `LabelMap`
//! (`imagenet_2012_challenge_label_map_proto.pbtxt`):
//!
//! ```text
//! # comment
//! entry {
//!   target_class: 449
//!   target_class_string: "n01440764"
//! }
//! ```
//!
//! Only what that message needs is accepted: top-level `entry` messages (the colon before `{` is
//! optional, as in text format), each with exactly one integer `target_class` and exactly one
//! string `target_class_string`. Anything else is an error naming the file and line.

use std::path::Path;

use crate::error::DataError;

/// One `entry { ... }` of a label-map file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMapEntry {
    /// The `target_class` field: the model output index.
    pub target_class: u32,
    /// The `target_class_string` field: the synset's WNID, e.g. `n01440764`.
    pub target_class_string: String,
    /// 1-based line of the `entry` keyword, for error messages.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Integer(String),
    Str(String),
    Colon,
    OpenBrace,
    CloseBrace,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Self::Ident(s) => format!("identifier `{s}`"),
            Self::Integer(s) => format!("number {s}"),
            Self::Str(s) => format!("string {s:?}"),
            Self::Colon => "`:`".to_owned(),
            Self::OpenBrace => "`{`".to_owned(),
            Self::CloseBrace => "`}`".to_owned(),
        }
    }
}

fn tokenize(text: &str, path: &Path) -> Result<Vec<(Token, usize)>, DataError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => {
                line += 1;
                chars.next();
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => {
                while let Some(&c) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            ':' => {
                tokens.push((Token::Colon, line));
                chars.next();
            }
            '{' => {
                tokens.push((Token::OpenBrace, line));
                chars.next();
            }
            '}' => {
                tokens.push((Token::CloseBrace, line));
                chars.next();
            }
            '"' => {
                chars.next();
                let start_line = line;
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None | Some('\n') => {
                            return Err(DataError::parse(
                                path,
                                start_line,
                                "unterminated string: expected a closing `\"` on the same line",
                            ));
                        }
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('"') => value.push('"'),
                            Some('\\') => value.push('\\'),
                            Some('\'') => value.push('\''),
                            other => {
                                return Err(DataError::parse(
                                    path,
                                    start_line,
                                    format!(
                                        "unsupported escape `\\{}` in string (only \\\", \\' and \\\\ are accepted)",
                                        other.map(String::from).unwrap_or_default()
                                    ),
                                ));
                            }
                        },
                        Some(c) => value.push(c),
                    }
                }
                tokens.push((Token::Str(value), start_line));
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' => {
                let mut value = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '+' || c == '.' {
                        value.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push((Token::Integer(value), line));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut value = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        value.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push((Token::Ident(value), line));
            }
            other => {
                return Err(DataError::parse(
                    path,
                    line,
                    format!("unexpected character {other:?}"),
                ));
            }
        }
    }
    Ok(tokens)
}

/// Parses the text of a `LabelMap` `.pbtxt` file. `path` is used only in error messages.
///
/// Checks the syntax and that each entry has exactly one `target_class` (a non-negative integer)
/// and one `target_class_string`; it does not check ranges or duplicates across entries (see
/// [`crate::Inception5hLabels`] for that).
pub fn parse_label_map(text: &str, path: &Path) -> Result<Vec<LabelMapEntry>, DataError> {
    let tokens = tokenize(text, path)?;
    let mut cursor = Cursor {
        tokens: &tokens,
        pos: 0,
        path,
        last_line: text.lines().count().max(1),
    };
    let mut entries = Vec::new();
    while cursor.pos < tokens.len() {
        entries.push(cursor.entry()?);
    }
    Ok(entries)
}

/// A position in the tokens of one label-map file, read an entry at a time.
struct Cursor<'a> {
    tokens: &'a [(Token, usize)],
    pos: usize,
    path: &'a Path,
    /// The line an unexpected end of file is reported at.
    last_line: usize,
}

/// The two fields of one entry, as far as they have been read.
#[derive(Default)]
struct EntryFields {
    target_class: Option<u32>,
    target_class_string: Option<String>,
}

impl Cursor<'_> {
    fn unexpected_end(&self, what: &str) -> DataError {
        DataError::parse(
            self.path,
            self.last_line,
            format!("unexpected end of file: expected {what}"),
        )
    }

    /// One `entry { ... }`, from the `entry` keyword through its closing brace.
    fn entry(&mut self) -> Result<LabelMapEntry, DataError> {
        let entry_line = self.entry_open()?;
        let mut fields = EntryFields::default();
        while let Some((field, field_line)) = self.field_name()? {
            self.field_colon(&field)?;
            let (value, value_line) = match self.tokens.get(self.pos) {
                Some((value, line)) => (value.clone(), *line),
                None => return Err(self.unexpected_end(&format!("a value for `{field}`"))),
            };
            self.pos += 1;
            fields.set(self.path, &field, field_line, value, value_line)?;
        }
        let path = self.path;
        let target_class = fields
            .target_class
            .ok_or_else(|| DataError::parse(path, entry_line, "entry has no `target_class`"))?;
        let target_class_string = fields.target_class_string.ok_or_else(|| {
            DataError::parse(path, entry_line, "entry has no `target_class_string`")
        })?;
        Ok(LabelMapEntry {
            target_class,
            target_class_string,
            line: entry_line,
        })
    }

    /// Reads `entry`, an optional `:` and `{`; returns the line of the `entry` keyword.
    fn entry_open(&mut self) -> Result<usize, DataError> {
        let (token, line) = &self.tokens[self.pos];
        let entry_line = *line;
        match token {
            Token::Ident(name) if name == "entry" => self.pos += 1,
            other => {
                return Err(DataError::parse(
                    self.path,
                    entry_line,
                    format!("expected `entry {{`, found {}", other.describe()),
                ));
            }
        }
        if matches!(self.tokens.get(self.pos), Some((Token::Colon, _))) {
            self.pos += 1;
        }
        match self.tokens.get(self.pos) {
            Some((Token::OpenBrace, _)) => self.pos += 1,
            Some((other, line)) => {
                return Err(DataError::parse(
                    self.path,
                    *line,
                    format!("expected `{{` after `entry`, found {}", other.describe()),
                ));
            }
            None => return Err(self.unexpected_end("`{` after `entry`")),
        }
        Ok(entry_line)
    }

    /// The next field's name and line, or `None` past the `}` that closes the entry.
    fn field_name(&mut self) -> Result<Option<(String, usize)>, DataError> {
        let (field, field_line) = match self.tokens.get(self.pos) {
            Some((Token::CloseBrace, _)) => {
                self.pos += 1;
                return Ok(None);
            }
            Some((Token::Ident(field), line)) => (field.clone(), *line),
            Some((other, line)) => {
                return Err(DataError::parse(
                    self.path,
                    *line,
                    format!(
                        "expected a field name (`target_class` or `target_class_string`) or `}}`, found {}",
                        other.describe()
                    ),
                ));
            }
            None => return Err(self.unexpected_end("`}` closing the entry")),
        };
        self.pos += 1;
        Ok(Some((field, field_line)))
    }

    /// The `:` after a field's name.
    fn field_colon(&mut self, field: &str) -> Result<(), DataError> {
        match self.tokens.get(self.pos) {
            Some((Token::Colon, _)) => {
                self.pos += 1;
                Ok(())
            }
            Some((other, line)) => Err(DataError::parse(
                self.path,
                *line,
                format!("expected `:` after `{field}`, found {}", other.describe()),
            )),
            None => Err(self.unexpected_end(&format!("`:` after `{field}`"))),
        }
    }
}

impl EntryFields {
    /// Records one `field: value`, refusing a field given twice, a value of the wrong kind and
    /// an unknown field.
    fn set(
        &mut self,
        path: &Path,
        field: &str,
        field_line: usize,
        value: Token,
        value_line: usize,
    ) -> Result<(), DataError> {
        match field {
            "target_class" => {
                if self.target_class.is_some() {
                    return Err(DataError::parse(
                        path,
                        field_line,
                        "`target_class` given twice in one entry",
                    ));
                }
                let Token::Integer(digits) = &value else {
                    return Err(DataError::parse(
                        path,
                        value_line,
                        format!(
                            "expected an integer for `target_class`, found {}",
                            value.describe()
                        ),
                    ));
                };
                let parsed = digits.parse::<u32>().map_err(|_| {
                    DataError::parse(
                        path,
                        value_line,
                        format!(
                            "expected a non-negative integer for `target_class`, found `{digits}`"
                        ),
                    )
                })?;
                self.target_class = Some(parsed);
            }
            "target_class_string" => {
                if self.target_class_string.is_some() {
                    return Err(DataError::parse(
                        path,
                        field_line,
                        "`target_class_string` given twice in one entry",
                    ));
                }
                let Token::Str(s) = value else {
                    return Err(DataError::parse(
                        path,
                        value_line,
                        format!(
                            "expected a quoted string for `target_class_string`, found {}",
                            value.describe()
                        ),
                    ));
                };
                self.target_class_string = Some(s);
            }
            other => {
                return Err(DataError::parse(
                    path,
                    field_line,
                    format!(
                        "unknown field `{other}` (a LabelMap entry has `target_class` and `target_class_string`)"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<LabelMapEntry>, DataError> {
        parse_label_map(text, Path::new("map.pbtxt"))
    }

    #[test]
    fn parses_entries_comments_and_optional_colon() {
        let text = "# header\nentry {\n  target_class: 449\n  target_class_string: \"n01440764\"\n}\n\
                    entry: { target_class_string: \"n01443537\" target_class: 450 } # trailing\n";
        let entries = parse(text).unwrap();
        assert_eq!(
            entries,
            vec![
                LabelMapEntry {
                    target_class: 449,
                    target_class_string: "n01440764".into(),
                    line: 2
                },
                LabelMapEntry {
                    target_class: 450,
                    target_class_string: "n01443537".into(),
                    line: 6
                },
            ]
        );
    }

    fn error_text(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_and_line() {
        let missing_brace = error_text("entry {\n target_class: 1\n target_class_string: \"n1\"\n");
        assert!(missing_brace.starts_with("map.pbtxt:3:"), "{missing_brace}");
        assert!(missing_brace.contains("end of file"), "{missing_brace}");

        let unknown = error_text("entry {\n target_class: 1\n label: \"x\"\n}\n");
        assert!(unknown.starts_with("map.pbtxt:3:"), "{unknown}");
        assert!(unknown.contains("unknown field `label`"), "{unknown}");

        let negative = error_text("entry {\n\n target_class: -3\n target_class_string: \"n1\" }");
        assert!(negative.starts_with("map.pbtxt:3:"), "{negative}");

        let string_for_int = error_text("entry { target_class: \"3\" target_class_string: \"n\" }");
        assert!(
            string_for_int.contains("expected an integer"),
            "{string_for_int}"
        );

        let twice = error_text("entry { target_class: 3 target_class: 4 }");
        assert!(twice.contains("given twice"), "{twice}");

        let missing_field = error_text("\nentry { target_class: 3 }");
        assert!(missing_field.starts_with("map.pbtxt:2:"), "{missing_field}");
        assert!(
            missing_field.contains("no `target_class_string`"),
            "{missing_field}"
        );

        let wrong_top = error_text("item { }");
        assert!(wrong_top.contains("expected `entry {`"), "{wrong_top}");

        let unterminated = error_text("entry { target_class_string: \"n0144\n }");
        assert!(
            unterminated.contains("unterminated string"),
            "{unterminated}"
        );
    }
}
