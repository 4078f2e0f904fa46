use super::*;

fn summary(text: &str) -> Vec<(usize, Option<usize>, String)> {
    documents(text)
        .map(|c| (c.first_line, c.content_line, c.text.to_string()))
        .collect()
}

#[test]
fn single_document_without_markers() {
    assert_eq!(
        summary("a: 1\nb: 2\n"),
        vec![(1, Some(1), "a: 1\nb: 2\n".into())]
    );
    assert!(summary("").is_empty());
}

#[test]
fn second_document_starts_at_its_marker() {
    let text = "# head\n---\na: 1\nb: 2\n\n---\n# about b\nc: 3\n";
    let docs = summary(text);
    assert_eq!(docs.len(), 2);
    // Leading comments and the first `---` are one document, not two.
    assert_eq!(docs[0], (1, Some(3), "# head\n---\na: 1\nb: 2\n\n".into()));
    assert_eq!(docs[1], (6, Some(8), "---\n# about b\nc: 3\n".into()));
}

#[test]
fn empty_and_comment_only_documents_have_no_content() {
    let docs = summary("---\n---\n# only a comment\n   # indented\n---\nx: 1\n---\n");
    let content: Vec<_> = docs.iter().map(|d| d.1).collect();
    assert_eq!(content, vec![None, None, Some(6), None]);
}

#[test]
fn marker_variants() {
    // `----` and ` ---` are content, not markers; `--- ` and `---\t` are markers.
    let docs = summary("a: |\n  x\n ---\n----: 1\n--- \nb: 1\n---\t# c\nc: 1\n");
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0].0, 1);
    assert_eq!(docs[1].0, 5);
    assert_eq!(docs[2], (7, Some(8), "---\t# c\nc: 1\n".into()));
}

#[test]
fn content_on_the_marker_line() {
    let docs = summary("--- {a: 1}\n--- |\n  text\n--- # comment\nb: 2\n");
    assert_eq!(
        docs.iter().map(|d| (d.0, d.1)).collect::<Vec<_>>(),
        vec![(1, Some(1)), (2, Some(2)), (4, Some(5))]
    );
}

#[test]
fn crlf_and_bom() {
    let docs = summary("\u{feff}a: 1\r\n---\r\nb: 2\r\n");
    assert_eq!(docs.len(), 2);
    assert_eq!((docs[1].0, docs[1].1), (2, Some(3)));
    assert_eq!(docs[1].2, "---\r\nb: 2\r\n");
}

#[test]
fn end_markers_and_directives() {
    let text = "a: 1\n...\n%YAML 1.2\n---\nb: 2\n...\nc: 3\n";
    let docs = summary(text);
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert_eq!(docs[0], (1, Some(1), "a: 1\n...\n".into()));
    assert_eq!(docs[1], (3, Some(5), "%YAML 1.2\n---\nb: 2\n...\n".into()));
    assert_eq!(docs[2], (7, Some(7), "c: 3\n".into()));
    // A stray end marker makes no document.
    let docs = summary("...\n---\nx: 1\n");
    assert_eq!(docs, vec![(2, Some(3), "---\nx: 1\n".into())]);
}

/// What may fall between documents: a stray end marker and what came before it.
fn droppable(line: &str) -> bool {
    let line = line.trim_end_matches('\r');
    is_marker(line, "...") || is_blank_or_comment(line) || line.starts_with('%')
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..Default::default()
    })]

    /// On any text: the documents are consecutive slices of it, with only stray `...`
    /// lines (and the blanks, comments and directives before them) between them; each starts at the line its offset is on, and its content
    /// line lies inside it.
    #[test]
    fn documents_tile_the_text_and_lines_add_up(
        pieces in proptest::collection::vec(
            proptest::sample::select(&[
                "---", "...", "\n", "\r\n", "\r", " ", "\t", "#", "%YAML 1.2", "a: 1",
                "- x", "|", "\u{feff}", "--- ", "----", " ---", "é", "",
            ][..]),
            0..60,
        )
    ) {
        let text = pieces.concat();
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut pos = 0;
        for chunk in documents(&text) {
            proptest::prop_assert!(!chunk.text.is_empty());
            let offset = chunk.text.as_ptr() as usize - body.as_ptr() as usize;
            proptest::prop_assert!(offset >= pos);
            for gap in body[pos..offset].lines() {
                proptest::prop_assert!(droppable(gap), "{:?}", gap);
            }
            let line = 1 + body[..offset].matches('\n').count();
            proptest::prop_assert_eq!(chunk.first_line, line);
            if let Some(content) = chunk.content_line {
                let last = line + chunk.text.trim_end_matches('\n').matches('\n').count();
                proptest::prop_assert!(content >= line && content <= last, "{:?}", chunk);
            }
            pos = offset + chunk.text.len();
        }
        for gap in body[pos..].lines() {
            proptest::prop_assert!(droppable(gap), "{:?}", gap);
        }
    }
}

#[test]
fn no_trailing_newline() {
    let docs = summary("a: 1\n---\nb: 2");
    assert_eq!(docs[1], (2, Some(3), "---\nb: 2".into()));
}
