"""Keys of what the components leave in ``doc.user_data`` (spaCy-free, shared by all)."""

HITS = "monitor.hits"  # features.Matches: the matcher hits, grouped (concept spans by label, entity hits)
TEXT_START = "monitor.text_start"  # char offset where the item's text starts (after the title)
RAW = "monitor.raw"  # the string the doc was made from (doc.text would rebuild it token by token)
ANALYSIS = "monitor.analysis"  # features.Analysis
TAGS = "monitor.tags"  # monitor.types.Tags
