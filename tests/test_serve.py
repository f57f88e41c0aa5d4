"""`pprfeed serve`: a preview on 127.0.0.1, rebuilt when content changes, never touching the real output."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import write_article
from feedkit import make_tricky_archive

WAIT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Preview:
    """`pprfeed serve` as a child process, its output read line by line."""

    def __init__(self, cwd: Path, content: Path, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pprfeed", "serve", "--content", str(content), "--port", str(port)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.address = f"http://127.0.0.1:{port}/"
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        """The next line of output holding `text` (the lines before it are skipped)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} within {WAIT} s")

    def fetch(self, path: str) -> str:
        with urllib.request.urlopen(self.address + path, timeout=5) as response:
            return response.read().decode("utf-8")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=WAIT)


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[Preview]:
    content = make_tricky_archive(tmp_path / "content")
    running = Preview(tmp_path, content, free_port())
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def test_serve_builds_a_preview_with_links_to_itself(preview: Preview) -> None:
    assert preview.address in preview.wait_for("Serving a preview")
    preview.wait_for("built in")
    index = preview.fetch("index.html")
    assert f'<link rel="canonical" href="{preview.address}">' in index
    assert f'href="{preview.address}articles/2020-03-march-news.html"' in index
    assert f"<link>{preview.address}</link>" in preview.fetch("rss.xml")


def test_serve_rebuilds_when_content_changes_and_keeps_the_last_good_build(tmp_path: Path, preview: Preview) -> None:
    preview.wait_for("built in")
    content = tmp_path / "content"
    write_article(content, "2020-03", "march-news", title="March news, revised", topics=["alliance"])
    preview.wait_for("rebuilt in")
    page = preview.fetch("articles/2020-03-march-news.html")
    assert "<h1>March news, revised</h1>" in page

    broken = write_article(content, "2020-03", "march-news", title="Broken", topics=["no-such-topic"])
    assert "no-such-topic" in preview.wait_for(broken.name)  # the diagnostic, as `pprfeed check` prints it
    preview.wait_for("still serving the last good build")
    assert "<h1>March news, revised</h1>" in preview.fetch("articles/2020-03-march-news.html")

    assert preview.stop() == 0
    with pytest.raises(urllib.error.URLError):
        preview.fetch("index.html")


def test_serve_never_touches_the_real_output(tmp_path: Path, preview: Preview) -> None:
    preview.wait_for("built in")
    assert preview.stop() == 0
    assert sorted(os.listdir(tmp_path)) == ["content"]  # no feeds/, no lock, no preview folder left behind


def test_serve_says_what_to_do_while_the_content_has_never_built(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    write_article(content, "2020-03", "march-news", title="Broken", topics=["no-such-topic"])
    running = Preview(tmp_path, content, free_port())
    try:
        failed = running.wait_for(f"pprfeed serve: {content} has 1 problem")
        running.wait_for("nothing to serve until this builds")
        with pytest.raises(urllib.error.HTTPError) as answer:
            running.fetch("index.html")
        assert running.stop() == 0
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()
    assert failed.rstrip().endswith("the preview was not changed")
    assert answer.value.code == 503
    assert "its terminal says why" in answer.value.read().decode("utf-8")
