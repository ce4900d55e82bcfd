/* title: Most-discussed relevant Reddit threads, last 30 days
   description: Relevant Reddit threads published in the last 30 days with the most
     comments (then the highest score), top 50. */
SELECT published_at,
       source AS subreddit,
       title,
       comments,
       popularity AS reddit_score,
       url
FROM relevant_items
WHERE media = 'reddit' AND day >= date('now', '-30 days')
ORDER BY comments DESC, popularity DESC, published_at DESC
LIMIT 50;
