//! Notifications: a centre per profile (the bell, live over server-sent events), email through
//! an outbox in the replicated state, preferences per kind, "Remind me" on coming-soon titles,
//! one-click unsubscribe. The leader drafts and sends; every node serves the centre.

pub mod api;
pub mod drafts;
pub mod mailer;
pub mod notifier;
pub mod state;
#[cfg(test)]
mod tests;
pub mod wire;
