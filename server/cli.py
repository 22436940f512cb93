"""The ``yoi`` command.

    yoi chat [--resume SESSION] [--model M] [--api-base URL] [--yes] [-p PROMPT] [DIR]
    yoi sessions [--json]
    yoi log SESSION
    yoi lsp --stdio

Logs go to stderr (``YOI_LOG_LEVEL``, default WARNING); stdout carries only
what the command prints.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="yoi",
        description="An open, provider-neutral LLM coding agent.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="chat with an agent in a directory (default: here)")
    chat.add_argument("root", nargs="?", default=".", help="the workspace folder")
    chat.add_argument("--resume", metavar="SESSION", help="continue a session (see `yoi sessions`)")
    chat.add_argument("--model", help="a litellm model string, e.g. anthropic/claude-sonnet-4-5")
    chat.add_argument("--api-base", help="an OpenAI- or Anthropic-compatible base URL")
    chat.add_argument(
        "-y", "--yes", action="store_true", help="allow commands and edits without asking"
    )
    chat.add_argument("-p", "--prompt", help="run this one turn and exit")

    sessions = sub.add_parser("sessions", help="list sessions, newest first")
    sessions.add_argument("--json", action="store_true", help="print JSON")

    log_cmd = sub.add_parser("log", help="show a session's log, with its hash chain checked")
    log_cmd.add_argument("session", help="a session id")

    lsp = sub.add_parser("lsp", help="run the language server (editors start this)")
    lsp.add_argument("--stdio", action="store_true", help="speak LSP on stdin/stdout (default)")
    return parser


def log_level() -> int:
    """``YOI_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR); an unknown value falls
    back to WARNING with a note on stderr."""
    import logging

    name = os.environ.get("YOI_LOG_LEVEL", "WARNING").strip().upper() or "WARNING"
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        print(
            f"yoi: ignoring YOI_LOG_LEVEL={name!r}; use DEBUG, INFO, WARNING or ERROR",
            file=sys.stderr,
        )
        return logging.WARNING
    return level


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] in (["lsp"], ["chat"]):
        from agent import secrets

        # provider keys never stay in this process's environment (see
        # agent/secrets.py); first thing, so the re-execution costs little
        secrets.reexec_without_secrets()
        secrets.receive()
    args = _parser().parse_args(argv)
    if args.command == "lsp":
        from server.main import run_lsp

        return run_lsp()
    import logging

    logging.basicConfig(
        stream=sys.stderr,
        level=log_level(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "chat":
        from terminal.chat import ChatOptions, run_chat

        root = Path(args.root).expanduser().resolve()
        if not root.is_dir():
            print(f"yoi: {root} is not a directory", file=sys.stderr)
            return 2
        return run_chat(
            ChatOptions(
                root=root,
                resume=args.resume,
                model=args.model,
                api_base=args.api_base,
                assume_yes=args.yes,
                prompt=args.prompt,
            )
        )
    from terminal.sessions import list_sessions, show_log

    if args.command == "sessions":
        return list_sessions(as_json=args.json)
    return show_log(args.session)


if __name__ == "__main__":
    sys.exit(main())
