"""Command line: ``python -m bot <command>`` (run, shell, eval, bench, load, purge, export;
see --help)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in {"bench", "benchmark"}:  # own options: python -m bot bench -h
        from bot import benchmark

        return benchmark.main(argv[1:])
    if argv and argv[0] == "eval":
        from bot import evaluate

        return evaluate.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the action server and the Rasa server")
    sub.add_parser("shell", help="chat in the terminal")
    sub.add_parser("actions", help="start only the action server")
    sub.add_parser("eval", help="held-out NLU, crisis and conversation evaluation")
    sub.add_parser("bench", help="latency, throughput, memory and training time vs stock Rasa")
    sub.add_parser("load", help="concurrent conversations over two Rasa processes on "
                   "PostgreSQL + Redis, then a check of the tracker store", add_help=False)
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
    args, rest = parser.parse_known_args(argv)
    if args.command == "load":
        from bot import load

        return load.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    if args.command in {"purge", "export"}:
        from bot import data_commands

        if args.command == "purge":
            return data_commands.purge(args.older_than)
        return data_commands.export(args.sender_id, args.out)

    if args.command in {"run", "shell", "actions"}:
        from bot import launcher

        return {"run": launcher.run, "shell": launcher.shell,
                "actions": launcher.actions_only}[args.command]()
    from bot import crisis_responses

    return crisis_responses.main(check=args.check)


if __name__ == "__main__":
    sys.exit(main())
