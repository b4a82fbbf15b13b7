"""`make lab`: JupyterLab starts from the project's environment and lists the book's notebooks over HTTP."""
import json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_serves_the_notebooks(tmp_path):
    port, token = _free_port(), secrets.token_hex(8)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    args = f"--no-browser --ip 127.0.0.1 --port {port} --ServerApp.token={token} --ServerApp.port_retries=0"
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        listing, deadline = None, time.time() + 90
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as r:
                    listing = json.load(r); break
            except OSError: time.sleep(1)
        assert listing is not None, f"JupyterLab did not answer on port {port}; exit code {proc.poll()}"
        names = {item["name"] for item in listing["content"]}
        expected = {p.name for p in (ROOT / "nbs").glob("*.ipynb")}
        assert expected and expected <= names, f"missing notebooks: {sorted(expected - names)}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=5) as r:
            specs = json.load(r)["kernelspecs"]
        assert "llama31-edu" in specs, f"the project's kernel is not registered: {sorted(specs)}"
        argv0 = specs["llama31-edu"]["spec"]["argv"][0]
        assert Path(argv0).resolve().is_relative_to((ROOT / ".venv").resolve()) or ".venv" in argv0, argv0
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):       # the server and make, as one process group
            try: os.killpg(proc.pid, sig)
            except ProcessLookupError: break
            try: proc.wait(timeout=20); break
            except subprocess.TimeoutExpired: pass
