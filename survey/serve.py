"""Serves a study to participants with waitress (a production WSGI server).

    python serve.py --study study/ [--host 127.0.0.1 --port 8000]

Prints the participants' link and the researcher page's link (with its token: progress, and the
raw answers as CSV). Answers go to <study>/answers.sqlite as they are submitted; stopping and
restarting the server loses nothing acknowledged, and participants continue with their links.
"""

import os
import secrets

from absl import flags

from common import flags as common_flags

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("study", None, "The study directory (made by make_study.py).")
    flags.DEFINE_string("host", "127.0.0.1", "Address to listen on (0.0.0.0: every interface).")
    flags.DEFINE_integer("port", 8000, "Port to listen on.")
    flags.DEFINE_integer("threads", 8, "Worker threads of the server.")
    flags.DEFINE_string(
        "token", None, "The researcher page's token (default: a new random one, printed; or $SURVEY_TOKEN)."
    )


def make_app(study_dir, token):
    from survey import study, survey_app, survey_stats

    manifest = study.load_manifest(study_dir)
    store = survey_app.Store(os.path.join(study_dir, "answers.sqlite"))
    images = survey_app.load_images(study_dir, manifest)
    return survey_app.SurveyApp(manifest, images, store, token, flag_fn=survey_stats.attention_failures)


def main(argv):
    del argv
    common_flags.require(FLAGS.study, "--study: give the study directory (made by make_study.py)")
    common_flags.check_range("port", FLAGS.port, 0, 65535, high_open=False)
    common_flags.check_positive("threads", FLAGS.threads)
    token = FLAGS.token or os.environ.get("SURVEY_TOKEN") or secrets.token_urlsafe(16)
    app = make_app(FLAGS.study, token)
    import socket

    import waitress

    try:
        server = waitress.create_server(app, host=FLAGS.host, port=FLAGS.port, threads=FLAGS.threads)
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
        pass


if __name__ == "__main__":
    define_flags()
    common_flags.run(main)
