//! A time limit for one search: a collector that stops taking documents once its deadline
//! passes, so no query a viewer types can hold a search thread for long. What was collected by
//! then is the (partial) answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocSet, SegmentOrdinal, SegmentReader, TERMINATED};

/// Documents collected between looks at the clock.
const CHECK_EVERY: u32 = 2048;

pub struct Deadline<C> {
    pub inner: C,
    pub at: Instant,
    /// Set when the deadline cut a segment short.
    pub passed: Arc<AtomicBool>,
}

impl<C> Deadline<C> {
    pub fn new(inner: C, at: Instant, passed: &Arc<AtomicBool>) -> Self {
        Self {
            inner,
            at,
            passed: passed.clone(),
        }
    }
}

impl<C: Collector> Collector for Deadline<C> {
    type Fruit = C::Fruit;
    type Child = C::Child;

    fn check_schema(&self, schema: &tantivy::schema::Schema) -> tantivy::Result<()> {
        self.inner.check_schema(schema)
    }

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<C::Child> {
        self.inner.for_segment(ord, reader)
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<C::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<C::Fruit> {
        self.inner.merge_fruits(fruits)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<<C::Child as SegmentCollector>::Fruit> {
        let mut segment = self.inner.for_segment(ord, reader)?;
        if Instant::now() >= self.at {
            self.passed.store(true, Ordering::Relaxed);
            return Ok(segment.harvest());
        }
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let scoring = self.inner.requires_scoring();
        let mut doc = scorer.doc();
        let mut seen = 0u32;
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                let score = if scoring { scorer.score() } else { 0.0 };
                segment.collect(doc, score);
            }
            seen += 1;
            if seen.is_multiple_of(CHECK_EVERY) && Instant::now() >= self.at {
                self.passed.store(true, Ordering::Relaxed);
                break;
            }
            doc = scorer.advance();
        }
        Ok(segment.harvest())
    }
}
