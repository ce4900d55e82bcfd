/* title: Grooming items per platform per week
   description: Relevant items about grooming (topic grooming or grooming_gangs) that
     name each platform, per week (weeks start on Monday), over the last twelve weeks,
     newest week first. */
SELECT date(day, '-6 days', 'weekday 1') AS week_starting,
       platform,
       sum(grooming_items) AS grooming_items,
       sum(items) AS all_relevant_items
FROM platform_daily
WHERE day >= date('now', '-83 days', '-6 days', 'weekday 1')
GROUP BY week_starting, platform
HAVING sum(grooming_items) > 0
ORDER BY week_starting DESC, grooming_items DESC, platform;
