/* title: Most-discussed relevant Reddit threads, last 30 days
   description: Relevant Reddit threads (posts, not comments) published in the last 30
     days with the most comments (then the highest score), top 50, with their subreddit. */
SELECT published_at,
       subreddit,
       title,
       num_comments AS comments,
       reddit_score,
       url
FROM reddit_posts
WHERE relevant = 1 AND deleted_at IS NULL AND id GLOB 't3_*'
  AND published_at >= date('now', '-30 days')
ORDER BY num_comments DESC, reddit_score DESC, published_at DESC
LIMIT 50;
