-- DuckDB computing the tables of `revcycle report DIR --period month` from the
-- same canonical CSV files (a benchmark peer, never a dependency of revcycle).
-- Run by scripts/bench_duckdb.py, which substitutes ${DIR} (the data set) and
-- ${OUT} (where the CSV files go), runs the statements in order, and at the
-- `-- @python` marker solves the Markov chain and the Shapley games from the
-- counts gathered above (tiny tables) and loads their credits as `py_credit`.
--
-- Definitions: docs/metrics.md and docs/attribution.md. Scope: the canonical
-- columns `revcycle demo` writes, every stage of the ladder in use, default
-- settings (sla_days 7, buckets 1/24/72 h, min_sample 30, gross_margin 0.8,
-- sales_cost 0, lookback 365 days, half-life 7 days, credit won, by channel).
-- Not done (the demo does not need them): id deduplication, the registry's
-- "artifacts of the export", vendor formats, the clock check on as_of.
-- Not done (revcycle's report does them, the peer does not): the data-quality
-- checks of data_quality.csv, misalignment split by channel to name channels,
-- the retention matrix of report.html, summary.md and manifest.json.

-- ---------------------------------------------------------------- loading
CREATE TEMP TABLE leads_raw AS SELECT * FROM read_csv('${DIR}/leads.csv', header = true,
  columns = {'lead_id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'channel': 'VARCHAR',
             'campaign_id': 'VARCHAR', 'segment': 'VARCHAR', 'owner': 'VARCHAR',
             'account_id': 'VARCHAR', 'mql_at': 'TIMESTAMP', 'sal_at': 'TIMESTAMP',
             'sql_at': 'TIMESTAMP', 'first_contact_at': 'TIMESTAMP',
             'disqualified_at': 'TIMESTAMP', 'disqualify_reason': 'VARCHAR'});
CREATE TEMP TABLE opps_raw AS SELECT * FROM read_csv('${DIR}/opportunities.csv', header = true,
  columns = {'opportunity_id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'close_date': 'DATE',
             'stage': 'VARCHAR', 'status': 'VARCHAR', 'amount': 'DECIMAL(18,6)',
             'type': 'VARCHAR', 'account_id': 'VARCHAR', 'lead_id': 'VARCHAR',
             'campaign_id': 'VARCHAR', 'channel': 'VARCHAR', 'segment': 'VARCHAR',
             'owner': 'VARCHAR', 'loss_reason': 'VARCHAR'});
CREATE TEMP TABLE campaigns AS SELECT * FROM read_csv('${DIR}/campaigns.csv', header = true,
  columns = {'date': 'DATE', 'campaign_id': 'VARCHAR', 'campaign_name': 'VARCHAR',
             'channel': 'VARCHAR', 'spend': 'DECIMAL(18,6)', 'impressions': 'BIGINT',
             'clicks': 'BIGINT', 'conversions': 'BIGINT'});
CREATE TEMP TABLE revenue AS SELECT account_id, date_trunc('month', month)::DATE AS month, mrr
  FROM read_csv('${DIR}/revenue.csv', header = true,
  columns = {'account_id': 'VARCHAR', 'month': 'DATE', 'mrr': 'DECIMAL(18,6)'});

-- as_of: the latest event (open deals' planned close dates excluded); the
-- earliest row date starts the month grid.
CREATE TEMP TABLE params AS
WITH ev AS (
  SELECT max(created_at) AS t FROM leads_raw UNION ALL SELECT max(mql_at) FROM leads_raw
  UNION ALL SELECT max(sal_at) FROM leads_raw UNION ALL SELECT max(sql_at) FROM leads_raw
  UNION ALL SELECT max(first_contact_at) FROM leads_raw
  UNION ALL SELECT max(disqualified_at) FROM leads_raw
  UNION ALL SELECT max(created_at) FROM opps_raw
  UNION ALL SELECT max(close_date)::TIMESTAMP FROM opps_raw WHERE status IN ('won', 'lost')
  UNION ALL SELECT max(date)::TIMESTAMP FROM campaigns
  UNION ALL SELECT max(month)::TIMESTAMP FROM revenue),
first AS (
  SELECT min(created_at) AS t FROM leads_raw UNION ALL SELECT min(created_at) FROM opps_raw
  UNION ALL SELECT min(date)::TIMESTAMP FROM campaigns
  UNION ALL SELECT min(month)::TIMESTAMP FROM revenue)
SELECT (SELECT max(t) FROM ev) AS as_of, (SELECT min(t) FROM first) AS first;

CREATE TEMP TABLE periods AS
SELECT range::DATE AS period FROM params,
  range(date_trunc('month', first), date_trunc('month', as_of) + INTERVAL 1 MONTH, INTERVAL 1 MONTH);

-- The data as it stood at as_of: rows created later left out, later stage
-- dates null, a deal closed later open.
CREATE TEMP TABLE leads AS
SELECT lead_id, created_at, channel, campaign_id, segment, account_id,
  CASE WHEN mql_at <= as_of THEN mql_at END AS mql_at,
  CASE WHEN sal_at <= as_of THEN sal_at END AS sal_at,
  CASE WHEN sql_at <= as_of THEN sql_at END AS sql_at,
  CASE WHEN first_contact_at <= as_of THEN first_contact_at END AS first_contact_at,
  CASE WHEN disqualified_at <= as_of THEN disqualified_at END AS disqualified_at
FROM leads_raw, params WHERE created_at <= as_of;
CREATE TEMP TABLE opps AS
SELECT opportunity_id, created_at, amount, account_id, lead_id, campaign_id, channel, segment,
  loss_reason, coalesce(type, 'new_business') AS type,
  CASE WHEN close_date::TIMESTAMP <= as_of THEN close_date::TIMESTAMP END AS close_date,
  CASE WHEN close_date::TIMESTAMP > as_of THEN 'open' ELSE coalesce(status, 'open') END AS status
FROM opps_raw, params WHERE created_at <= as_of;
DROP TABLE leads_raw;
DROP TABLE opps_raw;

-- A campaign's channel: its most frequent channel on spend rows (ties: byte order).
CREATE TEMP TABLE camp_chan AS
SELECT campaign_id, channel AS campaign_channel FROM (
  SELECT campaign_id, channel, row_number() OVER (PARTITION BY campaign_id ORDER BY count(*) DESC, channel) AS rn
  FROM campaigns WHERE campaign_id IS NOT NULL AND channel IS NOT NULL GROUP BY campaign_id, channel)
WHERE rn = 1;

-- ---------------------------------------------------------------- the stage ladder
-- Effective date of a stage: its own date, else the next stage's effective date.
CREATE TEMP TABLE opp_dates AS
SELECT lead_id, min(created_at) AS raw_opp,
  min(CASE WHEN status = 'won' THEN close_date END) AS raw_won
FROM opps WHERE lead_id IS NOT NULL AND type = 'new_business' GROUP BY lead_id;

CREATE TEMP TABLE stages AS
SELECT l.lead_id, l.created_at, l.first_contact_at, l.disqualified_at, l.mql_at,
  l.segment, l.campaign_id, coalesce(l.channel, c.campaign_channel) AS channel,
  date_trunc('month', l.created_at)::DATE AS cohort,
  coalesce(l.mql_at, l.created_at) AS start,
  o.raw_won AS eff_won,
  coalesce(o.raw_opp, o.raw_won) AS eff_opp,
  coalesce(l.sql_at, o.raw_opp, o.raw_won) AS eff_sql,
  coalesce(l.sal_at, l.sql_at, o.raw_opp, o.raw_won) AS eff_sal,
  coalesce(l.mql_at, l.sal_at, l.sql_at, o.raw_opp, o.raw_won) AS eff_mql
FROM leads l LEFT JOIN opp_dates o USING (lead_id) LEFT JOIN camp_chan c USING (campaign_id);

CREATE TEMP TABLE nb AS SELECT * FROM opps WHERE type = 'new_business';

-- ---------------------------------------------------------------- kpis
CREATE TEMP TABLE paid_campaigns AS SELECT DISTINCT campaign_id FROM campaigns WHERE campaign_id IS NOT NULL;

-- Per cohort (leads created in the month): everything measured on a cohort,
-- the funnel's medians included.
CREATE TEMP TABLE cohort_agg AS
SELECT s.cohort AS period,
  count(*) AS r_lead, count(eff_mql) AS r_mql, count(eff_sal) AS r_sal, count(eff_sql) AS r_sql,
  count(eff_opp) AS r_opp, count(eff_won) AS r_won,
  median(epoch(eff_mql - created_at) / 86400.0) AS d_mql,
  median(epoch(eff_sal - eff_mql) / 86400.0) AS d_sal,
  median(epoch(eff_sql - eff_sal) / 86400.0) AS d_sql,
  median(epoch(eff_opp - eff_sql) / 86400.0) AS d_opp,
  median(epoch(eff_won - eff_opp) / 86400.0) AS d_won,
  median(CASE WHEN first_contact_at < start THEN 0.0 ELSE epoch(first_contact_at - start) / 3600.0 END) AS speed_to_lead_hours,
  count(*) FILTER (WHERE eff_mql IS NOT NULL AND start <= as_of - INTERVAL 7 DAY) AS eligible,
  count(*) FILTER (WHERE eff_mql IS NOT NULL AND start <= as_of - INTERVAL 7 DAY
                   AND (first_contact_at IS NOT NULL OR eff_sal IS NOT NULL)) AS worked,
  count(*) FILTER (WHERE p.campaign_id IS NOT NULL) AS paid_leads
FROM stages s LEFT JOIN paid_campaigns p USING (campaign_id), params
GROUP BY s.cohort;

CREATE TEMP TABLE stage_events AS
SELECT period, sum(m) AS mqls, sum(sa) AS sals, sum(sq) AS sqls FROM (
  SELECT date_trunc('month', eff_mql)::DATE AS period, 1 AS m, 0 AS sa, 0 AS sq FROM stages WHERE eff_mql IS NOT NULL
  UNION ALL SELECT date_trunc('month', eff_sal)::DATE, 0, 1, 0 FROM stages WHERE eff_sal IS NOT NULL
  UNION ALL SELECT date_trunc('month', eff_sql)::DATE, 0, 0, 1 FROM stages WHERE eff_sql IS NOT NULL)
GROUP BY period;

CREATE TEMP TABLE opp_created AS
SELECT date_trunc('month', created_at)::DATE AS period, count(*) AS opportunities,
  coalesce(sum(amount), 0) AS pipeline_created
FROM nb GROUP BY 1;

CREATE TEMP TABLE closed AS
SELECT date_trunc('month', close_date)::DATE AS period,
  count(*) FILTER (WHERE status = 'won') AS won_deals,
  count(*) FILTER (WHERE status = 'lost') AS lost_deals,
  count(DISTINCT CASE WHEN status = 'won' THEN coalesce(account_id, opportunity_id) END) AS new_customers,
  coalesce(sum(amount) FILTER (WHERE status = 'won'), 0) AS new_bookings,
  median(epoch(close_date - created_at) / 86400.0) FILTER (WHERE status = 'won') AS sales_cycle_days
FROM nb WHERE status IN ('won', 'lost') AND close_date IS NOT NULL GROUP BY 1;

-- (DuckDB's greatest() skips NULLs: a response time is clipped with CASE.)
-- Open pipeline: running sum of +amount at creation, -amount at close (never
-- before the creation month).
CREATE TEMP TABLE pipe AS
WITH d AS (
  SELECT date_trunc('month', created_at)::DATE AS period, amount AS a, 1 AS n FROM nb
  UNION ALL
  SELECT greatest(date_trunc('month', close_date), date_trunc('month', created_at))::DATE, -amount, -1
  FROM nb WHERE status IN ('won', 'lost') AND close_date IS NOT NULL),
g AS (SELECT period, coalesce(sum(a), 0) AS a, sum(n) AS n FROM d GROUP BY period)
SELECT p.period,
  sum(coalesce(g.a, 0)) OVER (ORDER BY p.period) AS open_pipeline,
  sum(coalesce(g.n, 0)) OVER (ORDER BY p.period) AS open_count
FROM periods p LEFT JOIN g USING (period);

CREATE TEMP TABLE spend AS
SELECT date_trunc('month', date)::DATE AS period, sum(spend) AS marketing_spend,
  sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS platform_conversions
FROM campaigns GROUP BY 1;

CREATE TEMP TABLE kpis AS
WITH b AS (
  SELECT p.period,
    epoch(as_of - p.period::TIMESTAMP) / 86400.0 AS cohort_age_days,
    coalesce(c.r_lead, 0) AS leads, coalesce(e.mqls, 0) AS mqls, coalesce(e.sals, 0) AS sals,
    coalesce(e.sqls, 0) AS sqls, coalesce(o.opportunities, 0) AS opportunities,
    coalesce(k.won_deals, 0) AS won_deals, coalesce(k.lost_deals, 0) AS lost_deals,
    coalesce(k.new_customers, 0) AS new_customers,
    coalesce(k.new_bookings, 0) AS new_bookings, coalesce(o.pipeline_created, 0) AS pipeline_created,
    coalesce(s.marketing_spend, 0) AS marketing_spend,
    c.r_lead, c.r_mql, c.r_sal, c.r_sql, c.r_opp, c.r_won, k.sales_cycle_days,
    pp.open_pipeline, pp.open_count, c.speed_to_lead_hours, c.eligible, c.worked, c.paid_leads,
    coalesce(s.impressions, 0) AS impressions, coalesce(s.clicks, 0) AS clicks,
    coalesce(s.platform_conversions, 0) AS platform_conversions
  FROM periods p CROSS JOIN params
    LEFT JOIN cohort_agg c USING (period) LEFT JOIN stage_events e USING (period)
    LEFT JOIN opp_created o USING (period) LEFT JOIN closed k USING (period)
    LEFT JOIN spend s USING (period) LEFT JOIN pipe pp USING (period)),
r AS (
  SELECT *,
    won_deals / nullif(won_deals + lost_deals, 0) AS win_rate,
    new_bookings::DOUBLE / nullif(won_deals, 0) AS avg_deal_size
  FROM b)
SELECT period, cohort_age_days, leads, mqls, sals, sqls, opportunities, won_deals, lost_deals,
  new_customers, new_bookings, pipeline_created, marketing_spend,
  r_mql / nullif(r_lead, 0) AS lead_to_mql_rate,
  r_sal / nullif(r_mql, 0) AS mql_to_sal_rate,
  r_sql / nullif(r_sal, 0) AS sal_to_sql_rate,
  r_opp / nullif(r_sql, 0) AS sql_to_opportunity_rate,
  r_won / nullif(r_opp, 0) AS opportunity_to_won_rate,
  r_won / nullif(r_lead, 0) AS lead_to_won_rate,
  win_rate, avg_deal_size, sales_cycle_days, open_pipeline,
  open_count * win_rate * avg_deal_size / nullif(sales_cycle_days, 0) AS pipeline_velocity,
  (mqls - lag(mqls) OVER w) / nullif(lag(mqls) OVER w, 0) AS lead_velocity_rate,
  speed_to_lead_hours,
  worked / nullif(eligible, 0) AS followup_rate,
  marketing_spend::DOUBLE / nullif(leads, 0) AS cost_per_lead,
  marketing_spend::DOUBLE / nullif(mqls, 0) AS cost_per_mql,
  marketing_spend::DOUBLE / nullif(sqls, 0) AS cost_per_sql,
  marketing_spend::DOUBLE / nullif(opportunities, 0) AS cost_per_opportunity,
  marketing_spend::DOUBLE / nullif(new_customers, 0) AS cac,
  new_bookings::DOUBLE / nullif(marketing_spend, 0) AS roas,
  impressions, clicks, clicks / nullif(impressions, 0) AS ctr,
  marketing_spend::DOUBLE / nullif(clicks, 0) AS cpc, platform_conversions,
  marketing_spend::DOUBLE / nullif(platform_conversions, 0) AS cost_per_conversion,
  platform_conversions / nullif(paid_leads, 0) AS platform_overclaim
FROM r WINDOW w AS (ORDER BY period) ORDER BY period;
COPY kpis TO '${OUT}/kpis.csv' (HEADER);

-- ---------------------------------------------------------------- funnel
CREATE TEMP TABLE funnel AS
WITH c AS (
  SELECT p.period AS cohort, epoch(as_of - p.period::TIMESTAMP) / 86400.0 AS cohort_age_days,
    coalesce(r_lead, 0) AS r_lead, coalesce(r_mql, 0) AS r_mql, coalesce(r_sal, 0) AS r_sal,
    coalesce(r_sql, 0) AS r_sql, coalesce(r_opp, 0) AS r_opp, coalesce(r_won, 0) AS r_won,
    d_mql, d_sal, d_sql, d_opp, d_won
  FROM periods p CROSS JOIN params LEFT JOIN cohort_agg a USING (period)),
u AS (
  SELECT cohort, 1 AS k, 'lead' AS stage, r_lead AS reached, NULL::BIGINT AS prev, r_lead AS first, NULL::DOUBLE AS med, cohort_age_days FROM c
  UNION ALL SELECT cohort, 2, 'mql', r_mql, r_lead, r_lead, d_mql, cohort_age_days FROM c
  UNION ALL SELECT cohort, 3, 'sal', r_sal, r_mql, r_lead, d_sal, cohort_age_days FROM c
  UNION ALL SELECT cohort, 4, 'sql', r_sql, r_sal, r_lead, d_sql, cohort_age_days FROM c
  UNION ALL SELECT cohort, 5, 'opportunity', r_opp, r_sql, r_lead, d_opp, cohort_age_days FROM c
  UNION ALL SELECT cohort, 6, 'won', r_won, r_opp, r_lead, d_won, cohort_age_days FROM c)
SELECT cohort, stage, reached, reached / nullif(prev, 0) AS conversion_from_previous,
  reached / nullif(first, 0) AS conversion_from_lead, med AS median_days_from_previous,
  prev - reached AS dropped, cohort_age_days
FROM u ORDER BY cohort, k;
COPY funnel TO '${OUT}/funnel.csv' (HEADER);

-- ---------------------------------------------------------------- cycle
CREATE TEMP TABLE bookings AS
SELECT date_trunc('month', close_date)::DATE AS period,
  coalesce(sum(amount) FILTER (WHERE status = 'won' AND type = 'new_business'), 0) AS new_bookings,
  coalesce(sum(amount) FILTER (WHERE status = 'won' AND type = 'expansion'), 0) AS expansion_bookings,
  coalesce(sum(amount) FILTER (WHERE status = 'won' AND type = 'renewal'), 0) AS renewal_bookings,
  count(*) FILTER (WHERE type = 'renewal' AND status = 'won') AS renew_won,
  count(*) FILTER (WHERE type = 'renewal') AS renew_closed,
  count(DISTINCT CASE WHEN status = 'won' THEN coalesce(account_id, opportunity_id) END) AS customers_all
FROM opps WHERE status IN ('won', 'lost') AND close_date IS NOT NULL GROUP BY 1;

-- MRR of an account in a month (rows add up); active when > 0.
CREATE TEMP TABLE mrr AS
SELECT account_id, month AS m, sum(mrr) AS v FROM revenue GROUP BY ALL HAVING sum(mrr) > 0;

CREATE TEMP TABLE mrr_bridge AS
WITH j AS (
  SELECT coalesce(e.m, s.m + INTERVAL 1 MONTH)::DATE AS period, s.v AS sv, e.v AS ev
  FROM mrr e FULL OUTER JOIN mrr s ON e.account_id = s.account_id AND e.m = s.m + INTERVAL 1 MONTH)
SELECT period,
  coalesce(sum(sv), 0) AS starting_mrr,
  coalesce(sum(ev) FILTER (WHERE sv IS NULL), 0) AS new_mrr,
  coalesce(sum(ev - sv) FILTER (WHERE ev > sv), 0) AS expansion_mrr,
  coalesce(sum(sv - ev) FILTER (WHERE sv > ev), 0) AS contraction_mrr,
  coalesce(sum(sv) FILTER (WHERE ev IS NULL), 0) AS churned_mrr,
  coalesce(sum(ev), 0) AS ending_mrr,
  count(sv) AS active_s, count(ev) AS active_e, count(sv) FILTER (WHERE ev IS NULL) AS churned_logos
FROM j GROUP BY period;

CREATE TEMP TABLE cycle AS
WITH b AS (
  SELECT p.period, coalesce(k.new_bookings, 0) AS new_bookings,
    coalesce(k.expansion_bookings, 0) AS expansion_bookings,
    coalesce(k.renewal_bookings, 0) AS renewal_bookings,
    k.renew_won, k.renew_closed,
    coalesce(m.starting_mrr, 0) AS starting_mrr, coalesce(m.new_mrr, 0) AS new_mrr,
    coalesce(m.expansion_mrr, 0) AS expansion_mrr, coalesce(m.contraction_mrr, 0) AS contraction_mrr,
    coalesce(m.churned_mrr, 0) AS churned_mrr, coalesce(m.ending_mrr, 0) AS ending_mrr,
    m.active_s, m.active_e, m.churned_logos,
    q.marketing_spend::DOUBLE / nullif(q.new_customers, 0) AS cac
  FROM periods p LEFT JOIN bookings k USING (period) LEFT JOIN mrr_bridge m USING (period)
    LEFT JOIN kpis q USING (period)),
r AS (
  SELECT *, new_bookings + expansion_bookings + renewal_bookings AS cycle_revenue,
    churned_logos / nullif(active_s, 0) AS logo_churn_rate,
    ending_mrr::DOUBLE / nullif(active_e, 0) AS arpa
  FROM b)
SELECT period, new_bookings, expansion_bookings, renewal_bookings, new_bookings AS funnel_revenue,
  cycle_revenue, (expansion_bookings + renewal_bookings)::DOUBLE / nullif(cycle_revenue, 0) AS existing_customer_share,
  renew_won / nullif(renew_closed, 0) AS renewal_rate,
  starting_mrr, new_mrr, expansion_mrr, contraction_mrr, churned_mrr, ending_mrr,
  (starting_mrr + expansion_mrr - contraction_mrr - churned_mrr)::DOUBLE / nullif(starting_mrr, 0) AS nrr,
  (starting_mrr - contraction_mrr - churned_mrr)::DOUBLE / nullif(starting_mrr, 0) AS grr,
  logo_churn_rate, arpa,
  arpa * 0.8 / nullif(logo_churn_rate, 0) AS ltv,
  (arpa * 0.8 / nullif(logo_churn_rate, 0)) / nullif(cac, 0) AS ltv_to_cac,
  cac / nullif(arpa * 0.8, 0) AS cac_payback_months
FROM r ORDER BY period;
COPY cycle TO '${OUT}/cycle.csv' (HEADER);

CREATE TEMP TABLE funnel_vs_cycle AS
WITH b AS (
  SELECT p.period, c.funnel_revenue, c.cycle_revenue, q.new_customers,
    coalesce(k.customers_all, 0) AS customers_all, q.marketing_spend
  FROM periods p JOIN cycle c USING (period) JOIN kpis q USING (period) LEFT JOIN bookings k USING (period))
SELECT period, view, revenue, customers, marketing_spend,
  marketing_spend::DOUBLE / nullif(customers, 0) AS cost_per_customer,
  (revenue - marketing_spend)::DOUBLE / nullif(marketing_spend, 0) AS roi, unseen_by_funnel
FROM (
  SELECT period, 1 AS k, 'funnel' AS view, funnel_revenue AS revenue, new_customers AS customers,
    marketing_spend, NULL::DECIMAL(38,6) AS unseen_by_funnel FROM b
  UNION ALL
  SELECT period, 2, 'cycle', cycle_revenue, customers_all, marketing_spend,
    cycle_revenue - funnel_revenue FROM b)
ORDER BY period, k;
COPY funnel_vs_cycle TO '${OUT}/funnel_vs_cycle.csv' (HEADER);

-- ---------------------------------------------------------------- misalignment (whole range)
-- The counts and sums; the estimate's arithmetic (Wilson bounds, the base
-- bucket, the components) is done on this one row by bench_duckdb.py.
CREATE TEMP TABLE mis_leads AS
WITH l AS (
  SELECT *, eff_mql IS NOT NULL AS is_mql,
    (first_contact_at IS NOT NULL OR eff_sal IS NOT NULL) AS is_worked,
    CASE WHEN first_contact_at < start THEN 0.0 ELSE epoch(first_contact_at - start) / 3600.0 END AS resp
  FROM stages)
SELECT
  count(*) FILTER (WHERE is_mql) AS mqls_reached,
  count(*) FILTER (WHERE is_mql AND is_worked) AS worked_mqls,
  count(*) FILTER (WHERE is_mql AND is_worked AND eff_won IS NOT NULL) AS worked_mqls_won,
  count(*) FILTER (WHERE is_mql AND start <= as_of - INTERVAL 7 DAY) AS sla_mqls,
  count(*) FILTER (WHERE is_mql AND start <= as_of - INTERVAL 7 DAY AND NOT is_worked) AS unworked_mqls,
  count(*) FILTER (WHERE is_mql AND first_contact_at IS NOT NULL) AS contacted_mqls,
  count(*) FILTER (WHERE is_mql AND resp <= 24) AS contacted_within_24h,
  count(*) FILTER (WHERE is_mql AND eff_sal IS NOT NULL) AS accepted_mqls,
  count(*) FILTER (WHERE eff_sql IS NOT NULL) AS sql_reached,
  count(*) FILTER (WHERE eff_sql IS NOT NULL AND eff_won IS NOT NULL) AS sql_won,
  count(*) FILTER (WHERE is_mql AND disqualified_at IS NOT NULL AND eff_sql IS NULL) AS rejected_mqls,
  count(*) FILTER (WHERE is_mql AND resp <= 1) AS b1_n,
  count(*) FILTER (WHERE is_mql AND resp <= 1 AND eff_sql IS NOT NULL) AS b1_sql,
  count(*) FILTER (WHERE is_mql AND resp > 1 AND resp <= 24) AS b2_n,
  count(*) FILTER (WHERE is_mql AND resp > 1 AND resp <= 24 AND eff_sql IS NOT NULL) AS b2_sql,
  count(*) FILTER (WHERE is_mql AND resp > 24 AND resp <= 72) AS b3_n,
  count(*) FILTER (WHERE is_mql AND resp > 24 AND resp <= 72 AND eff_sql IS NOT NULL) AS b3_sql,
  count(*) FILTER (WHERE is_mql AND resp > 72) AS b4_n,
  count(*) FILTER (WHERE is_mql AND resp > 72 AND eff_sql IS NOT NULL) AS b4_sql
FROM l, params;

-- Deals: their segment (own, else the lead's) and channel (own, else the
-- lead's resolved one, else the campaign's).
CREATE TEMP TABLE mis_deals AS
SELECT d.status, d.amount, d.loss_reason,
  coalesce(d.segment, s.segment, '(none)') AS segment,
  coalesce(d.channel, s.channel, c.campaign_channel, '(none)') AS channel
FROM nb d LEFT JOIN stages s USING (lead_id) LEFT JOIN camp_chan c ON c.campaign_id = d.campaign_id
WHERE d.status IN ('won', 'lost') AND d.close_date IS NOT NULL;

CREATE TEMP TABLE mis_deal_agg AS
SELECT count(*) FILTER (WHERE status = 'won') AS won_deals,
  count(*) FILTER (WHERE status = 'lost') AS lost_deals,
  coalesce(sum(amount) FILTER (WHERE status = 'won'), 0)::DOUBLE AS new_bookings,
  count(*) FILTER (WHERE status = 'lost' AND regexp_matches(lower(loss_reason),
    'not a fit|bad fit|poor fit|persona|unqualified|no need')) AS misfit_lost_deals,
  coalesce(sum(amount) FILTER (WHERE status = 'lost' AND regexp_matches(lower(loss_reason),
    'not a fit|bad fit|poor fit|persona|unqualified|no need')), 0)::DOUBLE AS misfit_lost_amount,
  (SELECT coalesce(sum(spend), 0)::DOUBLE FROM campaigns) AS marketing_spend
FROM mis_deals;

-- The mixes behind icp_component and channel_component.
CREATE TEMP TABLE mis_mix AS
SELECT 'segment' AS dim, coalesce(segment, '(none)') AS value, count(*)::DOUBLE AS mql, 0.0 AS won FROM stages WHERE eff_mql IS NOT NULL GROUP BY 2
UNION ALL SELECT 'segment', segment, 0.0, count(*)::DOUBLE FROM mis_deals WHERE status = 'won' GROUP BY 2
UNION ALL SELECT 'channel', coalesce(channel, '(none)'), count(*)::DOUBLE, 0.0 FROM stages WHERE eff_mql IS NOT NULL GROUP BY 2
UNION ALL SELECT 'channel', channel, 0.0, coalesce(sum(amount), 0)::DOUBLE FROM mis_deals WHERE status = 'won' GROUP BY 2;

-- ---------------------------------------------------------------- attribution (credit won, by channel, month)
-- A touch's channel: own, else its campaign's, else the default UTM rules.
CREATE TEMP TABLE touches AS
WITH t AS (
  SELECT * FROM read_csv('${DIR}/touches.csv', header = true,
    columns = {'lead_id': 'VARCHAR', 'touched_at': 'TIMESTAMP', 'channel': 'VARCHAR',
               'campaign_id': 'VARCHAR', 'touch_type': 'VARCHAR', 'source': 'VARCHAR',
               'medium': 'VARCHAR'}))
SELECT t.lead_id, t.touched_at, t.campaign_id, t.touch_type,
  coalesce(nullif(trim(t.channel), ''), c.campaign_channel,
    CASE
      WHEN lower(trim(t.medium)) IN ('cpc', 'ppc', 'paid', 'paidsearch', 'sem') THEN
        CASE WHEN lower(trim(t.source)) IN ('facebook', 'instagram', 'linkedin', 'twitter', 'x', 'tiktok', 'reddit')
             THEN 'Paid Social' ELSE 'Paid Search' END
      WHEN lower(trim(t.medium)) IN ('social', 'social-network', 'sm') THEN 'Organic Social'
      WHEN lower(trim(t.medium)) = 'email' THEN 'Email'
      WHEN lower(trim(t.medium)) = 'referral' THEN 'Referral'
      WHEN lower(trim(t.medium)) IN ('display', 'banner', 'cpm') THEN 'Display'
      WHEN lower(trim(t.medium)) = 'affiliate' THEN 'Partner'
      WHEN lower(trim(t.medium)) = 'organic' THEN 'Organic'
      WHEN lower(trim(t.source)) = '(direct)' OR lower(trim(t.medium)) IN ('(none)', 'none') THEN 'Direct'
    END, '(none)') AS channel
FROM t LEFT JOIN camp_chan c USING (campaign_id), params
WHERE t.touched_at <= params.as_of AND t.lead_id IN (SELECT lead_id FROM leads);

-- Conversions: won new-business deals of a loaded lead.
CREATE TEMP TABLE conv AS
SELECT d.opportunity_id AS conv_id, d.lead_id, d.close_date AS instant, d.created_at AS opp_created,
  coalesce(d.amount, 0)::DOUBLE AS value, date_trunc('month', d.close_date)::DATE AS period,
  s.created_at AS lead_created, coalesce(s.channel, '(none)') AS lead_channel, s.campaign_id AS lead_campaign
FROM nb d JOIN stages s USING (lead_id)
WHERE d.status = 'won' AND d.close_date IS NOT NULL;

-- Each conversion's path: its lead's touches in (instant - 365 d, instant],
-- else the fallback one-touch path at the lead's creation.
CREATE TEMP TABLE path0 AS
SELECT c.conv_id, c.period, c.value, c.instant, c.opp_created, c.lead_created, c.lead_id,
  t.touched_at, t.channel, t.campaign_id, t.touch_type
FROM conv c JOIN touches t ON t.lead_id = c.lead_id
  AND t.touched_at > c.instant - INTERVAL 365 DAY AND t.touched_at <= c.instant;
INSERT INTO path0
SELECT c.conv_id, c.period, c.value, c.instant, c.opp_created, c.lead_created, c.lead_id,
  c.lead_created, c.lead_channel, c.lead_campaign, NULL
FROM conv c WHERE NOT EXISTS (SELECT 1 FROM path0 p WHERE p.conv_id = c.conv_id);

CREATE TEMP TABLE path AS
SELECT *,
  row_number() OVER w AS i,
  count(*) OVER (PARTITION BY conv_id) AS n,
  max(touched_at) OVER (PARTITION BY conv_id) AS t_last,
  max(CASE WHEN touched_at <= lead_created THEN 1 END) OVER (PARTITION BY conv_id) AS has_k2
FROM path0
WINDOW w AS (PARTITION BY conv_id ORDER BY touched_at, channel, campaign_id NULLS FIRST, touch_type NULLS FIRST);
DROP TABLE path0;

-- W-shaped keys: the lead-creation touch (last at or before the lead's
-- creation, else t1) and the opportunity-creation touch (last at or before
-- the deal's creation, else tn).
CREATE TEMP TABLE path_keys AS
SELECT conv_id,
  coalesce(max(i) FILTER (WHERE touched_at <= lead_created), 1) AS k2,
  coalesce(max(i) FILTER (WHERE touched_at <= opp_created), max(n)) AS k3
FROM path GROUP BY conv_id;

CREATE TEMP TABLE rule_credit AS
WITH w AS (
  SELECT p.period, p.conv_id, p.channel, p.value, p.i, p.n,
    pow(2.0, -(epoch(p.t_last - p.touched_at) / 86400.0) / 7.0) AS td,
    (p.i = 1)::INT + (p.i = k.k2)::INT + (p.i = k.k3)::INT AS c,
    p.n - (1 + (k.k2 <> 1)::INT + (k.k3 <> 1 AND k.k3 <> k.k2)::INT) AS m
  FROM path p JOIN path_keys k USING (conv_id)),
x AS (
  SELECT *, td / sum(td) OVER (PARTITION BY conv_id) AS w_time_decay,
    (i = 1)::DOUBLE AS w_first_touch, (i = n)::DOUBLE AS w_last_touch, 1.0 / n AS w_linear,
    CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN 0.5 WHEN i = 1 OR i = n THEN 0.4 ELSE 0.2 / (n - 2) END AS w_position,
    CASE WHEN m > 0 THEN 0.3 * c + CASE WHEN c = 0 THEN 0.1 / m ELSE 0 END ELSE 0.3 * c + 0.1 / n END AS w_w_shaped
  FROM w)
UNPIVOT (
  SELECT period, channel,
    sum(w_first_touch) AS first_touch_c, sum(w_first_touch * value) AS first_touch_v,
    sum(w_last_touch) AS last_touch_c, sum(w_last_touch * value) AS last_touch_v,
    sum(w_linear) AS linear_c, sum(w_linear * value) AS linear_v,
    sum(w_time_decay) AS time_decay_c, sum(w_time_decay * value) AS time_decay_v,
    sum(w_position) AS position_c, sum(w_position * value) AS position_v,
    sum(w_w_shaped) AS w_shaped_c, sum(w_w_shaped * value) AS w_shaped_v
  FROM x GROUP BY period, channel)
ON (first_touch_c, first_touch_v) AS first_touch, (last_touch_c, last_touch_v) AS last_touch,
   (linear_c, linear_v) AS linear, (time_decay_c, time_decay_v) AS time_decay,
   (position_c, position_v) AS position, (w_shaped_c, w_shaped_v) AS w_shaped
INTO NAME model VALUE conversions, value;

-- A set of channels is a bit mask: one bit per channel (at most 63).
CREATE TEMP TABLE unit_bits AS
SELECT channel, (1::BIGINT << (row_number() OVER (ORDER BY channel) - 1)::INT) AS bit
FROM (SELECT DISTINCT channel FROM touches UNION SELECT DISTINCT lead_channel FROM conv);

-- Every credited conversion's set of distinct channels (Markov and Shapley
-- credit per set).
CREATE TEMP TABLE conv_sets AS
SELECT period, uset, count(*) AS conversions, sum(value) AS value FROM (
  SELECT conv_id, any_value(period) AS period, any_value(value) AS value, bit_or(bit) AS uset
  FROM path JOIN unit_bits USING (channel) GROUP BY conv_id)
GROUP BY period, uset;

-- The Markov population: one path per lead; a converting lead's path is its
-- first conversion's, any other lead's its touches in (as_of - 365 d, as_of].
CREATE TEMP TABLE pop AS
WITH first_conv AS (
  SELECT lead_id, arg_min(conv_id, (instant, conv_id)) AS conv_id FROM conv GROUP BY lead_id)
SELECT p.lead_id, true AS converted, p.touched_at, p.channel, p.campaign_id, p.touch_type
FROM path p JOIN first_conv f USING (conv_id)
UNION ALL
SELECT t.lead_id, false, t.touched_at, t.channel, t.campaign_id, t.touch_type
FROM touches t, params
WHERE t.touched_at > params.as_of - INTERVAL 365 DAY
  AND t.lead_id NOT IN (SELECT lead_id FROM conv);

-- Transitions of the chain (consecutive repeats of a channel collapse).
CREATE TEMP TABLE markov_edges AS
WITH o AS (
  SELECT lead_id, converted, channel,
    lag(channel) OVER w AS prev,
    row_number() OVER w AS i,
    count(*) OVER (PARTITION BY lead_id) AS n
  FROM pop
  WINDOW w AS (PARTITION BY lead_id ORDER BY touched_at, channel, campaign_id NULLS FIRST, touch_type NULLS FIRST)),
e AS (
  SELECT coalesce(prev, '(start)') AS s, channel AS t FROM o WHERE prev IS NULL OR prev <> channel
  UNION ALL
  SELECT channel, CASE WHEN converted THEN '(conversion)' ELSE '(null)' END FROM o WHERE i = n)
SELECT s, t, count(*) AS n FROM e GROUP BY s, t
UNION ALL
SELECT '(start)', '(null)', (SELECT count(*) FROM leads) - (SELECT count(DISTINCT lead_id) FROM pop);

-- The Shapley games: paths and conversions per exact set of channels.
CREATE TEMP TABLE shapley_games AS
SELECT uset, count(*) AS paths, count(*) FILTER (WHERE converted) AS conversions FROM (
  SELECT lead_id, bool_or(converted) AS converted, bit_or(bit) AS uset
  FROM pop JOIN unit_bits USING (channel) GROUP BY lead_id)
GROUP BY uset
UNION ALL
SELECT 0, (SELECT count(*) FROM leads) - (SELECT count(DISTINCT lead_id) FROM pop), 0;

-- Spend per month and channel (a spend row's channel, else its campaign's).
CREATE TEMP TABLE unit_spend AS
SELECT date_trunc('month', s.date)::DATE AS period,
  coalesce(s.channel, c.campaign_channel, '(none)') AS channel, sum(s.spend) AS spend
FROM campaigns s LEFT JOIN camp_chan c USING (campaign_id) GROUP BY ALL;

-- @python

CREATE TEMP TABLE attribution AS
WITH credit AS (
  SELECT period, channel, model, conversions, value FROM rule_credit
  UNION ALL SELECT period, channel, model, conversions, value FROM py_credit),
units AS (
  SELECT DISTINCT channel FROM path
  UNION SELECT DISTINCT channel FROM pop
  UNION SELECT DISTINCT channel FROM unit_spend WHERE period IN (SELECT period FROM periods)),
models AS (
  SELECT * FROM (VALUES (1, 'first_touch'), (2, 'last_touch'), (3, 'linear'), (4, 'time_decay'),
    (5, 'position'), (6, 'w_shaped'), (7, 'markov'), (8, 'shapley')) m(k, model)),
tot AS (SELECT period, count(*) AS n FROM conv GROUP BY period),
g AS (
  SELECT p.period, u.channel, m.k, m.model, coalesce(c.conversions, 0) AS conversions,
    coalesce(c.value, 0) AS value, tot.n AS total, coalesce(s.spend, 0)::DOUBLE AS spend
  FROM periods p CROSS JOIN units u CROSS JOIN models m
    LEFT JOIN credit c ON c.period = p.period AND c.channel = u.channel AND c.model = m.model
    LEFT JOIN tot ON tot.period = p.period
    LEFT JOIN unit_spend s ON s.period = p.period AND s.channel = u.channel)
SELECT period, channel, model, conversions, value, conversions / nullif(total, 0) AS share, spend,
  CASE WHEN conversions <> 0 THEN spend / conversions END AS cost_per_conversion,
  CASE WHEN spend <> 0 THEN value / spend END AS roas
FROM g ORDER BY period, channel, k;
COPY attribution TO '${OUT}/attribution.csv' (HEADER);
