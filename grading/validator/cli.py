"""``mlsd``: the command-line client of mlsd-mock's API, for notebooks, scripts and terminals.

Standard library only (urllib), so the downloadable ``mlsd.pyz`` and the wheel need nothing
installed; ``mlsd validate`` alone runs the validator's checks, which need numpy, pandas,
onnx and onnxruntime like the validator itself. It is built from this repository's code by
``grading/validator/build.py``, beside the validator (one source for both).

    mlsd login --server https://mlsd.example.com       # paste a token from the API tokens page
    mlsd cases
    mlsd download ad-click-prediction
    mlsd validate ad-click-prediction model.onnx
    mlsd submit ad-click-prediction model.onnx --wait
    mlsd status
    mlsd leaderboard ad-click-prediction

Every command takes ``--json`` (the API's answer on stdout, for scripts). Exit codes: 0 done
(``submit --wait``: scored), 1 the submission failed while scored, 2 refused (the upload or
the validator's checks), 3 an error (log-in, network, not found, rate limit), 4 still
waiting when ``--timeout`` ran out, 64 a usage error. The token is kept in
``$XDG_CONFIG_HOME/mlsd/config.json`` (``~/.config/mlsd/``; ``%APPDATA%\\mlsd`` on Windows;
``MLSD_CONFIG_DIR`` overrides), readable by its owner only; ``MLSD_TOKEN`` and
``MLSD_SERVER`` override it.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import io
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

__version__ = "1.0.0"

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_ERROR, EXIT_PENDING, EXIT_USAGE = 0, 1, 2, 3, 4, 64
DEFAULT_SERVER = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
USER_AGENT = "mlsd-cli/1"


class CliError(Exception):
    """Something to tell the user, and the exit code that says what kind of end it was."""

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR, code: str = "error",
                 body: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code
        self.body = body or {"code": code, "message": message, "reason": None}


# --- configuration -----------------------------------------------------------------------


def config_dir() -> Path:
    if os.environ.get("MLSD_CONFIG_DIR"):
        return Path(os.environ["MLSD_CONFIG_DIR"])
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "mlsd"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mlsd"


def config_path() -> Path:
    return config_dir() / "config.json"


def config_load() -> dict:
    try:
        return json.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def config_save(config: dict) -> Path:
    """Write the config readable and writable by its owner only (0600, in a 0700 folder):
    it holds a token."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    path = config_path()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT
    return path


# --- HTTP ----------------------------------------------------------------------------------


class Client:
    def __init__(self, server: str, token: str | None) -> None:
        if urllib.parse.urlsplit(server).scheme not in ("http", "https"):
            raise CliError(f"The server must be an http:// or https:// address, not {server!r}.",
                           exit_code=EXIT_USAGE, code="bad_server")
        self.server = server.rstrip("/")
        self.token = token

    def url(self, path: str) -> str:
        return self.server + API_PREFIX + path

    def _open(self, request: urllib.request.Request):
        request.add_header("User-Agent", USER_AGENT)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            return urllib.request.urlopen(request, timeout=120)  # noqa: S310 - http(s): __init__ checks
        except urllib.error.HTTPError as error:
            raise _api_failure(error) from None
        except urllib.error.URLError as error:
            raise CliError(f"Cannot reach {self.server}: {error.reason}.",
                           code="unreachable") from None

    def get_json(self, path: str, query: dict | None = None):
        url = self.url(path)
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
        with self._open(urllib.request.Request(url)) as response:  # noqa: S310
            return json.load(response)

    def download(self, url: str, target: Path) -> int:
        with (self._open(urllib.request.Request(url)) as response,  # noqa: S310
              target.open("wb") as out):
            size = 0
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                size += len(chunk)
        return size

    def upload(self, path: str, *, file: Path, fields: dict[str, str], progress) -> dict:
        """POST ``file`` (as ``artifact``) and ``fields`` as multipart/form-data in one
        request, streamed in chunks so ``progress(sent, total)`` can draw a bar."""
        boundary = f"mlsd-{uuid.uuid4().hex}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode() for name, value in fields.items())
        filename = file.name.replace('"', "")
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="artifact"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = file.stat().st_size
        total = len(head) + size + len(tail)

        def body():
            sent = len(head)
            yield head
            with file.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 16), b""):
                    sent += len(chunk)
                    progress(sent - len(head), size)
                    yield chunk
            yield tail

        request = urllib.request.Request(  # noqa: S310 - http(s): __init__ checks
            self.url(path), data=body(), method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(total)})
        with self._open(request) as response:
            return json.load(response)


def _api_failure(error: urllib.error.HTTPError) -> CliError:
    try:
        body = json.loads(error.read().decode("utf-8", "replace"))
    except ValueError:
        body = None
    if not isinstance(body, dict) or "code" not in body:
        body = {"code": f"http_{error.code}", "message": f"The server answered {error.code}.",
                "reason": None}
    message = body.get("message") or f"The server answered {error.code}."
    if error.code == 429 and error.headers.get("Retry-After"):
        message += f" (retry after {error.headers['Retry-After']} s)"
    exit_code = EXIT_REFUSED if error.code in (409, 413, 422) else EXIT_ERROR
    return CliError(message, exit_code=exit_code, code=body["code"], body=body)


# --- output --------------------------------------------------------------------------------


def table(headings: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headings, *rows,
                                                                        strict=False)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False))
             .rstrip() for row in [headings, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def number(value, decimals: int) -> str:
    return "—" if value is None else f"{value:.{decimals}f}"


class Progress:
    """An upload bar on stderr: redrawn in place on a terminal, a line at 0 % and 100 %
    otherwise (logs stay readable)."""

    def __init__(self, label: str, *, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, sent: int, total: int) -> None:
        if not self.enabled:
            return
        percent = 100 if total == 0 else int(sent * 100 / total)
        if percent == self.last or (not self.tty and percent not in (0, 100)
                                    and self.last >= 0):
            return
        self.last = percent
        filled = percent // 4
        line = (f"Uploading {self.label} [{'#' * filled}{'.' * (25 - filled)}] {percent:3d}% "
                f"{sent / 1048576:.1f}/{total / 1048576:.1f} MiB")
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if percent == 100 else ""))
        elif percent in (0, 100) or self.last == -1:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def print_submission(sub: dict) -> None:
    print(f"Submission {sub['uuid']} ({sub['case_study']}): {sub['status']}")
    if sub.get("failure"):
        failure = sub["failure"]
        code = f"/{failure['code']}" if failure.get("code") else ""
        print(f"Failed ({failure['reason']}{code}): {failure['message']}")
        if failure.get("hint"):
            print(f"How to fix it: {failure['hint']}")
        if failure.get("quota_charged") is False:
            print("It did not count against your quota.")
    scores = sub.get("scores")
    if scores:
        decimals = scores["decimals"]
        split = scores["split"]
        note = (f", rounded to {decimals} decimals while the round is open"
                if not scores["round_closed"] else ", the round is closed")
        print(f"Scores on the {split} split{note}:")
        rows = []
        for metric in scores["metrics"]:
            interval = ("" if metric["ci_low"] is None else
                        f"[{number(metric['ci_low'], decimals)}, "
                        f"{number(metric['ci_high'], decimals)}]")
            arrow = {"higher": "↑", "lower": "↓"}.get(metric["direction"], "→1")
            rows.append([metric["label"] + (" (primary)" if metric["is_primary"] else ""),
                         arrow, number(metric["value"], decimals), interval])
        rows.append(["p99 latency, one request", "↓", f"{scores['latency_p99_ms']:.1f} ms",
                     f"budget {scores['latency_budget_ms']} ms"
                     + ("" if scores["latency_within_budget"] else " (over)")])
        print(table(["metric", "", "value", "95% interval"], rows))
        if scores.get("board_value") is not None:
            origin = (" (from this submission)" if scores["board_from_this_submission"]
                      else "")
            print(f"Your leaderboard score: {number(scores['board_value'], decimals)}{origin}")
    print(sub["url"])


# --- commands ------------------------------------------------------------------------------


def cmd_login(args, client: Client) -> int:
    token = args.token or os.environ.get("MLSD_TOKEN")
    if not token:
        prompt = f"Paste a token from {client.server}/accounts/tokens/: "
        token = (getpass.getpass(prompt) if sys.stdin.isatty()
                 else sys.stdin.readline()).strip()
    client.token = token
    me = client.get_json("/me")
    path = config_save({"server": client.server, "token": token})
    if args.json:
        print(json.dumps({**me, "config": str(path)}, default=str))
    else:
        print(f"Logged in to {client.server} as {me['username']} ({me['role']}) with the token "
              f"{me['token_name']!r}: {', '.join(me['scopes'])}, expires "
              f"{me['token_expires_at'][:10]}. Saved in {path}.")
    return EXIT_OK


def cmd_logout(args, client: Client) -> int:
    config = config_load()
    config.pop("token", None)
    path = config_save(config)
    print(json.dumps({"logged_out": True}) if args.json else f"Token removed from {path}.")
    return EXIT_OK


def cmd_cases(args, client: Client) -> int:
    cases = client.get_json("/case-studies")
    if args.json:
        print(json.dumps(cases))
        return EXIT_OK
    rows = [[c["slug"], c["task_type"], c["primary_metric"], f"{c['latency_budget_ms']} ms",
             "closed" if c["round_closed"] else ("open" if c["scoring_open"] else "no data"),
             f"{c['remaining_today']}/{c['daily_quota']}"] for c in cases]
    print(table(["case study", "task", "primary metric", "latency budget", "round",
                 "left today"], rows))
    return EXIT_OK


def cmd_download(args, client: Client) -> int:
    case = client.get_json(f"/case-studies/{args.case}")
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for item in case["files"]:
        if args.only and item["name"] not in args.only:
            continue
        target = folder / f"{args.case}-{item['name']}"
        size = client.download(item["url"], target)
        done.append({"name": item["name"], "path": str(target), "bytes": size})
        if not args.json:
            print(f"{target}  ({size / 1048576:.2f} MiB)")
    if args.json:
        print(json.dumps(done))
    return EXIT_OK


def cmd_validate(args, client: Client) -> int:
    case = client.get_json(f"/case-studies/{args.case}")
    data = args.data
    if data is None:
        default = Path(f"{args.case}-train.parquet")
        data = default if default.exists() else None
    from grading.validator.main import validate  # numpy & co.: only for this command

    if not args.json:
        return validate(case["validator"], Path(args.model), data, rows=args.rows)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = validate(case["validator"], Path(args.model), data, rows=args.rows)
    print(json.dumps({"ok": code == 0, "exit_code": code, "output": out.getvalue(),
                      "refusal": err.getvalue().strip() or None}))
    return code


def _final_exit(sub: dict) -> int:
    return {"scored": EXIT_OK, "failed": EXIT_FAILED}.get(sub["status"], EXIT_PENDING)


def cmd_submit(args, client: Client) -> int:
    model = Path(args.model)
    if not model.is_file():
        raise CliError(f"No such file: {model}", exit_code=EXIT_USAGE, code="no_file")
    progress = Progress(model.name, enabled=not args.quiet)
    sub = client.upload(f"/case-studies/{args.case}/submissions", file=model,
                        fields={"note": args.note or ""}, progress=progress)
    if not args.json:
        print(f"Accepted: submission {sub['uuid']}. {sub['url']}")
    if not args.wait:
        if args.json:
            print(json.dumps(sub))
        return EXIT_OK
    deadline = time.monotonic() + args.timeout
    said = None
    while sub["status"] in ("queued", "running") and time.monotonic() < deadline:
        if not args.json:
            queue = sub.get("queue")
            news = (f"Queued: position {queue['position']}"
                    + (f", about {queue['estimated_wait_seconds']:.0f} s"
                       if queue.get("estimated_wait_seconds") is not None else "")
                    if sub["status"] == "queued" and queue else "Scoring…")
            if news != said:
                print(news, flush=True)
                said = news
        time.sleep(args.poll)
        sub = client.get_json(f"/submissions/{sub['uuid']}")
    if args.json:
        print(json.dumps(sub))
    else:
        print_submission(sub)
    return _final_exit(sub)


def cmd_status(args, client: Client) -> int:
    if args.submission:
        sub = client.get_json(f"/submissions/{args.submission}")
        if args.json:
            print(json.dumps(sub))
        else:
            print_submission(sub)
        return EXIT_OK
    subs = client.get_json("/submissions", {"case": args.case})
    if args.json:
        print(json.dumps(subs))
        return EXIT_OK
    rows = [[s["created_at"][:19].replace("T", " "), s["case_study"], s["status"],
             "—" if s["public_primary"] is None else str(s["public_primary"]),
             s["original_filename"][:30], s["uuid"]] for s in subs]
    print(table(["sent (UTC)", "case study", "status", "public primary", "file", "id"], rows)
          if rows else "No submissions yet.")
    return EXIT_OK


def cmd_leaderboard(args, client: Client) -> int:
    board = client.get_json(f"/case-studies/{args.case}/leaderboard",
                            {"split": args.split, "page": args.page})
    if args.json:
        print(json.dumps(board))
        return EXIT_OK
    decimals = board["decimals"]
    print(f"{args.case}: {board['split']} ranking by {board['primary_metric']}"
          f"{' (final)' if board['round_closed'] else ''}, page {board['page']} of "
          f"{board['pages']}")
    rows = [["–" if r["rank"] is None else str(r["rank"]),
             ("baseline: " if r["is_baseline"] else "") + r["name"]
             + (" (you)" if r["is_me"] else ""),
             ("tied " if r["tied_with_above"] else "") + number(r["value"], decimals),
             f"[{number(r['ci_low'], decimals)}, {number(r['ci_high'], decimals)}]",
             str(r["submission_count"])] for r in board["rows"]]
    print(table(["rank", "who", board["primary_metric"], "95% interval", "sent"], rows)
          if rows else "No entries yet.")
    return EXIT_OK


# --- the parser ----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: 64, so 2 always means "refused"
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the API's JSON answer")
    common.add_argument("--server", help=f"the site's address (default: the saved one, "
                                         f"else $MLSD_SERVER, else {DEFAULT_SERVER})")
    main = _Parser(prog="mlsd", description="The mlsd-mock command line: case studies, "
                   "training data, model submissions and leaderboards. Every command takes "
                   "--json and --server.")
    commands = main.add_subparsers(dest="command", required=True, parser_class=_Parser)

    login = commands.add_parser("login", parents=[common], help="save a personal access "
                                "token (made on the site's API tokens page)")
    login.add_argument("--token", help="the token (else $MLSD_TOKEN, else asked for)")
    login.set_defaults(handler=cmd_login)
    commands.add_parser("logout", parents=[common], help="forget the saved token"
                        ).set_defaults(handler=cmd_logout)
    commands.add_parser("cases", parents=[common], help="list the case studies"
                        ).set_defaults(handler=cmd_cases)

    download = commands.add_parser("download", parents=[common],
                                   help="download a case study's training data")
    download.add_argument("case")
    download.add_argument("--dir", default=".", help="where to write the files (default: .)")
    download.add_argument("--only", nargs="*", help="only these files, e.g. train.parquet")
    download.set_defaults(handler=cmd_download)

    validate = commands.add_parser("validate", parents=[common],
                                   help="check a model with the server's own checks")
    validate.add_argument("case")
    validate.add_argument("model")
    validate.add_argument("--data", type=Path, help="training data to run the model on "
                          "(default: <case>-train.parquet here, if downloaded)")
    validate.add_argument("--rows", type=int, default=1000)
    validate.set_defaults(handler=cmd_validate)

    submit = commands.add_parser("submit", parents=[common], help="upload a model to score")
    submit.add_argument("case")
    submit.add_argument("model")
    submit.add_argument("--note", default="")
    submit.add_argument("--wait", action="store_true",
                        help="wait for the scores (exit 0 scored, 1 failed)")
    submit.add_argument("--timeout", type=float, default=1800, help="seconds to wait")
    submit.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    submit.add_argument("--quiet", action="store_true", help="no progress bar")
    submit.set_defaults(handler=cmd_submit)

    status = commands.add_parser("status", parents=[common],
                                 help="your submissions, or one submission")
    status.add_argument("submission", nargs="?", help="a submission's id")
    status.add_argument("--case", help="only this case study")
    status.set_defaults(handler=cmd_status)

    board = commands.add_parser("leaderboard", parents=[common], help="a leaderboard")
    board.add_argument("case")
    board.add_argument("--split", choices=["public", "private"])
    board.add_argument("--page", type=int, default=1)
    board.set_defaults(handler=cmd_leaderboard)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = config_load()
    server = (args.server or os.environ.get("MLSD_SERVER") or config.get("server")
              or DEFAULT_SERVER)
    token = os.environ.get("MLSD_TOKEN") or config.get("token")
    if args.command not in ("login", "logout") and not token:
        print("Not logged in: run `mlsd login` with a token from the site's API tokens page.",
              file=sys.stderr)
        return EXIT_ERROR
    try:
        return args.handler(args, Client(server, token))
    except CliError as error:
        if args.json:
            print(json.dumps(error.body))
        label = error.code if error.exit_code != EXIT_REFUSED else f"refused: {error.code}"
        print(f"mlsd: {error.message} [{label}]", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
