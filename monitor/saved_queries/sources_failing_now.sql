/* title: Sources failing now
   description: Configured sources whose last attempts failed (backing off) or that
     answered 410 Gone, with the last error, when they last worked and when the next
     attempt is due. Empty when everything is healthy. */
SELECT name,
       kind,
       health,
       failures,
       last_error,
       last_error_at,
       last_success_at,
       next_due_at,
       failed_runs_7d,
       url
FROM source_health
WHERE active = 1 AND health IN ('failing', 'gone')
ORDER BY health = 'gone' DESC, failures DESC, name;
