//! Header presets: the real header sets of CRM and ad-platform exports, each
//! mapping canonical columns to the header names that vendor writes.
//!
//! A preset is chosen per file from its headers (the one matching most
//! headers, required columns first) unless the configuration names one.
//! The first alias of each column is the header `revcycle demo --headers`
//! writes for that vendor.

use crate::model::TableKind;

pub struct Preset {
    /// Name used in `revcycle.toml` (`preset = "salesforce"`) and in `validate`.
    pub name: &'static str,
    pub vendor: &'static str,
    pub table: TableKind,
    /// (canonical column, header aliases; the first is the vendor's own name).
    pub columns: &'static [(&'static str, &'static [&'static str])],
    /// Header-name suffix rule: Meta writes the currency inside a header,
    /// `Amount spent (USD)`; such a header maps by prefix.
    pub prefix_columns: &'static [(&'static str, &'static str)],
}

impl Preset {
    pub fn aliases(&self, canonical: &str) -> &'static [&'static str] {
        self.columns
            .iter()
            .find(|(c, _)| *c == canonical)
            .map(|(_, a)| *a)
            .unwrap_or(&[])
    }

    /// The header this vendor writes for `canonical` (first alias).
    pub fn header_for(&self, canonical: &str) -> Option<&'static str> {
        self.aliases(canonical).first().copied()
    }
}

macro_rules! cols {
    ($($c:literal => [$($a:literal),* $(,)?]),* $(,)?) => {
        &[$(($c, &[$($a),*])),*]
    };
}

pub static PRESETS: &[Preset] = &[
    // ---- canonical names (what `revcycle demo` writes by default) ----
    Preset {
        name: "canonical",
        vendor: "canonical",
        table: TableKind::Leads,
        columns: cols! {
            "lead_id" => ["lead_id"], "created_at" => ["created_at"], "channel" => ["channel"],
            "campaign_id" => ["campaign_id"], "segment" => ["segment"], "owner" => ["owner"],
            "account_id" => ["account_id"], "mql_at" => ["mql_at"], "sal_at" => ["sal_at"],
            "sql_at" => ["sql_at"], "first_contact_at" => ["first_contact_at"],
            "disqualified_at" => ["disqualified_at"], "disqualify_reason" => ["disqualify_reason"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "canonical",
        vendor: "canonical",
        table: TableKind::Opportunities,
        columns: cols! {
            "opportunity_id" => ["opportunity_id"], "created_at" => ["created_at"],
            "close_date" => ["close_date"], "stage" => ["stage"], "status" => ["status"],
            "amount" => ["amount"], "type" => ["type"], "account_id" => ["account_id"],
            "lead_id" => ["lead_id"], "campaign_id" => ["campaign_id"], "channel" => ["channel"],
            "segment" => ["segment"], "owner" => ["owner"], "loss_reason" => ["loss_reason"],
            "currency" => ["currency"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "canonical",
        vendor: "canonical",
        table: TableKind::Campaigns,
        columns: cols! {
            "date" => ["date"], "spend" => ["spend"], "campaign_id" => ["campaign_id"],
            "campaign_name" => ["campaign_name"], "channel" => ["channel"],
            "impressions" => ["impressions"], "clicks" => ["clicks"],
            "conversions" => ["conversions"], "currency" => ["currency"],
            "conversion_value" => ["conversion_value"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "canonical",
        vendor: "canonical",
        table: TableKind::Revenue,
        columns: cols! { "account_id" => ["account_id"], "month" => ["month"], "mrr" => ["mrr"] },
        prefix_columns: &[],
    },
    Preset {
        name: "canonical",
        vendor: "canonical",
        table: TableKind::Touches,
        columns: cols! {
            "lead_id" => ["lead_id"], "touched_at" => ["touched_at"], "channel" => ["channel"],
            "campaign_id" => ["campaign_id"], "touch_type" => ["touch_type"],
            "source" => ["source"], "medium" => ["medium"],
        },
        prefix_columns: &[],
    },
    // ---- touches: Salesforce Campaign Members report, UTM / web-analytics log ----
    // A member without "First Responded Date" never responded: not a touch
    // (left out as a row with an empty required column, and counted).
    // "Campaign Type" is the touch type; the channel is the campaign's.
    Preset {
        name: "salesforce",
        vendor: "Salesforce",
        table: TableKind::Touches,
        columns: cols! {
            "lead_id" => ["Lead ID", "Contact ID", "Lead Id", "Contact Id"],
            "touched_at" => ["First Responded Date"],
            "campaign_id" => ["Campaign ID", "Campaign Id"],
            "touch_type" => ["Campaign Type"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "utm",
        vendor: "UTM log",
        table: TableKind::Touches,
        columns: cols! {
            "lead_id" => ["lead_id", "user_id", "visitor_id"],
            "touched_at" => ["timestamp", "event_time", "event_timestamp", "time"],
            "source" => ["utm_source"], "medium" => ["utm_medium"],
            "campaign_id" => ["utm_campaign"],
            "touch_type" => ["event_name", "event"],
        },
        prefix_columns: &[],
    },
    // ---- Salesforce report exports ----
    Preset {
        name: "salesforce",
        vendor: "Salesforce",
        table: TableKind::Leads,
        columns: cols! {
            "lead_id" => ["Lead ID", "Lead Id"],
            "created_at" => ["Create Date", "Created Date"],
            "channel" => ["Lead Source"],
            "campaign_id" => ["Campaign ID", "Primary Campaign Source"],
            "segment" => ["Industry", "Segment"],
            "owner" => ["Lead Owner"],
            "account_id" => ["Converted Account ID", "Account ID"],
            "mql_at" => ["MQL Date", "Marketing Qualified Date"],
            "sal_at" => ["SAL Date", "Sales Accepted Date"],
            "sql_at" => ["SQL Date", "Sales Qualified Date"],
            "first_contact_at" => ["First Activity Date", "First Response Date"],
            "disqualified_at" => ["Disqualified Date", "Unqualified Date"],
            "disqualify_reason" => ["Disqualified Reason", "Unqualified Reason"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "salesforce",
        vendor: "Salesforce",
        table: TableKind::Opportunities,
        columns: cols! {
            "opportunity_id" => ["Opportunity ID", "Opportunity Id"],
            "created_at" => ["Created Date", "Create Date"],
            "close_date" => ["Close Date"],
            "stage" => ["Stage"],
            "amount" => ["Amount"],
            "type" => ["Type"],
            "account_id" => ["Account ID"],
            "lead_id" => ["Converted Lead ID", "Lead ID"],
            "campaign_id" => ["Primary Campaign Source", "Campaign ID"],
            "channel" => ["Lead Source"],
            "segment" => ["Industry", "Segment"],
            "owner" => ["Opportunity Owner"],
            "loss_reason" => ["Loss Reason", "Closed Lost Reason"],
            "currency" => ["Opportunity Currency", "Amount Currency"],
        },
        prefix_columns: &[],
    },
    // ---- HubSpot exports ----
    Preset {
        name: "hubspot",
        vendor: "HubSpot",
        table: TableKind::Leads,
        columns: cols! {
            "lead_id" => ["Record ID", "Contact ID"],
            "created_at" => ["Create Date", "Became a Lead Date"],
            "channel" => ["Original Source", "Original Traffic Source"],
            "campaign_id" => ["First Conversion", "Original Source Drill-Down 1"],
            "segment" => ["Industry"],
            "owner" => ["Contact owner", "Contact Owner", "HubSpot Owner"],
            "account_id" => ["Associated Company ID", "Company ID"],
            "mql_at" => ["Became a Marketing Qualified Lead Date"],
            "sal_at" => ["Became a Sales Accepted Lead Date"],
            "sql_at" => ["Became a Sales Qualified Lead Date"],
            "first_contact_at" => ["Date of first engagement", "First Engagement Date"],
            "disqualified_at" => ["Disqualified Date", "Became Unqualified Date"],
            "disqualify_reason" => ["Unqualified Reason", "Disqualification Reason"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "hubspot",
        vendor: "HubSpot",
        table: TableKind::Opportunities,
        columns: cols! {
            "opportunity_id" => ["Record ID", "Deal ID"],
            "created_at" => ["Create Date"],
            "close_date" => ["Close Date"],
            "stage" => ["Deal Stage"],
            "amount" => ["Amount"],
            "type" => ["Deal Type"],
            "account_id" => ["Associated Company ID", "Associated Company IDs"],
            "lead_id" => ["Associated Contact ID", "Associated Contact IDs"],
            "campaign_id" => ["Original Source Drill-Down 1", "Campaign"],
            "channel" => ["Original Source", "Original Traffic Source"],
            "segment" => ["Industry"],
            "owner" => ["Deal owner", "Deal Owner"],
            "loss_reason" => ["Closed Lost Reason"],
            "currency" => ["Currency"],
        },
        prefix_columns: &[],
    },
    // ---- Pipedrive exports (entity-prefixed headers) ----
    Preset {
        name: "pipedrive",
        vendor: "Pipedrive",
        table: TableKind::Leads,
        columns: cols! {
            "lead_id" => ["Lead - ID", "Person - ID"],
            "created_at" => ["Lead - Lead created", "Person - Person created", "Lead - Created"],
            "channel" => ["Lead - Source", "Person - Source channel", "Lead - Source channel"],
            "campaign_id" => ["Lead - Campaign"],
            "segment" => ["Organization - Industry", "Lead - Segment"],
            "owner" => ["Lead - Owner", "Person - Owner"],
            "account_id" => ["Organization - ID", "Lead - Organization ID"],
            "mql_at" => ["Lead - MQL date"],
            "sal_at" => ["Lead - SAL date"],
            "sql_at" => ["Lead - SQL date"],
            "first_contact_at" => ["Lead - First activity", "Person - First activity date"],
            "disqualified_at" => ["Lead - Archived time"],
            "disqualify_reason" => ["Lead - Archive reason"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "pipedrive",
        vendor: "Pipedrive",
        table: TableKind::Opportunities,
        columns: cols! {
            "opportunity_id" => ["Deal - ID"],
            "created_at" => ["Deal - Deal created", "Deal - Created"],
            "close_date" => ["Deal - Deal closed on", "Deal - Close time"],
            "stage" => ["Deal - Stage"],
            "status" => ["Deal - Status"],
            "amount" => ["Deal - Value"],
            "type" => ["Deal - Type"],
            "account_id" => ["Deal - Organization ID", "Organization - ID"],
            "lead_id" => ["Deal - Person ID", "Person - ID"],
            "campaign_id" => ["Deal - Campaign"],
            "channel" => ["Deal - Source channel", "Deal - Source origin"],
            "segment" => ["Organization - Industry"],
            "owner" => ["Deal - Owner"],
            "loss_reason" => ["Deal - Lost reason"],
            "currency" => ["Deal - Currency of Value", "Deal - Currency"],
        },
        prefix_columns: &[],
    },
    // ---- Ad platforms ----
    Preset {
        name: "google_ads",
        vendor: "Google Ads",
        table: TableKind::Campaigns,
        columns: cols! {
            "date" => ["Day", "Date"],
            "spend" => ["Cost"],
            "campaign_id" => ["Campaign ID"],
            "campaign_name" => ["Campaign"],
            "channel" => ["Campaign type", "Advertising channel type"],
            "impressions" => ["Impr.", "Impressions"],
            "clicks" => ["Clicks"],
            "conversions" => ["Conversions"],
            "conversion_value" => ["Conv. value", "Conversion value"],
            "currency" => ["Currency code", "Currency"],
        },
        prefix_columns: &[],
    },
    Preset {
        name: "meta_ads",
        vendor: "Meta Ads",
        table: TableKind::Campaigns,
        columns: cols! {
            "date" => ["Day", "Reporting starts"],
            "spend" => [],
            "campaign_id" => ["Campaign ID"],
            "campaign_name" => ["Campaign name"],
            "channel" => [],
            "impressions" => ["Impressions"],
            "clicks" => ["Link clicks", "Clicks (all)"],
            "conversions" => ["Results"],
            "conversion_value" => ["Purchases conversion value"],
            "currency" => ["Currency"],
        },
        prefix_columns: &[("spend", "Amount spent (")],
    },
    Preset {
        name: "linkedin_ads",
        vendor: "LinkedIn Campaign Manager",
        table: TableKind::Campaigns,
        columns: cols! {
            "date" => ["Start Date (in UTC)", "Start Date"],
            "spend" => ["Total Spent", "Amount Spent"],
            "campaign_id" => ["Campaign ID"],
            "campaign_name" => ["Campaign Name"],
            "channel" => [],
            "impressions" => ["Impressions"],
            "clicks" => ["Clicks"],
            "conversions" => ["Conversions"],
            "currency" => ["Currency"],
        },
        prefix_columns: &[],
    },
];

/// The preset named `name` for `table`.
pub fn find(name: &str, table: TableKind) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.table == table && p.name.eq_ignore_ascii_case(name))
}

/// Names of the presets for `table`, for error messages.
pub fn names(table: TableKind) -> Vec<&'static str> {
    PRESETS
        .iter()
        .filter(|p| p.table == table)
        .map(|p| p.name)
        .collect()
}

/// Channel a campaign row gets from its ad platform when the export has no
/// channel column (Meta and LinkedIn reports are one channel each).
pub fn implied_channel(preset: &Preset) -> Option<&'static str> {
    match preset.name {
        "meta_ads" => Some("Paid Social"),
        "linkedin_ads" => Some("Paid Social"),
        "google_ads" => Some("Paid Search"),
        _ => None,
    }
}

/// Values a vendor writes that mean a canonical value elsewhere: Google Ads'
/// "Campaign type" `Search` is the `Paid Search` channel of the leads.
/// A configured `[campaigns.value_map.channel]` entry wins over these.
pub fn value_map(preset: &Preset, column: &str) -> &'static [(&'static str, &'static str)] {
    match (preset.name, column) {
        ("google_ads", "channel") => &[("Search", "Paid Search"), ("SEARCH", "Paid Search")],
        _ => &[],
    }
}
