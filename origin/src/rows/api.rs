//! `GET /api/v1/rows`: every row of the home page for the session's profile.

use axum::extract::State;

use super::wire::{Row, Rows};
use crate::accounts::MaybeViewer;
use crate::api::Ctx;
use crate::catalogue::genres;
use crate::catalogue::state::{self as catalogue, Title, TitleState};
use crate::catalogue::wire::Title as TitleWire;
use crate::error::{ApiResult, ErrorBody};
use crate::geo::ClientIp;
use crate::history::wire::ContinueItem;
use crate::policy::{self, Maturity};
use crate::profiles::state::Profile;
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use std::collections::HashMap;

use crate::recommendations::model::Trained;
use crate::{history, mylist, recommendations};

/// Cards in a catalogue row.
const ROW_LENGTH: usize = 30;
/// Genre rows after "New on Marquee".
const GENRE_ROWS: usize = 12;
/// Index rows a catalogue row looks at before it settles for fewer cards (a kids profile in a
/// catalogue of mostly adult titles gets a shorter row, not a slow page).
const MAX_SCAN: usize = 2_000;

fn card(t: &Title) -> ContinueItem {
    ContinueItem {
        title: TitleWire::from(t),
        episode: None,
        progress: None,
    }
}

fn catalogue_row(id: String, name: String, titles: Vec<Title>) -> Option<Row> {
    (!titles.is_empty()).then(|| Row {
        id,
        name,
        items: titles.iter().map(card).collect(),
        ranked: false,
    })
}

/// The rows, in page order; rows with nothing to show are left out.
pub(crate) fn home_rows(
    tx: &impl Reads,
    profile: Option<&Profile>,
    trained: Option<&Trained>,
    country: Option<&str>,
) -> Result<Vec<Row>, StoreError> {
    let limit = policy::limit_of(profile);
    let now = crate::ids::now_unix();
    let visible = |t: &Title| policy::may_watch(limit, &t.meta.maturity_rating).is_ok();
    // Rows of things to watch hold what can be played; coming-soon titles have a row of their own.
    let allowed = |t: &Title| visible(t) && !t.coming_soon(now);
    let mut rows = Vec::new();
    if let Some(p) = profile {
        let items = history::api::continue_row(tx, &p.id, p.maturity)?;
        if !items.is_empty() {
            rows.push(Row {
                id: "continue-watching".into(),
                name: format!("Continue watching for {}", p.name),
                items,
                ranked: false,
            });
        }
        rows.extend(my_list_row(tx, &p.id, limit)?);
    }
    let mut affinity = HashMap::new();
    match profile {
        Some(p) => {
            let picks = recommendations::rows::for_profile(tx, trained, p, country)?;
            rows.extend(picks.rows);
            affinity = picks.genre_affinity;
        }
        None => {
            // Anonymous visitors get the chart alone.
            if let Some(t) = trained {
                let (name, titles) = recommendations::rows::top_ten(t, country, |chart| {
                    top_titles(tx, chart, 10, &allowed)
                })?;
                if let Some(mut r) = catalogue_row("top-10".into(), name, titles) {
                    r.ranked = true;
                    rows.push(r);
                }
            }
        }
    }
    let new = catalogue::newest(tx, ROW_LENGTH, MAX_SCAN, &allowed)?;
    rows.extend(catalogue_row("new".into(), "New releases".into(), new));
    let mut soon = Vec::new();
    for id in crate::notifications::state::upcoming_titles(tx, now, ROW_LENGTH)? {
        if let Some(t) = catalogue::title(tx, &id)?
            && t.state == TitleState::Ready
            && t.coming_soon(now)
            && visible(&t)
        {
            soon.push(t);
        }
    }
    rows.extend(catalogue_row(
        "coming-soon".into(),
        "Coming soon".into(),
        soon,
    ));
    // Genre rows: the biggest genres, those the profile likes most first.
    let mut genres = genres::top(tx, GENRE_ROWS)?;
    genres.sort_by(|a, b| {
        let (x, y) = (
            affinity.get(&a.0).unwrap_or(&0.0),
            affinity.get(&b.0).unwrap_or(&0.0),
        );
        y.total_cmp(x)
            .then(b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(&b.0))
    });
    for (genre, _) in genres {
        let titles = catalogue::newest_in_genre(tx, &genre, ROW_LENGTH, MAX_SCAN, &allowed)?;
        rows.extend(catalogue_row(format!("genre:{genre}"), genre, titles));
    }
    Ok(rows)
}

fn top_titles(
    tx: &impl Reads,
    ids: &[String],
    n: usize,
    allowed: &dyn Fn(&Title) -> bool,
) -> Result<Vec<Title>, StoreError> {
    let mut out = Vec::new();
    for id in ids {
        if out.len() == n {
            break;
        }
        if let Some(t) = catalogue::title(tx, id)?
            && t.state == catalogue::TitleState::Ready
            && allowed(&t)
        {
            out.push(t);
        }
    }
    Ok(out)
}

fn my_list_row(
    tx: &impl Reads,
    profile_id: &str,
    limit: Maturity,
) -> Result<Option<Row>, StoreError> {
    let mut titles = Vec::new();
    for id in mylist::state::titles(tx, profile_id)? {
        if let Some(t) = catalogue::title(tx, &id)?
            && t.state == catalogue::TitleState::Ready
            && policy::may_watch(limit, &t.meta.maturity_rating).is_ok()
        {
            titles.push(t);
            if titles.len() == ROW_LENGTH {
                break;
            }
        }
    }
    Ok(catalogue_row("my-list".into(), "My List".into(), titles))
}

/// The home page: Continue watching and My List for the chosen profile, then New on Marquee
/// and the biggest genres, all within the profile's maturity limit.
#[utoipa::path(get, path = "/api/v1/rows", tag = "titles",
    responses(
        (status = 200, description = "The rows in page order (empty ones left out)", body = Rows),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn rows(
    State(ctx): State<Ctx>,
    viewer: MaybeViewer,
    ClientIp(client): ClientIp,
) -> ApiResult<axum::Json<Rows>> {
    let profile = viewer.0.as_ref().and_then(|v| v.profile.as_ref());
    let trained = ctx.recommendations.current();
    let country = ctx.countries.of(client);
    let rows = ctx.read(|tx| home_rows(tx, profile, trained.as_deref(), country))?;
    Ok(axum::Json(Rows { rows }))
}
