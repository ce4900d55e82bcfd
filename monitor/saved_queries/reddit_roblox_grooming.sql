/* title: Reddit threads about Roblox and grooming
   description: Every Reddit thread (not comments) with a grooming topic (grooming or grooming_gangs)
     that the tagger linked to Roblox or whose title or text mentions Roblox, newest
     first, with its score and comment count. */
WITH roblox(id) AS (
    SELECT item_id FROM item_tags WHERE kind = 'platform' AND value = 'roblox'
    UNION
    SELECT i.id FROM items_fts JOIN items AS i ON i.rowid = items_fts.rowid
    WHERE items_fts MATCH 'roblox'
)
SELECT i.published_at,
       json_extract(i.extra, '$.subreddit') AS subreddit,
       i.title,
       i.popularity AS reddit_score,
       i.comments,
       i.url
FROM roblox AS r
JOIN items AS i ON i.id = r.id
WHERE i.media = 'reddit' AND i.deleted_at IS NULL AND i.id GLOB 't3_*'  -- threads, not comments
  AND EXISTS (SELECT 1 FROM item_tags AS t WHERE t.item_id = i.id
              AND t.kind = 'topic' AND t.value IN ('grooming', 'grooming_gangs'))
ORDER BY i.published_at DESC;
