"""Command line: ``python -m bot <command>`` (run, shell, eval, purge, export, ...; see --help)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the action server and the Rasa server")
    sub.add_parser("shell", help="chat in the terminal")
    sub.add_parser("actions", help="start only the action server")
    sub.add_parser("eval", help="held-out NLU and crisis evaluation")
    sub.add_parser("benchmark", help="parse latency and end-to-end reply latency")
    crisis = sub.add_parser("crisis-responses",
                            help="write domain/crisis.yml from the helpline directory")
    crisis.add_argument("--check", action="store_true",
                        help="exit 1 if domain/crisis.yml is out of date")
    purge = sub.add_parser("purge", help="delete conversations idle for longer than "
                                         "RETENTION_DAYS (or --older-than)")
    purge.add_argument("--older-than", help="e.g. 30d, 12h, 2w (default: RETENTION_DAYS)")
    export = sub.add_parser("export", help="one conversation as JSON, for the helpline")
    export.add_argument("sender_id")
    export.add_argument("--out", help="write to this file instead of standard output")
    args = parser.parse_args(argv)

    if args.command in {"purge", "export"}:
        from bot import data_commands

        if args.command == "purge":
            return data_commands.purge(args.older_than)
        return data_commands.export(args.sender_id, args.out)

    if args.command in {"run", "shell", "actions"}:
        from bot import launcher

        return {"run": launcher.run, "shell": launcher.shell,
                "actions": launcher.actions_only}[args.command]()
    if args.command == "eval":
        from bot import evaluate

        evaluate.main()
        return 0
    if args.command == "benchmark":
        from bot import benchmark

        return benchmark.main()
    from bot import crisis_responses

    return crisis_responses.main(check=args.check)


if __name__ == "__main__":
    sys.exit(main())
