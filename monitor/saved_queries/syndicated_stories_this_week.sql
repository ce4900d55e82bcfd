/* title: Syndicated stories this week
   description: Stories carried by more than one outlet and published in the last
     seven days, with how many outlets and copies, and the outlets' names, the most
     widely carried first. */
SELECT c.title AS story,
       c.outlets,
       c.size AS copies,
       c.first_published_at,
       c.last_published_at,
       (SELECT group_concat(outlet, ', ') FROM (
            SELECT DISTINCT ci.outlet FROM cluster_items AS ci WHERE ci.cluster_id = c.id ORDER BY ci.outlet
       )) AS outlet_names
FROM clusters AS c
WHERE c.last_published_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
  AND c.outlets > 1
ORDER BY c.outlets DESC, c.size DESC, c.first_published_at DESC;
