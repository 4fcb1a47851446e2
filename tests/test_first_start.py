"""Issue 12: the first start's passwords and kiosk token reach a terminal, never a log."""
from __future__ import annotations

import os
import pty
import stat
import subprocess
import sys

from tests.conftest import ROOT, Credentials


def run_init(folder, stdout):
    env = {**os.environ, "LUOT_INSTANCE": str(folder), "LUOT_TTS": "none"}
    env.pop("LUOT_DB", None)
    return subprocess.run([sys.executable, "server.py", "init"], cwd=ROOT, env=env, stdout=stdout,
                          stderr=subprocess.STDOUT, timeout=120)


def test_credentials_are_not_printed_when_the_output_is_a_log(tmp_path):
    folder = tmp_path / "instance"
    log = tmp_path / "journal.log"  # as under systemd (deploy/luot.service): stdout is not a terminal
    with open(log, "w") as handle:
        assert run_init(folder, handle).returncode == 0
    printed = log.read_text()
    kept = folder / "credentials.txt"
    credentials = Credentials(kept.read_text())
    assert len(credentials.passwords) >= 7 and credentials.kiosk_token
    for secret in [credentials.kiosk_token, *credentials.passwords.values()]:
        assert secret not in printed
    assert str(kept) in printed and "not printed" in printed
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_credentials_are_printed_once_on_a_terminal(tmp_path):
    folder = tmp_path / "instance"
    leader, follower = pty.openpty()
    try:
        result = run_init(folder, follower)
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0
    credentials = Credentials((folder / "credentials.txt").read_text())
    printed = output.decode("utf-8", "replace")
    assert credentials.kiosk_token in printed and credentials.passwords["admin"] in printed
    again = subprocess.run([sys.executable, "server.py", "init"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "LUOT_INSTANCE": str(folder), "LUOT_TTS": "none"}, timeout=120)
    assert again.returncode == 0 and credentials.passwords["admin"] not in again.stdout  # once only
