"""Hostile and careless input through the real command line (issue 14, the non-training half).

Each case runs the `llama31-edu` entry point (`llama31_edu.cli:main`) in its own process with a timeout and checks:
no traceback on stderr, the exit status (2 for a wrong command line, 1 for a file whose contents are wrong, 0 where
the input must work), a message that names the culprit, and no hang. Starting ~70 interpreters that each import
torch would take minutes of CI time, so one runner process imports the package once and *forks* a child per case:
the child has its own stdin/stdout/stderr files and exit status, and an uncaught exception reaches its stderr as a
traceback exactly as in a fresh interpreter. A few cases also run as `python -m llama31_edu.cli` from scratch
(`test_same_through_a_fresh_interpreter`) to show the two agree. Chapter-level versions of the same checks live in
the notebooks (chapters 1, 5, 6, 9).
"""
import atexit, base64, json, os, shutil, stat, subprocess, sys, tempfile
from pathlib import Path

import pytest, torch

from llama31_edu.checkpoints import save_hf_checkpoint, save_meta_checkpoint, CHECKSUM_FILE
from llama31_edu.model import ModelArgs, Transformer
from llama31_edu.tokenizer import DEMO_TOKENIZER

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60             # per case; generous for a shared machine: a hang (a FIFO opened for reading) never ends
USAGE, CONTENT = 2, 1
# `llama31-edu generate` (chapter 10), like `convert` and `tokenize` (chapters 6 and 1), separates usage (2) from
# contents (1): a damaged checkpoint exits 1.
GENERATE_LOAD_ERROR = 1

CASES: dict = {}         # name -> (argv, expected exit status, fragments stderr must hold, stdin bytes or None)


def case(name, argv, rc, *fragments, stdin=None):
    assert name not in CASES, name
    CASES[name] = ([str(a) for a in argv], rc, fragments, stdin)


def _corrupt_middle(f: Path, data=b"\xff" * 64):
    raw = bytearray(f.read_bytes()); mid = len(raw) // 2
    raw[mid:mid + len(data)] = data; f.write_bytes(raw)


def _edit_json(f: Path, edit):
    d = json.loads(f.read_text()); edit(d); f.write_text(json.dumps(d))


def _build_cases(base: Path):
    torch.manual_seed(0)
    model = Transformer(ModelArgs.from_preset("tiny", vocab_size=4352))   # the demo tokenizer's vocabulary
    ours_meta, ours_hf = save_meta_checkpoint(model, base / "ours_meta"), base / "ours_hf"
    save_hf_checkpoint(model, ours_hf, max_shard_size=200_000)            # sharded: it has an index
    ours_hf1 = save_hf_checkpoint(model, base / "ours_hf1")                # one model.safetensors

    def variant(src, name, sums=False):
        "A copy of `src` to break; without SHA256SUMS (as Meta's and Hugging Face's downloads come) unless `sums`."
        d = base / name; shutil.copytree(src, d, symlinks=True)
        if not sums: (d / CHECKSUM_FILE).unlink()
        return d

    out = lambda name: base / "out" / name
    conv = lambda src, name, *extra: ["convert", src, out(name), "--to", "hf", *extra]

    # ---- security 1: files a checkpoint names stay inside its folder and are regular files
    idx = "model.safetensors.index.json"
    (base / "elsewhere").mkdir()
    first = sorted(p.name for p in ours_hf.glob("model-*.safetensors"))[0]
    shutil.copy(ours_hf / first, base / "elsewhere" / "x.safetensors")
    for name, target in [("traversal", "../elsewhere/x.safetensors"), ("absolute", str(base / "elsewhere" / "x.safetensors")),
                         ("fifo", "pipe.safetensors")]:
        d = variant(ours_hf, f"index_{name}")
        _edit_json(d / idx, lambda j: j["weight_map"].update({"model.norm.weight": target}))
        if name == "fifo": os.mkfifo(d / "pipe.safetensors")
        says = {"traversal": "resolves to", "absolute": "is not a relative path", "fifo": "is a named pipe"}[name]
        case(f"index names {name}", conv(d, name), CONTENT, target if name == "fifo" else repr(target), f"listed in {idx}", says)
    case("generate: index names ../", ["generate", "--ckpt", base / "index_traversal", "--prompt", "a", "--device", "cpu",
                                       "--tokenizer", DEMO_TOKENIZER], GENERATE_LOAD_ERROR, "'../elsewhere/x.safetensors'")
    d = variant(ours_meta, "shard_symlink")
    (d / "consolidated.00.pth").unlink(); (d / "consolidated.00.pth").symlink_to(base / "ours_meta" / "consolidated.00.pth")
    case("a shard that links outside the folder", conv(d, "shard_symlink"), CONTENT, "consolidated.00.pth", "outside the checkpoint folder")
    d = variant(ours_meta, "params_fifo"); (d / "params.json").unlink(); os.mkfifo(d / "params.json")
    case("params.json is a named pipe", conv(d, "params_fifo"), CONTENT, "params.json", "named pipe")
    d = variant(ours_meta, "shard_dir"); (d / "consolidated.00.pth").unlink(); (d / "consolidated.00.pth").mkdir()
    case("a shard that is a folder", conv(d, "shard_dir"), CONTENT, "consolidated.00.pth", "is a folder, not a regular file")

    # ---- security 2: corrupt weights are found; our checksums are verified; downloads without them still load
    for src, f, sums, says in [(ours_meta, "consolidated.00.pth", True, "differs from the one recorded in SHA256SUMS"),
                               (ours_meta, "consolidated.00.pth", False, "fails its zip CRC check"),
                               (ours_hf1, "model.safetensors", True, "differs from the one recorded in SHA256SUMS"),
                               (ours_hf1, "model.safetensors", False, "non-finite value(s)")]:
        name = f"corrupt {f} {'with' if sums else 'without'} SHA256SUMS"
        d = variant(src, name.replace(" ", "_"), sums=sums); _corrupt_middle(d / f)
        case(name, conv(d, name.replace(" ", "_")), CONTENT, f, says)
    d = variant(ours_meta, "corrupt_for_generate", sums=True); _corrupt_middle(d / "consolidated.00.pth")
    case("generate: corrupt .pth", ["generate", "--ckpt", d, "--prompt", "a", "--device", "cpu", "--tokenizer", DEMO_TOKENIZER],
         GENERATE_LOAD_ERROR, "consolidated.00.pth", "SHA256SUMS")
    d = variant(ours_meta, "nan_weight")
    sd = torch.load(d / "consolidated.00.pth", weights_only=True); sd["norm.weight"][3] = float("nan")
    torch.save(sd, d / "consolidated.00.pth")
    case("a NaN weight (CRC intact)", conv(d, "nan_weight"), CONTENT, "norm.weight holds 1 non-finite value", "consolidated.00.pth")
    d = variant(ours_meta, "random_bytes"); (d / "consolidated.00.pth").write_bytes(os.urandom(4096))
    case("a .pth of random bytes", conv(d, "random_bytes"), CONTENT, "consolidated.00.pth", "truncated or corrupt")
    d = variant(ours_meta, "bad_sums", sums=True); (d / CHECKSUM_FILE).write_text("not a checksum line\n")
    case("a malformed SHA256SUMS", conv(d, "bad_sums"), CONTENT, "SHA256SUMS:1")
    case("our Meta-format checkpoint loads", conv(ours_meta, "ok_meta"), 0)
    case("a Meta-style download (no SHA256SUMS) loads", conv(variant(ours_meta, "download_meta"), "ok_download_meta"), 0)
    case("a HF-style download (no SHA256SUMS) loads", conv(variant(ours_hf, "download_hf"), "ok_download_hf", "--to", "meta"), 0)
    d = variant(ours_meta, "legacy_pth")
    torch.save(torch.load(d / "consolidated.00.pth", weights_only=True), d / "consolidated.00.pth", _use_new_zipfile_serialization=False)
    case("an old-format (pre-zip) .pth loads", conv(d, "legacy_pth"), 0)

    # ---- item 9: configurations that compute NaN; weights that are not floating point
    for key, value in [("rope_theta", 0.0), ("rope_theta", -5e5), ("rope_scale_factor", 0), ("ffn_dim_multiplier", 0.0),
                       ("ffn_dim_multiplier", -1.3), ("norm_eps", 0)]:
        d = variant(ours_meta, f"params_{key}_{value}")
        _edit_json(d / "params.json", lambda j: j.update({key: value}))
        case(f"params.json {key}={value}", conv(d, d.name), CONTENT, "params.json", f"ModelArgs.{key}")
    for dtype in (torch.int64, torch.bool, torch.complex64):
        d = variant(ours_meta, f"weights_{dtype}".replace("torch.", ""))
        sd = torch.load(d / "consolidated.00.pth", weights_only=True); sd["norm.weight"] = sd["norm.weight"].to(dtype)
        torch.save(sd, d / "consolidated.00.pth")
        case(f"{dtype} weights", conv(d, d.name), CONTENT, "consolidated.00.pth", f"norm.weight has dtype {dtype}")

    # ---- params.json / config.json / .pth contents: one line naming file and key, exit 1
    for name, text, says in [("null", "null", "got NoneType"), ("a list", "[1, 2]", "got list"),
                             ("norm_eps abc", None, "ModelArgs.norm_eps"), ("not JSON", "{dim: 64", "not valid JSON"),
                             ("max_seq_len 10^9", None, "max_seq_len=1,000,000,000")]:
        d = variant(ours_meta, "params_" + name.replace(" ", "_").replace("^", ""))
        if text is not None: (d / "params.json").write_text(text)
        elif name.startswith("norm_eps"): _edit_json(d / "params.json", lambda j: j.update(norm_eps="abc"))
        else: _edit_json(d / "params.json", lambda j: j.update(max_seq_len=10**9))
        case(f"params.json {name}", conv(d, d.name), CONTENT, str(d / "params.json"), says)
    for name, edit, says in [("llama3 rope_scaling without factor", lambda j: j["rope_scaling"].pop("factor"), "lacks ['factor']"),
                             ("rope_scaling a string", lambda j: j.update(rope_scaling="llama3"), "rope_scaling must be an object"),
                             ("hidden_size missing", lambda j: j.pop("hidden_size"), "hidden_size must be a positive integer"),
                             ("0 heads", lambda j: j.update(num_attention_heads=0), "num_attention_heads must be a positive integer, got 0")]:
        d = variant(ours_hf, "config_" + name.replace(" ", "_"))
        _edit_json(d / "config.json", edit)
        case(f"config.json {name}", conv(d, d.name, "--to", "meta"), CONTENT, "config.json", says)
    d = variant(ours_hf, "index_without_weight_map"); (d / idx).write_text('{"metadata": {}}')
    case("an index without weight_map", conv(d, d.name, "--to", "meta"), CONTENT, idx, "no 'weight_map'")
    d = variant(ours_meta, "pth_non_tensor")
    sd = torch.load(d / "consolidated.00.pth", weights_only=True); sd["norm.weight"] = 3; torch.save(sd, d / "consolidated.00.pth")
    case("a .pth with a non-tensor value", conv(d, d.name), CONTENT, "consolidated.00.pth", "'norm.weight' is a int, not a tensor")
    d = variant(ours_meta, "pth_list"); torch.save([torch.zeros(2)], d / "consolidated.00.pth")
    case("a .pth holding a list", conv(d, d.name), CONTENT, "consolidated.00.pth", "holds a list, not a state dict")

    # ---- convert's arguments, checked before any weight is read: exit 2, nothing created
    (base / "a_file").write_text("x")
    for name, argv, says in [("--shards 0", conv(ours_meta, "s0", "--to", "meta", "--shards", "0"), "--shards 0"),
                             ("--shards 3", conv(ours_meta, "s3", "--to", "meta", "--shards", "3"), "--shards 3 must divide n_kv_heads=2"),
                             ("--max-shard-size bogus", conv(ours_meta, "bogus", "--max-shard-size", "lots"), "--max-shard-size 'lots'"),
                             ("--max-shard-size 0", conv(ours_meta, "zero", "--max-shard-size", "0"), "--max-shard-size '0'"),
                             ("DST is a file", ["convert", ours_meta, base / "a_file", "--to", "hf"], "is a file"),
                             ("DST below a file", ["convert", ours_meta, base / "a_file" / "x", "--to", "hf"], "a_file is a file"),
                             ("DST not writable", ["convert", ours_meta, "/proc/self/attr/x", "--to", "hf"], "cannot write in"),
                             ("DST is SRC", ["convert", ours_meta, ours_meta, "--to", "meta"], "DST"),
                             ("SRC missing", ["convert", base / "nope", out("nope"), "--to", "hf"], "nope is not a directory"),
                             ("SRC not a checkpoint", ["convert", base / "elsewhere", out("elsewhere"), "--to", "hf"], "not a checkpoint")]:
        case(f"convert {name}", argv, USAGE, says)

    # ---- tokenizer files and `tokenize --file/-`
    ranks = DEMO_TOKENIZER.read_text().splitlines()
    kept = [l for l in ranks if base64.b64decode(l.split()[0]) != b"A"]
    (base / "no_A.model").write_text("".join(f"{l.split()[0]} {i}\n" for i, l in enumerate(kept)))
    case("a tokenizer without the byte 'A'", ["tokenize", "--model", base / "no_A.model", "A cat"], CONTENT,
         "no_A.model", "no token for the single byte(s) 0x41")
    (base / "garbage.model").write_bytes(b"\x00\xff garbage\n")
    case("a tokenizer file that is not one", ["tokenize", "--model", base / "garbage.model", "x"], CONTENT, "garbage.model:1")
    case("tokenize --model missing", ["tokenize", "--model", base / "nope.model", "x"], USAGE, "--model", "nope.model")
    big = base / "big.txt"; big.write_text("To be, or not to be, that is the question. " * 60_000)   # 2.6 MB: over ARG_MAX
    case("tokenize --file (2.6 MB)", ["tokenize", "--model", "demo", "--file", big], 0)
    case("tokenize - (standard input)", ["tokenize", "--model", "demo", "-"], 0, stdin=big.read_bytes())
    case("tokenize --file missing", ["tokenize", "--file", base / "nope.txt"], USAGE, "--file", "nope.txt")
    (base / "latin1.txt").write_bytes("café".encode("latin-1"))
    case("tokenize --file not UTF-8", ["tokenize", "--file", base / "latin1.txt"], CONTENT, "latin1.txt", "not UTF-8")
    case("tokenize - with bytes that are not UTF-8", ["tokenize", "-"], CONTENT, "standard input", "not UTF-8", stdin=b"\xff\xfe")
    case("tokenize without text", ["tokenize"], USAGE, "no text")
    case("tokenize text and --file", ["tokenize", "--file", big, "word"], USAGE, "not both")

    # ---- max_seq_len bound and generate's messages (chapter 9's check_request)
    gen = ["generate", "--ckpt", ours_meta, "--prompt", "to be", "--device", "cpu", "--tokenizer", DEMO_TOKENIZER]
    case("generate --max-seq-len 10^9", [*gen, "--max-seq-len", "1000000000"], USAGE, "max_seq_len=1,000,000,000", "RoPE table")
    case("generate --max-new-tokens 10^6", [*gen, "--max-new-tokens", "1000000"], USAGE, "max_new_tokens=1,000,000", "at most 127")   # the saved model keeps its max_seq_len (128)

    # ---- atomic_dir keeps an existing folder's mode; files are 0644
    keep = out("mode_kept"); keep.mkdir(parents=True); os.chmod(keep, 0o755)
    case("convert over an existing 0755 folder", ["convert", ours_meta, keep, "--to", "hf"], 0)
    return base


RUNNER = r"""
import json, os, signal, sys, time, traceback
import torch; torch.set_num_threads(1)
import llama31_edu.cli, llama31_edu.tokenizer, llama31_edu.checkpoints, llama31_edu.chat   # imported once, before forking
cases, out_dir, timeout, workers = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])

def child(c):
    "What `python -m llama31_edu.cli ARGV` does after its imports: run main, turn SystemExit into the exit status."
    for fd, name, mode in ((0, c["stdin"] or os.devnull, os.O_RDONLY), (1, c["out"], os.O_WRONLY | os.O_CREAT),
                           (2, c["err"], os.O_WRONLY | os.O_CREAT)):
        os.dup2(os.open(name, mode, 0o644), fd)
    try: rc = llama31_edu.cli.main(c["argv"])
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 0 if e.code is None else (print(e.code, file=sys.stderr), 1)[1]
    except BaseException: traceback.print_exc(); rc = 1
    sys.stdout.flush(); sys.stderr.flush(); os._exit(rc or 0)

running, results, todo = {}, {}, list(cases)
while todo or running:
    while todo and len(running) < workers:
        c = todo.pop(0); pid = os.fork()
        if pid == 0: child(c)
        running[pid] = (c, time.monotonic())
    pid, status = os.waitpid(-1, os.WNOHANG)
    if pid:
        c, _ = running.pop(pid); results[c["name"]] = os.waitstatus_to_exitcode(status); continue
    for pid, (c, t0) in list(running.items()):
        if time.monotonic() - t0 > timeout:
            os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0); running.pop(pid); results[c["name"]] = "hang"
    time.sleep(0.02)
json.dump(results, open(os.path.join(out_dir, "results.json"), "w"))
"""


def _run_all(cases: dict, work: Path) -> dict:
    "{name: (exit status or 'hang', stdout, stderr)} for every case, each in a process forked from one runner."
    specs = []
    for i, (name, (argv, _, _, stdin)) in enumerate(cases.items()):
        spec = dict(name=name, argv=argv, out=str(work / f"{i}.out"), err=str(work / f"{i}.err"), stdin=None)
        if stdin is not None: (work / f"{i}.in").write_bytes(stdin); spec["stdin"] = str(work / f"{i}.in")
        specs.append(spec)
    (work / "cases.json").write_text(json.dumps(specs))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", RUNNER, work / "cases.json", work, str(TIMEOUT), str(len(os.sched_getaffinity(0)))],
                   env=env, cwd=ROOT, check=True, timeout=TIMEOUT * len(specs))   # the runner enforces TIMEOUT per case
    rcs = json.loads((work / "results.json").read_text())
    read = lambda f: Path(f).read_text(errors="replace") if Path(f).exists() else ""
    return {s["name"]: (rcs[s["name"]], read(s["out"]), read(s["err"])) for s in specs}


_BASE = Path(tempfile.mkdtemp(prefix="llama31-hostile-"))
atexit.register(shutil.rmtree, _BASE, True)
_build_cases(_BASE / "cases")


@pytest.fixture(scope="module")
def results():
    (_BASE / "runs").mkdir(exist_ok=True)
    return _run_all(CASES, _BASE / "runs")


@pytest.mark.parametrize("name", list(CASES))
def test_case(name, results):
    argv, rc, fragments, _ = CASES[name]
    got, out, err = results[name]
    assert got != "hang", f"{name}: the command hung: llama31-edu {' '.join(argv)}"
    assert "Traceback" not in err, f"{name}: a traceback reached the user:\n{err}"
    assert got == rc, f"{name}: exit status {got}, expected {rc}\nstderr: {err}\nstdout: {out[-500:]}"
    for f in fragments: assert f in err, f"{name}: {f!r} not in the message:\n{err}"
    if rc:
        lines = [l for l in err.strip().splitlines() if l.strip()]
        assert lines, f"{name}: failed without a message"


def test_outputs_of_the_cases_that_succeed(results):
    "What the successful cases wrote is right: token counts, the kept folder mode, files 0644, checksums that sha256sum accepts."
    from llama31_edu.tokenizer import Tokenizer
    argv = CASES["tokenize --file (2.6 MB)"][0]
    big = Path(argv[argv.index("--file") + 1])
    n = len(Tokenizer(DEMO_TOKENIZER).encode(big.read_text(), bos=False, eos=False))
    for name in ("tokenize --file (2.6 MB)", "tokenize - (standard input)"):
        assert results[name][1].split()[0] == str(n), name
    keep = Path(CASES["convert over an existing 0755 folder"][0][2])
    assert stat.S_IMODE(keep.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in keep.iterdir()} == {0o644}
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", CHECKSUM_FILE], cwd=keep, check=True)
    for name in ("convert --shards 0", "convert --shards 3", "convert --max-shard-size bogus", "convert --max-shard-size 0"):
        assert not Path(CASES[name][0][2]).exists(), f"{name}: refused, but its output folder was created"


FRESH = ["index names traversal", "params.json null", "tokenize - (standard input)", "convert --shards 3"]

def test_same_through_a_fresh_interpreter(results):
    "A few cases as a user runs them: `python -m llama31_edu.cli ARGV` in a new interpreter; the same status and stderr."
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name in FRESH:
        argv, rc, _, stdin = CASES[name]
        if rc == 0: shutil.rmtree(argv[2], ignore_errors=True) if argv[0] == "convert" else None
        p = subprocess.run([sys.executable, "-m", "llama31_edu.cli", *argv], input=stdin, capture_output=True, timeout=TIMEOUT,
                           env=env, cwd=ROOT)
        assert (p.returncode, p.stderr.decode()) == (results[name][0], results[name][2]), name
