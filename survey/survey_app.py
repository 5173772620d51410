"""The study as a WSGI application (served by waitress in serve.py), and its SQLite store.

A participant's path: consent -> tutorial (two real and two generated images, labelled) -> one
image per page, each at its own URL (/p/<participant>/item/<n>), with the study's questions, in
an order drawn for them (a few images shown twice, one instructed-response item) -> a completion
code (and the crowd platform's completion link). Every answer is committed (SQLite, WAL,
synchronous=FULL) before the response that acknowledges it.

An answer is stored only for the item its form was rendered for and only while that item is the
participant's current one: a stale form (Back, a double tap, a second tab) stores nothing and
lands on the current item with a note. Requests never name a file: images are served from
memory by an id the manifest lists. A malformed or foreign submission gets a 4xx page.
"""

import collections
import contextlib
import csv
import dataclasses
import hmac
import html
import io as pyio
import json
import os
import re
import secrets
import sqlite3
import threading
import time
import urllib.parse

from common.classes import UsageError
from survey import questions as questions_lib

MAX_BODY = 4096  # bytes: an answer is ~200
ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
PID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
SCHEMA_VERSION = 2
COOKIE = "survey_pid"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    pid TEXT PRIMARY KEY, external_id TEXT UNIQUE, created REAL NOT NULL, csrf TEXT NOT NULL,
    item_order TEXT NOT NULL, tutorial_done INTEGER NOT NULL DEFAULT 0,
    completion_code TEXT NOT NULL, finished REAL);
CREATE TABLE IF NOT EXISTS answers (
    pid TEXT NOT NULL REFERENCES participants(pid), item INTEGER NOT NULL, image_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('study', 'repeat', 'instructed')),
    response TEXT NOT NULL, answered REAL NOT NULL, PRIMARY KEY (pid, item));
"""


class Store:
    """The study's answers in <study>/answers.sqlite; one connection per call (thread-safe)."""

    def __init__(self, path):
        self.path = path
        try:
            with self.connect() as db:
                tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if "answers" in tables and "meta" not in tables:
                    raise UsageError(
                        f"{path} holds answers of an older survey version; keep it and make a new study"
                    )
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise UsageError(f"{path} is not a readable answers database ({error}); move it aside") from error
        if version != str(SCHEMA_VERSION):
            raise UsageError(f"{path} has schema {version}, this survey writes {SCHEMA_VERSION}")

    def connect(self):
        """A new connection, closed by `with` (sqlite3's own context manager only commits)."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.row_factory = sqlite3.Row
        return contextlib.closing(db)

    def create_participant(self, order, external_id=None):
        """(pid, new): a new participant, or the one this external id already has."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            if external_id is not None:
                row = db.execute(
                    "SELECT pid FROM participants WHERE external_id = ?", (external_id,)
                ).fetchone()
                if row is not None:
                    db.execute("ROLLBACK")
                    return row["pid"], False
            pid = secrets.token_urlsafe(18)
            db.execute(
                "INSERT INTO participants (pid, external_id, created, csrf, item_order, completion_code) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (pid, external_id, time.time(), secrets.token_urlsafe(18), json.dumps(order),
                 secrets.token_hex(4).upper()),
            )  # fmt: skip
            db.execute("COMMIT")
        return pid, True

    def find_external(self, external_id):
        with self.connect() as db:
            row = db.execute("SELECT pid FROM participants WHERE external_id = ?", (external_id,)).fetchone()
        return None if row is None else row["pid"]

    def participant(self, pid):
        with self.connect() as db:
            row = db.execute("SELECT * FROM participants WHERE pid = ?", (pid,)).fetchone()
            if row is None:
                return None
            answered = db.execute("SELECT COUNT(*) FROM answers WHERE pid = ?", (pid,)).fetchone()[0]
        return dict(row, order=json.loads(row["item_order"]), answered=answered)

    def finish_tutorial(self, pid):
        with self.connect() as db:
            db.execute("UPDATE participants SET tutorial_done = 1 WHERE pid = ?", (pid,))

    def answer(self, pid, item, image_id, kind, response, total):
        """Stores one answer if `item` is the participant's current one; True, or False when it
        was answered already or is not current (nothing stored)."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                answered = db.execute("SELECT COUNT(*) FROM answers WHERE pid = ?", (pid,)).fetchone()[0]
                if item != answered:
                    db.execute("ROLLBACK")
                    return False
                db.execute(
                    "INSERT INTO answers (pid, item, image_id, kind, response, answered) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (pid, item, image_id, kind, json.dumps(response, sort_keys=True), time.time()),
                )
                if item + 1 == total:
                    db.execute("UPDATE participants SET finished = ? WHERE pid = ?", (time.time(), pid))
                db.execute("COMMIT")
                return True
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                return False

    def rows(self):
        """(participants, answers): answers as dicts with the response's fields spread out."""
        with self.connect() as db:
            answers = [dict(r) for r in db.execute("SELECT * FROM answers ORDER BY pid, item")]
            participants = [
                dict(r) for r in db.execute("SELECT pid, external_id, created, finished FROM participants")
            ]
        for a in answers:
            a.update(json.loads(a.pop("response")))
        return participants, answers


def draw_order(manifest, rng=None):
    """A participant's items, [image id, kind]: every study image once in random order, each
    repeated image a second time at least four items from its first showing, and one
    instructed-response item (a study image, not among the first two)."""
    rng = rng or secrets.SystemRandom()
    ids = [e["id"] for e in manifest["images"]]
    rng.shuffle(ids)
    items = [[i, "study"] for i in ids]
    for repeat in manifest["repeats"]:
        first = next(n for n, (i, kind) in enumerate(items) if i == repeat)
        slots = [n for n in range(len(items) + 1) if abs(n - first) > 3] or [len(items)]
        items.insert(rng.choice(slots), [repeat, "repeat"])
    items.insert(rng.choice(range(min(2, len(items)), len(items) + 1)), [rng.choice(ids), "instructed"])
    return items


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;margin:0 auto;
padding:0 12px 24px;color:#222;line-height:1.4;font-size:16px}
h1{font-size:1.4em} p{margin:.6em 0}
.view{position:sticky;top:0;z-index:2;background:#fff;padding:6px 0;border-bottom:1px solid #e4e4e4}
.view img.study{display:block;height:min(34vh,384px);width:auto;max-width:100%;margin:0 auto;
image-rendering:pixelated;border:1px solid #ccc}
fieldset{border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:4px 8px}
legend{font-weight:600;font-size:.95em}
.scale{display:flex;justify-content:space-between;gap:4px}
.scale label{flex:1;text-align:center;padding:5px 0;border:1px solid #ccc;border-radius:6px;cursor:pointer}
.scale input{display:block;margin:0 auto 2px}
.ends{display:flex;justify-content:space-between;font-size:.8em;color:#666}
button,.button{display:block;box-sizing:border-box;font-size:1.1em;padding:10px 24px;border-radius:6px;
border:0;background:#2458b3;color:#fff;width:100%;text-align:center;text-decoration:none;margin:10px 0}
.tut{display:grid;grid-template-columns:1fr 1fr;gap:8px} .tut figure{margin:0;text-align:center}
.tut img{width:100%;image-rendering:pixelated;border:1px solid #ccc}
.progress{color:#555;margin:0 0 4px;text-align:center;font-size:.9em}
.note{background:#fff4d6;border:1px solid #e8c66a;border-radius:6px;padding:8px}
.check{background:#e8f0ff;border:1px solid #9db6e8;border-radius:6px;padding:8px;font-weight:600}
.code{font-size:1.6em;font-weight:700;letter-spacing:.1em}
@media (min-width:760px){
 main.item{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px;align-items:start}
 .view{top:12px;border:0} .view img.study{height:auto;width:100%;max-height:85vh}}
"""

PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>{head}<title>{title}</title>"
    "<style>{style}</style><script src='/static/survey.js' defer></script></head><body>{body}</body></html>"
)
# A page restored by Back from the browser's memory (with its answers still ticked) is fetched
# again, so that it shows the participant's current item; Next is pressed once.
SCRIPT = b"""window.addEventListener('pageshow', function (e) { if (e.persisted) { location.reload(); } });
document.addEventListener('submit', function (e) {
  var b = e.target.querySelector('button');
  if (b) { setTimeout(function () { b.disabled = true; }, 0); }
});
"""

NOTES = {
    "answered": "You had answered that image already (answers cannot be changed); here is your next one.",
    "ahead": "That image is not yet your turn; here is your current one.",
}


def page(title, body, status="200 OK", head=""):
    text = PAGE.format(title=html.escape(title), body=body, style=STYLE, head=head)
    return status, "text/html; charset=utf-8", text.encode(), []


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


class HTTPError(Exception):
    """An error answered with a readable page; `link` offers the way on."""

    def __init__(self, status, message, link=None, headers=()):
        super().__init__(message)
        self.status, self.message, self.link, self.headers = status, message, link, list(headers)


@dataclasses.dataclass(frozen=True)
class AppConfig:
    completion_url: str | None = None  # "{code}" and "{id}" are filled in (Prolific, MTurk, ...)
    id_params: tuple = ("PROLIFIC_PID", "workerId", "participant")  # where a platform puts its id
    new_per_hour: int = 30  # new participants per client address per hour
    trust_proxy: bool = False  # the address is X-Forwarded-For's first (behind a reverse proxy)
    secure_cookie: bool = False  # the cookie only over HTTPS


class RateLimit:
    """At most `per_hour` events per key in any hour (in memory; a restart forgets it)."""

    def __init__(self, per_hour):
        self.per_hour, self.lock, self.events = per_hour, threading.Lock(), collections.defaultdict(list)

    def allow(self, key, now=None):
        now = time.time() if now is None else now
        with self.lock:
            recent = [t for t in self.events[key] if now - t < 3600]
            if len(recent) >= self.per_hour:
                self.events[key] = recent
                return False
            self.events[key] = recent + [now]
            return True


ROUTES = (  # (pattern, allowed methods)
    (re.compile(r"^/$"), ("GET", "HEAD")),
    (re.compile(r"^/start$"), ("POST",)),
    (re.compile(r"^/img/[^/]+$"), ("GET", "HEAD")),
    (re.compile(r"^/static/survey\.js$"), ("GET", "HEAD")),
    (re.compile(r"^/p/[^/]+$"), ("GET", "HEAD")),
    (re.compile(r"^/p/[^/]+/(tutorial|item/[^/]+)$"), ("GET", "HEAD", "POST")),
    (re.compile(r"^/p/[^/]+/done$"), ("GET", "HEAD")),
    (re.compile(r"^/researcher(/answers\.csv)?$"), ("GET", "HEAD")),
)


class SurveyApp:
    """WSGI callable. manifest: the study's; images: {id: PNG bytes}; token: the researcher's."""

    def __init__(self, manifest, images, store, token, flag_fn=None, config=None):
        self.manifest, self.images, self.store, self.token = manifest, images, store, token
        self.flag_fn = flag_fn
        self.config = config or AppConfig()
        self.questions = manifest["questions"]
        self.required, self.instruction = questions_lib.instructed(self.questions)
        self.total = len(manifest["images"]) + len(manifest["repeats"]) + 1
        self.limit = RateLimit(self.config.new_per_hour)

    # --------------------------------------------------------------- WSGI plumbing
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            status, ctype, body, extra = self.route(
                dict(environ, REQUEST_METHOD="GET" if method == "HEAD" else method)
            )
        except HTTPError as error:
            link = (
                f"<p><a class='button' href='{html.escape(error.link)}'>Continue</a></p>"
                if error.link
                else ""
            )
            status, ctype, body, extra = page(
                "Sorry", f"<h1>{html.escape(error.status[4:])}</h1><p>{html.escape(error.message)}</p>{link}",
                status=error.status,
            )  # fmt: skip
            extra = error.headers
        headers = [
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; img-src 'self'"),
            (
                "Cache-Control",
                "no-store"
                if not ctype.startswith(("image/", "text/javascript"))
                else "private, max-age=3600",
            ),
            *extra,
        ]
        start_response(status, headers)
        return [b"" if method == "HEAD" else body]

    def route(self, environ):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/") or "/"
        allowed = next((methods for pattern, methods in ROUTES if pattern.match(path)), None)
        if allowed is None:
            raise HTTPError("404 Not Found", "There is no such page.", link="/")
        if method not in allowed:
            raise HTTPError(
                "405 Method Not Allowed",
                f"This page answers {', '.join(allowed)}.",
                headers=[("Allow", ", ".join(allowed))],
            )
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self.consent(environ)
        if parts == ["start"]:
            return self.start(environ)
        if parts[0] == "img":
            image_id = parts[1][:-4] if parts[1].endswith(".png") else ""
            if not ID_PATTERN.match(image_id) or image_id not in self.images:
                raise HTTPError("404 Not Found", "There is no such image.")
            return "200 OK", "image/png", self.images[image_id], []
        if parts[0] == "static":
            return "200 OK", "text/javascript; charset=utf-8", SCRIPT, []
        if parts[0] == "researcher":
            return self.researcher(environ, parts)
        participant = self.store.participant(parts[1]) if PID_PATTERN.match(parts[1]) else None
        if participant is None:
            raise HTTPError(
                "404 Not Found", "This participant link is unknown; start from the study's link.", "/"
            )
        where = self.where(participant)
        if len(parts) == 2:
            return redirect(where)
        if parts[2] == "tutorial":
            if participant["tutorial_done"]:
                return redirect(where)
            if method == "POST":
                self.check_csrf(participant, read_form(environ))
                self.store.finish_tutorial(participant["pid"])
                return redirect(f"/p/{participant['pid']}")
            return self.tutorial_page(participant)
        if parts[2] == "done":
            if participant["answered"] < len(participant["order"]):
                return redirect(where)
            return self.done_page(participant)
        return self.item(environ, participant, parts[3], where)

    def where(self, participant):
        """The URL of the participant's current step."""
        pid = participant["pid"]
        if not participant["tutorial_done"]:
            return f"/p/{pid}/tutorial"
        if participant["answered"] >= len(participant["order"]):
            return f"/p/{pid}/done"
        return f"/p/{pid}/item/{participant['answered']}"

    def client(self, environ):
        if self.config.trust_proxy and environ.get("HTTP_X_FORWARDED_FOR"):
            return environ["HTTP_X_FORWARDED_FOR"].split(",")[0].strip()
        return environ.get("REMOTE_ADDR", "")

    @staticmethod
    def check_csrf(participant, form):
        if not hmac.compare_digest(form.get("csrf", "").encode(), participant["csrf"].encode()):
            raise HTTPError(
                "403 Forbidden",
                "This form has expired or was not sent by the study's page.",
                f"/p/{participant['pid']}",
            )

    # --------------------------------------------------------------- consent and start
    def external_id(self, values):
        """The crowd platform's participant id: the first of config.id_params in the link."""
        for name in self.config.id_params:
            if values.get(name):
                return valid_external(values[name], name)
        return None

    def consent(self, environ):
        query = {k: v[0] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
        external = self.external_id(query)
        returning = self.cookie_participant(environ)
        if returning and (external is None or external == returning["external_id"]):
            return redirect(f"/p/{returning['pid']}")
        questions = len(self.questions["scales"]) + 1
        text = self.manifest["consent"]
        for key, value in (
            ("{items}", self.total),
            ("{questions}", questions),
            ("{minutes}", max(1, self.total // 4)),
        ):
            text = text.replace(key, str(value))
        paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
        hidden = (
            f"<input type='hidden' name='external_id' value='{html.escape(external)}'>" if external else ""
        )
        return page(
            "Image study",
            f"<h1>Do you find these images creative?</h1>{paragraphs}"
            f"<form method='post' action='/start' autocomplete='off'>{hidden}"
            "<button type='submit'>I agree — start</button></form>",
        )

    def cookie_participant(self, environ):
        for part in environ.get("HTTP_COOKIE", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and PID_PATTERN.match(value):
                return self.store.participant(value)
        return None

    def start(self, environ):
        form = read_form(environ)
        external = valid_external(form["external_id"], "external_id") if form.get("external_id") else None
        if external is None:  # a returning browser without a platform id continues its own study
            returning = self.cookie_participant(environ)
            if returning and returning["external_id"] is None:
                return redirect(f"/p/{returning['pid']}")
        else:
            known = self.store.find_external(external)
            if known is not None:  # one participant, one completion code per platform id
                return redirect(f"/p/{known}")
        if not self.limit.allow(self.client(environ)):
            raise HTTPError(
                "429 Too Many Requests",
                "Too many new participants from your network in the last hour; please try again later.",
                headers=[("Retry-After", "600")],
            )
        pid, _ = self.store.create_participant(draw_order(self.manifest), external)
        cookie = f"{COOKIE}={pid}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax"
        cookie += "; Secure" if self.config.secure_cookie else ""
        status, ctype, body, headers = redirect(f"/p/{pid}")
        return status, ctype, body, headers + [("Set-Cookie", cookie)]

    # --------------------------------------------------------------- pages
    def tutorial_page(self, participant):
        pid, csrf = html.escape(participant["pid"]), html.escape(participant["csrf"])
        tutorial = sorted(self.manifest["tutorial"], key=lambda e: (e["source"] != "real", e["id"]))
        figures = "".join(
            f"<figure><img src='/img/{e['id']}.png' alt='example image {i + 1}'><figcaption>"
            + ("made by a designer (a real image)" if e["source"] == "real" else "generated by a computer")
            + "</figcaption></figure>"
            for i, e in enumerate(tutorial)
        )
        return page(
            "Examples",
            "<h1>Four examples</h1><p>Two real images and two generated ones, labelled, so you know "
            "what the images look like. In the study the labels are hidden.</p>"
            f"<div class='tut'>{figures}</div>"
            f"<form method='post' action='/p/{pid}/tutorial' autocomplete='off'>"
            f"<input type='hidden' name='csrf' value='{csrf}'>"
            "<button type='submit'>Start the study</button></form>",
        )

    def item(self, environ, participant, text, where):
        pid, order = participant["pid"], participant["order"]
        if not text.isdigit() or not 0 <= int(text) < len(order):
            raise HTTPError("404 Not Found", "There is no such image in your study.", where)
        n = int(text)
        if not participant["tutorial_done"] or participant["answered"] >= len(order):
            return redirect(where)
        current = participant["answered"]
        if n != current:  # Back, a double tap, a second tab: nothing is stored
            return redirect(f"{where}?note={'answered' if n < current else 'ahead'}")
        image_id, kind = order[n]
        if environ["REQUEST_METHOD"] == "GET":
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            return self.item_page(participant, n, (query.get("note") or [""])[0])
        form = read_form(environ, link=where)
        self.check_csrf(participant, form)
        if form.get("image") != image_id:
            raise HTTPError("400 Bad Request", "This answer was sent for another image.", where)
        response = self.parse_answer(form, where)
        if not self.store.answer(pid, n, image_id, kind, response, len(order)):
            return redirect(f"{where}?note=answered")
        return redirect(f"/p/{pid}/item/{n + 1}" if n + 1 < len(order) else f"/p/{pid}/done")

    def parse_answer(self, form, where):
        response = {}
        for s in self.questions["scales"]:
            value = form.get(s["id"], "")
            if not value.isdigit() or not 1 <= int(value) <= s["points"]:
                raise HTTPError(
                    "400 Bad Request", f"Please answer “{s['text']}” with 1 to {s['points']}.", where
                )
            response[s["id"]] = int(value)
        choice = self.questions["choice"]
        if form.get(choice["id"]) not in choice["options"]:
            raise HTTPError("400 Bad Request", f"Please answer “{choice['text']}”.", where)
        response[choice["id"]] = form[choice["id"]]
        return response

    def item_page(self, participant, n, note):
        pid, csrf, order = (
            html.escape(participant["pid"]),
            html.escape(participant["csrf"]),
            participant["order"],
        )
        image_id, kind = order[n]
        scales = "".join(scale(s) for s in self.questions["scales"])
        choice = self.questions["choice"]
        options = "".join(
            f"<label><input type='radio' name='{choice['id']}' value='{html.escape(o)}' required>"
            f"{html.escape(o)}</label>"
            for o in choice["options"]
        )
        notice = f"<p class='note' id='note'>{html.escape(NOTES[note])}</p>" if note in NOTES else ""
        check = (
            f"<p class='check' id='instructed'>{html.escape(self.instruction)}</p>"
            if kind == "instructed"
            else ""
        )
        return page(
            f"Image {n + 1} of {len(order)}",
            "<main class='item'><div class='view'>"
            f"<p class='progress' id='progress'>Image {n + 1} of {len(order)}</p>"
            f"<img class='study' src='/img/{image_id}.png' alt='image {n + 1}'></div>"
            f"<form method='post' action='/p/{pid}/item/{n}' autocomplete='off'>{notice}{check}"
            f"<input type='hidden' name='csrf' value='{csrf}'>"
            f"<input type='hidden' name='image' value='{image_id}'>{scales}"
            f"<fieldset><legend>{html.escape(choice['text'])}</legend>"
            f"<div class='scale'>{options}</div></fieldset>"
            "<button type='submit' id='next'>Next</button></form></main>",
        )

    def done_page(self, participant):
        code = participant["completion_code"]
        link, head = "", ""
        if self.config.completion_url:
            url = self.config.completion_url.replace("{code}", urllib.parse.quote(code)).replace(
                "{id}", urllib.parse.quote(participant["external_id"] or participant["pid"])
            )
            href = html.escape(url)
            link = f"<p><a class='button' id='complete' href='{href}'>Finish on your platform</a></p>"
            head = f"<meta http-equiv='refresh' content='5;url={html.escape(url)}'>"
        return page(
            "Thank you",
            "<h1>Thank you!</h1><p>You answered every image. Your completion code:</p>"
            f"<p class='code' id='completion-code'>{html.escape(code)}</p>{link}",
            head=head,
        )

    # --------------------------------------------------------------- the researcher
    def researcher(self, environ, parts):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        given = (query.get("token") or [""])[0]
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise HTTPError("403 Forbidden", "The researcher page needs the token printed at start-up.")
        if parts == ["researcher"]:
            participants, answers = self.store.rows()
            finished = sum(p["finished"] is not None for p in participants)
            flagged = self.flag_fn(self.manifest, participants, answers) if self.flag_fn else {}
            link = "/researcher/answers.csv?token=" + urllib.parse.quote(given)
            return page(
                "Researcher",
                "<h1>Study progress</h1>"
                f"<p id='stats'>{plural(len(participants), 'participant')} started, {finished} finished, "
                f"{plural(len(answers), 'answer')} stored, {len(flagged)} excluded by the quality checks.</p>"
                f"<p><a href='{html.escape(link)}'>Download the raw answers (CSV)</a></p>",
            )
        return (
            "200 OK",
            "text/csv; charset=utf-8",
            self.csv_export(),
            [("Content-Disposition", "attachment; filename=answers.csv")],
        )

    def csv_export(self):
        participants, answers = self.store.rows()
        external = {p["pid"]: p["external_id"] or "" for p in participants}
        source = {e["id"]: e["source"] for e in self.manifest["images"]}
        ids = questions_lib.ids(self.questions)
        out = pyio.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["participant", "external_id", "item", "image_id", "kind", "source", *ids, "answered"]
        )
        for a in answers:
            writer.writerow(
                [a["pid"], external.get(a["pid"], ""), a["item"], a["image_id"], a["kind"],
                 source.get(a["image_id"], "?"), *(a.get(q, "") for q in ids), a["answered"]]
            )  # fmt: skip
        return out.getvalue().encode()


def scale(s):
    options = "".join(
        f"<label><input type='radio' name='{s['id']}' value='{v}' required>{v}</label>"
        for v in range(1, s["points"] + 1)
    )
    return (
        f"<fieldset><legend>{html.escape(s['text'])}</legend><div class='scale'>{options}</div>"
        f"<div class='ends'><span>1 = {html.escape(s['low'])}</span>"
        f"<span>{s['points']} = {html.escape(s['high'])}</span></div></fieldset>"
    )


def valid_external(value, name):
    if not EXTERNAL_ID.match(value):
        raise HTTPError("400 Bad Request", f"The participant id in the link ({name}) is not valid.")
    return value


def read_form(environ, link=None):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as error:
        raise HTTPError("400 Bad Request", "The request's length is malformed.", link) from error
    if length > MAX_BODY:
        raise HTTPError("413 Payload Too Large", f"A submission is at most {MAX_BODY} bytes.", link)
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if len(raw) > MAX_BODY:
        raise HTTPError("413 Payload Too Large", f"A submission is at most {MAX_BODY} bytes.", link)
    try:
        form = urllib.parse.parse_qs(raw.decode("utf-8"), strict_parsing=bool(raw), max_num_fields=30)
    except (UnicodeDecodeError, ValueError) as error:
        raise HTTPError("400 Bad Request", "The form was malformed.", link) from error
    if any(len(v) != 1 for v in form.values()):
        raise HTTPError("400 Bad Request", "A field was sent twice.", link)
    return {k: v[0] for k, v in form.items()}


def redirect(location):
    return "303 See Other", "text/html; charset=utf-8", b"", [("Location", location)]


def load_images(study_dir, manifest):
    """{id: PNG bytes} of every image the manifest lists (read once, at start-up)."""
    out = {}
    for entry in manifest["images"] + manifest["tutorial"]:
        with open(os.path.join(study_dir, "images", f"{entry['id']}.png"), "rb") as f:
            out[entry["id"]] = f.read()
    return out
