/* title: Snapchat sextortion stories since the Online Safety Act came into force
   description: Relevant items tagged both sextortion and Snapchat, published since
     26 October 2023 (Royal Assent of the UK Online Safety Act 2023), per month with
     a running total. Syndicated copies of one story count once. */
WITH stories AS (
    SELECT substr(i.published_at, 1, 7) AS month,
           count(DISTINCT coalesce(i.cluster_id, i.id)) AS stories,
           count(*) AS items
    FROM item_tags AS p
    JOIN item_tags AS x ON x.item_id = p.item_id AND x.kind = 'topic' AND x.value = 'sextortion'
    JOIN items AS i ON i.id = p.item_id
    WHERE p.kind = 'platform' AND p.value = 'snapchat'
      AND i.relevant = 1 AND i.deleted_at IS NULL
      AND i.published_at >= '2023-10-26'
    GROUP BY month
)
SELECT month, stories, items, sum(stories) OVER (ORDER BY month) AS stories_so_far
FROM stories
ORDER BY month;
