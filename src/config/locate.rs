//! Maps byte offsets in a TOML file to key paths and line/column numbers, so that every
//! config error can name the file, line and key.

use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One key of the file: its dotted path and where its key and value stand.
#[derive(Clone, Debug)]
struct Entry {
    path: String,
    key: Range<usize>,
    value: Range<usize>,
}

/// Every key of a parsed TOML document with its position.
#[derive(Clone, Debug, Default)]
pub struct KeyIndex {
    entries: Vec<Entry>,
}

impl KeyIndex {
    /// Indexes `text`; a file that does not parse yields an empty index.
    pub fn build(text: &str) -> KeyIndex {
        let mut entries = Vec::new();
        if let Ok(doc) = DeTable::parse(text) {
            walk(doc.get_ref(), "", &mut entries);
        }
        KeyIndex { entries }
    }

    /// The innermost key whose key or value text contains byte `offset`.
    pub fn key_at(&self, offset: usize) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| {
                e.key.contains(&offset) || e.value.contains(&offset) || e.key.start == offset
            })
            .max_by_key(|e| e.path.matches('.').count())
            .map(|e| e.path.as_str())
    }

    /// Where the key `path` is written, or its closest written parent table.
    pub fn offset_of(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.iter().find(|e| e.path == p) {
                return Some(e.key.start);
            }
            p = p.rsplit_once('.')?.0;
        }
    }
}

fn walk(table: &DeTable<'_>, prefix: &str, out: &mut Vec<Entry>) {
    for (k, v) in table.iter() {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        out.push(Entry {
            path: path.clone(),
            key: k.span(),
            value: v.span(),
        });
        if let DeValue::Table(t) = v.get_ref() {
            walk(t, &path, out);
        }
    }
}

/// 1-based (line, column) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    // an offset inside a character counts from that character's start
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_inside_a_character_is_no_panic() {
        let text = "a = \"é\"\nb = 1\n";
        let inside = text.find('é').unwrap() + 1;
        assert_eq!(line_col(text, inside), (1, 6));
        assert_eq!(line_col(text, usize::MAX), (3, 1));
    }

    #[test]
    fn finds_keys_by_offset_and_path() {
        let text = "mode = \"paper\"\n[risk]\nmax_open_positions = 3\n";
        let idx = KeyIndex::build(text);
        let off = text.find("3").unwrap();
        assert_eq!(idx.key_at(off), Some("risk.max_open_positions"));
        let at = idx.offset_of("risk.max_open_positions").unwrap();
        assert_eq!(line_col(text, at), (3, 1));
        // a key not written falls back to its table
        assert_eq!(
            line_col(text, idx.offset_of("risk.daily_loss_limit").unwrap()),
            (2, 2)
        );
    }
}
