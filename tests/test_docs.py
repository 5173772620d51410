"""The documents: every relative link and anchor in every Markdown file resolves, and the front
README stays one screen."""

import os
import re
import subprocess

from tests.conftest import ROOT

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def markdown_files():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    return sorted(p for p in listed if os.path.exists(os.path.join(ROOT, p)))


def prose(text):
    """The text outside fenced code blocks and inline code (links there are examples)."""
    text = re.sub(r"(?ms)^```.*?^```", "", text)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"`|\*|_(?=\W)|(?<=\W)_", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"(?ms)^```.*?^```", "", f.read())
    for heading in re.findall(r"(?m)^#{1,6} (.+)$", text):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for name in markdown_files():
        path = os.path.join(ROOT, name)
        with open(path, encoding="utf-8") as f:
            text = prose(f.read())
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # http(s), mailto: not checked offline
            file_part, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(resolved):
                broken.append(f"{name}: {target} (no such file)")
            elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                broken.append(f"{name}: {target} (no heading #{anchor})")
    assert not broken, "\n".join(broken)


def test_the_readme_is_one_screen_and_points_to_every_experiment():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    assert len(text.encode()) <= 10 * 1024
    for folder in ("2D-codes", "infogan", "vae", "figr", "can", "survey", "reporting"):
        assert f"({folder}/README.md)" in text, folder
    assert "make demo" in text and "make test" in text


def test_the_slugs_follow_github():
    assert slug("The VAE (`vae/`): zero-shot and few-shot (report 2.5–2.6)") == (
        "the-vae-vae-zero-shot-and-few-shot-report-2526"
    )
    assert slug("Report figure → command → our figure") == "report-figure--command--our-figure"
