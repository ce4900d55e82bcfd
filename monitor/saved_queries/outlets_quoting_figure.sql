/* title: Which outlets quoted a figure this month
   description: Every outlet that carried an item quoting the figure (as the tagger
     found it written, e.g. 37% or 1,220; case and spaces ignored) since the first of
     this month, with what it is of ("cases" in "37% of cases") and the sentence it
     was quoted in; relevant items only (the quoted_statistics view). Syndicated
     copies count for each outlet that carried them; an item found through a news
     search counts for the outlet that published it, never for the search. */
SELECT DISTINCT CASE WHEN s.kind = 'query' THEN json_extract(i.extra, '$.publisher') ELSE s.name END AS outlet,
       q.published_at,
       q.figure,
       q."of",
       q.sentence,
       q.title,
       q.url
FROM quoted_statistics AS q
JOIN item_sources AS x ON x.item_id = q.item_id
JOIN sources AS s ON s.id = x.source_id
JOIN items AS i ON i.id = q.item_id
WHERE q.day >= date('now', 'start of month')
  AND (s.kind != 'query' OR json_extract(i.extra, '$.publisher') IS NOT NULL)
  AND replace(lower(q.figure), ' ', '') = replace(lower(:figure), ' ', '')
ORDER BY outlet, q.published_at;
