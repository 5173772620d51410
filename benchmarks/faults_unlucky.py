"""bench_faults' part `unlucky`: the ordinary unlucky things of reliability round two, end to end
through the entry scripts — damaged caches, odd image files, a folder another command wrote,
waits that could hang, absurd settings in the environment.

Each case is classified like the rest of bench_faults, with two more outcomes:

  handled   exit 0 and the right behaviour: the damage said in a line, the cache rebuilt or the
            older checkpoint used, and the numbers of an undisturbed run
  hang      the command did not end within its time limit

A case whose right answer is a refusal is "clean error" when it is one line with exit status != 0
and touches nothing it was not asked to write ("data lost" when it did)."""

import glob
import json
import os
import shutil
import subprocess
import sys
import time

from tests.helpers import damage_file, free_ports


def _row(case, script, outcome, err="", said=None):
    """A result row; its message is the last line of stderr, or the last line naming `said`."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    named = [line for line in lines if said and said.lower() in line.lower()]
    lines = named or lines
    return {"case": case, "script": script, "outcome": outcome, "message": lines[-1][:200] if lines else ""}


def _snapshot(folder):
    """{relative path: (size, mtime)} of every file under folder: what 'touched nothing' compares."""
    out = {}
    for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
        if os.path.isfile(path) and not path.endswith(".lock"):
            st = os.stat(path)
            out[os.path.relpath(path, folder)] = (st.st_size, st.st_mtime_ns)
    return out


def _refused(bf, code, err, *untouched):
    """A refusal: one clean line, and every (folder, snapshot) pair unchanged."""
    if "Traceback" in err:
        return "traceback"
    if code == 0:
        return "silently wrong"
    if any(_snapshot(folder) != before for folder, before in untouched):
        return "data lost"
    return "clean error" if bf.one_line_error(code, err) else "traceback"


def _outcome(bf, code, err, right):
    """A traceback, a clean one-line error, or (exit 0) "handled" when right() holds, else
    "silently wrong"."""
    if "Traceback" in err:
        return "traceback"
    if code != 0:
        return "clean error" if bf.one_line_error(code, err) else "traceback"
    return "handled" if right() else "silently wrong"


def _handled(bf, code, err, log, out, reference, said):
    """Exit 0, `said` (a word of the line that names the problem) in the run's log (stdout and
    stderr), the reference's numbers (None: only that it finished with a metrics.json)."""

    def right():
        got = bf.metrics(out)
        same = got is not None if reference is None else bf.comparable(got) == bf.comparable(reference)
        return same and said.lower() in log.lower()

    return _outcome(bf, code, err, right)


def _script(bf, folder, name, args, env, timeout=300, with_stdout=False):
    """(exit status, stderr) of `python name args` in folder; (None, stderr so far) on a hang.
    with_stdout: (exit status, stderr, stdout + stderr), for what a run says in its log."""
    try:
        proc = subprocess.run(
            [sys.executable, name, *args],
            cwd=os.path.join(bf.ROOT, folder),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as expired:
        err = expired.stderr or ""
        err = err.decode(errors="replace") if isinstance(err, bytes) else err
        return (None, err, err) if with_stdout else (None, err)
    if with_stdout:
        return proc.returncode, proc.stderr, proc.stdout + proc.stderr
    return proc.returncode, proc.stderr


def _fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


# ------------------------------------------------------------------------------------ the judge cache
def _negate_first_array(path):
    """Bit rot that still loads: one weight array of the HDF5 file negated in place."""
    import h5py

    with h5py.File(path, "r+") as f:
        arrays = []
        f.visititems(
            lambda name, obj: arrays.append(obj) if isinstance(obj, h5py.Dataset) and obj.size > 1 else None
        )
        arrays[0][...] = -arrays[0][...]


def _drop_accuracy(path):
    with open(path) as f:
        record = json.load(f)
    record.pop("test_accuracy", None)
    with open(path, "w") as f:
        json.dump(record, f)


JUDGE_DAMAGES = [
    ("judge record empty", ".json", lambda p: open(p, "w").close()),
    ("judge record garbled", ".json", lambda p: damage_file(p, "garbage")),
    ("judge record without its accuracy", ".json", _drop_accuracy),
    ("judge weights: bit rot that still loads", ".weights.h5", _negate_first_array),
    ("judge weights truncated", ".weights.h5", lambda p: damage_file(p, "truncate")),
]


def judge_cache(bf, specs, work, env):
    """The VAE graded by its judge; the cached judge damaged in each way, then a new run: the
    entry must be set aside (said) and retrained, and the numbers be those of the first run."""
    folder, name, args = specs["VAE"]
    args = [a for a in args if a != "--nojudge"]
    env = dict(env, CREATIVE_GANS_CACHE=_fresh(os.path.join(work, "unlucky", "judge-cache")))
    reference = _fresh(os.path.join(work, "unlucky", "judge-reference"))
    code, err = _script(bf, folder, name, [*args, "--out_dir", reference], env)
    if code != 0:
        return [_row("judge cache: reference run", "VAE", "traceback", err)]
    rows = []
    for label, suffix, damage in JUDGE_DAMAGES:
        entries = [p for p in glob.glob(os.path.join(env["CREATIVE_GANS_CACHE"], "judge", "*" + suffix))]
        damage(sorted(entries)[0])
        out = _fresh(os.path.join(work, "unlucky", "judge-" + label.split(":")[0].replace(" ", "-")))
        code, err, log = _script(bf, folder, name, [*args, "--out_dir", out], env, with_stdout=True)
        outcome = _handled(bf, code, err, log, out, bf.metrics(reference), "damaged")
        rows.append(_row(label, "VAE", outcome, log, said="damaged"))
    return rows


# ------------------------------------------------------------------------------------------ images
def _odd_images(folder):
    """A 16-bit grey PNG (a ramp: all black or all white when clipped) and a float TIFF."""
    import numpy as np
    from PIL import Image

    ramp = np.tile(np.linspace(0, 65535, 48, dtype=np.uint16), (48, 1))
    Image.fromarray(ramp).save(os.path.join(folder, "sixteen-bit.png"))
    Image.fromarray(ramp.astype(np.float32) / 65535.0).save(os.path.join(folder, "float.tif"))


def art_folder_cases(bf, specs, work, env):
    folder, name, args = specs["CAN"]
    art = args[args.index("--data_dir") + 1]
    rows = []
    # 16-bit and float images in a genre folder: converted by depth, trained on, no traceback.
    odd_art = _fresh(os.path.join(work, "unlucky", "art-odd"))
    shutil.copytree(art, odd_art)
    genre = sorted(d for d in os.listdir(odd_art) if os.path.isdir(os.path.join(odd_art, d)))[0]
    _odd_images(os.path.join(odd_art, genre))
    odd_args = list(args)
    odd_args[odd_args.index("--data_dir") + 1] = odd_art
    out = _fresh(os.path.join(work, "unlucky", "can-odd-images"))
    started = time.time()
    code, err = _script(bf, folder, name, [*odd_args, "--out_dir", out], env)
    # What the run trained on: the 8-bit copies the scan made of the two files must still be ramps
    # (Pillow's own conversion clips 16-bit values at 255: all white; floats in [0, 1]: all black).
    import numpy as np
    from PIL import Image

    copies = [
        path
        for path in glob.glob(
            os.path.join(env["CREATIVE_GANS_CACHE"], "**", "converted", "**", "*"), recursive=True
        )
        if os.path.isfile(path) and os.path.getmtime(path) >= started - 1
    ]
    ramps = 0
    for path in copies:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L"), dtype=np.float32)
        ramps += int(pixels.min() < 10 and pixels.max() > 245 and 90 < pixels.mean() < 165)
    outcome = _outcome(bf, code, err, lambda: ramps == 2)  # (other copies: the folder's BMPs)
    err = f"{len(copies)} converted copies, {ramps} of them still a full ramp\n{err}" if code == 0 else err
    rows.append(
        _row("16-bit PNG and float TIFF in a genre folder", "CAN", outcome, err, said="converted copies")
    )
    # A truncated scan cache: said, rescanned, the same numbers.
    scans = glob.glob(os.path.join(env["CREATIVE_GANS_CACHE"], "**", "scan-*.json"), recursive=True)
    reference = os.path.join(work, "reference", "CAN")
    for path in scans:
        damage_file(path, "truncate")
    out = _fresh(os.path.join(work, "unlucky", "can-scan-truncated"))
    code, err, log = _script(bf, folder, name, [*args, "--out_dir", out], env, with_stdout=True)
    if not scans:
        raise RuntimeError(f"no scan cache under {env['CREATIVE_GANS_CACHE']}: the case cannot be made")
    outcome = _handled(bf, code, err, log, out, bf.metrics(reference), "is damaged")
    rows.append(_row("the image folder's scan cache truncated", "CAN", outcome, log, said="is damaged"))
    # Two image sizes over one folder: a 32-px run resumed after a 16-px run on the same folder
    # must train on 32-px images (the converted-image cache was keyed by file only).
    at_32 = ["--image_size", "32"]
    short = ["--iterations", "20"]
    size_args = bf.drop_overridden(args, [*at_32, *short])
    undisturbed = _fresh(os.path.join(work, "unlucky", "can32-undisturbed"))
    for extra in (short, ["--iterations", "40"]):
        _script(bf, folder, name, [*size_args, *at_32, *extra, "--out_dir", undisturbed], env)
    mixed = _fresh(os.path.join(work, "unlucky", "can32-after-16"))
    other = _fresh(os.path.join(work, "unlucky", "can16-between"))
    _script(bf, folder, name, [*size_args, *at_32, *short, "--out_dir", mixed], env)
    _script(bf, folder, name, [*size_args, "--image_size", "16", *short, "--out_dir", other], env)
    code, err = _script(bf, folder, name, [*size_args, *at_32, "--iterations", "40", "--out_dir", mixed], env)
    rows.append(
        _row(
            "a 32-px run resumed after a 16-px run on the same folder",
            "CAN",
            bf.classify_rerun(code, err, mixed, bf.metrics(undisturbed)),
            err,
        )
    )
    return rows


# ------------------------------------------------------------------------------------ generate.py
def generate_cases(bf, specs, work, env):
    folder, name, args = specs["FIGR"]
    rows = []
    run_dir = _fresh(os.path.join(work, "unlucky", "figr-run"))
    shutil.copytree(os.path.join(work, "reference", "FIGR"), run_dir)
    gen_args = ["--num_samples", "8", "--steps", "2"]
    # generate.py's output folder is another program's run: refused, nothing touched.
    vae_run = os.path.join(work, "reference", "VAE")
    for label, target in (
        ("generate.py --out_dir <its own train.py run>", run_dir),
        ("generate.py --out_dir <a VAE run>", vae_run),
    ):
        before = _snapshot(target)
        code, err = _script(
            bf, folder, "generate.py", ["--run_dir", run_dir, *gen_args, "--out_dir", target], env
        )
        rows.append(_row(label, "FIGR", _refused(bf, code, err, (target, before)), err))
    gen_out = _fresh(os.path.join(work, "unlucky", "figr-generated"))
    code, err = _script(
        bf, folder, "generate.py", ["--run_dir", run_dir, *gen_args, "--out_dir", gen_out], env
    )
    if code != 0:
        return rows + [
            _row("generate.py into a new folder (set-up of the next cases)", "FIGR", "traceback", err)
        ]
    # ... and an entry script pointed at generate.py's output: refused, nothing touched.
    vae_folder, vae_name, vae_args = specs["VAE"]
    before = _snapshot(gen_out)
    code, err = _script(bf, vae_folder, vae_name, [*vae_args, "--out_dir", gen_out], env)
    rows.append(
        _row(
            "VAE.py --out_dir <a generate.py output>", "VAE", _refused(bf, code, err, (gen_out, before)), err
        )
    )
    # The run's newest checkpoint truncated: said, an older one used, exit 0.
    newest = sorted(
        glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.index")),
        key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]),
    )[-1][: -len(".index")]
    for path in glob.glob(newest + ".data-*"):
        damage_file(path, "truncate")
    out = _fresh(os.path.join(work, "unlucky", "figr-generated-from-truncated"))
    code, err, log = _script(
        bf, folder, "generate.py", ["--run_dir", run_dir, *gen_args, "--out_dir", out], env, with_stdout=True
    )
    outcome = _handled(bf, code, err, log, out, None, "damaged")
    rows.append(
        _row(
            "generate.py on a run whose newest checkpoint is truncated", "FIGR", outcome, log, said="damaged"
        )
    )
    # A run still being trained: refused in one line.
    training = _fresh(os.path.join(work, "unlucky", "figr-training"))
    longer = bf.drop_overridden(args, ["--meta_iterations"]) + ["--meta_iterations", "100000"]
    proc = bf.start((folder, name, longer), training, env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not glob.glob(os.path.join(training, "checkpoints", "ckpt-*.index")):
            time.sleep(0.5)
        code, err = _script(bf, folder, "generate.py", ["--run_dir", training, *gen_args], env)
        rows.append(_row("generate.py on a run still being trained", "FIGR", _refused(bf, code, err), err))
    finally:
        proc.kill()
        proc.communicate()
    return rows


# ---------------------------------------------------------------------------- paths and environment
def environment_cases(bf, specs, work, env):
    folder, name, args = specs["STYLEGAN"]
    rows = []
    root = os.path.join(work, "unlucky")
    os.makedirs(root, exist_ok=True)
    long_name = os.path.join(root, "n" * 300)
    long_path = os.path.join(root, *["p" * 200] * 20)
    for label, out in (
        ("--out_dir with a 300-character name", long_name),
        ("--out_dir of ~4,000 characters", long_path),
    ):
        code, err = _script(bf, folder, name, [*args, "--out_dir", out], env)
        created = os.path.exists(os.path.join(root, "p" * 200)) or os.path.exists(long_name)
        outcome = "data lost" if created and code != 0 else _refused(bf, code, err)
        rows.append(_row(label, "STYLEGAN", outcome, err))
    out = os.path.join(root, "mw")
    for label, config in (
        (
            "TF_CONFIG: cluster is a list",
            {"cluster": ["127.0.0.1:1"], "task": {"type": "worker", "index": 0}},
        ),
        (
            "TF_CONFIG: index is a word",
            {"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": "first"}},
        ),
        ("TF_CONFIG: not JSON", None),
    ):
        value = "{not json" if config is None else json.dumps(config)
        code, err = _script(
            bf,
            folder,
            name,
            [*args, "--strategy", "multi_worker", "--out_dir", _fresh(out)],
            dict(env, TF_CONFIG=value),
        )
        rows.append(_row(label, "STYLEGAN", _refused(bf, code, err), err))
    # Worker 0 of 2 started alone: it must give up (naming the silent address), not wait forever.
    ports = free_ports(2)
    config = {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": 0},
    }
    started = time.perf_counter()
    code, err = _script(
        bf,
        folder,
        name,
        [*args, "--strategy", "multi_worker", "--out_dir", _fresh(out)],
        dict(env, TF_CONFIG=json.dumps(config), CREATIVE_GANS_WORKER_TIMEOUT="10"),
        timeout=120,
    )
    waited = time.perf_counter() - started
    if code is None:
        outcome = "hang"
    else:
        outcome = _refused(bf, code, err)
        if outcome == "clean error" and str(ports[1]) not in err:
            outcome = "traceback"  # a refusal that does not say which worker is missing
    rows.append(
        _row(
            f"multi_worker: worker 1 of 2 never starts (gave up after {waited:.0f} s)",
            "STYLEGAN",
            outcome,
            err,
        )
    )
    code, err = _script(
        bf,
        folder,
        name,
        [*args, "--strategy", "mirrored", "--out_dir", _fresh(out)],
        dict(env, CREATIVE_GANS_CPU_DEVICES="1000"),
        timeout=120,
    )
    rows.append(
        _row(
            "CREATIVE_GANS_CPU_DEVICES=1000",
            "STYLEGAN",
            "hang" if code is None else _refused(bf, code, err),
            err,
        )
    )
    # logs/history.json holding an object instead of a list: said and replaced; the run resumes.
    midpoint = bf.halfway(specs["STYLEGAN"])
    out = _fresh(os.path.join(root, "history-object"))
    _script(bf, folder, name, [*midpoint[2], "--out_dir", out], env)
    with open(os.path.join(out, "logs", "history.json"), "w") as f:
        json.dump({"steps": "an object, not a list"}, f)
    code, err = _script(bf, folder, name, [*args, "--out_dir", out], env)
    extended = _fresh(os.path.join(root, "history-reference"))  # the same two commands, undisturbed
    for command in (midpoint[2], args):
        _script(bf, folder, name, [*command, "--out_dir", extended], env)
    references = [bf.metrics(extended)]
    rows.append(
        _row(
            "logs/history.json holds an object",
            "STYLEGAN",
            bf.classify_rerun(code, err, out, *references),
            err,
        )
    )
    return rows


# -------------------------------------------------------------------------------------- the survey
def survey_cases(bf, specs, work, env):
    rows = []
    vae_run = os.path.join(work, "reference", "VAE")
    broken = _fresh(os.path.join(work, "unlucky", "vae-npz-truncated"))
    shutil.copytree(vae_run, broken)
    damage_file(os.path.join(broken, "samples.npz"), "truncate")
    study = os.path.join(work, "unlucky", "study-from-truncated")
    shutil.rmtree(study, ignore_errors=True)
    code, err = _script(
        bf,
        "survey",
        "make_study.py",
        ["--runs", f"{vae_run},{broken}", "--per_run", "4", "--real", "4", "--out", study],
        env,
    )
    outcome = _refused(bf, code, err)
    if outcome == "clean error" and os.path.exists(study):
        outcome = "data lost"  # a half-made study left behind
    rows.append(_row("make_study.py: a run's samples.npz truncated", "survey", outcome, err))
    good = os.path.join(work, "unlucky", "study")
    shutil.rmtree(good, ignore_errors=True)
    code, err = _script(
        bf,
        "survey",
        "make_study.py",
        ["--runs", f"{vae_run},{vae_run}", "--labels", "a,b", "--per_run", "4", "--real", "4", "--out", good],
        env,
    )
    if code != 0:
        return rows + [
            _row("make_study.py on two runs (set-up of the next cases)", "survey", "traceback", err)
        ]
    with open(os.path.join(good, "answers.sqlite"), "wb") as f:
        f.write(b"not a database " * 100)
    for script, extra in (("analyze.py", []), ("serve.py", ["--port", "0"])):
        code, err = _script(bf, "survey", script, ["--study", good, *extra], env, timeout=60)
        rows.append(
            _row(
                f"{script}: answers.sqlite is garbage",
                "survey",
                "hang" if code is None else _refused(bf, code, err),
                err,
            )
        )
    return rows


def unlucky(bf, specs, work, env):
    rows = []
    for cases in (judge_cache, art_folder_cases, generate_cases, environment_cases, survey_cases):
        started = time.perf_counter()
        new = cases(bf, specs, work, env)
        print(
            f"unlucky/{cases.__name__}: {len(new)} cases in {time.perf_counter() - started:.0f} s", flush=True
        )
        rows += new
    return rows
