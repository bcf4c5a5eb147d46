//! The designed properties of the demo company: channels, segments, owners,
//! campaigns, stage and type names per vendor. Every number that shapes the
//! data lives here, so `docs/demo.md` can be checked against one place.

/// A lead source and how its leads behave.
pub struct Channel {
    pub name: &'static str,
    /// Share of new leads in the first and in the last month (linear between).
    pub share_start: f64,
    pub share_end: f64,
    /// Probability that a lead becomes an MQL (0: the channel skips MQL).
    pub p_mql: f64,
    /// Probability that an MQL is never contacted.
    pub p_never: f64,
    /// Median response time to an MQL, hours (lognormal, sigma 1.4).
    pub response_median_h: f64,
    /// Probability that a worked lead reaches SQL when answered within 1-24 h
    /// (x1.25 within 1 h, x0.75 within 72 h, x0.5 slower).
    pub p_sql: f64,
    /// Probability that a new-business opportunity is won.
    pub p_win: f64,
    /// Segment mix of the leads (SMB, Mid-Market, Enterprise).
    pub segment_mix: [f64; 3],
    /// Cost per lead of the paid channels (0: no spend).
    pub cpl: f64,
    /// Cost per click and click-through rate of the ad platforms (0: none).
    pub cpc: f64,
    pub ctr: f64,
    /// Deal size relative to the segment's median.
    pub amount_factor: f64,
    /// Leads and lost deals mostly "Not a fit" / "No budget".
    pub misfit_heavy: bool,
}

pub const PAID_SEARCH: usize = 0;
#[allow(dead_code)] // named for completeness; leads pick channels by index
pub const ORGANIC: usize = 1;
pub const PAID_SOCIAL: usize = 2;
pub const EVENTS: usize = 3;
pub const REFERRAL: usize = 4;
pub const OUTBOUND: usize = 5;
pub const WEBINAR: usize = 6;

pub static CHANNELS: [Channel; 7] = [
    Channel {
        name: "Paid Search",
        share_start: 0.24,
        share_end: 0.22,
        p_mql: 0.35,
        p_never: 0.06,
        response_median_h: 1.5,
        p_sql: 0.42,
        p_win: 0.28,
        segment_mix: [0.50, 0.35, 0.15],
        cpl: 140.0,
        cpc: 6.0,
        ctr: 0.04,
        amount_factor: 1.0,
        misfit_heavy: false,
    },
    Channel {
        name: "Organic Search",
        share_start: 0.20,
        share_end: 0.18,
        p_mql: 0.28,
        p_never: 0.08,
        response_median_h: 3.0,
        p_sql: 0.42,
        p_win: 0.30,
        segment_mix: [0.50, 0.35, 0.15],
        cpl: 0.0,
        cpc: 0.0,
        ctr: 0.0,
        amount_factor: 1.0,
        misfit_heavy: false,
    },
    Channel {
        name: "Paid Social",
        share_start: 0.16,
        share_end: 0.28,
        p_mql: 0.70,
        p_never: 0.10,
        response_median_h: 5.0,
        p_sql: 0.16,
        p_win: 0.10,
        segment_mix: [0.72, 0.23, 0.05],
        cpl: 55.0,
        cpc: 3.5,
        ctr: 0.006,
        amount_factor: 0.8,
        misfit_heavy: true,
    },
    Channel {
        name: "Events",
        share_start: 0.10,
        share_end: 0.09,
        p_mql: 0.55,
        p_never: 0.40,
        response_median_h: 96.0,
        p_sql: 0.40,
        p_win: 0.27,
        segment_mix: [0.25, 0.40, 0.35],
        cpl: 300.0,
        cpc: 0.0,
        ctr: 0.0,
        amount_factor: 1.1,
        misfit_heavy: false,
    },
    Channel {
        name: "Referral",
        share_start: 0.07,
        share_end: 0.07,
        p_mql: 0.70,
        p_never: 0.03,
        response_median_h: 1.0,
        p_sql: 0.60,
        p_win: 0.40,
        segment_mix: [0.35, 0.40, 0.25],
        cpl: 0.0,
        cpc: 0.0,
        ctr: 0.0,
        amount_factor: 1.1,
        misfit_heavy: false,
    },
    Channel {
        name: "Outbound",
        share_start: 0.15,
        share_end: 0.08,
        p_mql: 0.0,
        p_never: 0.0,
        response_median_h: 0.75,
        p_sql: 0.10,
        p_win: 0.22,
        segment_mix: [0.15, 0.40, 0.45],
        cpl: 0.0,
        cpc: 0.0,
        ctr: 0.0,
        amount_factor: 1.0,
        misfit_heavy: false,
    },
    Channel {
        name: "Webinar",
        share_start: 0.08,
        share_end: 0.08,
        p_mql: 0.50,
        p_never: 0.12,
        response_median_h: 20.0,
        p_sql: 0.30,
        p_win: 0.22,
        segment_mix: [0.40, 0.40, 0.20],
        cpl: 90.0,
        cpc: 2.5,
        ctr: 0.01,
        amount_factor: 1.0,
        misfit_heavy: false,
    },
];

pub static SEGMENTS: [&str; 3] = ["SMB", "Mid-Market", "Enterprise"];
/// Worked lead -> SQL multiplier per segment.
pub const SEG_SQL: [f64; 3] = [0.9, 1.05, 1.15];
/// Win-probability multiplier per segment.
pub const SEG_WIN: [f64; 3] = [1.05, 1.0, 0.85];
/// Median sales cycle of won deals, days (lost deals: x0.8; lognormal sigma 0.5).
pub const SEG_CYCLE_DAYS: [f64; 3] = [21.0, 45.0, 90.0];
/// Median annual contract value and its lognormal sigma.
pub const SEG_ACV: [f64; 3] = [7_500.0, 28_000.0, 95_000.0];
pub const SEG_ACV_SIGMA: [f64; 3] = [0.5, 0.5, 0.6];
/// Monthly probability of a cancellation outside renewal.
pub const SEG_CHURN: [f64; 3] = [0.012, 0.005, 0.002];
/// Monthly probability that a customer opens an expansion deal.
pub const SEG_EXPANSION: [f64; 3] = [0.015, 0.03, 0.05];
/// Probability that a renewal deal is won.
pub const SEG_RENEWAL_WIN: [f64; 3] = [0.80, 0.87, 0.92];

/// A sales rep: name, segment, response-time multiplier, never-contact multiplier.
pub struct Owner {
    pub name: &'static str,
    pub segment: usize,
    pub speed: f64,
    pub neglect: f64,
}

pub static OWNERS: [Owner; 10] = [
    Owner {
        name: "Alex Morgan",
        segment: 0,
        speed: 1.0,
        neglect: 1.0,
    },
    Owner {
        name: "Priya Patel",
        segment: 0,
        speed: 0.4,
        neglect: 0.5,
    },
    Owner {
        name: "Sam Rivera",
        segment: 0,
        speed: 1.2,
        neglect: 1.0,
    },
    Owner {
        name: "Taylor Kim",
        segment: 0,
        speed: 0.9,
        neglect: 1.0,
    },
    Owner {
        name: "Chris Novak",
        segment: 1,
        speed: 1.0,
        neglect: 1.0,
    },
    Owner {
        name: "Dana Brooks",
        segment: 1,
        speed: 3.0,
        neglect: 1.8,
    },
    Owner {
        name: "Maya Chen",
        segment: 1,
        speed: 0.8,
        neglect: 0.8,
    },
    Owner {
        name: "Luis Ortega",
        segment: 2,
        speed: 1.1,
        neglect: 1.0,
    },
    Owner {
        name: "Emma Schultz",
        segment: 2,
        speed: 0.9,
        neglect: 0.9,
    },
    Owner {
        name: "Noah Williams",
        segment: 2,
        speed: 1.3,
        neglect: 1.2,
    },
];

/// Index range of the owners of a segment.
pub fn owners_of(segment: usize) -> std::ops::Range<usize> {
    match segment {
        0 => 0..4,
        1 => 4..7,
        _ => 7..10,
    }
}

/// Always-on ad campaigns: (id, name, channel, weight within channel).
pub static AD_CAMPAIGNS: [(&str, &str, usize, f64); 8] = [
    ("CMP-PSR-01", "Google Ads - Brand", PAID_SEARCH, 0.30),
    ("CMP-PSR-02", "Google Ads - Generic", PAID_SEARCH, 0.40),
    ("CMP-PSR-03", "Google Ads - Competitor", PAID_SEARCH, 0.20),
    ("CMP-PSR-04", "Bing Ads - Generic", PAID_SEARCH, 0.10),
    ("CMP-PSO-01", "LinkedIn - Lead Gen Forms", PAID_SOCIAL, 0.35),
    ("CMP-PSO-02", "LinkedIn - Retargeting", PAID_SOCIAL, 0.15),
    ("CMP-PSO-03", "Meta - Ebook", PAID_SOCIAL, 0.35),
    ("CMP-PSO-04", "Meta - Webinar Promo", PAID_SOCIAL, 0.15),
];
/// Campaign slots of a month: the 8 ad campaigns, the month's webinar, the month's event.
pub const SLOT_WEBINAR: usize = 8;
pub const SLOT_EVENT: usize = 9;
pub const SLOTS: usize = 10;

pub static WEBINAR_TOPICS: [&str; 6] = [
    "Pipeline Forecasting",
    "RevOps Metrics",
    "Lead Scoring",
    "Attribution 101",
    "Sales Handoff",
    "Churn Playbook",
];
pub static EVENT_NAMES: [&str; 6] = [
    "SaaStr Annual",
    "RevOps Summit",
    "Field Dinner",
    "Web Summit",
    "Regional Roadshow",
    "Dreamforce",
];
/// Days of the month an event takes place on (spend) and the days its leads
/// are imported (badge scans uploaded after the show).
pub const EVENT_SPEND_DAYS: std::ops::RangeInclusive<u32> = 10..=12;
pub const EVENT_LEAD_DAYS: std::ops::RangeInclusive<u32> = 12..=18;
/// Webinar promotion runs on these days of the month.
pub const WEBINAR_SPEND_DAYS: std::ops::RangeInclusive<u32> = 1..=20;

pub static DQ_REASONS: [&str; 7] = [
    "Not a fit",
    "No budget",
    "Student / job seeker",
    "Competitor",
    "Duplicate",
    "Wrong contact",
    "No response",
];
pub const DQ_WEIGHTS: [f64; 7] = [0.25, 0.20, 0.03, 0.05, 0.12, 0.10, 0.25];
pub const DQ_WEIGHTS_MISFIT: [f64; 7] = [0.45, 0.20, 0.15, 0.02, 0.05, 0.05, 0.08];
/// Reasons for MQLs nobody contacted that a cleanup later disqualified.
pub static DQ_CLEANUP: [&str; 3] = ["No response", "Duplicate", "Wrong contact"];

pub static LOSS_REASONS: [&str; 6] = [
    "Not a fit",
    "No budget",
    "Lost to competitor",
    "Timing",
    "No decision",
    "Price",
];
pub const LOSS_WEIGHTS: [f64; 6] = [0.08, 0.15, 0.30, 0.17, 0.20, 0.10];
pub const LOSS_WEIGHTS_MISFIT: [f64; 6] = [0.45, 0.25, 0.10, 0.08, 0.07, 0.05];
pub const LOSS_WEIGHTS_EXPANSION: [f64; 6] = [0.0, 0.40, 0.05, 0.30, 0.20, 0.05];
pub const LOSS_WEIGHTS_RENEWAL: [f64; 6] = [0.10, 0.25, 0.35, 0.0, 0.05, 0.25];

/// Opportunity stages: five open stages, then won, then lost.
pub const STAGE_WON: usize = 5;
pub const STAGE_LOST: usize = 6;
pub static STAGES_CANONICAL: [&str; 7] = [
    "discovery",
    "qualification",
    "demo",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
];
/// Salesforce's standard opportunity stage picklist.
pub static STAGES_SALESFORCE: [&str; 7] = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];
/// HubSpot's default sales pipeline, internal stage values.
pub static STAGES_HUBSPOT: [&str; 7] = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
];

pub const TYPE_NEW: usize = 0;
pub const TYPE_EXPANSION: usize = 1;
pub const TYPE_RENEWAL: usize = 2;
pub static TYPES_CANONICAL: [&str; 3] = ["new_business", "expansion", "renewal"];
/// Salesforce Type picklist values as many orgs configure them.
pub static TYPES_SALESFORCE: [&str; 3] = ["New Business", "Existing Customer - Upgrade", "Renewal"];
/// HubSpot Deal Type labels ("Renewal" is the usual custom addition).
pub static TYPES_HUBSPOT: [&str; 3] = ["New Business", "Existing Business", "Renewal"];
pub static STATUS: [&str; 3] = ["open", "won", "lost"];

/// Relative lead volume by calendar month (January = 0): summer and
/// December dips, January and September pushes.
pub const SEASON: [f64; 12] = [
    1.10, 1.0, 1.05, 1.0, 1.0, 0.95, 0.90, 0.85, 1.10, 1.05, 1.0, 0.75,
];
/// Month-over-month growth of lead volume.
pub const GROWTH: f64 = 1.035;
/// Relative lead volume by hour of day (UTC).
pub const HOURS: [f64; 24] = [
    0.2, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.5, 0.9, 1.3, 1.4, 1.3, 1.1, 1.2, 1.3, 1.3, 1.2, 1.0,
    0.8, 0.6, 0.5, 0.4, 0.3, 0.25,
];

// ------------------------------------------------------------------ touches

/// Where in a journey a channel's touches fall.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Mostly in the 45 days before the lead is created (70%), else soon after.
    Early,
    /// Between creation and the end of the journey (5%-70% of the way).
    Mid,
    /// Late in the journey (60%-100% of the way), before any Direct or
    /// Brand Search touch.
    Late,
    /// Only on converting journeys, in the last days before the conversion,
    /// after every other touch.
    Closing,
}

/// A marketing channel as it appears on touches, with its designed causal
/// effect on the chance that the lead converts.
pub struct TouchChannel {
    pub name: &'static str,
    /// Added to the conversion probability when the journey holds at least
    /// one touch of the channel (0: no causal effect).
    pub effect: f64,
    /// Probability that a journey holds the channel (before conditioning on
    /// the outcome) when it is not the lead's own source; for `Closing`
    /// channels, the probability on a converting journey.
    pub prior: f64,
    pub phase: Phase,
    pub touch_type: &'static str,
    /// UTM `source` and `medium` written on `utm_share` of its touches.
    pub utm: (&'static str, &'static str),
    pub utm_share: f64,
    /// The UTM values map to this very channel under the default rules, so
    /// some touches can leave `channel` empty.
    pub utm_resolves: bool,
}

/// Probability that a lead converts whatever its touches (the base of p(J)).
pub const TOUCH_BASE: f64 = 0.004;
/// Each channel on a journey gets 1 touch, plus another with this
/// probability, repeatedly (at most 4 touches of one channel).
pub const TOUCH_REPEAT: f64 = 0.36;
/// At most this many touches per lead.
pub const MAX_TOUCHES: usize = 12;
/// Early touches start at most this many days before the lead's creation.
pub const EARLY_DAYS: i64 = 45;
/// A journey that does not convert runs at most this many days after creation.
pub const OPEN_JOURNEY_DAYS: i64 = 120;
/// Closing touches (Direct, Brand Search) fall in the last days before the
/// conversion (at most this many, at most half the journey after creation).
pub const CLOSING_DAYS: i64 = 3;
/// Share of touches with UTM values that resolve to their channel whose
/// `channel` is left empty (the UTM rules must find it).
pub const BLANK_CHANNEL: f64 = 0.08;

pub const DIRECT: usize = 8;
pub const BRAND_SEARCH: usize = 9;

/// Touch channels. The first seven are the lead sources of `CHANNELS`, in
/// the same order (a lead's source channel has the same index here).
pub static TOUCH_CHANNELS: [TouchChannel; 10] = [
    TouchChannel {
        name: "Paid Search",
        effect: 0.015,
        prior: 0.35,
        phase: Phase::Late,
        touch_type: "ad_click",
        utm: ("google", "cpc"),
        utm_share: 0.8,
        utm_resolves: true,
    },
    TouchChannel {
        name: "Organic Search",
        effect: 0.008,
        prior: 0.30,
        phase: Phase::Early,
        touch_type: "web_visit",
        utm: ("google", "organic"),
        utm_share: 0.6,
        utm_resolves: false,
    },
    TouchChannel {
        name: "Paid Social",
        effect: 0.002,
        prior: 0.35,
        phase: Phase::Mid,
        touch_type: "ad_click",
        utm: ("linkedin", "paid"),
        utm_share: 0.8,
        utm_resolves: true,
    },
    TouchChannel {
        name: "Events",
        effect: 0.020,
        prior: 0.10,
        phase: Phase::Early,
        touch_type: "event_visit",
        utm: ("", ""),
        utm_share: 0.0,
        utm_resolves: false,
    },
    TouchChannel {
        name: "Referral",
        effect: 0.120,
        prior: 0.04,
        phase: Phase::Early,
        touch_type: "referral",
        utm: ("g2", "referral"),
        utm_share: 0.7,
        utm_resolves: true,
    },
    TouchChannel {
        name: "Outbound",
        effect: 0.002,
        prior: 0.08,
        phase: Phase::Mid,
        touch_type: "sales_email",
        utm: ("", ""),
        utm_share: 0.0,
        utm_resolves: false,
    },
    TouchChannel {
        name: "Webinar",
        effect: 0.012,
        prior: 0.18,
        phase: Phase::Early,
        touch_type: "webinar",
        utm: ("", ""),
        utm_share: 0.0,
        utm_resolves: false,
    },
    TouchChannel {
        name: "Email",
        effect: 0.006,
        prior: 0.45,
        phase: Phase::Mid,
        touch_type: "email_click",
        utm: ("newsletter", "email"),
        utm_share: 0.9,
        utm_resolves: true,
    },
    TouchChannel {
        name: "Direct",
        effect: 0.0,
        prior: 0.55,
        phase: Phase::Closing,
        touch_type: "web_visit",
        utm: ("(direct)", "(none)"),
        utm_share: 0.7,
        utm_resolves: true,
    },
    TouchChannel {
        name: "Brand Search",
        effect: 0.0,
        prior: 0.45,
        phase: Phase::Closing,
        touch_type: "search_click",
        utm: ("google", "organic"),
        utm_share: 0.6,
        utm_resolves: false,
    },
];

/// p(J): the probability that a lead whose journey holds the channels of
/// `set` (bit i = `TOUCH_CHANNELS[i]`) converts: the base plus the effects,
/// added in channel order, clamped to [0, 1].
pub fn conversion_probability(set: u16) -> f64 {
    let mut p = TOUCH_BASE;
    for (i, c) in TOUCH_CHANNELS.iter().enumerate() {
        if set & (1 << i) != 0 {
            p += c.effect;
        }
    }
    p.clamp(0.0, 1.0)
}
