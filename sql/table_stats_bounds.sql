-- hygiene.table_write_stats counters saturate instead of wrapping to negative (M4).
CREATE TABLE tsb_t (id int);
SELECT hygiene.reset_table_write_stats('tsb_t');
SELECT hygiene._table_stats_feed('tsb_t', 9223372036854775807, 9223372036854775807,
                                 9223372036854775807, 0);
SELECT hygiene._table_stats_feed('tsb_t', 9223372036854775807, 0, 0, 0);
SELECT hygiene._table_stats_feed('tsb_t', 3, 1, 1, 1);
-- every counter is at the cap (2^53) or below it, none negative, and the views'
-- sums still fit in bigint
SELECT relname, rows_updated, noop_rows, indexed_changed, nonindexed_only,
       ineligible_rows, rows_updated >= noop_rows AS consistent
FROM hygiene.table_write_stats WHERE relname = 'tsb_t';
SELECT count(*) AS negative_counters FROM hygiene._table_write_stats() AS s
WHERE least(s.rows_updated, s.noop_rows, s.noop_suppressed, s.ineligible_returning,
            s.ineligible_after_trigger, s.ineligible_self_assignment,
            s.ineligible_replica_role, s.ineligible_other, s.indexed_changed,
            s.nonindexed_only) < 0;
-- the advice views read them without overflowing
SELECT count(*) >= 0 AS health_ok FROM hygiene.table_health;
SELECT count(*) >= 0 AS advice_ok FROM hygiene.table_advice;
SELECT hygiene.reset_table_write_stats('tsb_t');
DROP TABLE tsb_t;
