//! Invoices: what was charged, for what, with the tax split out, and the HTML receipt a viewer
//! downloads. Numbers come from [`tax::apply`], so every invoice adds up.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::tax::{self, TaxRule};
use crate::{Money, MoneyError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub description: String,
    /// What the line costs, as charged (tax included where the country's prices include it).
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub number: String,
    /// Unix seconds.
    pub issued_at: u64,
    pub customer: String,
    /// ISO 3166-1 alpha-2: the tax rule's country.
    pub country: String,
    pub lines: Vec<Line>,
    pub net: Money,
    pub tax: Money,
    pub total: Money,
    pub tax_rule: TaxRule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("an invoice needs at least one line")]
    Empty,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Invoice {
    /// Totals `lines` (one currency) and splits the tax out under `country`'s rule.
    pub fn new(
        number: &str,
        issued_at: u64,
        customer: &str,
        country: &str,
        lines: Vec<Line>,
    ) -> Result<Invoice, InvoiceError> {
        let first = lines.first().ok_or(InvoiceError::Empty)?;
        let mut charged = Money::zero(first.amount.currency());
        for line in &lines {
            charged = charged.checked_add(line.amount)?;
        }
        let rule = tax::rule_for(country);
        let split = tax::apply(charged, rule)?;
        Ok(Invoice {
            number: number.to_owned(),
            issued_at,
            customer: customer.to_owned(),
            country: country.trim().to_ascii_uppercase(),
            lines,
            net: split.net,
            tax: split.tax,
            total: split.total,
            tax_rule: rule,
        })
    }

    /// A self-contained HTML receipt (no scripts, no outside resources); every text from
    /// outside is escaped.
    pub fn to_html(&self) -> String {
        let mut html = String::with_capacity(2048);
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Marquee receipt {number}</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto}}\
             td,th{{padding:.3rem .6rem;text-align:left}}td.amount,th.amount{{text-align:right}}</style>\
             </head><body>\n<h1>Receipt {number}</h1>\n<p>Billed to {customer} ({country})</p>\n\
             <table>\n<thead><tr><th>Item</th><th class=\"amount\">Amount</th></tr></thead>\n<tbody>\n",
            number = escape(&self.number),
            customer = escape(&self.customer),
            country = escape(&self.country),
        );
        for line in &self.lines {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"amount\">{}</td></tr>",
                escape(&line.description),
                escape(&line.amount.to_string())
            );
        }
        let rate = format!(
            "{}.{:02} %",
            self.tax_rule.rate_bp / 100,
            self.tax_rule.rate_bp % 100
        );
        let tax_label = if self.tax_rule.inclusive {
            format!("Tax included ({rate})")
        } else {
            format!("Tax ({rate})")
        };
        let _ = write!(
            html,
            "</tbody>\n<tfoot>\n<tr><th>Net</th><td class=\"amount\">{}</td></tr>\n\
             <tr><th>{}</th><td class=\"amount\">{}</td></tr>\n\
             <tr><th>Total</th><td class=\"amount\"><strong>{}</strong></td></tr>\n\
             </tfoot>\n</table>\n</body></html>\n",
            escape(&self.net.to_string()),
            escape(&tax_label),
            escape(&self.tax.to_string()),
            escape(&self.total.to_string()),
        );
        html
    }
}

/// Every value lands in element text, where `&`, `<` and `>` are what must be escaped.
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn line(description: &str, minor: i64, currency: Currency) -> Line {
        Line {
            description: description.into(),
            amount: Money::new(minor, currency).unwrap(),
        }
    }

    #[test]
    fn a_uk_renewal_shows_the_vat_it_includes() {
        let invoice = Invoice::new(
            "MQ-2026-0001",
            1_800_000_000,
            "Ada",
            "gb",
            vec![line("Standard, 30 days", 1099, Currency::Gbp)],
        )
        .unwrap();
        assert_eq!(
            (
                invoice.net.minor(),
                invoice.tax.minor(),
                invoice.total.minor()
            ),
            (916, 183, 1099)
        );
        let html = invoice.to_html();
        assert!(html.contains("Tax included (20.00 %)"), "{html}");
        assert!(html.contains("<strong>£10.99</strong>"), "{html}");
        assert!(html.contains("Billed to Ada (GB)"), "{html}");
    }

    #[test]
    fn an_upgrade_and_a_renewal_add_up_in_yen() {
        let invoice = Invoice::new(
            "MQ-7",
            0,
            "Kenji",
            "JP",
            vec![
                line("Premium, 30 days", 1980, Currency::Jpy),
                line("Upgrade from Standard, prorated", 338, Currency::Jpy),
            ],
        )
        .unwrap();
        assert_eq!(invoice.total.minor(), 2318);
        assert_eq!(invoice.net.checked_add(invoice.tax).unwrap(), invoice.total);
        assert!(invoice.to_html().contains("¥2,318"));
    }

    #[test]
    fn names_cannot_inject_markup() {
        let invoice = Invoice::new(
            "MQ-8",
            0,
            "<script>alert(1)</script> & \"friends\"",
            "US",
            vec![line("Basic <b>", 799, Currency::Usd)],
        )
        .unwrap();
        let html = invoice.to_html();
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"friends\""));
    }

    #[test]
    fn bad_invoices_are_refused() {
        assert_eq!(
            Invoice::new("MQ-9", 0, "x", "US", vec![]),
            Err(InvoiceError::Empty)
        );
        let mixed = vec![line("a", 1, Currency::Usd), line("b", 1, Currency::Eur)];
        assert!(matches!(
            Invoice::new("MQ-10", 0, "x", "US", mixed),
            Err(InvoiceError::Money(MoneyError::CurrencyMismatch(..)))
        ));
    }
}
