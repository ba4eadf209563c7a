//! Where content keys live, by title. A trait so the origin can put keys in its replicated
//! store (encrypted at rest) while tests use memory; nothing here knows any backend.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::key::ContentKey;

/// Failures of a key store backend.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("title id must not be empty")]
    EmptyTitle,
    #[error("key store backend failed: {0}")]
    Backend(String),
}

/// Content keys per title. A title has one key per track class (e.g. SD video, HD video,
/// audio), hence a list.
pub trait KeyStore: Send + Sync {
    /// Adds `key` to `title_id`'s keys; a key with the same kid is replaced.
    fn put(&self, title_id: &str, key: ContentKey) -> Result<(), KeyStoreError>;

    /// Every key of `title_id`, in the order first put; empty for an unknown title.
    fn get(&self, title_id: &str) -> Result<Vec<ContentKey>, KeyStoreError>;
}

/// Keys in process memory, for tests and single-process tools. Lost on exit.
#[derive(Debug, Default)]
pub struct InMemoryKeyStore {
    titles: RwLock<HashMap<String, Vec<ContentKey>>>,
}

impl KeyStore for InMemoryKeyStore {
    fn put(&self, title_id: &str, key: ContentKey) -> Result<(), KeyStoreError> {
        if title_id.is_empty() {
            return Err(KeyStoreError::EmptyTitle);
        }
        // Each write is a single push or replace, so a poisoned lock holds consistent data.
        let mut titles = self.titles.write().unwrap_or_else(|p| p.into_inner());
        let keys = titles.entry(title_id.to_owned()).or_default();
        match keys.iter_mut().find(|k| k.kid == key.kid) {
            Some(existing) => *existing = key,
            None => keys.push(key),
        }
        Ok(())
    }

    fn get(&self, title_id: &str) -> Result<Vec<ContentKey>, KeyStoreError> {
        let titles = self.titles.read().unwrap_or_else(|p| p.into_inner());
        Ok(titles.get(title_id).cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_kept_per_title_in_put_order() {
        let store = InMemoryKeyStore::default();
        store.put("t1", ContentKey::filled(2, 20)).expect("put");
        store.put("t1", ContentKey::filled(1, 10)).expect("put");
        store.put("t2", ContentKey::filled(3, 30)).expect("put");
        assert_eq!(
            store.get("t1").expect("get"),
            vec![ContentKey::filled(2, 20), ContentKey::filled(1, 10)]
        );
        assert_eq!(
            store.get("t2").expect("get"),
            vec![ContentKey::filled(3, 30)]
        );
        assert!(store.get("nope").expect("get").is_empty());
    }

    #[test]
    fn same_kid_replaces_the_key() {
        let store = InMemoryKeyStore::default();
        store.put("t1", ContentKey::filled(1, 10)).expect("put");
        store.put("t1", ContentKey::filled(1, 11)).expect("put");
        assert_eq!(
            store.get("t1").expect("get"),
            vec![ContentKey::filled(1, 11)]
        );
    }

    #[test]
    fn empty_title_is_refused() {
        let store = InMemoryKeyStore::default();
        assert!(matches!(
            store.put("", ContentKey::filled(1, 1)),
            Err(KeyStoreError::EmptyTitle)
        ));
    }

    #[test]
    fn usable_as_a_trait_object() {
        let store: Box<dyn KeyStore> = Box::new(InMemoryKeyStore::default());
        store.put("t", ContentKey::filled(9, 9)).expect("put");
        assert_eq!(store.get("t").expect("get").len(), 1);
    }
}
