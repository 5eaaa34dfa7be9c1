//! [`Loaded`]: an opened dataset with everything derived from it once (gold standard, search
//! index, statistics, article list) and its bytes, so that views and filters never recompute them.

use crate::browse::{articles, ArticleInfo, SearchIndex};
use crate::shared::Shared;
use crate::stats::StatsView;
use squadkit_core::{Dataset, GoldStandard};

#[derive(Debug, Clone)]
pub struct Loaded {
    pub name: String,
    pub dataset: Shared<Dataset>,
    pub gold: Shared<GoldStandard>,
    pub index: Shared<SearchIndex>,
    pub stats: Shared<StatsView>,
    pub articles: Shared<Vec<ArticleInfo>>,
    /// The file's bytes as opened (what the model worker predicts from).
    pub source: Shared<Vec<u8>>,
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        self.dataset == other.dataset
    }
}

impl Loaded {
    pub fn new(name: &str, dataset: Dataset, source: &[u8]) -> Loaded {
        Loaded {
            name: name.to_string(),
            gold: Shared::new(GoldStandard::new(&dataset)),
            index: Shared::new(SearchIndex::new(&dataset)),
            stats: Shared::new(StatsView::new(&dataset)),
            articles: Shared::new(articles(&dataset)),
            dataset: Shared::new(dataset),
            source: Shared::new(source.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_data_matches_the_dataset() {
        let d = crate::load::dataset("dev.json", crate::demo::DEV).unwrap();
        let l = Loaded::new("dev.json", d.clone(), crate::demo::DEV);
        assert_eq!(l.gold.len(), d.len());
        assert_eq!(l.stats.counts, d.stats());
        assert_eq!(l.articles.len(), d.stats().articles);
        assert!(l == l.clone());
        assert!(
            l != Loaded::new("dev.json", d, crate::demo::DEV),
            "a new load is a new value"
        );
    }
}
