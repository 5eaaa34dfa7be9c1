//! [`Shared`]: an `Arc` whose equality is identity, so that signals and memos holding large
//! data (a dataset, an evaluation) never compare their contents to decide whether they changed.

use std::ops::Deref;
use std::sync::Arc;

#[derive(Debug)]
pub struct Shared<T>(pub Arc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new(value))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_identity() {
        let a = Shared::new(vec![1]);
        let b = Shared::new(vec![1]);
        assert!(a == a.clone());
        assert!(a != b, "equal contents, different values");
        assert_eq!(*a, vec![1]);
    }
}
