//! Browsing a dataset: the article and paragraph lists, search, filters, pagination, and a
//! context cut into segments so that answers can be highlighted while staying plain text.

use squadkit_core::squad::Dataset;
use squadkit_core::text::{byte_index, char_len, py_lower};

/// Which questions to show by answerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Answerability {
    #[default]
    All,
    Answerable,
    Unanswerable,
}

impl Answerability {
    pub const ALL: [Answerability; 3] = [
        Answerability::All,
        Answerability::Answerable,
        Answerability::Unanswerable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Answerability::All => "all",
            Answerability::Answerable => "answerable",
            Answerability::Unanswerable => "unanswerable",
        }
    }

    pub fn from_label(s: &str) -> Answerability {
        Answerability::ALL
            .into_iter()
            .find(|a| a.label() == s)
            .unwrap_or_default()
    }
}

/// The filters of the question list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Searched (case-insensitively) in questions and contexts; empty matches everything.
    pub query: String,
    pub answerability: Answerability,
    pub article: Option<usize>,
    pub paragraph: Option<usize>,
}

/// Lower-cased questions and contexts, made once per dataset so that a filter change only
/// scans strings (contexts are shared by a paragraph's questions and lowered once).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchIndex {
    questions: Vec<String>,
    /// Per example, an index into `contexts`.
    context_of: Vec<usize>,
    contexts: Vec<String>,
}

impl SearchIndex {
    pub fn new(dataset: &Dataset) -> SearchIndex {
        let mut contexts = Vec::new();
        let mut context_of = Vec::with_capacity(dataset.len());
        let mut last: Option<(usize, usize)> = None;
        for e in &dataset.examples {
            if last != Some((e.article, e.paragraph)) {
                contexts.push(py_lower(&e.context));
                last = Some((e.article, e.paragraph));
            }
            context_of.push(contexts.len() - 1);
        }
        let questions = dataset
            .examples
            .iter()
            .map(|e| py_lower(&e.question))
            .collect();
        SearchIndex {
            questions,
            context_of,
            contexts,
        }
    }
}

/// Indices (dataset order) of the examples that pass `filter`.
pub fn filter_indices(dataset: &Dataset, index: &SearchIndex, filter: &Filter) -> Vec<usize> {
    let query = py_lower(filter.query.trim());
    dataset
        .examples
        .iter()
        .enumerate()
        .filter(|(_, e)| match filter.answerability {
            Answerability::All => true,
            Answerability::Answerable => e.has_answer(),
            Answerability::Unanswerable => !e.has_answer(),
        })
        .filter(|(_, e)| filter.article.is_none_or(|a| e.article == a))
        .filter(|(_, e)| filter.paragraph.is_none_or(|p| e.paragraph == p))
        .filter(|(i, _)| {
            query.is_empty()
                || index.questions[*i].contains(&query)
                || index.contexts[index.context_of[*i]].contains(&query)
        })
        .map(|(i, _)| i)
        .collect()
}

/// An article of the dataset: its title and how many paragraphs and questions it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleInfo {
    pub index: usize,
    pub title: String,
    pub paragraphs: usize,
    pub questions: usize,
}

pub fn articles(dataset: &Dataset) -> Vec<ArticleInfo> {
    let mut out: Vec<ArticleInfo> = Vec::new();
    for e in &dataset.examples {
        match out.last_mut() {
            Some(a) if a.index == e.article => {
                a.questions += 1;
                a.paragraphs = a.paragraphs.max(e.paragraph + 1);
            }
            _ => out.push(ArticleInfo {
                index: e.article,
                title: e.title.clone(),
                paragraphs: e.paragraph + 1,
                questions: 1,
            }),
        }
    }
    out
}

/// One page of a list: `page` (0-based) clamped to the last page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: usize,
    pub pages: usize,
    pub start: usize,
    pub end: usize,
}

pub fn page(total: usize, page: usize, per_page: usize) -> Page {
    let pages = total.div_ceil(per_page).max(1);
    let page = page.min(pages - 1);
    let start = (page * per_page).min(total);
    Page {
        page,
        pages,
        start,
        end: (start + per_page).min(total),
    }
}

/// What a character of a context is part of (several at once when spans overlap).
pub mod mark {
    pub const GOLD: u8 = 1;
    pub const PLAUSIBLE: u8 = 2;
    pub const PREDICTED: u8 = 4;
}

/// A run of context text with the same marks (a [`mark`] bit set; 0 for plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub marks: u8,
}

impl Segment {
    /// CSS classes of the marks: `gold`, `plausible`, `predicted`.
    pub fn classes(&self) -> String {
        let mut c = Vec::new();
        if self.marks & mark::GOLD != 0 {
            c.push("gold");
        }
        if self.marks & mark::PLAUSIBLE != 0 {
            c.push("plausible");
        }
        if self.marks & mark::PREDICTED != 0 {
            c.push("predicted");
        }
        c.join(" ")
    }
}

/// Cut `context` into segments by `spans` (code-point `start, end, mark`); spans outside the
/// context are clipped.
pub fn segments(context: &str, spans: &[(usize, usize, u8)]) -> Vec<Segment> {
    let n = char_len(context);
    let mut marks = vec![0u8; n];
    for &(s, e, m) in spans {
        for x in &mut marks[s.min(n)..e.min(n)] {
            *x |= m;
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        if i == n || marks[i] != marks[start] {
            let (b0, b1) = (
                byte_index(context, start).unwrap_or(context.len()),
                byte_index(context, i).unwrap_or(context.len()),
            );
            out.push(Segment {
                text: context[b0..b1].to_string(),
                marks: marks[start],
            });
            start = i;
        }
    }
    out
}

/// The dataset indices of the questions on the paragraph of question `i` (itself included),
/// in dataset order: its neighbours with the same article, paragraph and context.
pub fn paragraph_questions(d: &Dataset, i: usize) -> Vec<usize> {
    let Some(e) = d.examples.get(i) else {
        return Vec::new();
    };
    let same = |j: &usize| {
        let x = &d.examples[*j];
        x.article == e.article && x.paragraph == e.paragraph && x.context == e.context
    };
    let start = (0..i).rev().take_while(|j| same(j)).last().unwrap_or(i);
    (start..d.examples.len()).take_while(|j| same(j)).collect()
}

/// `text` cut into (piece, is a search hit) for the search `query`, matched as the filter
/// matches (Python's lower case, char by char, so that offsets stay in `text`).
pub fn search_hits(text: &str, query: &str) -> Vec<(String, bool)> {
    let query: Vec<char> = py_lower(query.trim()).chars().collect();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let lower: Vec<String> = chars
        .iter()
        .map(|(_, c)| py_lower(&c.to_string()))
        .collect();
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut push = |piece: &str, hit: bool| match out.last_mut() {
        Some(last) if last.1 == hit => last.0.push_str(piece),
        _ if piece.is_empty() => {}
        _ => out.push((piece.to_string(), hit)),
    };
    let byte = |i: usize| chars.get(i).map_or(text.len(), |c| c.0);
    // Where the lowered chars from `i` on spell the query: the number of chars it spans.
    let matches_at = |i: usize| -> Option<usize> {
        let mut want = query.iter();
        let mut j = i;
        let mut pending = want.next()?;
        loop {
            for c in lower.get(j)?.chars() {
                if c != *pending {
                    return None;
                }
                match want.next() {
                    Some(n) => pending = n,
                    None => return Some(j + 1 - i),
                }
            }
            j += 1;
        }
    };
    let mut i = 0;
    let mut start = 0;
    while i < chars.len() {
        match (!query.is_empty()).then(|| matches_at(i)).flatten() {
            Some(n) => {
                push(&text[byte(start)..byte(i)], false);
                push(&text[byte(i)..byte(i + n)], true);
                i += n;
                start = i;
            }
            None => i += 1,
        }
    }
    push(&text[byte(start)..], false);
    out
}

/// Answer texts as one line, each text once in first-seen order ("France | France | France"
/// in the dev set's answers is "France").
pub fn answer_list(texts: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for t in texts {
        if !seen.contains(&t.as_str()) {
            seen.push(t);
        }
    }
    seen.join(" | ")
}

/// Spans of an example's gold answers and plausible answers.
pub fn answer_spans(e: &squadkit_core::Example) -> Vec<(usize, usize, u8)> {
    let span = |(text, start): (&str, i64), m| {
        (
            start.max(0) as usize,
            start.max(0) as usize + char_len(text),
            m,
        )
    };
    e.answers
        .iter()
        .map(|a| span(a, mark::GOLD))
        .chain(e.plausible_answers.iter().map(|a| span(a, mark::PLAUSIBLE)))
        .collect()
}

/// Where a predicted answer is in the context: its first occurrence (predictions carry no
/// offset), preferring one that overlaps a gold answer.
pub fn prediction_span(
    context: &str,
    prediction: &str,
    golds: &[(usize, usize, u8)],
) -> Option<(usize, usize)> {
    if prediction.is_empty() {
        return None;
    }
    let len = char_len(prediction);
    let found: Vec<usize> = context
        .match_indices(prediction)
        .map(|(b, _)| char_len(&context[..b]))
        .collect();
    found
        .iter()
        .find(|&&s| golds.iter().any(|&(gs, ge, _)| s < ge && gs < s + len))
        .or(found.first())
        .map(|&s| (s, s + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paragraph_holds_its_neighbours_with_the_same_context() {
        let d = crate::load::dataset("dev.json", crate::demo::DEV).unwrap();
        for i in [0, 3, d.len() - 1] {
            let p = paragraph_questions(&d, i);
            assert!(p.contains(&i));
            assert!(p.windows(2).all(|w| w[1] == w[0] + 1), "contiguous");
            assert!(p
                .iter()
                .all(|&j| d.examples[j].context == d.examples[i].context));
            // Nothing on either side belongs to it.
            let (first, last) = (p[0], *p.last().unwrap());
            assert!(
                first == 0
                    || d.examples[first - 1].context != d.examples[i].context
                    || d.examples[first - 1].paragraph != d.examples[i].paragraph
            );
            assert!(
                last + 1 == d.len()
                    || d.examples[last + 1].paragraph != d.examples[i].paragraph
                    || d.examples[last + 1].article != d.examples[i].article
            );
        }
        let total: usize = (0..d.len())
            .filter(|&i| paragraph_questions(&d, i)[0] == i)
            .map(|i| paragraph_questions(&d, i).len())
            .sum();
        assert_eq!(total, d.len(), "the paragraphs partition the questions");
        assert!(paragraph_questions(&d, d.len()).is_empty());
    }

    #[test]
    fn search_hits_are_cut_out_case_blind() {
        let hit = |t: &str, q: &str| search_hits(t, q);
        assert_eq!(
            hit("The Ferry and the ferryman", "FERRY"),
            vec![
                ("The ".into(), false),
                ("Ferry".into(), true),
                (" and the ".into(), false),
                ("ferry".into(), true),
                ("man".into(), false)
            ]
        );
        assert_eq!(hit("abc", ""), vec![("abc".into(), false)]);
        assert_eq!(hit("abc", "x"), vec![("abc".into(), false)]);
        assert_eq!(
            hit("ÉCOLE é", "é"),
            vec![
                ("É".into(), true),
                ("COLE ".into(), false),
                ("é".into(), true)
            ]
        );
        assert_eq!(
            hit("aaa", "aa"),
            vec![("aa".into(), true), ("a".into(), false)]
        );
        assert!(hit("", "a").is_empty());
    }

    #[test]
    fn answer_texts_are_listed_once() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            answer_list(&t(&["France", "France", "France", "France"])),
            "France"
        );
        assert_eq!(
            answer_list(&t(&["10th century", "the 10th", "10th century"])),
            "10th century | the 10th"
        );
        assert_eq!(answer_list(&[]), "");
    }

    fn tiny() -> Dataset {
        crate::load::dataset("dev.json", include_bytes!("../../examples/tiny/dev.json")).unwrap()
    }

    #[test]
    fn filters_combine() {
        let d = tiny();
        let idx = SearchIndex::new(&d);
        let all = filter_indices(&d, &idx, &Filter::default());
        assert_eq!(all, (0..d.len()).collect::<Vec<_>>());
        let ans = filter_indices(
            &d,
            &idx,
            &Filter {
                answerability: Answerability::Answerable,
                ..Default::default()
            },
        );
        let unans = filter_indices(
            &d,
            &idx,
            &Filter {
                answerability: Answerability::Unanswerable,
                ..Default::default()
            },
        );
        assert_eq!(ans.len() + unans.len(), d.len());
        assert!(ans.iter().all(|&i| d.examples[i].has_answer()));
        assert!(!unans.is_empty());
        // Case-insensitive search in questions and contexts.
        let q = filter_indices(
            &d,
            &idx,
            &Filter {
                query: "LIGHTHOUSE".into(),
                ..Default::default()
            },
        );
        assert!(!q.is_empty());
        assert!(q.iter().all(|&i| {
            let e = &d.examples[i];
            e.question.to_lowercase().contains("lighthouse")
                || e.context.to_lowercase().contains("lighthouse")
        }));
        let none = filter_indices(
            &d,
            &idx,
            &Filter {
                query: "zzzqqq".into(),
                ..Default::default()
            },
        );
        assert!(none.is_empty());
        let a0 = filter_indices(
            &d,
            &idx,
            &Filter {
                article: Some(0),
                paragraph: Some(0),
                ..Default::default()
            },
        );
        assert!(a0
            .iter()
            .all(|&i| d.examples[i].article == 0 && d.examples[i].paragraph == 0));
        assert!(!a0.is_empty());
    }

    #[test]
    fn articles_count_paragraphs_and_questions() {
        let d = tiny();
        let a = articles(&d);
        assert_eq!(a.iter().map(|a| a.questions).sum::<usize>(), d.len());
        assert_eq!(
            a.iter().map(|a| a.paragraphs).sum::<usize>(),
            d.stats().paragraphs
        );
        assert_eq!(a[0].title, d.examples[0].title);
    }

    #[test]
    fn pages_clamp() {
        assert_eq!(
            page(0, 3, 50),
            Page {
                page: 0,
                pages: 1,
                start: 0,
                end: 0
            }
        );
        assert_eq!(
            page(120, 1, 50),
            Page {
                page: 1,
                pages: 3,
                start: 50,
                end: 100
            }
        );
        assert_eq!(
            page(120, 9, 50),
            Page {
                page: 2,
                pages: 3,
                start: 100,
                end: 120
            }
        );
    }

    #[test]
    fn segments_mark_overlapping_spans_in_code_points() {
        let s = segments(
            "héllo wörld",
            &[
                (6, 11, mark::GOLD),
                (8, 11, mark::PREDICTED),
                (0, 1, mark::PLAUSIBLE),
            ],
        );
        let got: Vec<_> = s.iter().map(|s| (s.text.as_str(), s.marks)).collect();
        assert_eq!(got, [("h", 2), ("éllo ", 0), ("wö", 1), ("rld", 5)]);
        assert_eq!(s[3].classes(), "gold predicted");
        assert_eq!(segments("", &[(0, 3, 1)]), []);
        assert_eq!(
            segments("ab", &[(1, 9, 1)]).len(),
            2,
            "clipped to the context"
        );
    }

    #[test]
    fn prediction_prefers_the_gold_occurrence() {
        let ctx = "red and white, red";
        assert_eq!(
            prediction_span(ctx, "red", &[(15, 18, mark::GOLD)]),
            Some((15, 18))
        );
        assert_eq!(prediction_span(ctx, "red", &[]), Some((0, 3)));
        assert_eq!(prediction_span(ctx, "blue", &[]), None);
        assert_eq!(prediction_span("é red", "red", &[]), Some((2, 5)));
    }
}
