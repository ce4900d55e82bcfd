/* title: Top organisations this month
   description: Organisations (charities, regulators, police, companies) named in
     relevant items since the first of this month, most mentioned first, with the
     number of outlets and the newest headline naming them. */
SELECT organisation,
       count(*) AS items,
       count(DISTINCT source_id) AS outlets,
       max(published_at) AS latest,
       title AS latest_title  -- a bare column: SQLite takes it from the row that gave max()
FROM (
    SELECT t.value AS organisation, r.source_id, r.published_at, r.title
    FROM relevant_items AS r
    JOIN item_tags AS t ON t.item_id = r.id AND t.kind = 'organisation'
    WHERE r.day >= date('now', 'start of month')
)
GROUP BY organisation
ORDER BY items DESC, organisation
LIMIT 30;
