"""Local fakes of Slack and Discord that speak their real protocols over HTTP on 127.0.0.1 (ephemeral ports).

- `slack_api.FakeSlack`: the Web API (chat.postMessage, chat.update, conversations.history, auth.test,
  apps.connections.open), incoming webhooks, response_urls and the Socket Mode websocket;
  `signed_headers` for requests signed the way Slack signs them.
- `discord_api.FakeDiscord`: the REST API (login, channel messages, webhooks, interaction callbacks,
  command registration); `slash_command`, `autocomplete`, `button_click` for gateway interaction payloads.
- `server`: what both build on: recording of every request, scripted faults (`fail`), inboxes a test
  awaits instead of sleeping, and `serve` to run any aiohttp app (the bot under test, say) on loopback.

Each fake runs `with fake:` on a loop of its own in a thread (for synchronous tests and code that calls
asyncio.run) or `async with fake:` on the test's own loop.
"""
