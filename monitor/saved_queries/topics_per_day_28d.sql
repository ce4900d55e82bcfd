/* title: Relevant items by topic per day, last 28 days
   description: One row per day for the last 28 days (today included, zeros where
     nothing was published), one column per topic: ready to chart. An item with two
     topics counts in both; total counts it once. */
WITH RECURSIVE days(day) AS (
    SELECT date('now', '-27 days')
    UNION ALL
    SELECT date(day, '+1 day') FROM days WHERE day < date('now')
),
per_topic AS (
    SELECT day, topic, items FROM topic_daily WHERE day >= date('now', '-27 days')
),
totals AS (
    SELECT day, count(*) AS total FROM relevant_items
    WHERE day >= date('now', '-27 days') GROUP BY day
)
SELECT d.day,
       coalesce(sum(CASE WHEN t.topic = 'grooming' THEN t.items END), 0) AS grooming,
       coalesce(sum(CASE WHEN t.topic = 'grooming_gangs' THEN t.items END), 0) AS grooming_gangs,
       coalesce(sum(CASE WHEN t.topic = 'sextortion' THEN t.items END), 0) AS sextortion,
       coalesce(sum(CASE WHEN t.topic = 'csam' THEN t.items END), 0) AS csam,
       coalesce(sum(CASE WHEN t.topic = 'child_online_safety' THEN t.items END), 0) AS child_online_safety,
       coalesce(sum(CASE WHEN t.topic = 'legislation' THEN t.items END), 0) AS legislation,
       coalesce((SELECT total FROM totals WHERE totals.day = d.day), 0) AS total
FROM days AS d
LEFT JOIN per_topic AS t ON t.day = d.day
GROUP BY d.day
ORDER BY d.day;
