/* title: Legislation mentions per month
   description: Relevant items mentioning each law (online_safety_act_uk, kosa_us,
     coppa_us, eu_csam_regulation, dsa_eu, other) per calendar month over the last
     twelve months, with the number of outlets, newest month first. */
SELECT substr(day, 1, 7) AS month,
       law,
       count(*) AS items,
       count(DISTINCT source_id) AS outlets
FROM legislation_mentions
WHERE relevant = 1 AND day >= date('now', 'start of month', '-11 months')
GROUP BY month, law
ORDER BY month DESC, items DESC, law;
