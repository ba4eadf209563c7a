//! Typed tables of the replicated state, over redb.
//!
//! Every state table has the same redb shape, bytes → bytes, so a snapshot can stream any table
//! without knowing its type; [`Table`] adds the types: keys are byte strings the domain builds
//! (see [`key`]), values are JSON (readable when debugging a node, and tolerant of fields added
//! later with `#[serde(default)]`).
//!
//! Reads go through [`Reads`], implemented by both redb transaction kinds, so the same query
//! function serves a handler (read transaction) and a command being applied (write transaction).

use std::marker::PhantomData;
use std::ops::Bound;

use redb::{ReadTransaction, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The redb shape of every state table.
pub type RawDef = TableDefinition<'static, &'static [u8], &'static [u8]>;
/// One row as stored: key and JSON value bytes.
pub type RawRow = (Vec<u8>, Vec<u8>);

/// A storage failure while reading or applying state. Fatal for a command being applied (the
/// node stops rather than diverge); a 500 for a read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redb: {0}")]
    Redb(#[from] redb::Error),
    #[error("undecodable record in table {table}: {reason}")]
    Decode { table: &'static str, reason: String },
    #[error("unencodable record for table {table}: {reason}")]
    Encode { table: &'static str, reason: String },
    #[error("{0}")]
    Other(String),
}

macro_rules! store_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Redb(e.into())
            }
        }
    )*};
}
store_from!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// Read access shared by read and write transactions. A table that was never written reads as
/// empty.
pub trait Reads {
    fn get_raw(&self, def: RawDef, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Rows with `start <= key < end` (`end: None` = to the end), in key order or reversed,
    /// at most `limit`.
    fn range_raw(
        &self,
        def: RawDef,
        start: &[u8],
        end: Option<&[u8]>,
        rev: bool,
        limit: usize,
    ) -> Result<Vec<RawRow>, StoreError>;
}

fn collect<T: ReadableTable<&'static [u8], &'static [u8]>>(
    table: &T,
    start: &[u8],
    end: Option<&[u8]>,
    rev: bool,
    limit: usize,
) -> Result<Vec<RawRow>, StoreError> {
    let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
    let range = table.range::<&[u8]>((Bound::Included(start), upper))?;
    let rows = |it: &mut dyn Iterator<Item = _>| -> Result<Vec<_>, StoreError> {
        let mut out = Vec::new();
        for row in it.take(limit) {
            let (k, v): (redb::AccessGuard<&[u8]>, redb::AccessGuard<&[u8]>) = row?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    };
    if rev {
        rows(&mut range.rev())
    } else {
        rows(&mut { range })
    }
}

impl Reads for ReadTransaction {
    fn get_raw(&self, def: RawDef, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.open_table(def) {
            Ok(t) => Ok(t.get(key)?.map(|v| v.value().to_vec())),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn range_raw(
        &self,
        def: RawDef,
        start: &[u8],
        end: Option<&[u8]>,
        rev: bool,
        limit: usize,
    ) -> Result<Vec<RawRow>, StoreError> {
        match self.open_table(def) {
            Ok(t) => collect(&t, start, end, rev, limit),
            Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }
}

impl Reads for WriteTransaction {
    fn get_raw(&self, def: RawDef, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.open_table(def)?;
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    fn range_raw(
        &self,
        def: RawDef,
        start: &[u8],
        end: Option<&[u8]>,
        rev: bool,
        limit: usize,
    ) -> Result<Vec<RawRow>, StoreError> {
        let t = self.open_table(def)?;
        collect(&t, start, end, rev, limit)
    }
}

/// A table of `V` (JSON) under byte keys.
pub struct Table<V> {
    name: &'static str,
    def: RawDef,
    _v: PhantomData<fn() -> V>,
}

impl<V> Clone for Table<V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<V> Copy for Table<V> {}

impl<V: Serialize + DeserializeOwned> Table<V> {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            def: TableDefinition::new(name),
            _v: PhantomData,
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<V, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Decode {
            table: self.name,
            reason: format!("{:?} error at column {}", e.classify(), e.column()),
        })
    }

    pub fn get(&self, tx: &impl Reads, key: &[u8]) -> Result<Option<V>, StoreError> {
        tx.get_raw(self.def, key)?
            .map(|b| self.decode(&b))
            .transpose()
    }

    pub fn contains(&self, tx: &impl Reads, key: &[u8]) -> Result<bool, StoreError> {
        Ok(tx.get_raw(self.def, key)?.is_some())
    }

    pub fn put(&self, tx: &WriteTransaction, key: &[u8], value: &V) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Encode {
            table: self.name,
            reason: e.to_string(),
        })?;
        tx.open_table(self.def)?.insert(key, bytes.as_slice())?;
        Ok(())
    }

    /// Removes a row; whether it was there.
    pub fn remove(&self, tx: &WriteTransaction, key: &[u8]) -> Result<bool, StoreError> {
        Ok(tx.open_table(self.def)?.remove(key)?.is_some())
    }

    /// Rows whose key starts with `prefix`, in key order (or reversed), at most `limit`.
    pub fn prefix(
        &self,
        tx: &impl Reads,
        prefix: &[u8],
        rev: bool,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, V)>, StoreError> {
        let end = key::prefix_end(prefix);
        self.range(tx, prefix, end.as_deref(), rev, limit)
    }

    /// Calls `f` with every row, in key order, reading a page at a time so a whole-table scan
    /// (training a model in the background) does not hold the table in memory.
    pub fn for_each(
        &self,
        tx: &impl Reads,
        mut f: impl FnMut(&[u8], V) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        const PAGE: usize = 1024;
        let mut start = Vec::new();
        loop {
            let rows = self.range(tx, &start, None, false, PAGE)?;
            let full = rows.len() == PAGE;
            for (k, v) in rows {
                f(&k, v)?;
                start = k;
            }
            if !full {
                return Ok(());
            }
            // The least key after the last one read.
            start.push(0);
        }
    }

    /// Rows with `start <= key < end`.
    pub fn range(
        &self,
        tx: &impl Reads,
        start: &[u8],
        end: Option<&[u8]>,
        rev: bool,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, V)>, StoreError> {
        tx.range_raw(self.def, start, end, rev, limit)?
            .into_iter()
            .map(|(k, v)| Ok((k, self.decode(&v)?)))
            .collect()
    }
}

/// Key building: order-preserving encodings, so range scans follow the order a query needs.
pub mod key {
    /// Big-endian, so byte order is numeric order.
    pub fn u64(n: u64) -> [u8; 8] {
        n.to_be_bytes()
    }

    /// Big-endian of `u64::MAX - n`: byte order is newest (largest `n`) first.
    pub fn desc_u64(n: u64) -> [u8; 8] {
        (u64::MAX - n).to_be_bytes()
    }

    /// Parts joined by a 0 byte. Parts must not contain 0 (ids, hex and emails do not).
    pub fn join(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(0);
            }
            out.extend_from_slice(p);
        }
        out
    }

    /// The smallest key greater than every key starting with `prefix` (`None`: no bound).
    pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
        let mut end = prefix.to_vec();
        while let Some(last) = end.pop() {
            if last < u8::MAX {
                end.push(last + 1);
                return Some(end);
            }
        }
        None
    }

    /// The first 0-separated part of a key, as text.
    pub fn first_part(key: &[u8]) -> String {
        let part = key.split(|b| *b == 0).next().unwrap_or(key);
        String::from_utf8_lossy(part).into_owned()
    }

    /// The last 0-separated part of a key, as text.
    pub fn last_part(key: &[u8]) -> String {
        let part = key.rsplit(|b| *b == 0).next().unwrap_or(key);
        String::from_utf8_lossy(part).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_the_way_queries_need() {
        assert!(key::u64(2) < key::u64(10));
        assert!(key::desc_u64(10) < key::desc_u64(2));
        assert_eq!(key::prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(key::prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(key::prefix_end(&[255, 255]), None);
        let k = key::join(&[b"acct", b"title"]);
        assert_eq!(k, b"acct\0title");
        assert_eq!(key::last_part(&k), "title");
    }
}
