"""Command handlers are found by the command's class."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from jobstream.commands import CommandHandlers, command_class


@dataclass(frozen=True)
class Release:
    work_order_id: str


@dataclass(frozen=True)
class Cancel:
    work_order_id: str


async def release(cmd: Release, ctx: list[str]) -> str:
    ctx.append(f"released {cmd.work_order_id}")
    return "released"


async def cancel(cmd: Cancel, ctx: list[str]) -> str:
    ctx.append(f"cancelled {cmd.work_order_id}")
    return "cancelled"


def test_a_command_runs_the_handler_of_its_class():
    handlers = CommandHandlers(release, cancel)
    seen: list[str] = []
    assert asyncio.run(handlers.handle(Cancel("wo-1"), seen)) == "cancelled"
    assert seen == ["cancelled wo-1"]
    assert command_class(release) is Release


def test_two_handlers_for_one_command_are_refused():
    async def release_again(cmd: Release, ctx: object) -> None:
        return None

    with pytest.raises(ValueError, match="two handlers for Release"):
        CommandHandlers(release, release_again)


def test_a_command_nobody_handles_is_refused_by_name():
    with pytest.raises(TypeError, match="no handler for Cancel"):
        asyncio.run(CommandHandlers(release).handle(Cancel("wo-1"), []))


def test_a_handler_must_say_which_command_it_takes():
    async def untyped(cmd, ctx):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(TypeError, match="must be annotated"):
        CommandHandlers(untyped)
