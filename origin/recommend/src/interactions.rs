//! Interactions as sparse rows: for each user, the items they touched and how strongly.

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactions {
    items: usize,
    rows: Vec<Vec<(u32, f32)>>,
}

impl Interactions {
    /// `users` empty rows over `items` items.
    pub fn new(users: usize, items: usize) -> Self {
        Self {
            items,
            rows: vec![Vec::new(); users],
        }
    }

    /// Adds `weight` to (user, item); a repeat adds up. Out-of-range indexes are ignored.
    pub fn add(&mut self, user: u32, item: u32, weight: f32) {
        if item as usize >= self.items {
            return;
        }
        let Some(row) = self.rows.get_mut(user as usize) else {
            return;
        };
        match row.iter_mut().find(|(i, _)| *i == item) {
            Some((_, w)) => *w += weight,
            None => row.push((item, weight)),
        }
    }

    pub fn users(&self) -> usize {
        self.rows.len()
    }

    pub fn items(&self) -> usize {
        self.items
    }

    /// One user's (item, weight) pairs, in the order added.
    pub fn row(&self, user: u32) -> &[(u32, f32)] {
        self.rows.get(user as usize).map_or(&[], Vec::as_slice)
    }

    pub fn rows(&self) -> impl Iterator<Item = &[(u32, f32)]> {
        self.rows.iter().map(Vec::as_slice)
    }

    /// How many users touched each item.
    pub fn item_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.items];
        for row in &self.rows {
            for (i, _) in row {
                counts[*i as usize] += 1;
            }
        }
        counts
    }

    pub fn len(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
