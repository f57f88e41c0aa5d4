"""The `/topic` bots: one Slack handler (HTTP endpoint or Socket Mode) and one Discord command tree.

Both answer from a `LiveArchive` (live.py), which reloads the content folder
when it changes on disk, and render with pprfeed.chat (answers.py, slack.py, discord.py).
"""
