"""The in-process queue serves clients round robin, so one client's backlog never starves another."""

from __future__ import annotations

import asyncio

from imagegen.adapters.local_queue import InProcessQueue


async def delivered(queue: InProcessQueue, count: int) -> list[str]:
    order = []
    for _ in range(count):
        message = await queue.get()
        order.append(message.job_id)
        queue.task_done()
    return order


async def test_given_a_backlog_then_a_quiet_clients_job_is_next_but_one() -> None:
    queue = InProcessQueue()
    await queue.enqueue([f"noisy-{n}" for n in range(1000)], "noisy")

    await queue.enqueue(["quiet-0"], "quiet")

    assert await delivered(queue, 3) == ["noisy-0", "quiet-0", "noisy-1"]


async def test_given_several_clients_then_they_take_turns_in_the_order_they_arrived() -> None:
    queue = InProcessQueue()
    await queue.enqueue(["a1", "a2", "a3"], "alice")
    await queue.enqueue(["b1", "b2"], "bob")
    await queue.enqueue(["c1"], "carol")

    assert await delivered(queue, 6) == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert queue.waiting() == {}


async def test_given_a_redelivery_then_it_keeps_its_client_and_waits_its_turn() -> None:
    queue = InProcessQueue()
    await queue.enqueue(["a1"], "alice")
    first = await queue.get()

    await queue.redeliver(first, 0)
    await queue.enqueue(["b1"], "bob")
    await asyncio.sleep(0.01)

    again = await queue.get()
    assert (again.job_id, again.group, again.delivery_count) in {("b1", "bob", 1), ("a1", "alice", 2)}
    assert queue.waiting() in ({"alice": 1}, {"bob": 1})


async def test_join_returns_once_every_message_was_handled() -> None:
    queue = InProcessQueue()
    await queue.enqueue(["a1", "a2"], "alice")
    joined = asyncio.create_task(queue.join())

    await delivered(queue, 1)
    await asyncio.sleep(0)
    assert not joined.done()
    await delivered(queue, 1)

    await asyncio.wait_for(joined, timeout=1)


async def test_a_getter_waits_for_the_next_message() -> None:
    queue = InProcessQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()

    await queue.enqueue(["a1"], "alice")

    assert (await asyncio.wait_for(getter, timeout=1)).job_id == "a1"
    await queue.close()
