//! Vendor exports load onto the canonical tables value by value. The expected
//! values are read off the fixture files by hand: see fixtures/presets/EXPECTED.md.

use revcycle::config::Config;
use revcycle::input::{self, InputSpec};
use revcycle::model::TableKind;

use crate::util::{fixture, texts};

fn load(
    kind: TableKind,
    file: &str,
) -> (
    polars::prelude::DataFrame,
    Vec<revcycle::input::table::FileReport>,
) {
    let path = fixture(&format!("presets/{file}"));
    let mut spec = InputSpec {
        any_table: true,
        ..Default::default()
    };
    match kind {
        TableKind::Leads => spec.leads = Some(path),
        TableKind::Opportunities => spec.opportunities = Some(path),
        TableKind::Campaigns => spec.campaigns = vec![path],
        TableKind::Revenue => spec.revenue = Some(path),
        TableKind::Touches => {
            spec.touches = vec![path];
            spec.with_touches = true;
        }
    }
    let loaded = input::load(&spec, &Config::default(), Some("2030-01-01"), true).expect("loads");
    let t = loaded.dataset.table(kind).expect("table").collect().unwrap();
    (t, loaded.files)
}

#[test]
fn salesforce_leads() {
    let (df, files) = load(TableKind::Leads, "salesforce_leads.csv");
    assert_eq!(files[0].preset, "salesforce");
    assert_eq!(texts(&df, "lead_id"), ["00Q1", "00Q2", "00Q3"]);
    // "2/13/2024" can only be month-first: the column is read month/day/year.
    assert_eq!(
        texts(&df, "created_at"),
        [
            "2024-01-31 14:05:00",
            "2024-02-13 09:30:00",
            "2024-03-01 00:00:00"
        ]
    );
    assert_eq!(texts(&df, "channel"), ["Web", "Trade Show", "Web"]);
    assert_eq!(texts(&df, "owner"), ["Ann Lee", "Bo Chen", "Ann Lee"]);
    assert_eq!(texts(&df, "segment"), ["Software", "Retail", ""]);
    // mql_at is ambiguous (every day <= 12): day_first = false reads 2/1 as February 1.
    assert_eq!(
        texts(&df, "mql_at"),
        ["2024-02-01 00:00:00", "", "2024-03-02 00:00:00"]
    );
    assert!(files[0].date_orders["mql_at"].starts_with("ambiguous"));
    assert_eq!(texts(&df, "sql_at"), ["", "2024-02-20 00:00:00", ""]);
    assert_eq!(
        texts(&df, "first_contact_at"),
        ["2024-02-02 09:00:00", "", ""]
    );
    assert_eq!(texts(&df, "disqualify_reason"), ["", "", "No budget"]);
}

#[test]
fn salesforce_opportunities() {
    let (df, files) = load(TableKind::Opportunities, "salesforce_opportunities.csv");
    assert_eq!(files[0].preset, "salesforce");
    assert_eq!(
        texts(&df, "opportunity_id"),
        ["006A", "006B", "006C", "006D"]
    );
    assert_eq!(texts(&df, "created_at")[1], "2024-02-21 00:00:00");
    assert_eq!(
        texts(&df, "close_date"),
        [
            "2024-03-15 00:00:00",
            "2024-03-20 00:00:00",
            "",
            "2024-03-28 00:00:00"
        ]
    );
    assert_eq!(texts(&df, "amount"), ["12500", "3000", "800", "1000"]);
    assert_eq!(texts(&df, "status"), ["won", "lost", "open", "won"]);
    assert_eq!(
        texts(&df, "type"),
        ["new_business", "new_business", "expansion", "renewal"]
    );
    assert_eq!(texts(&df, "lead_id"), ["00Q1", "00Q2", "", ""]);
    assert_eq!(texts(&df, "loss_reason"), ["", "Not a fit", "", ""]);
}

#[test]
fn hubspot_contacts_and_deals() {
    let (df, files) = load(TableKind::Leads, "hubspot_contacts.csv");
    assert_eq!(files[0].preset, "hubspot");
    assert_eq!(texts(&df, "lead_id"), ["101", "102"]);
    assert_eq!(
        texts(&df, "created_at"),
        ["2024-01-31 14:05:00", "2024-02-13 09:30:00"]
    );
    assert_eq!(texts(&df, "channel"), ["PAID_SEARCH", "OFFLINE"]);
    assert_eq!(texts(&df, "mql_at"), ["2024-02-01 00:00:00", ""]);
    assert_eq!(texts(&df, "sql_at"), ["", "2024-02-20 00:00:00"]);
    let (df, files) = load(TableKind::Opportunities, "hubspot_deals.csv");
    assert_eq!(files[0].preset, "hubspot");
    assert_eq!(texts(&df, "opportunity_id"), ["9001", "9002", "9003"]);
    assert_eq!(texts(&df, "status"), ["won", "lost", "open"]);
    assert_eq!(
        texts(&df, "type"),
        ["new_business", "new_business", "expansion"]
    );
    assert_eq!(texts(&df, "amount"), ["12500", "3000.5", ""]);
    assert_eq!(
        texts(&df, "close_date"),
        ["2024-03-15 16:00:00", "2024-03-20 09:00:00", ""]
    );
    assert_eq!(texts(&df, "lead_id"), ["101", "102", ""]);
}

#[test]
fn pipedrive_deals() {
    let (df, files) = load(TableKind::Opportunities, "pipedrive_deals.csv");
    assert_eq!(files[0].preset, "pipedrive");
    // Pipedrive's own status column wins over the stage map.
    assert_eq!(texts(&df, "status"), ["won", "lost", "open"]);
    assert_eq!(texts(&df, "amount"), ["12500", "3000", "800"]);
    assert_eq!(texts(&df, "currency"), ["EUR", "EUR", "EUR"]);
    assert_eq!(texts(&df, "created_at")[0], "2024-02-05 10:00:00");
    assert_eq!(texts(&df, "lead_id"), ["101", "102", ""]);
}

#[test]
fn google_ads_preamble_totals_and_dashes() {
    let (df, files) = load(TableKind::Campaigns, "google_ads.csv");
    let f = &files[0];
    assert_eq!(f.preset, "google_ads");
    assert_eq!(f.preamble_lines, 2);
    assert_eq!(f.footer_rows, 2);
    assert_eq!(
        texts(&df, "date"),
        ["2024-01-01 00:00:00", "2024-01-02 00:00:00"]
    );
    assert_eq!(texts(&df, "spend"), ["1234.5", "99.95"]);
    assert_eq!(texts(&df, "impressions"), ["10000", "2000"]);
    // `--` is null, not 0
    assert_eq!(texts(&df, "clicks"), ["300", ""]);
    assert_eq!(
        texts(&df, "campaign_name"),
        ["Brand Search", "Brand Search"]
    );
    assert_eq!(texts(&df, "channel"), ["Paid Search", "Paid Search"]);
}

#[test]
fn meta_currency_in_header() {
    let (df, files) = load(TableKind::Campaigns, "meta_ads.csv");
    assert_eq!(files[0].preset, "meta_ads");
    assert_eq!(files[0].header_currency.as_deref(), Some("EUR"));
    assert_eq!(texts(&df, "spend"), ["45.1", "0"]);
    assert_eq!(
        texts(&df, "date"),
        ["2024-01-01 00:00:00", "2024-01-02 00:00:00"]
    );
    assert_eq!(texts(&df, "currency"), ["EUR", "EUR"]);
    assert_eq!(texts(&df, "clicks"), ["80", ""]);
}

#[test]
fn linkedin_preamble() {
    let (df, files) = load(TableKind::Campaigns, "linkedin_ads.csv");
    assert_eq!(files[0].preset, "linkedin_ads");
    assert_eq!(files[0].preamble_lines, 4);
    assert_eq!(
        texts(&df, "date"),
        ["2024-01-15 00:00:00", "2024-01-16 00:00:00"]
    );
    assert_eq!(texts(&df, "spend"), ["300", "250.25"]);
    assert_eq!(texts(&df, "campaign_id"), ["5001", "5001"]);
}

#[test]
fn pipedrive_leads() {
    let (df, files) = load(TableKind::Leads, "pipedrive_leads.csv");
    assert_eq!(files[0].preset, "pipedrive");
    assert_eq!(texts(&df, "lead_id"), ["a1b2", "c3d4"]);
    assert_eq!(
        texts(&df, "created_at"),
        ["2024-01-31 14:05:00", "2024-02-13 09:30:00"]
    );
    assert_eq!(texts(&df, "channel"), ["Web forms", "Prospector"]);
    assert_eq!(texts(&df, "owner"), ["Ann Lee", "Bo Chen"]);
    assert_eq!(texts(&df, "segment"), ["Software", ""]);
    assert_eq!(texts(&df, "disqualified_at"), ["", "2024-02-20 10:00:00"]);
    assert_eq!(texts(&df, "disqualify_reason"), ["", "Not interested"]);
}
