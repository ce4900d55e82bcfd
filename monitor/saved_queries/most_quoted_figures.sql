/* title: Most quoted figures this month
   description: The figures (percentages, counts, sums) relevant items quoted most
     since the first of this month, with how many items and outlets quoted each and the
     newest sentence quoting it ("37%" and "37 %" count as one figure). Feed a figure
     to "Which outlets quoted a figure this month". */
-- figure, of and latest_sentence come from the newest quote: SQLite takes bare columns
-- from the row that gave the one max() of the query.
SELECT figure,
       "of",
       count(DISTINCT item_id) AS items,
       count(DISTINCT source_id) AS outlets,
       max(published_at) AS latest,
       sentence AS latest_sentence
FROM quoted_statistics
WHERE day >= date('now', 'start of month') AND relevant = 1
GROUP BY replace(lower(figure), ' ', '')
ORDER BY items DESC, outlets DESC, latest DESC
LIMIT 50;
