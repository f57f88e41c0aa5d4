"""Model -> chat payloads (Slack blocks, Discord embeds) as plain data; platform limits are enforced here."""
