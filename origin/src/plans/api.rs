//! `GET /api/v1/plans`: public, so the sign-up page can show prices before an account exists.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use marquee_billing::{Currency, plan, tax};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::{PlanOffer, Plans, Price};
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::geo::ClientIp;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlansQuery {
    /// Prices for this country (ISO 3166-1 alpha-2) instead of the one the viewer's address
    /// is in.
    pub country: Option<String>,
}

/// The plans, priced in the currency of the viewer's country (from `country`, else from the
/// address through the operator's prefix table; US dollars when neither is known).
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", params(PlansQuery),
    responses(
        (status = 200, description = "Every plan with its limits and price", body = Plans),
        (status = 400, description = "invalid_query: an unknown parameter or country code", body = ErrorBody),
    ))]
pub async fn list(
    State(ctx): State<Ctx>,
    ClientIp(client): ClientIp,
    query: Result<Query<PlansQuery>, QueryRejection>,
) -> ApiResult<axum::Json<Plans>> {
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let country = match q.country {
        Some(code) => Some(checked_country(&code)?),
        None => ctx.countries.of(client).map(str::to_owned),
    };
    Ok(axum::Json(offers(country)))
}

pub(crate) fn checked_country(code: &str) -> Result<String, ApiError> {
    isocountry::CountryCode::for_alpha2_caseless(code.trim())
        .map(|c| c.alpha2().to_owned())
        .map_err(|_| {
            ApiError::new(
                Code::InvalidQuery,
                format!("{code:?} is not an ISO 3166-1 alpha-2 country code, such as GB or JP"),
            )
        })
}

fn offers(country: Option<String>) -> Plans {
    let currency = country
        .as_deref()
        .map_or(Currency::Usd, Currency::for_country);
    let tax_included = country
        .as_deref()
        .is_some_and(|c| tax::rule_for(c).inclusive);
    let plans = plan::default_plans()
        .into_iter()
        .filter_map(|p| {
            let price = p.price(currency)?;
            Some(PlanOffer {
                streams: p.limits.streams,
                top_resolution: format!("{}p", p.limits.top_resolution.max_height()),
                profiles: p.limits.profiles,
                price: Price {
                    minor: price.minor(),
                    currency: currency.code().to_owned(),
                    display: price.to_string(),
                },
                id: p.id,
                name: p.name,
            })
        })
        .collect();
    Plans {
        country,
        currency: currency.code().to_owned(),
        tax_included,
        plans,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_country_sees_its_currency() {
        let gb = offers(Some("GB".into()));
        assert_eq!((gb.currency.as_str(), gb.tax_included), ("GBP", true));
        assert_eq!(gb.plans[0].price.display, "£5.99");
        let jp = offers(Some("JP".into()));
        assert_eq!(jp.plans[0].price.display, "¥990");
        let unknown = offers(None);
        assert_eq!(
            (unknown.currency.as_str(), unknown.tax_included),
            ("USD", false)
        );
        assert_eq!(unknown.plans.len(), 3);
    }

    #[test]
    fn a_bad_country_code_is_refused_with_a_reason() {
        let err = checked_country("ZZ").unwrap_err();
        assert_eq!(err.code, Code::InvalidQuery);
        assert_eq!(checked_country("gb").unwrap(), "GB");
    }
}
