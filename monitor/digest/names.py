"""What the campaign team calls things: display names for tag values and source types.

Tag values in the database are stable lower-case ids (``snapchat``,
``online_safety_act_uk``); readers see these names. An id we have no name for is
shown tidied up rather than hidden, so a new platform in the tagger's lists still
appears before anyone updates this table.
"""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "grooming": "Grooming",
    "grooming_gangs": "Grooming gangs",
    "sextortion": "Sextortion",
    "csam": "Abuse imagery",
    "child_online_safety": "Child online safety",
    "legislation": "Legislation",
}

LAWS: dict[str, str] = {
    "online_safety_act_uk": "Online Safety Act (UK)",
    "kosa_us": "Kids Online Safety Act (US)",
    "coppa_us": "COPPA (US)",
    "eu_csam_regulation": 'EU CSAM regulation ("chat control")',
    "dsa_eu": "Digital Services Act (EU)",
    "other": "Other child online-safety law",
}

PLATFORMS: dict[str, str] = {
    "instagram": "Instagram",
    "facebook": "Facebook",
    "messenger": "Messenger",
    "whatsapp": "WhatsApp",
    "snapchat": "Snapchat",
    "tiktok": "TikTok",
    "x": "X (Twitter)",
    "threads": "Threads",
    "discord": "Discord",
    "roblox": "Roblox",
    "minecraft": "Minecraft",
    "fortnite": "Fortnite",
    "youtube": "YouTube",
    "telegram": "Telegram",
    "kik": "Kik",
    "omegle": "Omegle",
    "chatroulette": "Chatroulette",
    "reddit": "Reddit",
    "twitch": "Twitch",
    "signal": "Signal",
    "icloud": "iCloud",
    "imessage": "iMessage",
    "facetime": "FaceTime",
    "temu": "Temu",
    "pornhub": "Pornhub",
    "xvideos": "XVideos",
    "xhamster": "xHamster",
    "onlyfans": "OnlyFans",
    "yubo": "Yubo",
    "wizz": "Wizz",
    "skype": "Skype",
    "wechat": "WeChat",
    "viber": "Viber",
    "tumblr": "Tumblr",
    "pinterest": "Pinterest",
    "linkedin": "LinkedIn",
    "tinder": "Tinder",
    "grindr": "Grindr",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "xbox": "Xbox",
    "playstation": "PlayStation",
    "steam": "Steam",
    "google_drive": "Google Drive",
    "dropbox": "Dropbox",
}

MEDIA: dict[str, str] = {"news": "News", "reddit": "Reddit", "parliament": "Parliament", "social": "Social media"}


def _tidy(value: str) -> str:
    words = value.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else "Unnamed"


def topic_name(value: str) -> str:
    return TOPICS.get(value) or _tidy(value)


def law_name(value: str) -> str:
    return LAWS.get(value) or _tidy(value)


def platform_name(value: str) -> str:
    return PLATFORMS.get(value) or _tidy(value)


def media_name(value: str) -> str:
    return MEDIA.get(value) or _tidy(value)
