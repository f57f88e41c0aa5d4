"""Local fakes of the Slack Web API and the Discord REST API: real HTTP on 127.0.0.1, recording every request."""
