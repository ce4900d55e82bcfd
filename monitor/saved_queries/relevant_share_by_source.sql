/* title: Relevant share by source, last 30 days
   description: For each source, items published in the last 30 days, how many the
     tagger found relevant, and the share in percent: which sources earn their keep
     and which are mostly noise. Untagged items count as not relevant. */
SELECT coalesce(s.name, i.source_id) AS source,
       s.kind,
       count(*) AS items,
       sum(i.relevant = 1) AS relevant,
       round(100.0 * sum(i.relevant = 1) / count(*), 1) AS relevant_pct
FROM items AS i
LEFT JOIN sources AS s ON s.id = i.source_id
WHERE i.deleted_at IS NULL AND i.published_at >= date('now', '-30 days')
GROUP BY i.source_id
ORDER BY relevant_pct DESC, items DESC, source;
