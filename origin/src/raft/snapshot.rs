//! The snapshot file: every table of one consistent read transaction, streamed row by row, with
//! a SHA-256 over the whole stream at the end. Memory stays flat however many rows there are.
//!
//! ```text
//! "MQSNAP1\n"
//! 'T' u16 name-length, name                  a table starts
//! 'R' u32 key-length, key, u32 value-length, value
//! 'E' u64 row count, 32-byte SHA-256 of every byte before the digest
//! ```
//! Lengths are big-endian. A receiver rebuilds a fresh state file from the stream and keeps it
//! only if the digest and row count match.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use redb::{ReadTransaction, ReadableTable, TableDefinition, TableHandle};
use ring::digest::{Context, SHA256};

use super::state_db;
use super::tables::StoreError;

const MAGIC: &[u8; 8] = b"MQSNAP1\n";
const ROWS_PER_TXN: u64 = 50_000;
const MAX_NAME: usize = 1024;
/// A single value larger than this is refused as damage rather than allocated.
const MAX_FIELD: usize = 256 << 20;

/// Why a snapshot stream could not be installed. Every case leaves the live state untouched.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("the snapshot is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Hashing<T> {
    inner: T,
    hash: Context,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Writes every table of `tx` to `out`; returns the row count. Blocking.
pub(crate) fn dump(tx: &ReadTransaction, out: impl Write) -> Result<u64, SnapshotError> {
    let mut w = Hashing {
        inner: BufWriter::with_capacity(1 << 20, out),
        hash: Context::new(&SHA256),
    };
    w.write_all(MAGIC)?;
    let mut rows = 0u64;
    let names: Vec<String> = tx
        .list_tables()
        .map_err(StoreError::from)?
        .map(|t| t.name().to_owned())
        .collect();
    for name in names {
        w.write_all(b"T")?;
        w.write_all(&(name.len() as u16).to_be_bytes())?;
        w.write_all(name.as_bytes())?;
        let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(&name);
        let table = tx.open_table(def).map_err(StoreError::from)?;
        for row in table.iter().map_err(StoreError::from)? {
            let (k, v) = row.map_err(StoreError::from)?;
            let (k, v) = (k.value(), v.value());
            w.write_all(b"R")?;
            w.write_all(&(k.len() as u32).to_be_bytes())?;
            w.write_all(k)?;
            w.write_all(&(v.len() as u32).to_be_bytes())?;
            w.write_all(v)?;
            rows += 1;
        }
    }
    w.write_all(b"E")?;
    w.write_all(&rows.to_be_bytes())?;
    let digest = w.hash.clone().finish();
    w.inner.write_all(digest.as_ref())?;
    w.inner.flush()?;
    Ok(rows)
}

fn read_array<const N: usize>(r: &mut impl Read) -> Result<[u8; N], SnapshotError> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf).map_err(truncated)?;
    Ok(buf)
}

fn read_field(r: &mut impl Read, len: usize) -> Result<Vec<u8>, SnapshotError> {
    if len > MAX_FIELD {
        return Err(SnapshotError::Damaged(format!(
            "a field claims {len} bytes"
        )));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).map_err(truncated)?;
    Ok(buf)
}

/// Reads a length-prefixed field into `buf` (reused, so rows cost no allocation).
fn read_field_into(r: &mut impl Read, buf: &mut Vec<u8>) -> Result<(), SnapshotError> {
    let len = u32::from_be_bytes(read_array(r)?) as usize;
    if len > MAX_FIELD {
        return Err(SnapshotError::Damaged(format!(
            "a field claims {len} bytes"
        )));
    }
    buf.resize(len, 0);
    r.read_exact(buf).map_err(truncated)
}

fn truncated(e: std::io::Error) -> SnapshotError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        SnapshotError::Damaged("the stream ends early".into())
    } else {
        SnapshotError::Io(e)
    }
}

/// Rebuilds the stream in `input` as a fresh redb file at `fresh`, fsync'd, and checks the
/// digest and row count. On any error the fresh file is removed. Blocking.
pub(crate) fn load(input: impl Read, fresh: &Path) -> Result<u64, SnapshotError> {
    let result = load_inner(input, fresh);
    if result.is_err() {
        let _ = std::fs::remove_file(fresh);
    }
    result
}

fn load_inner(input: impl Read, fresh: &Path) -> Result<u64, SnapshotError> {
    let mut r = Hashing {
        inner: BufReader::with_capacity(1 << 20, input),
        hash: Context::new(&SHA256),
    };
    if &read_array::<8>(&mut r)? != MAGIC {
        return Err(SnapshotError::Damaged("not a Marquee snapshot".into()));
    }
    let db = state_db::create_fresh(fresh)?;
    let mut stream = Stream {
        table: None,
        rows: 0,
        key: Vec::new(),
        value: Vec::new(),
    };
    // Bounded transactions keep memory flat while millions of rows go in.
    loop {
        let mut txn = db.begin_write().map_err(StoreError::from)?;
        txn.set_durability(redb::Durability::None)
            .map_err(StoreError::from)?;
        let ended = stream.load_some(&mut r, &txn)?;
        txn.commit().map_err(StoreError::from)?;
        if ended {
            break;
        }
    }
    // One fsync'd commit makes everything above durable before the file is swapped in.
    state_db::durable_write(&db)?
        .commit()
        .map_err(StoreError::from)?;
    drop(db);
    Ok(stream.rows)
}

/// Where a load is in the stream, across its transactions.
struct Stream {
    /// The table the next rows belong to.
    table: Option<String>,
    rows: u64,
    /// Buffers reused for every row.
    key: Vec<u8>,
    value: Vec<u8>,
}

impl Stream {
    /// Loads frames into `txn` until [`ROWS_PER_TXN`] rows went in (false) or the stream ended
    /// with a matching digest and row count (true). The open table is kept between rows:
    /// opening it per row cost most of the load time.
    fn load_some<R: Read>(
        &mut self,
        r: &mut Hashing<BufReader<R>>,
        txn: &redb::WriteTransaction,
    ) -> Result<bool, SnapshotError> {
        let open = |name: &str| {
            let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(name);
            txn.open_table(def).map_err(StoreError::from)
        };
        let mut table = self.table.as_deref().map(open).transpose()?;
        let mut in_txn = 0u64;
        loop {
            match read_array::<1>(r)?[0] {
                b'T' => {
                    let len = u16::from_be_bytes(read_array(r)?) as usize;
                    if len > MAX_NAME {
                        return Err(SnapshotError::Damaged("table name too long".into()));
                    }
                    let name = String::from_utf8(read_field(r, len)?)
                        .map_err(|_| SnapshotError::Damaged("table name is not UTF-8".into()))?;
                    drop(table.take());
                    table = Some(open(&name)?);
                    self.table = Some(name);
                }
                b'R' => {
                    let t = table
                        .as_mut()
                        .ok_or_else(|| SnapshotError::Damaged("a row before any table".into()))?;
                    read_field_into(r, &mut self.key)?;
                    read_field_into(r, &mut self.value)?;
                    t.insert(self.key.as_slice(), self.value.as_slice())
                        .map_err(StoreError::from)?;
                    self.rows += 1;
                    in_txn += 1;
                    if in_txn >= ROWS_PER_TXN {
                        return Ok(false);
                    }
                }
                b'E' => {
                    let claimed = u64::from_be_bytes(read_array(r)?);
                    let want = r.hash.clone().finish();
                    let got = read_array::<32>(&mut r.inner)?;
                    if want.as_ref() != got {
                        return Err(SnapshotError::Damaged("its SHA-256 does not match".into()));
                    }
                    if claimed != self.rows {
                        return Err(SnapshotError::Damaged(format!(
                            "it claims {claimed} rows but holds {}",
                            self.rows
                        )));
                    }
                    return Ok(true);
                }
                other => {
                    return Err(SnapshotError::Damaged(format!(
                        "unknown frame {other:#04x}"
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::tables::Table;
    use redb::ReadableDatabase;

    const T: Table<String> = Table::new("things");

    fn source(dir: &Path, rows: u64) -> redb::Database {
        let db = state_db::create_fresh(&dir.join("src.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        for i in 0..rows {
            T.put(&txn, &i.to_be_bytes(), &format!("value {i}"))
                .unwrap();
        }
        txn.commit().unwrap();
        db
    }

    fn dumped(db: &redb::Database) -> Vec<u8> {
        let mut out = Vec::new();
        dump(&db.begin_read().unwrap(), &mut out).unwrap();
        out
    }

    #[test]
    fn a_dump_loads_back_into_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = dumped(&source(dir.path(), 1000));
        let fresh = dir.path().join("fresh.redb");
        // 1000 rows plus the format record.
        assert_eq!(load(bytes.as_slice(), &fresh).unwrap(), 1001);
        let db = redb::Database::open(&fresh).unwrap();
        let tx = db.begin_read().unwrap();
        assert_eq!(T.get(&tx, &7u64.to_be_bytes()).unwrap().unwrap(), "value 7");
        assert_eq!(T.prefix(&tx, b"", false, usize::MAX).unwrap().len(), 1000);
    }

    #[test]
    fn a_damaged_or_short_dump_is_refused_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = dumped(&source(dir.path(), 10));
        let fresh = dir.path().join("fresh.redb");
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        let err = load(flipped.as_slice(), &fresh).unwrap_err();
        assert!(matches!(err, SnapshotError::Damaged(_)), "{err}");
        assert!(!fresh.exists());
        let err = load(&bytes[..bytes.len() - 5], &fresh).unwrap_err();
        assert!(err.to_string().contains("ends early"), "{err}");
        let err = load(&b"GARBAGE!"[..], &fresh).unwrap_err();
        assert!(err.to_string().contains("not a Marquee snapshot"), "{err}");
    }
}
