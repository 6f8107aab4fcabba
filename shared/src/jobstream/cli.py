"""`jobstream`: operator commands shared by every deployment (topics, tokens, keys, schemas).

With the dev-only jobstream-tools installed (the workspace) also `demo` and `simulate`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from jobstream.auth import KeySetError, Role, SigningKeys, mint_token
from jobstream.auth.keys import write_private, write_public
from jobstream.contracts.topics import all_topic_specs
from jobstream.messaging.admin import ensure_topics, wait_for_broker
from jobstream.settings import AuthSettings, KafkaSettings


def _cmd_topics_create(args: argparse.Namespace) -> int:
    bootstrap = args.bootstrap_servers or KafkaSettings().bootstrap_servers

    async def run() -> list[str]:
        await wait_for_broker(bootstrap, timeout_s=args.wait)
        return await ensure_topics(bootstrap, all_topic_specs(args.partitions, args.namespace))

    created = asyncio.run(run())
    print(f"topics ready on {bootstrap}; created: {', '.join(created) or 'none (all existed)'}")
    return 0


def _cmd_wait_kafka(args: argparse.Namespace) -> int:
    bootstrap = args.bootstrap_servers or KafkaSettings().bootstrap_servers
    asyncio.run(wait_for_broker(bootstrap, timeout_s=args.timeout))
    print(f"kafka ready at {bootstrap}")
    return 0


def _local_stack_keys() -> Path:
    """The key set `make up` made (deploy/local/stack.sh keeps it beside stack.env)."""
    home = os.environ.get("JOBSTREAM_HOME") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jobstream"
    )
    return Path(home) / "run" / "signing-keys.json"


def _issuer_settings() -> AuthSettings:
    """Settings to mint with: JOBSTREAM_SIGNING_KEYS, else the local stack's key set."""
    settings = AuthSettings()
    if not settings.signing_keys and _local_stack_keys().exists():
        settings = settings.model_copy(update={"signing_keys": str(_local_stack_keys())})
    return settings


def _cmd_token(args: argparse.Namespace) -> int:
    try:
        settings = _issuer_settings()
    except KeySetError as exc:
        print(f"jobstream token: {exc}", file=sys.stderr)
        return 2
    try:
        token = mint_token(
            settings,
            subject=args.subject,
            role=Role(args.role),
            technician_id=args.technician_id,
            customer_id=args.customer_id,
            ttl_s=args.ttl,
        )
    except KeySetError as exc:
        print(f"jobstream token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    """Make and rotate a private key set; write its public JWKS (ADR 0071)."""
    path = Path(args.file)
    try:
        if args.keys_command == "generate":
            if path.exists():
                print(f"jobstream keys: {path} exists; rotate with `keys add`", file=sys.stderr)
                return 2
            keys = SigningKeys.generate()
            print(f"generated {keys.active} (active) in {path}")
        else:
            keys = SigningKeys.load(path)
            if args.keys_command == "add":
                keys, kid = keys.add()
                print(f"added {kid}: published, not signing; `keys activate {path} {kid}` later")
            elif args.keys_command == "activate":
                keys = keys.activate(args.kid)
                print(f"{args.kid} signs new tokens")
            elif args.keys_command == "retire":
                keys = keys.retire(args.kid)
                print(f"retired {args.kid}")
        if args.keys_command != "jwks":
            write_private(path, keys)
        if args.jwks:
            write_public(args.jwks, keys)
        elif args.keys_command == "jwks":
            print(json.dumps(keys.jwks(), indent=2))
    except KeySetError as exc:
        print(f"jobstream keys: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_schemas(args: argparse.Namespace) -> int:
    from jobstream.contracts import registry
    from jobstream.contracts.schemas import check_all, write_all

    if args.schemas_command == "write":
        for path in write_all(reader=registry):
            print(path)
        return 0
    problems = check_all(reader=registry)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _cmd_asyncapi(args: argparse.Namespace) -> int:
    from jobstream.contracts.asyncapi import ASYNCAPI_PATH, build, render

    text = render(build())
    if args.write:
        ASYNCAPI_PATH.write_text(text)
        print(ASYNCAPI_PATH)
    else:
        print(text, end="")
    return 0


def _add_test_bench_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """`demo` and `simulate`, when the dev-only jobstream-tools is installed (the workspace).

    A service image installs jobstream-shared without the test bench, so there the two
    commands are simply absent rather than failing on a missing module.
    """
    try:
        from jobstream.bench_commands import add_commands
    except ModuleNotFoundError as exc:
        if exc.name != "jobstream.bench_commands":
            raise
        return
    add_commands(sub)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="jobstream", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    topics = sub.add_parser("topics", help="manage Kafka topics")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True)
    create = topics_sub.add_parser("create", help="create every event and dead-letter topic")
    create.add_argument("--bootstrap-servers", default=None)
    create.add_argument("--partitions", type=int, default=6)
    create.add_argument(
        "--namespace", default=os.environ.get("JOBSTREAM_NAMESPACE", ""), help="topic prefix"
    )
    create.add_argument("--wait", type=float, default=60.0, help="seconds to wait for Kafka")
    create.set_defaults(func=_cmd_topics_create)

    wait = sub.add_parser("wait-kafka", help="wait until the broker answers")
    wait.add_argument("--bootstrap-servers", default=None)
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.set_defaults(func=_cmd_wait_kafka)

    token = sub.add_parser("token", help="mint a development bearer token")
    token.add_argument("--role", choices=[r.value for r in Role], required=True)
    token.add_argument("--subject", default="dev-user")
    token.add_argument("--technician-id", default=None)
    token.add_argument("--customer-id", default=None)
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    token.set_defaults(func=_cmd_token)

    keys = sub.add_parser(
        "keys", help="the private key set that signs tokens, and its public JWKS (rotation)"
    )
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    for name, text in (
        ("generate", "a new set with one active key"),
        ("add", "add a key, published but not signing yet (rotation, step 1)"),
        ("activate", "make a key the one that signs (step 2, after verifiers' cache time)"),
        ("retire", "drop a key (step 3, once tokens it signed have expired)"),
        ("jwks", "print the public key set"),
    ):
        command = keys_sub.add_parser(name, help=text)
        command.add_argument("file", help="the private key set (JOBSTREAM_SIGNING_KEYS)")
        if name in {"activate", "retire"}:
            command.add_argument("kid")
        command.add_argument("--jwks", default=None, help="also write the public JWKS here")
    keys.set_defaults(func=_cmd_keys)

    schemas = sub.add_parser("schemas", help="JSON Schema of the event contracts")
    schemas_sub = schemas.add_subparsers(dest="schemas_command", required=True)
    schemas_sub.add_parser("write", help="regenerate shared/schemas/ from the contracts")
    schemas_sub.add_parser("check", help="fail on a backward- or forward-incompatible change")
    schemas.set_defaults(func=_cmd_schemas)

    asyncapi = sub.add_parser("asyncapi", help="the AsyncAPI 3.0 document of every event")
    asyncapi.add_argument("--write", action="store_true", help="write docs/asyncapi.json")
    asyncapi.set_defaults(func=_cmd_asyncapi)

    _add_test_bench_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
