/* title: New relevant items today
   description: Relevant items collected since midnight (UTC) today, newest first,
     with their topics and platforms: what tomorrow's digest will draw on. */
SELECT r.collected_at,
       r.source,
       r.title,
       (SELECT group_concat(value, ', ') FROM item_tags AS t
         WHERE t.item_id = r.id AND t.kind = 'topic') AS topics,
       (SELECT group_concat(value, ', ') FROM item_tags AS t
         WHERE t.item_id = r.id AND t.kind = 'platform') AS platforms,
       r.url
FROM relevant_items AS r
WHERE r.collected_at >= date('now')
ORDER BY r.collected_at DESC;
