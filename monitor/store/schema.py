"""The one home of the schema: numbered migrations, applied in order at start-up.

Applied migrations are recorded by sqlite-utils in ``_sqlite_migrations``; each runs
in a transaction with its record, so a crash mid-migration leaves it pending. Never
edit a migration that has shipped: add the next number.

Conventions: times are UTC ISO-8601 text (``2026-11-28T06:13:48Z``); lists are JSON
text; booleans are 0/1 integers; every table an analyst may query has a comment here.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("monitor")


@migrations(name="0001_initial")
def _initial(db: Database) -> None:
    db.executescript(
        """
        -- One row per configured source (feed, news query, subreddit, search ...).
        -- id is stable (kind:slug-of-name), so history survives URL edits.
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            url TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- One row per collected item. id is the natural key (GUID or normalised link
        -- for news, fullname for Reddit). url is normalised and unique across sources,
        -- so one article carried by two feeds is one row (see item_sources).
        CREATE TABLE items (
            id TEXT PRIMARY KEY,
            source_id TEXT NOT NULL REFERENCES sources(id),
            media TEXT NOT NULL DEFAULT 'news',
            url TEXT,
            guid TEXT,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            summary_html TEXT NOT NULL DEFAULT '',
            author TEXT,
            published_at TEXT NOT NULL,
            collected_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            extra TEXT NOT NULL DEFAULT '{}'
        );
        CREATE UNIQUE INDEX items_url ON items(url) WHERE url IS NOT NULL;
        CREATE INDEX items_published_at ON items(published_at);
        CREATE INDEX items_source_published ON items(source_id, published_at);

        -- Every source that has carried an item, with the GUID it used there.
        CREATE TABLE item_sources (
            item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            source_id TEXT NOT NULL REFERENCES sources(id),
            guid TEXT,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            PRIMARY KEY (item_id, source_id)
        );
        CREATE UNIQUE INDEX item_sources_guid ON item_sources(source_id, guid) WHERE guid IS NOT NULL;
        CREATE INDEX item_sources_source ON item_sources(source_id);

        -- Per source: HTTP validators exactly as received, when it is next due, and
        -- its failure/back-off state.
        CREATE TABLE fetch_state (
            source_id TEXT PRIMARY KEY REFERENCES sources(id),
            url TEXT,
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,
            cursor TEXT,
            next_due_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            last_status INTEGER,
            last_error TEXT,
            last_error_at TEXT,
            last_attempt_at TEXT,
            last_success_at TEXT,
            last_new_at TEXT,
            gone_at TEXT
        );

        -- One row per source per collection run.
        -- status: ok | not_modified | failed | skipped
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            cycle_id TEXT NOT NULL,
            source_id TEXT NOT NULL REFERENCES sources(id),
            started_at TEXT NOT NULL,
            ended_at TEXT NOT NULL,
            status TEXT NOT NULL,
            http_status INTEGER,
            new INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            seen INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX runs_source_started ON runs(source_id, started_at);
        CREATE INDEX runs_cycle ON runs(cycle_id);
        """
    )


@migrations(name="0002_tags")
def _tags(db: Database) -> None:
    db.executescript(
        """
        -- The tagger's verdict on each item. relevant is NULL until the item is tagged.
        ALTER TABLE items ADD COLUMN relevant INTEGER;
        ALTER TABLE items ADD COLUMN score REAL;
        ALTER TABLE items ADD COLUMN why TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE items ADD COLUMN tagger_version TEXT;
        ALTER TABLE items ADD COLUMN tagged_at TEXT;
        CREATE INDEX items_relevant_published ON items(relevant, published_at);
        CREATE INDEX items_tagger_version ON items(tagger_version);

        -- Tags in long form: one row per (item, kind, value), kind one of
        -- topic | platform | legislation | organisation. "Grooming items per platform
        -- per day" is a self-join of this table with items.
        CREATE TABLE item_tags (
            item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            tagger_version TEXT NOT NULL,
            PRIMARY KEY (item_id, kind, value)
        );
        CREATE INDEX item_tags_kind_value ON item_tags(kind, value, item_id);

        -- Figures quoted in items: "37%" of "cases", with the sentence it came from.
        CREATE TABLE item_statistics (
            id INTEGER PRIMARY KEY,
            item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            value TEXT NOT NULL,
            number REAL,
            unit TEXT NOT NULL DEFAULT '',
            sentence TEXT NOT NULL DEFAULT '',
            tagger_version TEXT NOT NULL
        );
        CREATE INDEX item_statistics_item ON item_statistics(item_id);
        """
    )


@migrations(name="0003_clusters_and_engagement")
def _clusters_and_engagement(db: Database) -> None:
    db.executescript(
        """
        -- Syndication: copies of one story across outlets share a cluster_id (the id of
        -- the cluster's first item). An item alone is in no cluster (NULL).
        ALTER TABLE items ADD COLUMN cluster_id TEXT;
        CREATE INDEX items_cluster ON items(cluster_id);
        CREATE TABLE clusters (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            size INTEGER NOT NULL DEFAULT 1,
            outlets INTEGER NOT NULL DEFAULT 1,
            first_published_at TEXT NOT NULL,
            last_published_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- Engagement where the source reports it (Reddit score / comments, likes and
        -- replies on social posts). NULL for news.
        ALTER TABLE items ADD COLUMN popularity INTEGER;
        ALTER TABLE items ADD COLUMN comments INTEGER;
        -- Set when the item was deleted or removed upstream and its content purged.
        ALTER TABLE items ADD COLUMN deleted_at TEXT;
        """
    )


@migrations(name="0004_cluster_signatures")
def _cluster_signatures(db: Database) -> None:
    db.executescript(
        """
        -- MinHash signatures of recent items, used only to find syndicated copies.
        -- Rows older than the clustering window are pruned.
        CREATE TABLE item_signatures (
            item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            published_at TEXT NOT NULL,
            signature BLOB NOT NULL
        );
        CREATE INDEX item_signatures_published ON item_signatures(published_at);
        """
    )


@migrations(name="0005_settings")
def _settings(db: Database) -> None:
    db.executescript(
        """
        -- Small pieces of durable state that belong to no table of their own
        -- (e.g. where an interrupted `monitor retag --all` had got to).
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """
    )


@migrations(name="0006_reddit")
def _reddit(db: Database) -> None:
    db.executescript(
        """
        -- Reddit posts as an analyst wants them: the subreddit, NSFW flag and linked
        -- URL (kept in items.extra) as columns. author is a keyed hash, never a name.
        -- Posts deleted or removed upstream keep only id, times and deleted_at.
        CREATE VIEW reddit_posts AS
        SELECT id, source_id, json_extract(extra, '$.subreddit') AS subreddit, title, text, url,
               json_extract(extra, '$.link') AS link, author AS author_hash, published_at,
               popularity AS reddit_score, comments AS num_comments,
               json_extract(extra, '$.nsfw') AS nsfw, json_extract(extra, '$.flair') AS flair,
               relevant, score, collected_at, deleted_at
        FROM items WHERE media = 'reddit';
        CREATE INDEX items_reddit_subreddit ON items(json_extract(extra, '$.subreddit'))
            WHERE media = 'reddit';
        -- The deletion re-check reads recent items of one medium.
        CREATE INDEX items_media_published ON items(media, published_at);

        -- One row per re-check of stored Reddit posts against Reddit (monitor recheck):
        -- evidence that content deleted upstream was purged here.
        -- checked: posts asked about; purged: deleted or removed upstream, content
        -- purged; authors_cleared: author account deleted, author hash removed.
        CREATE TABLE rechecks (
            id INTEGER PRIMARY KEY,
            media TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT NOT NULL,
            since TEXT NOT NULL,
            checked INTEGER NOT NULL DEFAULT 0,
            purged INTEGER NOT NULL DEFAULT 0,
            authors_cleared INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );

        -- Reddit posts whose top-level comments were fetched ([reddit] comments = true),
        -- so each post's comments are fetched once. Comments are items (id t1_...)
        -- with extra.parent = the post's id.
        CREATE TABLE comment_fetches (
            item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            fetched_at TEXT NOT NULL,
            comments INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@migrations(name="0007_digests")
def _digests(db: Database) -> None:
    db.executescript(
        """
        -- One row per digest date (the local date whose morning the digest is for). A row
        -- is written when the digest is built; sending moves status built -> sending ->
        -- sent, so a restart never sends a date twice (see monitor.digest.delivery).
        CREATE TABLE digests (
            date TEXT PRIMARY KEY,               -- YYYY-MM-DD
            window_start TEXT NOT NULL,          -- UTC: the day covered is [window_start, window_end)
            window_end TEXT NOT NULL,
            built_at TEXT NOT NULL,
            subject TEXT NOT NULL,
            html_path TEXT,
            text_path TEXT,
            chart_path TEXT,                     -- NULL when there was nothing to chart
            relevant_items INTEGER NOT NULL DEFAULT 0,
            stories INTEGER NOT NULL DEFAULT 0,
            counts TEXT NOT NULL DEFAULT '{}',   -- JSON: figures shown in the headline
            status TEXT NOT NULL DEFAULT 'built',  -- built | sending | sent
            message_id TEXT,                     -- kept across retries of one send
            send_started_at TEXT,
            sending_pid INTEGER,
            sending_host TEXT,
            sending_token TEXT,                  -- which process: tells a crashed sender from a live one
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at TEXT,
            recipients TEXT NOT NULL DEFAULT '[]',  -- JSON list, as sent
            send_error TEXT
        );

        -- The digest counts items per day by relevance, source type and story, and joins
        -- their tags, from this index alone (no table reads): the same name and leading
        -- columns as before, so every query that used it still does.
        DROP INDEX IF EXISTS items_relevant_published;
        CREATE INDEX items_relevant_published
            ON items(relevant, published_at, media, deleted_at, cluster_id, id);
        """
    )


@migrations(name="0008_service")
def _service(db: Database) -> None:
    db.executescript(
        """
        -- One row per daily maintenance run (by the service, or `monitor maintain`).
        -- status: ok | failed. integrity is 'ok' or what PRAGMA integrity_check found.
        CREATE TABLE maintenance_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT NOT NULL,
            status TEXT NOT NULL,
            integrity TEXT,
            backup_path TEXT,
            backup_bytes INTEGER,
            pruned_reddit INTEGER NOT NULL DEFAULT 0,
            pruned_runs INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX maintenance_runs_started ON maintenance_runs(started_at);

        -- The service's jobs (collect, maintenance ...): when each last ran and how it
        -- went, with counts since the service last started. `monitor doctor` reads it to
        -- tell whether the service is alive.
        CREATE TABLE service_jobs (
            job TEXT PRIMARY KEY,
            pid INTEGER,
            service_started_at TEXT,
            last_started_at TEXT,
            last_ended_at TEXT,
            last_status TEXT,
            last_error TEXT,
            last_summary TEXT,
            runs INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            missed INTEGER NOT NULL DEFAULT 0
        );
        """
    )


def _execute_each(db: Database, script: str) -> None:
    """Run a script statement by statement inside the migration's transaction.

    ``executescript`` would COMMIT first, so a crash part-way through would leave a
    half-applied migration recorded as pending.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:80]}")


@migrations(name="0009_search")
def _search(db: Database) -> None:
    _execute_each(
        db,
        """
        -- Full-text index over items' title and text (FTS5), for `monitor search`.
        -- External content: the text is stored once, in items; items_fts holds only
        -- the index, keyed by items.rowid. It covers live items only: the triggers
        -- add an item when it arrives, re-index it when its title or text changes,
        -- and take it out when it is deleted or marked deleted upstream (deleted_at),
        -- so a purged item can never be found. Query it with MATCH: words, "phrases",
        -- AND / OR / NOT, NEAR(a b, 5), prefixes groom*, title: / text: ; rank orders
        -- best first (title matches weigh ten times the text). "%" is part of a word,
        -- so "37%" finds the figure and not every 37. Because deleted items are left
        -- out, rebuild it with monitor.store.search.rebuild_index, not 'rebuild'.
        CREATE VIRTUAL TABLE items_fts USING fts5(
            title, text,
            content="items", content_rowid="rowid",
            tokenize="unicode61 remove_diacritics 2 tokenchars '%'"
        );
        INSERT INTO items_fts (items_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0)');
        INSERT INTO items_fts (rowid, title, text)
            SELECT rowid, title, text FROM items WHERE deleted_at IS NULL;

        CREATE TRIGGER items_fts_after_insert AFTER INSERT ON items
        WHEN new.deleted_at IS NULL BEGIN
            INSERT INTO items_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        CREATE TRIGGER items_fts_after_delete AFTER DELETE ON items
        WHEN old.deleted_at IS NULL BEGIN
            INSERT INTO items_fts (items_fts, rowid, title, text)
            VALUES ('delete', old.rowid, old.title, old.text);
        END;
        CREATE TRIGGER items_fts_after_update AFTER UPDATE OF title, text, deleted_at ON items BEGIN
            INSERT INTO items_fts (items_fts, rowid, title, text)
            SELECT 'delete', old.rowid, old.title, old.text WHERE old.deleted_at IS NULL;
            INSERT INTO items_fts (rowid, title, text)
            SELECT new.rowid, new.title, new.text WHERE new.deleted_at IS NULL;
        END;
        """,
    )


@migrations(name="0010_search_views")
def _search_views(db: Database) -> None:
    _execute_each(
        db,
        """
        -- Indexes for the views below and the digest. day = substr(published_at, 1, 10)
        -- (UTC date); filtering a view on day uses these.
        CREATE INDEX items_relevant_day ON items(substr(published_at, 1, 10), source_id, id)
            WHERE relevant = 1 AND deleted_at IS NULL;
        CREATE INDEX items_day ON items(substr(published_at, 1, 10)) WHERE deleted_at IS NULL;
        CREATE INDEX items_relevant_collected ON items(relevant, collected_at);
        CREATE INDEX item_statistics_value ON item_statistics(value);
        CREATE INDEX clusters_last_published ON clusters(last_published_at);

        -- Views leave out items deleted upstream (deleted_at set): their content is purged.

        -- Relevant items with their source's name and publication day.
        CREATE VIEW relevant_items AS
        SELECT i.id, substr(i.published_at, 1, 10) AS day, i.published_at, i.collected_at, i.media,
               i.source_id, s.name AS source, i.title, i.url, i.author, i.score, i.why,
               i.cluster_id, i.popularity, i.comments
        FROM items AS i LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.relevant = 1 AND i.deleted_at IS NULL;

        -- Every item, one row each, with its tags flattened into JSON arrays
        -- (item_tags holds them one per row). Test membership with
        -- EXISTS (SELECT 1 FROM json_each(platforms) WHERE value = 'snapchat').
        CREATE VIEW tagged_items AS
        SELECT i.id, substr(i.published_at, 1, 10) AS day, i.published_at, i.media, i.source_id,
               s.name AS source, i.title, i.url, i.relevant, i.score,
               (SELECT json_group_array(t.value) FROM item_tags AS t
                 WHERE t.item_id = i.id AND t.kind = 'topic') AS topics,
               (SELECT json_group_array(t.value) FROM item_tags AS t
                 WHERE t.item_id = i.id AND t.kind = 'platform') AS platforms,
               (SELECT json_group_array(t.value) FROM item_tags AS t
                 WHERE t.item_id = i.id AND t.kind = 'legislation') AS legislation,
               (SELECT json_group_array(t.value) FROM item_tags AS t
                 WHERE t.item_id = i.id AND t.kind = 'organisation') AS organisations,
               i.cluster_id, i.popularity, i.comments
        FROM items AS i LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL;

        -- Relevant items naming each platform, per day; grooming_items counts those
        -- whose topics include grooming or grooming_gangs. (CROSS JOIN keeps items as
        -- the outer loop, so a day range is read from items_relevant_day.)
        CREATE VIEW platform_daily AS
        SELECT substr(i.published_at, 1, 10) AS day, t.value AS platform, count(*) AS items,
               sum(EXISTS (SELECT 1 FROM item_tags AS g WHERE g.item_id = i.id AND g.kind = 'topic'
                           AND g.value IN ('grooming', 'grooming_gangs'))) AS grooming_items
        FROM items AS i CROSS JOIN item_tags AS t
        WHERE t.item_id = i.id AND t.kind = 'platform' AND i.relevant = 1 AND i.deleted_at IS NULL
        GROUP BY day, platform;

        -- Relevant items per topic per day.
        CREATE VIEW topic_daily AS
        SELECT substr(i.published_at, 1, 10) AS day, t.value AS topic, count(*) AS items
        FROM items AS i CROSS JOIN item_tags AS t
        WHERE t.item_id = i.id AND t.kind = 'topic' AND i.relevant = 1 AND i.deleted_at IS NULL
        GROUP BY day, topic;

        -- One row per (item, law) the item mentions; relevant tells the tagger's verdict.
        CREATE VIEW legislation_mentions AS
        SELECT t.value AS law, substr(i.published_at, 1, 10) AS day, i.published_at, i.id AS item_id,
               i.media, i.source_id, s.name AS source, i.title, i.url, i.relevant
        FROM items AS i JOIN item_tags AS t ON t.item_id = i.id AND t.kind = 'legislation'
        LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL;

        -- One row per figure quoted in an item ("37%", "1,220"), with the sentence and
        -- the outlet (the item's source; item_sources lists every outlet that carried it).
        CREATE VIEW quoted_statistics AS
        SELECT st.value AS figure, st.number, st.unit, st.sentence, substr(i.published_at, 1, 10) AS day,
               i.published_at, i.id AS item_id, i.source_id, s.name AS outlet, i.media, i.title, i.url,
               i.relevant
        FROM item_statistics AS st JOIN items AS i ON i.id = st.item_id
        LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL;

        -- Syndicated stories: one row per copy, with its cluster's story title, size
        -- and number of outlets.
        CREATE VIEW cluster_items AS
        SELECT c.id AS cluster_id, c.title AS story, c.size, c.outlets, c.first_published_at,
               c.last_published_at, i.id AS item_id, substr(i.published_at, 1, 10) AS day,
               i.published_at, i.source_id, s.name AS outlet, i.title, i.url, i.relevant
        FROM items AS i JOIN clusters AS c ON c.id = i.cluster_id
        LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL;

        -- Per source: is it healthy now (ok | failing | gone | never collected |
        -- inactive), its back-off state, items carried, and its last week of runs.
        CREATE VIEW source_health AS
        SELECT s.id AS source_id, s.name, s.kind, s.url, s.active,
               CASE WHEN s.active = 0 THEN 'inactive'
                    WHEN f.gone_at IS NOT NULL THEN 'gone'
                    WHEN coalesce(f.failures, 0) > 0 THEN 'failing'
                    WHEN f.last_success_at IS NULL THEN 'never collected'
                    ELSE 'ok' END AS health,
               coalesce(f.failures, 0) AS failures, f.last_error, f.last_error_at, f.last_success_at,
               f.last_new_at, f.next_due_at, f.gone_at,
               (SELECT count(*) FROM item_sources AS x WHERE x.source_id = s.id) AS items,
               (SELECT count(*) FROM runs AS r WHERE r.source_id = s.id
                 AND r.started_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')) AS runs_7d,
               (SELECT count(*) FROM runs AS r WHERE r.source_id = s.id AND r.status = 'failed'
                 AND r.started_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')) AS failed_runs_7d
        FROM sources AS s LEFT JOIN fetch_state AS f ON f.source_id = s.id;
        """
    )


@migrations(name="0011_parliament_and_social")
def _parliament_and_social(db: Database) -> None:
    _execute_each(
        db,
        """
        -- Contributions in Parliament (Hansard) as an analyst wants them: who spoke, for
        -- which party, in which House and debate, on which sitting day. id is
        -- 'hansard:' + Hansard's ContributionExtId; url opens the debate at the
        -- contribution on hansard.parliament.uk. Members' names are public record.
        CREATE VIEW hansard_contributions AS
        SELECT id, json_extract(extra, '$.sitting_date') AS sitting_date,
               json_extract(extra, '$.house') AS house, json_extract(extra, '$.member') AS member,
               json_extract(extra, '$.party') AS party, json_extract(extra, '$.member_id') AS member_id,
               json_extract(extra, '$.debate') AS debate, json_extract(extra, '$.debate_id') AS debate_id,
               json_extract(extra, '$.section') AS section, text, url, relevant, score, collected_at
        FROM items WHERE media = 'parliament';
        CREATE INDEX items_parliament_debate ON items(json_extract(extra, '$.debate_id'))
            WHERE media = 'parliament';

        -- Posts from Mastodon and Bluesky. id is the post's uri (a Mastodon status's
        -- ActivityPub uri, a Bluesky at:// uri), the same whichever instance or search
        -- found it; author_hash is a keyed hash of user@instance / the Bluesky handle.
        -- popularity: favourites (Mastodon) or likes (Bluesky); comments: replies.
        CREATE VIEW social_posts AS
        SELECT id, json_extract(extra, '$.network') AS network, title, text, url,
               json_extract(extra, '$.link') AS link, author AS author_hash, published_at,
               popularity AS likes, comments AS replies,
               COALESCE(json_extract(extra, '$.reblogs'), json_extract(extra, '$.reposts')) AS reposts,
               json_extract(extra, '$.language') AS language, json_extract(extra, '$.reply') AS is_reply,
               json_extract(extra, '$.content_warning') AS content_warning, relevant, score, collected_at, deleted_at
        FROM items WHERE media = 'social';
        """,
    )


@migrations(name="0012_alerts")
def _alerts(db: Database) -> None:
    _execute_each(
        db,
        """
        -- One row per alert (see monitor.alerts): a priority rule's story, a spike in one
        -- series, or a source's health changing. The row is written (status 'pending')
        -- before anything is sent and marked 'sent' after; a failed delivery stays
        -- pending with its attempts and error and is retried next cycle. Alerts of one
        -- channel due together go out as one message (they share message_id).
        --   kind: rule | spike | health
        --   key: what makes it unique: the story (cluster id, else item id) of a rule
        --        alert, "series@time" of a spike, "source@since" of a health change
        --   rule: the rule name(s) that matched (rule); series: "topic" or
        --        "topic+platform" (spike); source_id and state (failing, silent, gone,
        --        recovered) for health
        --   title: one line in our own words; detail: JSON with the figures behind it
        --   items: JSON list of the item ids the alert lists (one per story)
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            channel TEXT NOT NULL,               -- email | webhook
            rule TEXT,
            series TEXT,
            source_id TEXT,
            state TEXT,
            title TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            items TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',  -- pending | sending | sent
            message_id TEXT,                     -- the message that carries it (kept across retries)
            attempts INTEGER NOT NULL DEFAULT 0,
            last_attempt_at TEXT,
            last_error TEXT,
            send_started_at TEXT,
            sending_pid INTEGER,
            sending_host TEXT,
            sending_token TEXT,                  -- which process: tells a crashed sender from a live one
            sent_at TEXT,
            UNIQUE (kind, channel, key)
        );
        CREATE INDEX alerts_created ON alerts(created_at);
        CREATE INDEX alerts_status ON alerts(status, channel);
        CREATE INDEX alerts_series ON alerts(kind, series, created_at);
        CREATE INDEX alerts_source ON alerts(kind, source_id, id);

        -- Every item an alert covers (all copies of a story), so an item already alerted
        -- is never alerted again on the same channel.
        CREATE TABLE alert_items (
            item_id TEXT NOT NULL,
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            channel TEXT NOT NULL,
            PRIMARY KEY (item_id, channel, alert_id)
        );
        CREATE INDEX alert_items_alert ON alert_items(alert_id);

        -- After each collection cycle the rules look at the items collected since the last check.
        CREATE INDEX items_collected ON items(collected_at);
        """
    )


@migrations(name="0013_reddit_comment_parent")
def _reddit_comment_parent(db: Database) -> None:
    _execute_each(
        db,
        """
        -- A Reddit comment's post (extra.parent): purging a post removed upstream also
        -- removes its title from its stored comments, found through this index rather
        -- than by reading every Reddit item.
        CREATE INDEX items_reddit_parent ON items(json_extract(extra, '$.parent')) WHERE media = 'reddit';
        """,
    )


@migrations(name="0014_statistic_of")
def _statistic_of(db: Database) -> None:
    _execute_each(
        db,
        """
        -- What a quoted figure is of or for: "cases" in "37% of cases", "fines" in "€20 million
        -- fines"; NULL when the text does not say (a count's unit already names what it counts).
        ALTER TABLE item_statistics ADD COLUMN "of" TEXT;

        -- The view gains the column, and lists relevant items' figures only: the tagger now
        -- extracts figures from every item, but the campaign team cites relevant ones.
        DROP VIEW quoted_statistics;
        CREATE VIEW quoted_statistics AS
        SELECT st.value AS figure, st.number, st.unit, st."of", st.sentence, substr(i.published_at, 1, 10) AS day,
               i.published_at, i.id AS item_id, i.source_id, s.name AS outlet, i.media, i.title, i.url,
               i.relevant
        FROM item_statistics AS st JOIN items AS i ON i.id = st.item_id
        LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL AND i.relevant = 1;
        """,
    )


@migrations(name="0015_covering_day_indexes")
def _covering_day_indexes(db: Database) -> None:
    _execute_each(
        db,
        """
        -- The views' per-day aggregations over a year or all time read every item of the
        -- range and its tags: from the items table and item_tags' primary key they took
        -- 0.5-1.8 s at a million items. These indexes hold every items column such an
        -- aggregation (and the views' join to sources) uses, so items are read from the
        -- index alone. SQLite (3.40) counts an index as covering only if it holds plain
        -- columns, so published_at, relevant and deleted_at are repeated after the day
        -- expression. Same names and leading columns as before, so every query that used
        -- them still does.
        DROP INDEX IF EXISTS items_relevant_day;
        CREATE INDEX items_relevant_day
            ON items(substr(published_at, 1, 10), source_id, id, published_at, relevant, deleted_at)
            WHERE relevant = 1 AND deleted_at IS NULL;
        DROP INDEX IF EXISTS items_day;
        CREATE INDEX items_day
            ON items(substr(published_at, 1, 10), id, source_id, published_at, relevant, deleted_at)
            WHERE deleted_at IS NULL;
        DROP INDEX IF EXISTS items_cluster;
        CREATE INDEX items_cluster ON items(cluster_id, published_at, source_id, deleted_at);
        DROP INDEX IF EXISTS item_statistics_item;
        CREATE INDEX item_statistics_item ON item_statistics(item_id, value);

        -- One small index per kind of tag: looking up an item's platforms (or topics, laws,
        -- organisations) for every item of a range searches a tree of that kind's rows
        -- only, which stays in the page cache, instead of the whole primary key (ids
        -- are long URLs). The planner prefers them for "item_id = ? AND kind = 'x'".
        CREATE INDEX item_tags_topic ON item_tags(item_id, kind, value) WHERE kind = 'topic';
        CREATE INDEX item_tags_platform ON item_tags(item_id, kind, value) WHERE kind = 'platform';
        CREATE INDEX item_tags_legislation ON item_tags(item_id, kind, value) WHERE kind = 'legislation';
        CREATE INDEX item_tags_organisation ON item_tags(item_id, kind, value) WHERE kind = 'organisation';

        -- platform_daily checks an item's grooming topics through item_tags_topic (+g.value
        -- keeps the planner off the (kind, value, item_id) index and its random reads).
        DROP VIEW platform_daily;
        CREATE VIEW platform_daily AS
        SELECT substr(i.published_at, 1, 10) AS day, t.value AS platform, count(*) AS items,
               sum(EXISTS (SELECT 1 FROM item_tags AS g WHERE g.item_id = i.id AND g.kind = 'topic'
                           AND +g.value IN ('grooming', 'grooming_gangs'))) AS grooming_items
        FROM items AS i CROSS JOIN item_tags AS t
        WHERE t.item_id = i.id AND t.kind = 'platform' AND i.relevant = 1 AND i.deleted_at IS NULL
        GROUP BY day, platform;

        -- legislation_mentions and quoted_statistics read items first (CROSS JOIN fixes
        -- the order), so a day range reads only its own items from items_day; cluster_items
        -- starts from clusters, few, and reads their copies from items_cluster.
        DROP VIEW legislation_mentions;
        CREATE VIEW legislation_mentions AS
        SELECT t.value AS law, substr(i.published_at, 1, 10) AS day, i.published_at, i.id AS item_id,
               i.media, i.source_id, s.name AS source, i.title, i.url, i.relevant
        FROM items AS i CROSS JOIN item_tags AS t ON t.item_id = i.id AND t.kind = 'legislation'
        LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL;

        DROP VIEW quoted_statistics;
        CREATE VIEW quoted_statistics AS
        SELECT st.value AS figure, st.number, st.unit, st."of", st.sentence, substr(i.published_at, 1, 10) AS day,
               i.published_at, i.id AS item_id, i.source_id, s.name AS outlet, i.media, i.title, i.url,
               i.relevant
        FROM items AS i CROSS JOIN item_statistics AS st ON st.item_id = i.id
        LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL AND i.relevant = 1;

        DROP VIEW cluster_items;
        CREATE VIEW cluster_items AS
        SELECT c.id AS cluster_id, c.title AS story, c.size, c.outlets, c.first_published_at,
               c.last_published_at, i.id AS item_id, substr(i.published_at, 1, 10) AS day,
               i.published_at, i.source_id, s.name AS outlet, i.title, i.url, i.relevant
        FROM clusters AS c CROSS JOIN items AS i ON i.cluster_id = c.id
        LEFT JOIN sources AS s ON s.id = i.source_id
        WHERE i.deleted_at IS NULL;
        """,
    )
