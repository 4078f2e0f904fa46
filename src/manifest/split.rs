//! Splitting a YAML stream into its documents, keeping each document's first line.
//!
//! serde_yaml can iterate over documents too, but it does not say where each one starts, and
//! ferry reports problems as `file:line`. The split follows the YAML spec's document markers:
//! a line that is exactly `---`, or starts with `--- ` / `---\t`, at column 0 starts a
//! document; a line `...` (or `... `/`...\t`) ends one. Markers are forbidden inside content,
//! even inside block scalars, so splitting by lines is exact.
//!
//! Comments, blank lines and `%` directives before the first `---` (or after a `...`) belong
//! to the next document rather than forming one of their own, as in YAML.

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The document's text, including its `---` / `...` markers and any directives.
    pub text: &'a str,
    /// 1-based line of the file where `text` starts.
    pub first_line: usize,
    /// 1-based line of the first line with content: not blank, not a comment, not a marker
    /// or directive. `None` when the document is empty or holds only comments.
    pub content_line: Option<usize>,
}

/// Iterator over the documents of a YAML stream, in order.
pub struct Documents<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

/// The documents of `text` (a leading byte-order mark is ignored).
pub fn documents(text: &str) -> Documents<'_> {
    Documents {
        text: text.strip_prefix('\u{feff}').unwrap_or(text),
        pos: 0,
        line: 1,
    }
}

fn is_marker(line: &str, marker: &str) -> bool {
    match line.strip_prefix(marker) {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t']),
        None => false,
    }
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#')
}

impl<'a> Iterator for Documents<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        let mut start = self.pos;
        let mut first_line = self.line;
        let mut explicit = false;
        let mut content_line = None;
        while self.pos < self.text.len() {
            let rest = &self.text[self.pos..];
            let raw = match rest.find('\n') {
                Some(i) => &rest[..=i],
                None => rest,
            };
            let line = raw.trim_end_matches(['\n', '\r']);
            if is_marker(line, "---") {
                if explicit || content_line.is_some() {
                    // The next document starts here.
                    break;
                }
                explicit = true;
                if !is_blank_or_comment(&line[3..]) {
                    content_line = Some(self.line);
                }
            } else if is_marker(line, "...") {
                self.pos += raw.len();
                self.line += 1;
                if explicit || content_line.is_some() {
                    return Some(self.chunk(start, first_line, content_line));
                }
                // A stray end marker with no document before it: drop it.
                start = self.pos;
                first_line = self.line;
                continue;
            } else if content_line.is_none()
                && !is_blank_or_comment(line)
                && (explicit || !line.starts_with('%'))
            {
                content_line = Some(self.line);
            }
            self.pos += raw.len();
            self.line += 1;
        }
        if self.pos == start {
            return None;
        }
        Some(self.chunk(start, first_line, content_line))
    }
}

impl<'a> Documents<'a> {
    fn chunk(&self, start: usize, first_line: usize, content_line: Option<usize>) -> Chunk<'a> {
        Chunk {
            text: &self.text[start..self.pos],
            first_line,
            content_line,
        }
    }
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
