"""A throwaway Dovecot IMAP server for the poller's tests: its own config, users file, Maildir
and sockets in a temporary directory, listening on 127.0.0.1 with plaintext login, run in the
foreground (``dovecot -F -c CONF``) as an unprivileged user. It never reads or touches the
system's Dovecot configuration or service.

Dovecot refuses to run its login process or to open a mailbox as root, so when the tests run as
root the whole server runs as ``nobody`` (its directory is handed to that user); otherwise it
runs as the current user."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest
from imapclient import IMAPClient

from tests.integration.sending.faults import free_port

USER = "reader"
PASSWORD = "s3cret-Pass"


def dovecot_binary() -> str | None:
    """The dovecot binary, or None when it is not installed."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


def require_dovecot() -> str:
    """The binary; skips the test when Dovecot is missing, except in CI, where it fails."""
    binary = dovecot_binary()
    if binary is not None:
        return binary
    why = "Dovecot is not installed: apt-get install dovecot-imapd (scripts/test does)"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def _config(root: Path, port: int, account: pwd.struct_passwd) -> str:
    group = grp.getgrgid(account.pw_gid).gr_name
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
instance_name = digest-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {account.pw_name}
default_internal_user = {account.pw_name}
default_internal_group = {group}
first_valid_uid = {account.pw_uid}
last_valid_uid = {account.pw_uid}
first_valid_gid = {account.pw_gid}
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """A running Dovecot with one user, ``reader``; use as a context manager."""

    def __init__(self) -> None:
        self.binary = require_dovecot()
        self.account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
        self.root = Path(tempfile.mkdtemp(prefix="digest-dovecot-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``inbound.imap_url`` for the user's INBOX."""
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def start(self) -> None:
        """Write the config, the users file and the directories, and start the server."""
        account = self.account
        for name in ("run", "state", "home"):
            (self.root / name).mkdir()
        (self.root / "users").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{account.pw_uid}:{account.pw_gid}::{self.root}/home::\n"
        )
        conf = self.root / "dovecot.conf"
        conf.write_text(_config(self.root, self.port, account))
        if os.geteuid() == 0:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid)
        self._spawn()

    def restart(self) -> None:
        """Stop the server with its sessions, as a reboot would (Dovecot alone keeps running
        sessions alive), and start it again on the same port."""
        self._terminate()
        self._spawn()

    def _spawn(self) -> None:
        account, conf = self.account, self.root / "dovecot.conf"
        as_other = account.pw_uid != os.getuid()
        with (self.root / "startup.log").open("ab") as startup:  # before log_path is open
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=startup,
                stderr=subprocess.STDOUT,
                user=account.pw_uid if as_other else None,
                group=account.pw_gid if as_other else None,
                extra_groups=[] if as_other else None,
                start_new_session=True,  # its own process group: the sessions stop with it
            )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited {self.process.returncode}: {self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe,
            ):
                if probe.recv(64).startswith(b"* OK"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()}")

    def log(self) -> str:
        """The end of what the server said (startup errors, then its log)."""
        found = [
            path.read_text(errors="replace")
            for path in (self.root / "startup.log", self.root / "dovecot.log")
            if path.exists()
        ]
        return "\n".join(found)[-3000:]

    def client(self) -> IMAPClient:
        """A client logged in as the user (the test's own view of the mailbox)."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(USER, PASSWORD)
        return client

    def stop(self) -> None:
        self._terminate()
        shutil.rmtree(self.root, ignore_errors=True)

    def _terminate(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Dovecot:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
