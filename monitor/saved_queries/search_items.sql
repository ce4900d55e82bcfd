/* title: Search items
   description: Full-text search of item titles and texts, best match first, with a
     snippet around the match, as monitor search shows. q uses FTS5 syntax: words (all
     must appear), "exact phrases", OR, NOT, NEAR(a b, 10), prefixes groom*, title:
     or text: for one column. Shows the best 100; when more than 10,000 items match,
     the 10,000 most recently collected are ranked. Items deleted upstream are never
     found. */
WITH best AS (
    SELECT rowid, rank FROM items_fts
    WHERE items_fts MATCH :q
      AND rowid > coalesce((SELECT rowid FROM items_fts WHERE items_fts MATCH :q
                            ORDER BY rowid DESC LIMIT 1 OFFSET 10000), 0)
    ORDER BY rank LIMIT 100
)
SELECT substr(i.published_at, 1, 10) AS day,
       coalesce(s.name, i.source_id) AS source,
       i.title,
       snippet(items_fts, 1, '[', ']', '…', 24) AS snippet,
       CASE i.relevant WHEN 1 THEN 'relevant' WHEN 0 THEN 'not relevant' ELSE 'untagged' END AS verdict,
       i.url
FROM best
JOIN items_fts ON items_fts.rowid = best.rowid
JOIN items AS i ON i.rowid = best.rowid
LEFT JOIN sources AS s ON s.id = i.source_id
WHERE items_fts MATCH :q
ORDER BY best.rank;
