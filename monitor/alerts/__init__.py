"""Alerts between digests: priority rules, spikes against a stated baseline, sources gone quiet.

Pure decisions, each testable on its own:

- :mod:`.rules`: does an item (its tags, its full-text hit) match a rule; one match
  per story (syndication cluster) and channel.
- :mod:`.spikes`: per-window counts -> spikes above mean + sigma x SD, in words; cooldown.
- :mod:`.health`: source problems now vs. episodes already alerted -> new alerts and
  recoveries.
- :mod:`.quiet`: quiet-hours arithmetic in the digest's time zone.
- :mod:`.compose`: alerts -> subject, plain text, HTML and webhook text (our own words,
  everything collected cleaned or escaped).

I/O: :mod:`.engine` reads the store (``monitor.store.alerts``), records new alerts and
hands them to :mod:`.deliver`, which sends them exactly once per channel (email through
``monitor.digest.mail``, a Slack-compatible webhook). ``Monitor.run_alerts`` is the entry
point; ``Monitor.collect`` calls it after every cycle when ``[alerts]`` is configured.
"""
