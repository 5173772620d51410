"""Serves a study to participants with waitress (a production WSGI server).

    python serve.py --study study/ [--host 127.0.0.1 --port 8000]
    python serve.py --study study/ --completion_url 'https://app.prolific.com/submissions/complete?cc={code}'

Prints the participants' link and the researcher page's link (with its token: progress, and the
raw answers as CSV). Answers go to <study>/answers.sqlite as they are submitted; stopping and
restarting the server loses nothing acknowledged, and participants continue with their links
(or their cookie). A crowd platform's participant id is read from the link (?PROLIFIC_PID=...,
?workerId=...): one participant and one completion code per id. Limits for a public study: a
body over 4 KB is refused before it is read, idle connections are closed after --channel_timeout
seconds, at most --connection_limit at once, --new_per_hour new participants per address. On the
internet, put it behind an HTTPS reverse proxy (see README.md) and keep --host 127.0.0.1.
"""

import os
import secrets

from absl import flags

from common import flags as common_flags

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("study", None, "The study directory (made by make_study.py).")
    flags.DEFINE_string(
        "host", "127.0.0.1", "Address to listen on (0.0.0.0: every interface; prefer a proxy)."
    )
    flags.DEFINE_integer("port", 8000, "Port to listen on (0: a free one, printed).")
    flags.DEFINE_integer("threads", 8, "Worker threads of the server.")
    flags.DEFINE_string(
        "token", None, "The researcher page's token (default: a new random one, printed; or $SURVEY_TOKEN)."
    )
    flags.DEFINE_string(
        "completion_url",
        None,
        "Where a participant who finished is sent, with {code} (their completion code) and {id} (their "
        "platform id) filled in where they appear, e.g. https://app.prolific.com/submissions/complete?cc=C0DE.",
    )
    flags.DEFINE_list(
        "id_params",
        ["PROLIFIC_PID", "workerId", "participant"],
        "Query parameters of the study link that carry a crowd platform's participant id (first present).",
    )
    flags.DEFINE_integer("new_per_hour", 30, "New participants per client address per hour.")
    flags.DEFINE_bool(
        "trust_proxy", False, "Take the client address from X-Forwarded-For (behind your proxy)."
    )
    flags.DEFINE_bool("secure_cookie", False, "Send the returning-participant cookie over HTTPS only.")
    flags.DEFINE_integer("connection_limit", 500, "Connections served at once (more wait).")
    flags.DEFINE_integer("channel_timeout", 30, "Seconds after which an idle connection is closed.")


def make_app(study_dir, token, config=None):
    from survey import study, survey_app, survey_stats

    manifest = study.load_manifest(study_dir)
    store = survey_app.Store(os.path.join(study_dir, "answers.sqlite"))
    images = survey_app.load_images(study_dir, manifest)
    return survey_app.SurveyApp(
        manifest, images, store, token, flag_fn=survey_stats.exclusions, config=config
    )


def main(argv):
    del argv
    from survey import survey_app

    common_flags.require(FLAGS.study, "--study: give the study directory (made by make_study.py)")
    common_flags.check_range("port", FLAGS.port, 0, 65535, high_open=False)
    for name in ("threads", "new_per_hour", "connection_limit", "channel_timeout"):
        common_flags.check_positive(name, FLAGS[name].value)
    url = FLAGS.completion_url
    common_flags.require(
        url is None or url.startswith(("https://", "http://")),
        "--completion_url must be an http(s) URL ({code} and {id} are filled in where they appear)",
    )
    config = survey_app.AppConfig(
        completion_url=url,
        id_params=tuple(FLAGS.id_params),
        new_per_hour=FLAGS.new_per_hour,
        trust_proxy=FLAGS.trust_proxy,
        secure_cookie=FLAGS.secure_cookie,
    )
    token = FLAGS.token or os.environ.get("SURVEY_TOKEN") or secrets.token_urlsafe(16)
    app = make_app(FLAGS.study, token, config)
    import socket

    import waitress

    try:
        server = waitress.create_server(
            app,
            host=FLAGS.host,
            port=FLAGS.port,
            threads=FLAGS.threads,
            max_request_body_size=survey_app.MAX_BODY + 1,  # refused on its Content-Length, unread
            max_request_header_size=16384,
            channel_timeout=FLAGS.channel_timeout,
            cleanup_interval=max(1, min(10, FLAGS.channel_timeout // 2)),
            connection_limit=FLAGS.connection_limit,
            asyncore_use_poll=True,  # select() stops at 1,024 sockets
            ident="survey",
        )
    except OSError as error:
        raise common_flags.UsageError(
            f"cannot listen on {FLAGS.host}:{FLAGS.port} ({error.strerror})"
        ) from error
    host, port = server.effective_host, server.effective_port
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
    print(f"participants: http://{shown}:{port}/", flush=True)
    print(f"researcher:   http://{shown}:{port}/researcher?token={token}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        print("serve.py: stopped; every acknowledged answer is in answers.sqlite", flush=True)


if __name__ == "__main__":
    define_flags()
    common_flags.run(main)
